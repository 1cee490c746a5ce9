"""arXiv Atom: an API response (export.arxiv.org/api/query) or a listing feed saved as XML.

Three shapes are read, all by element local names so namespace prefixes do not matter:

- API / Atom `<feed><entry>`: `<id>http://arxiv.org/abs/2101.01234v2</id>`, title, summary,
  `<author><name>`, published, updated, `<category term>`, `<arxiv:primary_category>`,
  `<arxiv:doi>`, `<arxiv:journal_ref>`, `<arxiv:comment>`, `<link title="pdf">`.
- The listing feeds of rss.arxiv.org in Atom form: `<id>oai:arXiv.org:2101.01234v1</id>`,
  authors in one `<dc:creator>` ("A, B and C"), and a summary that starts with
  "arXiv:2101.01234v1 Announce Type: new Abstract: ..." (that prefix is dropped).
- RSS 2.0 / RSS 1.0 (RDF) items: title, link, description, dc:creator, category.

A record's `arxiv_id` has the version stripped (the paper key must not change between
versions); the version is kept in extra["arxiv_version"]. Categories, the primary category,
published/updated, the comment and the PDF link go to `extra`; they are not tags (a person's
tags are theirs). URLs in the abstract and comment (code, project pages) become `links`.

Safety: XML with a DOCTYPE or ENTITY declaration is refused with a problem (entity expansion
bombs). A file that stops being well-formed part-way keeps the entries before the error and
reports the error with its line. The API's error entries ("incorrect id format ...") and
entries without a title become problems.
"""

from __future__ import annotations

import functools
import os
import re
import xml.etree.ElementTree as ET

from index.model import ParseResult, PaperRecord, Problem, strip_arxiv_version

FORMAT = "arxiv"

_ID = re.compile(r"((?:\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?)\s*$", re.I)
_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.I)
_ANNOUNCE = re.compile(
    r"^\s*arXiv:\S+\s+Announce Type:\s*\S+\s*(?:Abstract:\s*)?", re.I
)
_URL = re.compile(r"https?://[^\s<>\"'\]\){}]+", re.I)  # braces: `{this http URL}`
_ENTRY_NAMES = {"entry", "item"}


def sniff(text: str) -> float:
    head = text[:8192].lstrip("\ufeff \t\r\n")
    if not head.startswith("<"):
        return 0.0
    low = head.lower()
    is_feed = "<feed" in low or "<rss" in low or "<rdf:rdf" in low
    if not is_feed:
        return 0.0
    if "arxiv.org" in low or "arxiv" in low:
        return 0.95
    if "http://www.w3.org/2005/atom" in low:
        return 0.55  # a generic Atom feed: entries without arXiv ids are keyed by title
    return 0.3


@functools.lru_cache(maxsize=1024)
def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()


def _local(tag) -> str:
    return _local_name(tag) if isinstance(tag, str) else ""


def _text(el) -> str:
    if el is None:
        return ""
    return " ".join("".join(el.itertext()).split())


class _Kids:
    """An element's children by local name, computed once."""

    def __init__(self, el):
        self.el = el
        self.by_name: dict[str, list] = {}
        for child in el:
            self.by_name.setdefault(_local(child.tag), []).append(child)

    def all(self, name):
        return self.by_name.get(name, [])

    def first(self, name) -> str:
        found = self.by_name.get(name)
        return _text(found[0]) if found else ""


def _children(el, name):
    return [c for c in el if _local(c.tag) == name]


def _first(el, name) -> str:
    for c in el:
        if _local(c.tag) == name:
            return _text(c)
    return ""


def source_label(source: str) -> str:
    return f"{FORMAT}:{os.path.basename(source) or source}"


def extract_links(*texts: str) -> list[str]:
    links: list[str] = []
    for text in texts:
        for url in _URL.findall(text or ""):
            url = url.rstrip(".,;:!?'\"")
            if "arxiv.org" in url.lower() or url in links:
                continue
            links.append(url)
    return links


def _arxiv_from(*values: str) -> tuple[str | None, str | None]:
    """(id without version, 'vN' or None) from an abs URL, an oai id, or a bare id."""
    for value in values:
        value = (value or "").strip()
        if not value or "arxiv.org/api/errors" in value.lower():
            continue
        value = re.sub(r"\.pdf$", "", value.split("?")[0].split("#")[0].rstrip("/"))
        if "arxiv" not in value.lower() and "/" in value and not re.fullmatch(
            r"[a-z\-]+(?:\.[A-Z]{2})?/\d{7}(v\d+)?", value, re.I
        ):
            continue
        match = _ID.search(value)
        if match:
            return strip_arxiv_version(match.group(1)), match.group(2)
    return None, None


