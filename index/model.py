"""Paper records, user state, and the rules that give a paper its identity.

Everything here is plain data: parsers produce `PaperRecord`s, the store turns them into
`Paper`s (record + user state), and every other module reads those.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field, fields

STATUSES = ("unread", "reading", "read")
EXPORT_FORMATS = ("bibtex", "markdown", "obsidian")
EXPORT_SUFFIXES = {"bibtex": ".bib", "markdown": ".md", "obsidian": ""}  # obsidian: a folder

# What may reach a terminal from anything papershelf prints: lines and tabs, never a control
# character (C0, DEL, C1) or a bidi override (the front ends' printable text removes the rest).
UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)
# arXiv ids: new style 2101.01234(v2) and old style hep-th/9901001(v1).
ARXIV_ID = re.compile(r"(?:\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?", re.I)
_ARXIV_VERSION = re.compile(r"v\d+$")


def normalise_title(title: str) -> str:
    """LaTeX read as text, NFKC, casefold, runs of non-alphanumerics to one space, trimmed.

    Reading LaTeX first makes `na\\"{\\i}ve` (a listing) and `naïve` (the same title back
    from a BibTeX export, or from arXiv) one title."""
    if "\\" in title or "{" in title:
        from index.latex_text import plain_text

        title = plain_text(title)
    return _source_normalised(title)


def _source_normalised(title: str) -> str:
    folded = unicodedata.normalize("NFKC", title).casefold()
    return _NON_ALNUM.sub(" ", folded).strip()


def next_status(status: str) -> str:
    """The status `r` (and Library.cycle_status) moves a paper to: unread, reading, read, unread."""
    return STATUSES[(STATUSES.index(status) + 1) % len(STATUSES)]


def strip_arxiv_version(arxiv_id: str) -> str:
    return _ARXIV_VERSION.sub("", arxiv_id.strip())


def paper_key(*, title: str, arxiv_id: str | None = None, doi: str | None = None) -> str:
    """`arxiv:<id>` when known, else `doi:<doi>`, else a hash of the normalised title."""
    if arxiv_id:
        return "arxiv:" + strip_arxiv_version(arxiv_id).lower()
    if doi:
        return "doi:" + doi.strip().lower()
    digest = hashlib.sha1(normalise_title(title).encode("utf-8")).hexdigest()
    return "title:" + digest[:12]


@dataclass
class PaperRecord:
    """What a source says about a paper. Parsers return these; they carry no user state."""

    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    listing_date: str | None = None  # as the listing printed it, e.g. "Aug 20" (no year)
    arxiv_id: str | None = None
    doi: str | None = None
    url: str | None = None
    links: list[str] = field(default_factory=list)  # code / project links found in the text
    venue: str | None = None
    source: str = ""  # where it was seen, e.g. "dailypapers:hf-2024-08-20.txt"
    tags: list[str] = field(default_factory=list)  # tags the source suggests (BibTeX keywords)
    citekey: str | None = None  # a citation key the source already uses (BibTeX)
    extra: dict = field(default_factory=dict)  # format-specific fields worth keeping
    line: int | None = None  # line in the source file where the record starts

    @property
    def key(self) -> str:
        return paper_key(title=self.title, arxiv_id=self.arxiv_id, doi=self.doi)

    def to_dict(self) -> dict:
        # Shallow on purpose: asdict() deep-copies and costs ~40% of a 10k import.
        return {f.name: getattr(self, f.name) for f in _RECORD_FIELDS if f.name != "line"}

    @classmethod
    def from_dict(cls, data: dict) -> PaperRecord:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


_RECORD_FIELDS = fields(PaperRecord)


@dataclass(frozen=True)
class Problem:
    """Something a parser could not use. `line` is 1-based; None when it has no place."""

    message: str
    line: int | None = None
    path: str | None = None

    def __str__(self) -> str:
        if self.path is None and self.line is None:
            return self.message
        where = self.path or "<input>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"


@dataclass
class ParseResult:
    records: list[PaperRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # records that could not be used
    format: str = ""
    notices: list[Problem] = field(default_factory=list)  # worth saying, nothing rejected


@dataclass
class Paper:
    """A paper in the library: the merged record plus the user's state."""

    key: str
    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    listing_date: str | None = None
    arxiv_id: str | None = None
    doi: str | None = None
    url: str | None = None
    links: list[str] = field(default_factory=list)
    venue: str | None = None
    sources: list[str] = field(default_factory=list)
    citekey: str | None = None
    extra: dict = field(default_factory=dict)
    added: float = 0.0  # unix time it entered this library
    # user state
    starred: bool = False
    tags: list[str] = field(default_factory=list)
    status: str = "unread"
    note: str = ""

    @property
    def display_title(self) -> str:
        """The title as a reader sees it: LaTeX fragments decoded (the stored title keeps them)."""
        from index.latex_text import plain_text

        return plain_text(self.title)

    @property
    def display_abstract(self) -> str:
        from index.latex_text import plain_text

        return plain_text(self.abstract)

    def page_to_open(self) -> tuple[str, str] | None:
        """(address, what it is) for the `o` key: the arXiv page when there is an id, else
        the paper's own page or DOI, else the first link read from its abstract; None when
        there is nothing (only http and https addresses count)."""
        links = [u for u in self.links if _is_web(u)]
        choices = [
            (f"https://arxiv.org/abs/{self.arxiv_id}" if self.arxiv_id else None, "the arXiv page"),
            (self.url, "its web page"),
            (f"https://doi.org/{self.doi}" if self.doi else None, "its DOI"),
            (links[0] if links else None,
             "the first link in its abstract" + (f" (of {len(links)})" if len(links) > 1 else "")),
        ]
        return next(((url, what) for url, what in choices if url and _is_web(url)), None)

    @property
    def best_url(self) -> str | None:
        if self.url:
            return self.url
        if self.arxiv_id:
            return f"https://arxiv.org/abs/{self.arxiv_id}"
        if self.doi:
            return f"https://doi.org/{self.doi}"
        return None


