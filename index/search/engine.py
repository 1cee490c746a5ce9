"""What a full-text engine must do for the library, and the pieces both engines share.

`Engine` is the one interface: WhooshEngine in index/search/whoosh.py (the default, as the
product was specified) and Fts5Engine in index/search/fts5.py (SQLite FTS5, for very large
libraries) implement it. Only the modules of an engine (whoosh*.py, fts5*.py) import Whoosh or
touch the FTS5 file. What is written once over the interface (suggestions, similar papers)
lives beside them in this package; the query language is index/query.py.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from index.latex_text import search_text
from index.model import Paper, PapershelfError, normalise_tag
from index.query import Node

Progress = Callable[[int, int], None]


class IndexUnavailable(PapershelfError):
    """The index is missing, damaged, incomplete or of an older schema: the caller rebuilds
    it (and when even that fails, the message is the one line the user sees)."""


class IndexBusy(PapershelfError):
    """Another process holds the index's writer lock for longer than the timeout."""


def busy(timeout: float, what: str = "") -> IndexBusy:
    return IndexBusy(
        f"the search index is being written by another papershelf process "
        f"(waited {timeout:g} s); try {what or 'again'} when it finishes")


@dataclass
class Hits:
    """What an engine found: the best `limit` keys with their scores, and the exact number
    of papers that match."""

    keys: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    total: int = 0


@dataclass
class WordDocs:
    """Which papers use which words, read off an engine's posting lists ("for you" ranks
    with it instead of splitting every abstract). Papers are named by the engine's own ids."""

    docs: dict[str, Collection[int]]  # word -> the papers with it in the title or abstract
    lengths: Sequence[int]  # by paper id: title + abstract length in words
    keys: Sequence[str | None]  # by paper id: its key (None: an id that is no paper)
    # (segment id, first paper id) of each segment, for an engine whose merges renumber the
    # papers of the segments they merge (Whoosh); empty when ids never move (FTS5)
    segments: tuple[tuple[str, int], ...] = ()


class Engine(Protocol):
    name: str  # "whoosh" or "sqlite", as config.toml and `reindex --engine` spell it
    directory: Path

    def open(self) -> None:
        """Open and check the index; IndexUnavailable when missing, damaged or older."""

    def close(self) -> None: ...

    def rebuild(self, papers: Iterable[Paper], total: int | None = None,
                progress: Progress | None = None) -> None:
        """Replace the whole index. Other processes keep the old one until it is complete."""

    def upsert(self, papers: Sequence[Paper]) -> None:
        """Add or replace papers (by key) in one commit."""

    def delete(self, keys: Sequence[str]) -> None: ...

    def search(self, tree: Node, *, limit: int | None, allowed: set[str] | None = None,
               excluded: set[str] | None = None) -> Hits:
        """The papers matching `tree`, best first (BM25, title weighted 3x), restricted to
        `allowed` keys and outside `excluded` keys when given; `total` is exact. (A user-state
        filter comes as whichever of the two lists is shorter.)"""

    def doc_count(self) -> int: ...

    def all_keys(self) -> list[str]:
        """Every indexed key, once per indexed copy (what `doctor` compares)."""

    def spelling_candidates(self, word: str, maxdist: int) -> list[str]:
        """Unstemmed title and abstract words with the same first letter as `word`, at most
        `maxdist` edits away (see `edit_distance`)."""

    def has_word(self, word: str) -> bool:
        """True when the unstemmed word is in some title or abstract."""

    def doc_frequencies(self, words: Iterable[str]) -> dict[str, int]:
        """How many papers have each unstemmed word in the title or abstract."""

    def docs_with(self, words: Iterable[str], first_doc: int = 0) -> WordDocs:
        """For each unstemmed word, the live papers whose title or abstract contains it
        (words no paper uses are left out), in ascending id order, with every paper's length
        and key. With `first_doc`, only the papers from that id on (what a rewrite or an
        addition appended: "for you" follows them without reading all postings again). The
        arrays are the caller's to change (fresh ones each call)."""

    def prefix_doc_frequency(self, prefix: str) -> int:
        """About how many papers have a title or abstract word starting with `prefix` (a word
        family: "heron" for "heron", "herons")."""


# ---------------------------------------------------------------------------------------------
# The fields an engine indexes, from a paper: one definition for both engines.


@dataclass(frozen=True)
class IndexedPaper:
    key: str
    title: str
    authors: str
    tags: list[str]
    abstract: str
    notes: str
    year: int | None
    formats: list[str]  # source formats ("bibtex", "dailypapers-json")
    sources: list[str]  # whole source strings ("bibtex:refs.bib")
    added: float


def indexed(paper: Paper) -> IndexedPaper:
    formats, sources = [], []
    for source in paper.sources:
        source = source.strip()
        if not source:
            continue
        fmt = source.split(":", 1)[0].lower()
        formats.append(fmt)
        if fmt != source.lower():
            sources.append(source.lower())
    return IndexedPaper(
        key=paper.key,
        # LaTeX decoded, Greek letters also by name: `naive` finds na\"{\i}ve, `psi` finds Ψ
        title=search_text(paper.title or ""),
        authors=", ".join(paper.authors),
        tags=[normalise_tag(t) for t in paper.tags],
        abstract=search_text(paper.abstract or ""),
        notes=paper.note or "",
        year=paper.year or None,
        formats=formats,
        sources=sources,
        added=float(paper.added or 0.0),
    )


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]
