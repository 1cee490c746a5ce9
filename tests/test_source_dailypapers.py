"""index.sources.dailypapers: Hugging Face Daily Papers pages saved as text."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.model import ParseResult
from index.sources import dailypapers as dp
from index.sources import detect_format, parse_text
from samples import (
    BANNER_LINES,
    SAMPLE_PAPERS,
    dense_page,
    line_of,
    make_papers,
    spaced_page,
)

P = SAMPLE_PAPERS


def pairs_of(result: ParseResult) -> list[tuple[str, str]]:
    return [(r.title, r.abstract) for r in result.records]


def problem_lines(result: ParseResult) -> list[int | None]:
    return [p.line for p in result.problems]


# --- both shapes ------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["dense", "spaced", "spaced-no-daily-papers", "bare"])
def test_both_shapes_parse_to_exactly_the_pairs(shape):
    page = {
        "dense": lambda: dense_page(P),
        "spaced": lambda: spaced_page(P, date="Mar 12"),
        "spaced-no-daily-papers": lambda: spaced_page(P, date="Mar 12", daily_papers_line=False),
        "bare": lambda: dense_page(P, banner=False),
    }[shape]()
    result = dp.parse(page, "/some/dir/hf-page.txt")
    assert result.problems == []
    assert pairs_of(result) == P
    for record in result.records:
        assert record.source == "dailypapers:hf-page.txt"
        assert record.year is None
        assert record.authors == []
        assert record.title == record.title.strip() and record.title not in BANNER_LINES
    expected_date = "Mar 12" if shape.startswith("spaced") else None
    assert {r.listing_date for r in result.records} == {expected_date}


def test_title_line_numbers_point_at_the_titles():
    for page in (dense_page(P), spaced_page(P)):
        result = dp.parse(page, "p.txt")
        lines = page.split("\n")
        for record in result.records:
            # the dense page's first title line is "Subscribe" + title
            assert lines[record.line - 1].endswith(record.title)
    dense = dp.parse(dense_page(P), "p.txt")
    assert [r.line for r in dense.records] == [3 + 2 * i for i in range(len(P))]
    spaced = dp.parse(spaced_page(P), "p.txt")
    assert [r.line for r in spaced.records] == [13 + 4 * i for i in range(len(P))]


def test_glued_subscribe_is_removed_only_from_the_button():
    page = dense_page([("Subscribers Churn Less: Modelling Newsletter Retention", P[0][1])])
    result = dp.parse(page, "x")
    assert result.records[0].title == "Subscribers Churn Less: Modelling Newsletter Retention"
    result = dp.parse(dense_page([("pix2vec: Lowercase Titles Exist", P[0][1])]), "x")
    assert result.records[0].title == "pix2vec: Lowercase Titles Exist"
    # "Subscribe" at the start of a title that does not follow the banner is kept
    page = dense_page([P[0], ("SubscribeNet: A Title That Starts Oddly", P[1][1])])
    assert dp.parse(page, "x").records[1].title == "SubscribeNet: A Title That Starts Oddly"


def test_windows_line_endings_and_bom_and_surrounding_whitespace():
    page = "\ufeff" + spaced_page(P[:3]).replace("\n", "\r\n")
    page = page.replace(P[1][0], "  \t" + P[1][0] + "   ")
    result = dp.parse(page, "x")
    assert result.problems == []
    assert pairs_of(result) == P[:3]


def test_repeated_titles_are_all_kept():
    pairs = [P[0], P[1], P[0], P[2], P[0]]
    result = dp.parse(dense_page(pairs), "x")
    assert pairs_of(result) == pairs
    assert len({r.key for r in result.records}) == 3


def test_pages_pasted_one_after_another_keep_their_own_dates():
    page = spaced_page(P[:2], date="Aug 20") + "\n\n" + spaced_page(P[2:5], date="Aug 21")
    result = dp.parse(page, "x")
    assert result.problems == []
    assert pairs_of(result) == P[:5]
    assert [r.listing_date for r in result.records] == ["Aug 20"] * 2 + ["Aug 21"] * 3


@pytest.mark.parametrize("date", ["Aug 20", "Mar 1", "Sept 9", "August 20", "20 Aug", "Aug 20, 2024"])
def test_listing_date_forms_are_kept_as_printed(date):
    result = dp.parse(spaced_page(P[:2], date=date), "x")
    assert result.problems == []
    assert [r.listing_date for r in result.records] == [date, date]
    assert [r.year for r in result.records] == [None, None]  # never taken from the date


@pytest.mark.parametrize("line", ["Aug 200", "Foo 20", "Aug", "May the Force", "20"])
def test_lines_that_are_not_dates_are_not_dates(line):
    assert not dp.DATE_LINE.fullmatch(line)


def test_text_is_kept_exactly():
    result = dp.parse(spaced_page(P), "x")
    by_title = {r.title: r.abstract for r in result.records}
    assert "Robust Training under {\\epsilon}-Contamination with Na\\\"{\\i}ve Priors" in by_title
    abstract = by_title["Robust Training under {\\epsilon}-Contamination with Na\\\"{\\i}ve Priors"]
    assert "{\\epsilon}" in abstract and 'na\\"{\\i}ve' in abstract and "\\mone" in abstract
    assert "[2016]" in abstract
    assert any(t.startswith("[Re] ") for t in by_title)
    assert any("Ψ" in t for t in by_title) and any("Ü" in t for t in by_title)
    assert "[@click=app.quit]x[/]" in by_title[P[5][0]]
    assert by_title[P[6][0]] == P[6][1]
    # a cut-short abstract (no full stop) stays as given
    assert by_title["Small Models, Long Proofs"].endswith("it can")


# --- links -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "links"),
    [
        ("Code: https://github.com/a/b.", ["https://github.com/a/b"]),
        ("Code (https://github.com/a/b).", ["https://github.com/a/b"]),
        ("see https://w.org/wiki/Foo_(bar), too", ["https://w.org/wiki/Foo_(bar)"]),
        ("(see https://w.org/wiki/Foo_(bar))", ["https://w.org/wiki/Foo_(bar)"]),
        ("[code](https://x.org/c)]", ["https://x.org/c"]),
        (
            "at https://x.org/a; https://x.org/b: and https://x.org/c,",
            ["https://x.org/a", "https://x.org/b", "https://x.org/c"],
        ),
        ("quoted 'https://x.org/q' and \"https://x.org/r\"", ["https://x.org/q", "https://x.org/r"]),
        ("angle <https://x.org/s>.", ["https://x.org/s"]),
        ("query https://x.org/p?a=1&b=(2)...", ["https://x.org/p?a=1&b=(2)"]),
        ("plain http://x.org/ and again http://x.org/", ["http://x.org/"]),
        ("CAPS HTTPS://X.ORG/Y.", ["HTTPS://X.ORG/Y"]),
        ("not links: https:// alone, ftp://x.org, www.x.org, mailto:a@b.c", []),
        ("glued text:https://x.org/glued.", ["https://x.org/glued"]),
        ("unicode https://x.org/π-net.", ["https://x.org/π-net"]),
        ("", []),
    ],
)
def test_extract_links(text, links):
    assert dp.extract_links(text) == links


def test_records_carry_the_links_of_their_abstract():
    result = dp.parse(dense_page(P), "x")
    links = {r.title: r.links for r in result.records}
    assert links[P[0][0]] == ["https://github.com/example-lab/lantern"]
    assert links[P[1][0]] == [
        "https://example.org/robust-eps",
        "https://example.org/wiki/Loss_(statistics)",
    ]
    assert links[P[2][0]] == ["https://example.com/re-surgery", "https://example.com/orig?id=7&v=2"]
    assert links[P[3][0]] == ["https://psi-net.example.io/"]
    assert links[P[4][0]] == ["https://uber-tokens.example.net/demo"]
    assert links[P[5][0]] == []
    assert links[P[7][0]] == [
        "https://example.edu/soft-robots",
        "https://example.edu/soft-robots/appendix.pdf",
        "https://example.edu/data",
    ]


# --- pages that do not pair up -----------------------------------------------------------


def test_truncated_page_last_title_without_abstract():
    page = dense_page(P[:4]) + P[4][0] + "\n"
    result = dp.parse(page, "x")
    assert pairs_of(result) == P[:4]
    assert problem_lines(result) == [line_of(page, P[4][0])] == [11]
    assert "title with no abstract after it" in result.problems[0].message
    assert "cut off" in result.problems[0].message
    assert "\n" not in result.problems[0].message


def test_truncated_spaced_page():
    page = spaced_page(P[:3]) + "\n\n" + P[3][0]
    result = dp.parse(page, "x")
    assert pairs_of(result) == P[:3]
    assert problem_lines(result) == [line_of(page, P[3][0])]


def test_title_with_no_abstract_in_the_middle():
    lines = [P[0][0], P[0][1], P[1][0], P[2][0], P[2][1], P[3][0], P[3][1]]
    result = dp.parse("\n".join(lines), "x")
    assert pairs_of(result) == [P[0], P[2], P[3]]
    assert problem_lines(result) == [3]
    assert result.problems[0].message.startswith("title with no abstract after it: '")


def test_two_titles_in_a_row_without_abstracts():
    lines = [P[0][0], P[0][1], P[1][0], P[2][0], P[3][0], P[3][1]]
    page = "\n\n".join(lines)
    result = dp.parse(page, "x")
    assert pairs_of(result) == [P[0], P[3]]
    assert problem_lines(result) == [line_of(page, P[1][0]), line_of(page, P[2][0])] == [5, 7]


def test_abstract_where_a_title_should_be():
    lines = [P[0][0], P[0][1], P[1][1], P[2][0], P[2][1]]
    result = dp.parse("\n".join(lines), "x")
    assert pairs_of(result) == [P[0], P[2]]
    assert problem_lines(result) == [3]
    assert "abstract with no title before it" in result.problems[0].message


def test_page_that_starts_with_an_abstract():
    page = spaced_page([]) + "\n\n" + "\n\n".join([P[0][1], P[1][0], P[1][1]])
    result = dp.parse(page, "x")
    assert pairs_of(result) == [P[1]]
    assert problem_lines(result) == [line_of(page, P[0][1][:40])]


def test_problems_in_a_big_page_are_local():
    papers = make_papers(200)
    lines = []
    for i, (title, abstract) in enumerate(papers):
        lines.append(title)
        if i not in (17, 120):  # two abstracts lost
            lines.append(abstract)
    lines.append(papers[3][1])  # and a stray abstract at the end
    result = dp.parse("\n".join(lines), "x")
    assert len(result.records) == 198
    assert problem_lines(result) == [35, 240, 399]


def test_short_title_like_abstract_keeps_the_alternation_when_sentence_like():
    pairs = [
        (P[0][0], "We propose a simple method for"),
        P[1],
        (P[2][0], "Results on three benchmarks"),
        P[3],
    ]
    result = dp.parse(dense_page(pairs), "x")
    assert result.problems == []
    assert pairs_of(result) == pairs


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t\n", "\ufeff"])
def test_empty_page(text):
    result = dp.parse(text, "x")
    assert result.records == []
    assert len(result.problems) == 1
    assert "not a Hugging Face Daily Papers page" in result.problems[0].message


@pytest.mark.parametrize("page", [dense_page([]), spaced_page([]), spaced_page([], date=None)])
def test_banner_only_page_has_no_papers(page):
    result = dp.parse(page, "x")
    assert result.records == []
    assert [p.message for p in result.problems] == [
        "not a Hugging Face Daily Papers page: it has no papers (no titles or abstracts)"
    ]


def test_page_with_no_pairs_says_so_first_and_caps_the_rest():
    page = "\n".join(f"Lonely{i}" for i in range(100))
    result = dp.parse(page, "x")
    assert result.records == []
    assert result.problems[0].message.startswith("not a Hugging Face Daily Papers page")
    assert len(result.problems) <= 22
    assert "more" in result.problems[-1].message


# --- sniff -------------------------------------------------------------------------------

BIBTEX = """@article{doe2020sparse,
  title = {Sparse Things},
  author = {Doe, Jane},
  year = {2020},
  abstract = {We study sparse things. They are sparse.}
}
"""
ATOM = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <entry><title>Sparse Things</title><summary>We study sparse things.</summary></entry>
</feed>
"""
DP_JSON = json.dumps(
    [{"paper": {"id": "2401.00001", "title": "Sparse Things", "summary": "We study."}}]
)
IDS = "2401.00001\n2401.00002v2\nhep-th/9901001\n"
PROSE = "\n".join(
    ["This is a diary. It has sentences that run on and on, much like abstracts do, sadly."] * 6
)


