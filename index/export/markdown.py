"""Papers -> one Markdown reading list, grouped by status or by tag.

Titles, abstracts, authors and tags are untrusted listing text: they are escaped so they render
as text (no stray emphasis, links, HTML or Obsidian math). The note is the user's own Markdown
and is written as it is. Links are written only for http(s) URLs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from urllib.parse import quote, urlsplit

from index.export.latex import decode_latex
from index.model import STATUSES, Paper

Progress = Callable[[int, int], None]
GROUPINGS = ("status", "tag", "none")
ABSTRACT_STYLES = ("details", "quote", "none")

_LINE_START = re.compile(r"^()(?:([-+>])|(\d+)([.)])(?=\s|$))")
# One C-level pass: control characters deleted, and every character that can start or end
# inline syntax backslash-escaped (CommonMark allows that for any ASCII punctuation): emphasis,
# code, links, HTML, entities, tables, strikethrough, and Obsidian's ==highlight==,
# %%comments%%, $math$, ^blocks and #tags.
_ESCAPES = {c: None for c in [*range(0x09), *range(0x0b, 0x20), *range(0x7f, 0xa0)]}
_ESCAPES.update({ord(c): "\\" + c for c in "\\`*_[]<>&|~$=%^#!"})
_ESCAPES.update({c: " " for c in (0x0B, 0x0C, 0x0D, 0x85)})
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # not tab or newline
_STATUS_TITLES = {"unread": "To read", "reading": "Reading", "read": "Read"}


def escape_inline(text: str) -> str:
    """Untrusted text -> Markdown that renders as exactly that text, on one line."""
    text = " ".join(text.translate(_ESCAPES).split())
    return _LINE_START.sub(_escape_marker, text)


def _escape_marker(match: re.Match) -> str:
    """`- x`, `+ x`, `> x` -> `\\- x`; `1. x` -> `1\\. x` (a list or quote at line start)."""
    space, mark, digits, dot = match.groups()
    if digits:
        return space + digits + "\\" + dot
    return space + "\\" + mark  # also stops `---` becoming a rule


def escape_block(text: str) -> list[str]:
    """Untrusted multi-line text -> escaped paragraphs (blank lines kept as breaks)."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return [escape_inline(p) for p in paragraphs if p.strip()]


_HTML_OPENER = re.compile(r"<(?=[A-Za-z/!?])")


def clean_note(text: str) -> str:
    """The user's own Markdown, minus control characters (terminal escapes) and raw HTML:
    a note may have come from anywhere (a synced device, a pasted abstract), and a reading
    list published as HTML must not carry live tags. Markdown formatting still works."""
    text = _CONTROLS.sub("", text.replace("\r\n", "\n")).strip()
    return _HTML_OPENER.sub("&lt;", text)


def safe_url(url: str | None) -> str | None:
    """An http(s) URL usable as a Markdown link destination, else None."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    # Inside <...> a destination may hold anything but <, > and line breaks.
    return quote(url, safe="/:?#[]@!$&'()*+,;=%-._~")


def link(text: str, url: str | None) -> str:
    target = safe_url(url)
    if target is None:
        return escape_inline(text)
    return f"[{escape_inline(text)}](<{target}>)"


def display_title(paper: Paper) -> str:
    return " ".join(decode_latex(paper.title).split()) or paper.key


def paper_markdown(paper: Paper, *, level: int = 3, abstract: str = "details",
                   with_notes: bool = True) -> str:
    star = "★ " if paper.starred else ""
    lines = [f"{'#' * level} {star}{escape_inline(display_title(paper))}", ""]
    facts = []
    url = paper.best_url
    if safe_url(url):
        facts.append(f"- Link: {link(url, url)}")
    if paper.authors:
        authors = ", ".join(decode_latex(a) for a in paper.authors)
        facts.append("- Authors: " + escape_inline(authors))
    when = " ".join(str(x) for x in (paper.year, paper.listing_date) if x)
    if when:
        facts.append("- Date: " + escape_inline(when))
    if paper.tags:
        facts.append("- Tags: " + ", ".join(escape_inline(t) for t in paper.tags))
    facts.append(f"- Status: {paper.status}{' · starred' if paper.starred else ''}")
    if paper.citekey:
        facts.append("- Citation key: " + escape_inline(paper.citekey))
    for extra in paper.links:
        if safe_url(extra):
            facts.append(f"- Code/project: {link(extra, extra)}")
    lines += facts
    text = decode_latex(paper.abstract or "")
    if text.strip() and abstract != "none":
        paragraphs = escape_block(text)
        lines.append("")
        if abstract == "quote":
            lines.append("\n>\n".join("> " + p for p in paragraphs))
        else:
            lines += ["<details>", "<summary>Abstract</summary>", ""]
            lines.append("\n\n".join(paragraphs))
            lines += ["", "</details>"]
    if with_notes and clean_note(paper.note):
        lines += ["", "**Note**", "", clean_note(paper.note)]
    return "\n".join(lines) + "\n"


def _groups(papers: list[Paper], group_by: str) -> list[tuple[str, list[Paper]]]:
    if group_by == "none":
        return [("", papers)]
    if group_by == "status":
        by_status: dict[str, list[Paper]] = {s: [] for s in STATUSES}
        for paper in papers:
            by_status.setdefault(paper.status, []).append(paper)
        order = ["reading", "unread", "read"] + [s for s in by_status if s not in STATUSES]
        return [(_STATUS_TITLES.get(s, s), by_status[s]) for s in order if by_status.get(s)]
    if group_by == "tag":
        by_tag: dict[str, list[Paper]] = {}
        untagged: list[Paper] = []
        for paper in papers:
            for tag in dict.fromkeys(paper.tags):
                by_tag.setdefault(tag, []).append(paper)
            if not paper.tags:
                untagged.append(paper)
        groups = [(tag, by_tag[tag]) for tag in sorted(by_tag, key=str.casefold)]
        return groups + ([("Untagged", untagged)] if untagged else [])
    raise ValueError(f"group_by must be one of {', '.join(GROUPINGS)}")


def export_markdown(
    papers: Iterable[Paper], *, group_by: str = "status", abstract: str = "details",
    with_notes: bool = True, title: str = "Reading list", progress: Progress | None = None,
) -> str:
    """Papers -> one Markdown document: a `#` title, `##` groups, a `###` heading per paper."""
    if abstract not in ABSTRACT_STYLES:
        raise ValueError(f"abstract must be one of {', '.join(ABSTRACT_STYLES)}")
    papers = list(papers)
    groups = _groups(papers, group_by)
    total = sum(len(g) for _, g in groups)
    out = [f"# {escape_inline(title)}", "", f"{len(papers)} paper{'s' if len(papers) != 1 else ''}"]
    done = 0
    level = 2 if group_by == "none" else 3
    for name, members in groups:
        if name:
            out += ["", f"## {escape_inline(name)} ({len(members)})"]
        for paper in members:
            out += ["", paper_markdown(paper, level=level, abstract=abstract,
                                       with_notes=with_notes).rstrip("\n")]
            done += 1
            if progress is not None:
                progress(done, total)
    return "\n".join(out) + "\n"
