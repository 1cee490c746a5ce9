"""BibTeX field values: `@string` macros, `#` concatenation and months resolved, author lists
split into names, and the year and arXiv id found. Part of the BibTeX reader (bibtex.py)."""

from __future__ import annotations

import re

from index.model import ARXIV_ID
from index.sources.bibtex_latex import latex_to_text, plain_value

_MONTHS = {
    "jan": "January", "feb": "February", "mar": "March", "apr": "April", "may": "May",
    "jun": "June", "jul": "July", "aug": "August", "sep": "September", "oct": "October",
    "nov": "November", "dec": "December",
}
_ARXIV_URL = re.compile(
    r"arxiv\.org/(?:abs|pdf)/((?:\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?)", re.I
)
_ARXIV_IN_TEXT = re.compile(
    r"arxiv[:\s]*((?:\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?)", re.I
)
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")

_AND = re.compile(r"\s+and(?=\s)\s*", re.I)


def _split_top(value: str, sep: str) -> list[str]:
    """Split at `sep` characters outside braces and quotes."""
    if "{" not in value and '"' not in value and "\\" not in value:
        return value.split(sep)
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(value):
        if ch == "\\":
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        elif ch == '"' and depth == 0:
            quoted = not quoted
        elif ch == sep and depth == 0 and not quoted:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return parts


MAX_VALUE_CHARS = 1_000_000  # one field or @string, expanded: far beyond any real value


class ValueTooLong(ValueError):
    """A value that expands past MAX_VALUE_CHARS (e.g. @string macros that double each other)."""

    def __init__(self, macro: str | None = None):
        super().__init__(macro)
        self.macro = macro  # the too-long macro it uses, or None when the value itself is


def resolve_value(raw: str, strings: dict[str, str], too_long: set[str] = frozenset()) -> str:
    """A raw field value (`{..}`, `".."`, number, macro, `a # b`) to its BibTeX string.
    Raises ValueTooLong past MAX_VALUE_CHARS, or when it uses a macro in `too_long`."""
    raw = raw.strip()
    if not raw:
        return ""
    pieces = _split_top(raw, "#") if "#" in raw else [raw]
    if len(pieces) > 1 and not all(p.strip() for p in pieces):
        pieces = [raw]  # a stray '#', not a concatenation
    out = []
    size = 0
    for piece in pieces:
        piece = piece.strip()
        if piece.lower() in too_long:
            raise ValueTooLong(piece.lower())
        if len(piece) >= 2 and (
            (piece[0] == "{" and piece[-1] == "}") or (piece[0] == '"' and piece[-1] == '"')
        ):
            out.append(piece[1:-1])
        elif piece.lower() in strings:
            out.append(strings[piece.lower()])
        elif piece.lower() in _MONTHS:
            out.append(_MONTHS[piece.lower()])
        else:
            out.append(piece)
        size += len(out[-1])
        if size > MAX_VALUE_CHARS:
            raise ValueTooLong()
    return "".join(out)


def split_authors(value: str) -> tuple[list[str], bool]:
    """BibTeX author list to display names ("First Last"); second item: 'and others' seen."""
    names, et_al = [], False
    # split on 'and' surrounded by whitespace, at brace depth 0
    depth, start, i, chunks = 0, 0, 0, []
    lower = value.lower()
    if "{" not in value:
        chunks, i = _AND.split(value), len(value)  # no braces: a regex does it
        start = None
    while i < len(value):
        ch = value[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        elif (
            depth == 0
            and ch.isspace()
            and lower.startswith("and", i + 1)
            and i + 4 < len(value)
            and value[i + 4].isspace()
        ):
            chunks.append(value[start:i])
            i += 4
            start = i
            continue
        i += 1
    if start is not None:
        chunks.append(value[start:])
    for chunk in chunks:
        chunk = chunk.strip()
        if not chunk:
            continue
        if chunk.lower() in ("others", "et al.", "et al"):
            et_al = True
            continue
        parts = [p.strip() for p in _split_top(chunk, ",")]
        if len(parts) == 2 and parts[1]:
            chunk = f"{parts[1]} {parts[0]}"
        elif len(parts) >= 3 and parts[2]:
            chunk = f"{parts[2]} {parts[0]} {parts[1]}".strip()
        else:
            chunk = " ".join(p for p in parts if p)
        name = latex_to_text(chunk)
        if name:
            names.append(name)
    return names, et_al


def year_of(fields: dict[str, str]) -> int | None:
    """The year of an entry's resolved fields, from `year` or a biblatex `date`."""
    for name in ("year", "date"):
        match = _YEAR.search(fields.get(name, ""))
        if match:
            return int(match.group(1))
    return None


def arxiv_of(fields: dict[str, str]) -> str | None:
    """The arXiv id an entry's resolved fields name (eprint, an arxiv.org URL, a Google
    Scholar journal, an arXiv DOI), version included when given."""
    eprint = plain_value(fields.get("eprint", ""))
    kind = (fields.get("archiveprefix") or fields.get("eprinttype") or "").strip().lower()
    if eprint and kind in ("arxiv", "{arxiv}"):
        found = _ARXIV_IN_TEXT.search("arxiv:" + re.sub(r"^arxiv:\s*", "", eprint, flags=re.I))
        if found:
            return found.group(1)
    if eprint and not kind and ARXIV_ID.fullmatch(re.sub(r"^arxiv:\s*", "", eprint, flags=re.I)):
        return re.sub(r"^arxiv:\s*", "", eprint, flags=re.I)
    for name in ("url", "eprint", "doi", "note", "howpublished"):
        found = _ARXIV_URL.search(fields.get(name, ""))
        if found:
            return found.group(1)
    journal = fields.get("journal", "")
    if journal.lower().lstrip("{").startswith("arxiv"):
        found = _ARXIV_IN_TEXT.search(journal)
        if found:
            return found.group(1)
    doi = fields.get("doi", "")
    found = re.search(r"10\.48550/arxiv\.(\d{4}\.\d{4,5})", doi, re.I)
    if found:
        return found.group(1)
    return None