@pytest.mark.parametrize(
    "page",
    [
        dense_page(P),
        spaced_page(P),
        spaced_page(P, daily_papers_line=False, date=None),
        dense_page(P, banner=False),
        "\n\n".join(f"{t}\n\n{a}" for t, a in P[:3]),
        dense_page(make_papers(3000)),  # larger than the sniff window
    ],
)
def test_sniff_is_high_for_pages(page):
    assert dp.sniff(page) >= 0.6


@pytest.mark.parametrize(
    "text", [BIBTEX, "% comment\n" + BIBTEX, ATOM, DP_JSON, "{}", IDS, PROSE, "", "  \n"]
)
def test_sniff_is_low_for_other_formats(text):
    assert dp.sniff(text) < 0.5


def test_detect_format_picks_dailypapers_from_content():
    assert detect_format(dense_page(P)) == "dailypapers"
    assert detect_format(spaced_page(P)) == "dailypapers"
    result = parse_text(spaced_page(P), "pages/aug.txt")
    assert result.format == "dailypapers"
    assert pairs_of(result) == P


# --- robustness and speed ----------------------------------------------------------------

_pieces = st.sampled_from(
    [t for t, _ in P]
    + [a for _, a in P]
    + sorted(BANNER_LINES)
    + ["Aug 20", "SubscribeX", "", " ", "\r"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(_pieces, st.text(max_size=80)), max_size=30),
    st.sampled_from(["\n", "\n\n", "\r\n", "\r"]),
)
def test_fuzz_never_raises(pieces, sep):
    text = sep.join(pieces)
    result = dp.parse(text, "fuzz.txt")
    assert isinstance(result, ParseResult)
    score = dp.sniff(text)
    assert 0.0 <= score <= 1.0
    nonblank = []
    if "\n" in text:
        nonblank = [i + 1 for i, line in enumerate(text.split("\n")) if line.strip()]
    for record in result.records:
        assert record.title and record.abstract
        assert record.title == record.title.strip() and record.abstract == record.abstract.strip()
        if nonblank:
            assert record.line in nonblank
    for problem in result.problems:
        assert "\n" not in problem.message


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_fuzz_mutated_pages(data):
    page = data.draw(st.sampled_from([dense_page(P), spaced_page(P)]))
    for _ in range(data.draw(st.integers(1, 5))):
        pos = data.draw(st.integers(0, len(page)))
        kind = data.draw(st.sampled_from(["cut", "insert", "delete-line", "truncate"]))
        if kind == "cut":
            page = page[:pos] + page[pos + data.draw(st.integers(1, 200)) :]
        elif kind == "insert":
            page = page[:pos] + data.draw(st.text(max_size=40)) + page[pos:]
        elif kind == "delete-line":
            lines = page.split("\n")
            del lines[min(pos, len(lines) - 1)]
            page = "\n".join(lines)
        else:
            page = page[:pos]
    result = dp.parse(page, "m.txt")
    assert isinstance(result, ParseResult)
    assert result.records or result.problems
    for record in result.records:
        assert record.title and record.abstract


def test_ten_thousand_papers_parse_without_a_problem():
    # How long this takes is measured by benchmarks/bench_parse.py.
    papers = make_papers(10_000)
    for page in (dense_page(papers), spaced_page(papers)):
        result = dp.parse(page, "big.txt")
        assert result.problems == []
        assert len(result.records) == 10_000


def _brute_force_cost(scores: list[float], labels: tuple[int, ...]) -> float:
    title, abstract = 0, 1
    cost = 0.0 if labels[0] == title else dp.PENALTY
    for i, label in enumerate(labels):
        if label == title:
            cost -= scores[i]
        if i and labels[i - 1] == label:
            cost += dp.PENALTY
    if labels[-1] == title:
        cost += dp.PENALTY
    return cost


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(-15, 15, allow_nan=False), min_size=1, max_size=10))
def test_labelling_is_the_cheapest_one(scores):
    import itertools

    best = min(
        _brute_force_cost(scores, labels)
        for labels in itertools.product((0, 1), repeat=len(scores))
    )
    assert _brute_force_cost(scores, tuple(dp._label(scores))) == pytest.approx(best, abs=1e-9)