def _is_web(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)  # keys
    merged: list[str] = field(default_factory=list)  # existing papers that gained a source/field
    unchanged: list[str] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)
    notices: list[Problem] = field(default_factory=list)  # e.g. "read as Latin-1"

    def extend(self, other: ImportReport) -> None:
        self.added += other.added
        self.merged += other.merged
        self.unchanged += other.unchanged
        self.rejected += other.rejected
        self.notices += other.notices

    def summary(self) -> str:
        return (
            f"added {len(self.added)}, merged {len(self.merged)}, "
            f"unchanged {len(self.unchanged)}, rejected {len(self.rejected)}"
        )


class PapershelfError(Exception):
    """A user-facing error: its message is one clear line, shown without a traceback."""


class KeyNotFound(PapershelfError):
    pass


class AmbiguousKey(PapershelfError):
    pass


def has_control_characters(text: str) -> bool:
    """True when an identifier (a key, a DOI, a tag) holds a control character, a line break,
    a tab or a bidi override: such text is refused, never stored."""
    return UNPRINTABLE.search(text) is not None or "\n" in text or "\t" in text


def normalise_tag(tag: str) -> str:
    """Tags are trimmed, inner whitespace becomes '-', and they compare case-insensitively."""
    cleaned = "-".join(tag.strip().split())
    return cleaned.casefold()


@dataclass(frozen=True)
class Selection:
    """Which papers an export, a copy or a count is about: the first of these that is set,
    else the whole library. One rule for the app's export dialog and `papershelf export`."""

    keys: tuple[str, ...] | None = None  # these papers, in this order (marked, shown, named)
    query: str | None = None  # the results of a search
    starred: bool = False
    tag: str | None = None


@dataclass
class ExportOptions:
    group_by: str = "status"  # markdown: status | tag | none
    abstract: str = "details"  # markdown: details | quote | none
    with_notes: bool = False  # bibtex: the user's note as `annote` (markdown always has notes)
