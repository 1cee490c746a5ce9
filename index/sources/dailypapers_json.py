"""Hugging Face Daily Papers JSON: the `/api/daily_papers` list and the `/api/papers/{id}` object.

Accepted top levels: a list of items; one item object; an object holding the list under
"papers" / "dailyPapers" / "data"; or JSON Lines (one item per line). An item's fields sit at
the item level or under "paper" (the daily_papers list nests them); both are read, "paper"
first.

- `id` -> arxiv_id (version stripped, the version kept in extra["arxiv_version"]); an id that
  is not an arXiv id is kept in extra["hf_id"].
- title, summary (abstract, whitespace collapsed), authors (`[{"name": ...}]` or strings).
- publishedAt -> year and extra; submittedOnDailyAt -> listing_date (its YYYY-MM-DD) and extra.
- githubRepo / projectPage -> links; upvotes, ai_keywords, ai_summary, numComments ->
  extra. ai_keywords are not tags: a person's tags are theirs.

An item that is not an object, or has no title, is a problem naming the item's index and its
line (found by decoding the top-level list item by item, which also keeps the items before a
syntax error).
"""

from __future__ import annotations

import json
import os
import re

from index.model import ARXIV_ID, ParseResult, PaperRecord, Problem, strip_arxiv_version

FORMAT = "dailypapers-json"

_MARKERS = ('"upvotes"', '"submittedOnDailyAt"', '"ai_keywords"', '"githubRepo"',
            '"discussionId"', '"submittedBy"', '"publishedAt"')
_LIST_KEYS = ("papers", "dailyPapers", "daily_papers", "data", "items")
_WS = re.compile(r"[ \t\r\n]*")


def sniff(text: str) -> float:
    head = text[:65536].lstrip("\ufeff \t\r\n")
    if not head.startswith(("[", "{")):
        return 0.0
    hits = sum(marker in head for marker in _MARKERS)
    if hits >= 2 and '"title"' in head:
        return 0.95
    if hits >= 1 and '"title"' in head:
        return 0.75
    if '"title"' in head and '"summary"' in head:
        return 0.55
    return 0.0


def source_label(source: str) -> str:
    return f"{FORMAT}:{os.path.basename(source) or source}"


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


class _Lines:
    """1-based line of increasing offsets, counting each stretch of text once (not O(n^2))."""

    def __init__(self, text: str):
        self.text, self.pos, self.line = text, 0, 1

    def at(self, index: int) -> int:
        if index < self.pos:
            return _line_of(self.text, index)
        self.line += self.text.count("\n", self.pos, index)
        self.pos = index
        return self.line


MAX_INT_DIGITS = 4000  # Python refuses to convert longer ones (sys.int_info): nothing needs them


def _bounded_int(digits: str) -> int | None:
    """A JSON integer; one too long to convert reads as null (no field here needs it), so
    the item around it, and every other item, is still read."""
    return int(digits) if len(digits.lstrip("-")) <= MAX_INT_DIGITS else None


def _items(text: str, problems: list[Problem]) -> list[tuple[object, int | None]]:
    """(item, line) for each item of the top-level list (or the single object)."""
    decoder = json.JSONDecoder(parse_int=_bounded_int)
    start = _WS.match(text, 0).end()
    if text.startswith("\ufeff", start):
        start = _WS.match(text, start + 1).end()
    if start >= len(text):
        problems.append(Problem("empty JSON document", None))
        return []
    if text[start] == "[":
        return _list_items(text, start, decoder, problems)
    try:
        value, end = decoder.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        problems.append(Problem(f"not valid JSON ({exc.msg})", exc.lineno))
        return []
    rest = _WS.match(text, end).end()
    if rest < len(text):  # JSON Lines: one item after another
        lines = _Lines(text)
        out: list[tuple[object, int | None]] = [(value, lines.at(start))]
        pos = rest
        while pos < len(text):
            try:
                item, end = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                problems.append(Problem(f"not valid JSON ({exc.msg})", exc.lineno))
                break
            out.append((item, lines.at(pos)))
            pos = _WS.match(text, end).end()
        return out
    if isinstance(value, dict):
        for key in _LIST_KEYS:
            if isinstance(value.get(key), list):
                # positions inside a wrapper are not tracked: lines are unknown
                return [(item, None) for item in value[key]]
    return [(value, _line_of(text, start))]


