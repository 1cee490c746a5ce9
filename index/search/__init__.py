"""Full-text search over the library: one engine behind the query language.

`SearchIndex` takes the raw text (or an already parsed `Query`), hands the tree to the active
engine, and adds what is written once for every engine: "did you mean" (words only, filters
kept), similar papers, and the terms to highlight. The engines are WhooshEngine (whoosh.py,
the default, with its whoosh_*.py modules) and Fts5Engine (fts5.py, with fts5_*.py); see
engine.py for the interface.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.model import Paper
from index.query import Query, parse
from index.search.engine import (
    Engine,
    Hits,
    IndexBusy,
    IndexUnavailable,
    Progress,
    WordDocs,
)
from index.search.similar import similar_tree
from index.search.suggest import corrections

__all__ = ["ENGINES", "DEFAULT_ENGINE", "SearchIndex", "SearchResult", "IndexBusy",
           "IndexUnavailable", "Hits", "make_engine", "engine_dir"]

DEFAULT_ENGINE = "whoosh"
# Engine name (as config.toml and `reindex --engine` spell it) -> its folder in the data dir.
ENGINES = {"whoosh": "search-whoosh", "sqlite": "search"}
# Suggest a corrected query only when the query found fewer hits than this.
SUGGEST_BELOW = 3


def engine_dir(data_dir: Path, name: str) -> Path:
    return Path(data_dir) / ENGINES[name]


def make_engine(name: str, directory: Path, *, writer_timeout: float = 5.0) -> Engine:
    """An engine object (nothing opened yet). Each engine module is imported only here, so a
    library on one engine never loads the other."""
    if name == "whoosh":
        from index.search.whoosh import WhooshEngine

        return WhooshEngine(directory, writer_timeout=writer_timeout)
    if name == "sqlite":
        from index.search.fts5 import Fts5Engine

        return Fts5Engine(directory, writer_timeout=writer_timeout)
    raise ValueError(f"unknown search engine {name!r}; use {' or '.join(ENGINES)}")


@dataclass
class SearchResult:
    keys: list[str] = field(default_factory=list)
    total: int = 0
    terms: set[str] = field(default_factory=set)
    suggestion: str | None = None
    error: str | None = None  # the query cannot run (nothing was searched)
    hint: str | None = None  # part of the query was read leniently (see index/query.py)


class SearchIndex:
    """The library's full-text index on one engine (thread-safe as the engines are)."""

    def __init__(self, directory: Path, engine: str = DEFAULT_ENGINE, *,
                 writer_timeout: float = 5.0):
        self.engine = make_engine(engine, Path(directory), writer_timeout=writer_timeout)

    @property
    def name(self) -> str:
        return self.engine.name

    @property
    def directory(self) -> Path:
        return self.engine.directory

    # -- the engine's own work ----------------------------------------------------------------

    def open(self) -> None:
        self.engine.open()

    def close(self) -> None:
        self.engine.close()

    def rebuild(self, papers: Iterable[Paper], total: int | None = None,
                progress: Progress | None = None) -> None:
        self.engine.rebuild(papers, total=total, progress=progress)

    def upsert(self, papers: Sequence[Paper]) -> None:
        self.engine.upsert(papers)

    def delete(self, keys: Sequence[str]) -> None:
        self.engine.delete(keys)

    def doc_count(self) -> int:
        return self.engine.doc_count()

    def verify(self, expected: int) -> None:
        """Open the index afresh, as the next process will, and check it holds `expected`
        papers: a build that the disk cut short must not pass for a complete one."""
        check = make_engine(self.name, self.directory)
        try:
            check.open()
            found = check.doc_count()
        except IndexUnavailable as exc:
            raise OSError(f"the new index does not open ({exc})") from None
        finally:
            check.close()
        if found != expected:
            raise OSError(f"the new index holds {found} papers, not {expected}")

    def all_keys(self) -> list[str]:
        return self.engine.all_keys()

    def doc_frequencies(self, words: Iterable[str]) -> dict[str, int]:
        return self.engine.doc_frequencies(words)

    def docs_with(self, words: Iterable[str], first_doc: int = 0) -> WordDocs:
        return self.engine.docs_with(words, first_doc)

    # -- searching ------------------------------------------------------------------------------

    def search(self, query: str | Query, limit: int | None = 50,
               allowed: set[str] | None = None, *, typing: bool = False,
               excluded: set[str] | None = None) -> SearchResult:
        """Run a query; `allowed` restricts the results to those keys and `excluded` keeps
        those out (the user-state filters, which the caller answers). A query with no words finds nothing here: listing the
        library is the store's job. Malformed queries give `error`, never raise; a damaged
        index raises IndexUnavailable."""
        if isinstance(query, str):
            query = parse(query, typing=typing)
        if query.error:
            return SearchResult(error=query.error, hint=query.hint)
        terms = query.terms
        if not query.has_text or (allowed is not None and not allowed):
            return SearchResult(terms=terms, hint=query.hint)
        hits = self.engine.search(query.tree, limit=limit, allowed=allowed, excluded=excluded)
        suggestion = None
        if hits.total < SUGGEST_BELOW and query.plain_words:
            suggestion = self._suggest(query, hits.total, allowed, excluded)
        return SearchResult(keys=hits.keys, total=hits.total, terms=terms,
                            suggestion=suggestion, hint=query.hint)

    def _suggest(self, query: Query, total: int, allowed: set[str] | None,
                 excluded: set[str] | None) -> str | None:
        """The query with its misspelt words corrected (filters and everything else kept as
        typed), or with its last word as a prefix ("qua" -> "qua*": a word left unfinished),
        whichever finds more, when that is more than the query found. ("learning tra",
        finished by a pause while typing, gets "learning tra*" rather than "learning trwa".)"""
        rewrites = []
        replacements = corrections(self.engine, query.plain_words)
        if replacements:
            rewrites.append(replacements)
        if query.plain_words and total == 0:
            last = query.plain_words[-1]
            if len(last.text) >= 3 and last.text.isalpha():
                rewrites.append([r for r in replacements if r[0] != last.span]
                                + [(last.span, last.text + "*")])
        best, best_found = None, total
        for rewrite in rewrites:
            text = query.with_replacements(rewrite)
            rewritten = parse(text)
            if rewritten.error or not rewritten.has_text:
                continue
            found = self.engine.search(rewritten.tree, limit=1, allowed=allowed,
                                       excluded=excluded).total
            if found > best_found:
                best, best_found = text, found
        return best

    def similar(self, key: str, limit: int = 20, text: str = "") -> list[str]:
        """Papers like `key`: the most distinctive words of `text` (its title and abstract),
        any of them, ranked by the engine."""
        tree = similar_tree(self.engine, text)
        if tree is None:
            return []
        hits = self.engine.search(tree, limit=limit + 1)
        return [k for k in hits.keys if k != key][:limit]
