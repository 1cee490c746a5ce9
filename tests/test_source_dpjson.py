"""Hugging Face Daily Papers JSON: the /api/daily_papers list and the /api/papers/{id} object."""

from __future__ import annotations

import json

from index.sources import dailypapers_json as dp
from index.sources import detect_format


def daily_item(arxiv_id, title, **paper_fields):
    paper = {
        "id": arxiv_id,
        "authors": [{"_id": "a1", "name": "Fuzhao Xue", "hidden": False},
                    {"_id": "a2", "name": "Yukang  Chen", "hidden": False, "user": {"user": "yk"}}],
        "publishedAt": "2024-08-19T17:48:08.000Z",
        "submittedOnDailyAt": "2024-08-20T00:27:48.104Z",
        "title": title,
        "summary": "Long-context capability\nis critical.",
        "upvotes": 51,
        "discussionId": "66c3",
        "ai_keywords": ["long context", "VLM"],
        "githubRepo": "https://github.com/NVlabs/VILA",
        "projectPage": "https://ex.org/longvila",
    }
    paper.update(paper_fields)
    return {"paper": paper, "publishedAt": "2024-08-20T00:27:48.104Z", "title": title,
            "thumbnail": "https://x/t.png", "numComments": 3,
            "submittedBy": {"user": "akhaliq"}, "isAuthorParticipating": False}


LIST = [
    daily_item("2408.10188", "LongVILA: Scaling Long-Context VLMs"),
    daily_item("2408.10000v2", "Second Paper", githubRepo=None, projectPage=""),
]


def test_daily_papers_list():
    text = json.dumps(LIST, indent=2)
    assert detect_format(text) == "dailypapers-json"
    result = dp.parse(text, "/dl/daily_papers.json")
    assert result.problems == []
    first, second = result.records
    assert first.arxiv_id == "2408.10188" and first.key == "arxiv:2408.10188"
    assert first.title == "LongVILA: Scaling Long-Context VLMs"
    assert first.abstract == "Long-context capability is critical."
    assert first.authors == ["Fuzhao Xue", "Yukang Chen"]
    assert first.year == 2024
    assert first.listing_date == "2024-08-20"
    assert first.links == ["https://github.com/NVlabs/VILA", "https://ex.org/longvila"]
    assert first.tags == []  # ai_keywords are not the user's tags
    assert first.extra["ai_keywords"] == ["long context", "VLM"]
    assert first.extra["upvotes"] == 51
    assert first.extra["numComments"] == 3  # an item-level field
    assert first.extra["submittedOnDailyAt"] == "2024-08-20T00:27:48.104Z"
    assert first.source == "dailypapers-json:daily_papers.json"
    assert first.line == 2
    assert second.arxiv_id == "2408.10000" and second.extra["arxiv_version"] == "v2"
    assert second.links == []
    second_start = text[: text.index('"2408.10000v2"')].rfind("\n  {") + 1
    assert second.line == text[:second_start].count("\n") + 1  # the line its '{' is on


def test_single_paper_object():
    obj = dict(LIST[0]["paper"])
    obj["id"] = "2401.00001"
    text = json.dumps(obj)
    assert detect_format(text) == "dailypapers-json"
    (rec,) = dp.parse(text, "paper.json").records
    assert rec.arxiv_id == "2401.00001"
    assert rec.line == 1


def test_fields_at_item_level_only():
    item = {"id": "2402.00002", "title": "Flat Item", "summary": "S", "authors": ["A. Person"],
            "publishedAt": "2023-12-31T00:00:00Z", "upvotes": 2}
    (rec,) = dp.parse(json.dumps([item]), "x.json").records
    assert (rec.title, rec.authors, rec.year) == ("Flat Item", ["A. Person"], 2023)


def test_bad_items_reported_with_index_and_line():
    text = "[\n" + json.dumps(LIST[0]) + ",\n42,\n" + json.dumps({"paper": {"id": "1"}}) + ",\n" \
        + json.dumps(LIST[1]) + "\n]\n"
    result = dp.parse(text, "x.json")
    assert [r.title for r in result.records] == [LIST[0]["title"], LIST[1]["title"]]
    assert [(p.message, p.line) for p in result.problems] == [
        ("item 1 is not an object", 3), ("item 2 has no title", 4)]


def test_syntax_error_keeps_items_before():
    good = json.dumps(LIST[0])
    text = "[\n" + good + ",\n{\"paper\": {\"title\": \"x\",, }}\n]"
    result = dp.parse(text, "x.json")
    assert len(result.records) == 1
    assert len(result.problems) == 1 and result.problems[0].line == 3
    truncated = json.dumps(LIST, indent=1)[:-30]
    result = dp.parse(truncated, "x.json")
    assert len(result.records) == 1 and len(result.problems) == 1


def test_wrapped_and_jsonlines():
    wrapped = json.dumps({"papers": LIST})
    assert len(dp.parse(wrapped, "w.json").records) == 2
    lines = "\n".join(json.dumps(item) for item in LIST)
    result = dp.parse(lines, "l.jsonl")
    assert [r.line for r in result.records] == [1, 2]


def test_sniff():
    assert dp.sniff(json.dumps(LIST)) >= 0.9
    assert dp.sniff("[1, 2, 3]") == 0.0
    assert dp.sniff("@article{x, title={y}}") == 0.0