def _list_items(text, start, decoder, problems):
    lines = _Lines(text)
    out: list[tuple[object, int | None]] = []
    pos = _WS.match(text, start + 1).end()
    if text.startswith("]", pos):
        return out
    while True:
        try:
            item, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            problems.append(Problem(
                f"not valid JSON at item {len(out)} ({exc.msg}); items after it were not read",
                exc.lineno))
            return out
        except RecursionError:
            problems.append(Problem(f"item {len(out)} is nested too deeply", lines.at(pos)))
            return out
        out.append((item, lines.at(pos)))
        pos = _WS.match(text, end).end()
        if text.startswith(",", pos):
            pos = _WS.match(text, pos + 1).end()
            continue
        if text.startswith("]", pos):
            tail = _WS.match(text, pos + 1).end()
            if tail < len(text):
                problems.append(Problem("text after the end of the JSON list was ignored",
                                        _line_of(text, tail)))
            return out
        what = "the file ends" if pos >= len(text) else f"found {text[pos]!r}"
        problems.append(Problem(f"JSON list is not closed ({what} after item {len(out) - 1})",
                                _line_of(text, min(pos, len(text)))))
        return out


def _str(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _record(item, index: int, line: int | None, source: str):
    if not isinstance(item, dict):
        return None, Problem(f"item {index} is not an object", line)
    paper = item.get("paper") if isinstance(item.get("paper"), dict) else {}

    def get(name):
        value = paper.get(name)
        return value if value not in (None, "", []) else item.get(name)

    title = " ".join(_str(get("title")).split())
    if not title:
        return None, Problem(f"item {index} has no title", line)
    extra: dict = {}
    raw_id = _str(get("id"))
    arxiv_id = None
    if raw_id and ARXIV_ID.fullmatch(raw_id):
        version = re.search(r"(v\d+)$", raw_id)
        if version:
            extra["arxiv_version"] = version.group(1)
        arxiv_id = strip_arxiv_version(raw_id)
    elif raw_id:
        extra["hf_id"] = raw_id
    authors = []
    raw_authors = get("authors")
    for author in raw_authors if isinstance(raw_authors, list) else []:
        name = _str(author.get("name")) if isinstance(author, dict) else _str(author)
        name = " ".join(name.split())
        if name:
            authors.append(name)
    published = _str(get("publishedAt"))
    submitted = _str(get("submittedOnDailyAt"))
    year = None
    match = re.match(r"(\d{4})-\d{2}", published)
    if match:
        year = int(match.group(1))
    listing_date = submitted[:10] if re.match(r"\d{4}-\d{2}-\d{2}", submitted) else None
    links = []
    for name in ("githubRepo", "projectPage"):
        url = _str(get(name))
        if url.startswith(("http://", "https://")) and url not in links:
            links.append(url)
    if published:
        extra["publishedAt"] = published
    if submitted:
        extra["submittedOnDailyAt"] = submitted
    for name in ("upvotes", "numComments", "githubStars"):
        value = get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            extra[name] = value
    keywords = get("ai_keywords")
    if isinstance(keywords, list):
        keywords = [k.strip() for k in keywords if isinstance(k, str) and k.strip()]
        if keywords:
            extra["ai_keywords"] = keywords
    summary_ai = _str(get("ai_summary"))
    if summary_ai:
        extra["ai_summary"] = summary_ai
    record = PaperRecord(
        title=title,
        abstract=" ".join(_str(get("summary")).split()),
        authors=authors,
        year=year,
        listing_date=listing_date,
        arxiv_id=arxiv_id,
        links=links,
        source=source,
        extra=extra,
        line=line,
    )
    return record, None


def parse(text: str, source: str) -> ParseResult:
    result = ParseResult(format=FORMAT)
    label = source_label(source)
    try:
        items = _items(text, result.problems)
    except RecursionError:
        result.problems.append(Problem("JSON is nested too deeply", None))
        return result
    for index, (item, line) in enumerate(items):
        try:
            record, problem = _record(item, index, line, label)
        except Exception as exc:  # never lose the other items to one odd item
            record, problem = None, Problem(f"item {index} could not be read ({type(exc).__name__})", line)
        if record is not None:
            result.records.append(record)
        if problem is not None:
            result.problems.append(problem)
    return result