def _authors(entry: _Kids) -> list[str]:
    names = [_first(a, "name") or _text(a) for a in entry.all("author")]
    names = [n for n in names if n]
    if names:
        return names
    creators = [_text(c) for c in entry.all("creator")]
    out: list[str] = []
    for creator in creators:
        for part in re.split(r",\s*|\s+and\s+", creator):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


def _record(element, line: int | None, source: str) -> tuple[PaperRecord | None, Problem | None]:
    entry = _Kids(element)
    raw_id = entry.first("id")
    title = entry.first("title")
    if "arxiv.org/api/errors" in raw_id.lower() or title.lower() == "error":
        detail = entry.first("summary") or raw_id
        return None, Problem(f"arXiv API error: {detail}", line)
    link_hrefs = {}
    for link in entry.all("link"):
        href = (link.get("href") or _text(link) or "").strip()
        if not href:
            continue
        kind = (link.get("title") or link.get("rel") or "alternate").lower()
        link_hrefs.setdefault(kind, href)
    guid = entry.first("guid")
    about = element.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about") or ""
    arxiv_id, version = _arxiv_from(raw_id, link_hrefs.get("alternate", ""), guid, about)
    if not title:
        what = f"arXiv:{arxiv_id}" if arxiv_id else "an entry"
        return None, Problem(f"{what} has no title (arXiv may not know this id)", line)
    summary = entry.first("summary") or entry.first("description")
    summary = _ANNOUNCE.sub("", summary).strip()
    if summary and re.fullmatch(r"(?i)abstract:?", summary):
        summary = ""
    published = entry.first("published") or entry.first("date") or entry.first("pubdate")
    updated = entry.first("updated")
    year_match = re.match(r"\s*(\d{4})", published)
    categories = []
    for cat in entry.all("category"):
        term = (cat.get("term") or _text(cat)).strip()
        if term and term not in categories:
            categories.append(term)
    primary = ""
    for el in entry.all("primary_category"):
        primary = (el.get("term") or "").strip()
    comment = entry.first("comment")
    extra: dict = {}
    if version:
        extra["arxiv_version"] = version
    for name, value in (("published", published), ("updated", updated), ("comment", comment),
                        ("primary_category", primary), ("pdf_url", link_hrefs.get("pdf", ""))):
        if value:
            extra[name] = value
    if categories:
        extra["categories"] = categories
    doi = entry.first("doi") or None
    url = f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else (link_hrefs.get("alternate") or None)
    record = PaperRecord(
        title=title,
        abstract=summary,
        authors=_authors(entry),
        year=int(year_match.group(1)) if year_match else None,
        arxiv_id=arxiv_id,
        doi=doi,
        url=url,
        links=extract_links(summary, comment),
        venue=entry.first("journal_ref") or None,
        source=source,
        extra=extra,
        line=line,
    )
    return record, None


def parse(text: str, source: str) -> ParseResult:
    result = ParseResult(format=FORMAT)
    label = source_label(source)
    declaration = _DTD.search(text)
    if declaration:
        line = text.count("\n", 0, declaration.start()) + 1
        result.problems.append(Problem(
            "XML with a DOCTYPE or ENTITY declaration is refused (entities can expand without "
            "bound); save the feed without it", line))
        return result
    parser = ET.XMLPullParser(events=("start", "end"))
    starts: list[int] = []  # line of each open entry, innermost last
    depth_stack: list[ET.Element] = []
    lines = text.splitlines(keepends=True)

    def drain(current_line: int) -> None:
        for event, el in parser.read_events():
            name = _local(el.tag)
            if name not in _ENTRY_NAMES:
                continue
            if event == "start":
                starts.append(current_line)
                depth_stack.append(el)
            else:
                line = starts.pop() if starts else None
                if depth_stack:
                    depth_stack.pop()
                record, problem = _record(el, line, label)
                if record is not None:
                    result.records.append(record)
                if problem is not None:
                    result.problems.append(problem)
                el.clear()

    n = 0
    try:
        for n, chunk in enumerate(lines, start=1):
            parser.feed(chunk)
            drain(n)
        parser.close()
        drain(n)
    except ET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        message = str(exc).split(":")[0] if str(exc) else "not well-formed"
        kept = f"; the {len(result.records)} entries before it were read" if result.records else ""
        result.problems.append(Problem(f"XML is broken here ({message}){kept}", line))
    except Exception as exc:  # expat can raise others on odd input; never a traceback
        result.problems.append(Problem(f"XML could not be read ({type(exc).__name__})", None))
    return result
