"""Library: the one facade the TUI and the CLI call. It composes the SQLite store (canonical)
and the full-text index (derived, index/search.py) and keeps them in step.

User state that changes often (star, status, tags as filters) is answered from the store, so a
star never waits on an index commit. Changes that affect full-text fields (tags and notes as
words, new papers) are marked dirty in the store inside the same transaction and written to
the index in one batch by `flush_index()`; a crash in between only leaves work for the next
flush, never a lost edit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index import config as config_mod
from index.model import (
    STATUSES,
    AmbiguousKey,
    Problem,
    ImportReport,
    KeyNotFound,
    Paper,
    PaperRecord,
    PapershelfError,
    normalise_tag,
)
from index.store import Store

Progress = Callable[[int, int], None]
INDEX_DIR = "search"
# "For you" in the app keeps each unread paper's words between rankings from this many unread
# papers on: it then re-ranks 100k papers in ~1.5 s instead of ~5 s. (A one-shot command does
# not ask: it would only pay for building what it never reuses.)
KEEP_WORDS_FROM = 20_000
# Where versions before 0.2 kept their (Whoosh) index: derived data, removed when found.
OLD_INDEX_DIRS = ("whoosh",)


@dataclass
class SearchHits:
    keys: list[str]
    total: int
    terms: set[str] = field(default_factory=set)
    suggestion: str | None = None
    error: str | None = None


def download_daily(days: Sequence | None = None, *, timeout: float = 15.0):
    """The Hugging Face Daily Papers lists of these days (default today), fetched but not yet
    added (index.daily_api.DailyFetch): the network part of Library.fetch_daily, which the app
    runs without holding the library, so a stalled server never holds up a search."""
    from index.daily_api import fetch_days, recent_days

    return fetch_days(days or recent_days(1), timeout=timeout)


class Library:
    def __init__(self, data_dir: Path, store: Store):
        self.data_dir = data_dir
        self.store = store
        self._index = None  # opened on first use: the CLI's `star` never pays for the index
        # Why the index could not be written in this session, once it has failed: later
        # flushes give up at once instead of waiting on the same lock or disk again.
        self.index_problem: str | None = None
        self.index_problem_reported = False
        self._for_you = None  # (store change mark, Ranking): the last "for you" ranking
        self._profile = None  # (liked signature, Profile)
        self._words = None  # (store change mark, index.foryou.WordCache), for big libraries

    @classmethod
    def open(cls, data_dir: str | Path | None = None) -> Library:
        directory = config_mod.data_dir(data_dir)
        return cls(directory, Store(directory))

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
        self.store.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- the index -----------------------------------------------------------------------------

    @property
    def index(self):
        """The search index, rebuilt from the store when missing, corrupt or of an old schema."""
        if self._index is None:
            self._index = self.open_index()
        return self._index

    def open_index(self, progress: Progress | None = None):
        from index.search import IndexUnavailable, SearchIndex

        self._remove_old_indexes()
        index = SearchIndex(self.data_dir / INDEX_DIR)
        try:
            index.open()
        except IndexUnavailable:
            self._rebuild(index, progress)
        return index

    def _remove_old_indexes(self) -> None:
        import shutil

        for name in OLD_INDEX_DIRS:
            old = self.data_dir / name
            if old.is_dir() and not self.store.read_only:
                shutil.rmtree(old, ignore_errors=True)

    def index_ready(self) -> bool:
        """True when the index can be opened as it is (no rebuild needed). An index opened
        here is kept for the searches that follow (the app and the doctor ask first)."""
        from index.search import IndexUnavailable, SearchIndex

        try:
            probe = SearchIndex(self.data_dir / INDEX_DIR)
            probe.open()
        except IndexUnavailable:
            return False
        if self._index is None:
            self._remove_old_indexes()
            self._index = probe
        else:
            probe.close()
        return True

    def _rebuild(self, index, progress: Progress | None) -> None:
        dirty = self.store.dirty_keys()
        index.rebuild(self.store.iter_papers(), total=self.store.count(), progress=progress)
        self.store.clear_dirty(dirty)

    def reindex(self, progress: Progress | None = None) -> int:
        """Rebuild the full-text index from the store. Returns the number of papers indexed."""
        from index.search import SearchIndex

        if self._index is not None:
            self._index.close()
        index = SearchIndex(self.data_dir / INDEX_DIR)
        self._rebuild(index, progress)
        self._index = index
        return self.store.count()

    def flush_index(self) -> int:
        """Write pending changes (new papers, tags, notes, deletes) to the index in one commit."""
        if not self.store.has_dirty():
            return 0
        index = self.index  # first: when it has to be built, the build covers every change
        dirty = self.store.dirty_keys()
        if not dirty:
            return 0
        papers = self.store.get_many(dirty)
        live = {p.key for p in papers}
        gone = [k for k in dirty if k not in live]
        if papers:
            index.upsert(papers)
        if gone:
            index.delete(gone)
        self.store.clear_dirty(dirty)
        return len(dirty)

    # ---- import --------------------------------------------------------------------------------

    def add(self, records: Iterable[PaperRecord], *, dry_run: bool = False,
            progress: Progress | None = None) -> ImportReport:
        report = self.store.add_records(records, dry_run=dry_run, progress=progress)
        if not dry_run and (report.added or report.merged):
            if reason := self.try_flush_index():
                self.index_problem_reported = True
                report.notices.append(Problem(
                    f"the new papers are saved, but the search index was not updated ({reason}); "
                    "it catches up on the next run"))
        return report

    def try_flush_index(self) -> str | None:
        """flush_index(), where a busy index or a failing disk is not an error: the changes
        stay marked in the store and the next flush picks them up. Returns why it could not
        flush, or None when it did."""
        from index.search import IndexBusy

        if self.index_problem is None:
            try:
                self.flush_index()
            except IndexBusy:
                self.index_problem = "it is busy: another papershelf is writing it"
            except OSError as exc:
                self.index_problem = exc.strerror or str(exc)
        return self.index_problem

    def import_files(self, paths: Sequence[str | Path], *, dry_run: bool = False,
                     progress: Progress | None = None,
                     on_file: Callable[[Path, ImportReport], None] | None = None) -> ImportReport:
        """Parse and add each file; a file that cannot be read is rejected with its reason."""
        from index.sources import InputError, parse_file

        total = ImportReport()
        records: list[PaperRecord] = []
        for path in map(Path, paths):
            try:
                result = parse_file(path)
            except InputError as exc:
                total.rejected.append(Problem(str(exc).split(": ", 1)[-1], None, str(path)))
                continue
            if any(r.extra.get("needs_fetch") for r in result.records):
                from index.arxiv_api import ArxivUnavailable, fetch_pending  # only id lists go online

                try:
                    result = fetch_pending(result)
                except ArxivUnavailable as exc:  # this file waits; the others still import
                    total.rejected.append(Problem(str(exc), None, str(path)))
                    continue
            total.rejected += result.problems
            total.notices += result.notices
            records += result.records
        report = self.add(records, dry_run=dry_run, progress=progress)
        total.extend(report)
        return total

    def fetch_daily(self, days: Sequence | None = None, *, timeout: float = 15.0,
                    progress: Progress | None = None) -> tuple[ImportReport, str]:
        """Fetch the Hugging Face Daily Papers lists of these days (datetime.date; default
        today) and add them. Returns the import report and a one-line summary ("12 new
        papers from Nov 29"). Raises PapershelfError (one line) when any day cannot be
        fetched: nothing is added then."""
        return self.add_daily(download_daily(days, timeout=timeout), progress=progress)

    def add_daily(self, fetched, *, progress: Progress | None = None) -> tuple[ImportReport, str]:
        """Add what download_daily() brought: the report and its one-line summary."""
        from index.daily_api import summary_line

        report = self.add(fetched.records, progress=progress) if fetched.records \
            else ImportReport()
        known = len(report.merged) + len(report.unchanged)
        return report, summary_line(len(report.added), known, fetched.days)

    # ---- reading -------------------------------------------------------------------------------

    def get(self, key: str) -> Paper | None:
        return self.store.get(key)

    def get_many(self, keys: Sequence[str]) -> list[Paper]:
        return self.store.get_many(list(keys))

    def all_papers(self) -> Iterator[Paper]:
        return self.store.iter_papers()

    def resolve(self, prefix: str) -> str:
        """A full key from a unique prefix of a paper key, an arXiv id, or a citation key."""
        prefix = prefix.strip()
        if not prefix:
            raise KeyNotFound("no key given")
        if paper := self.store.get(prefix):  # a full key or an alias of one
            return paper.key
        if key := self.store.key_for_citekey(prefix):
            return key
        matches = self.store.keys_with_prefix(prefix, limit=6)
        if not matches:
            raise KeyNotFound(f"no paper matches key {prefix!r}")
        if len(matches) > 1:
            shown = ", ".join(matches[:5]) + (" ..." if len(matches) > 5 else "")
            raise AmbiguousKey(f"key {prefix!r} matches several papers: {shown}")
        return matches[0]

    def citekey_owner(self, citekey: str) -> str | None:
        """The key of the paper using `citekey` (ignoring case), or None."""
        return self.store.key_for_citekey(citekey)

    def list_papers(self, *, starred: bool | None = None, tag: str | None = None,
                    status: str | None = None, limit: int | None = None) -> list[Paper]:
        keys = self.store.filtered_keys(
            starred=starred, statuses=[status] if status else (),
            tags=[normalise_tag(tag)] if tag else (), limit=limit)
        return self.store.get_many(keys)

    def search(self, query: str, limit: int | None = 50, *, as_you_type: bool = False) -> SearchHits:
        """Full-text search with user-state filters answered from the store."""
        from index.query import parse_filters

        parsed = parse_filters(query)
        if parsed.error:
            return SearchHits([], 0, error=parsed.error)
        has_filters = parsed.starred is not None or parsed.statuses or parsed.tags
        allowed = None
        if has_filters:
            allowed_keys = self.store.filtered_keys(
                starred=parsed.starred, statuses=sorted(parsed.statuses), tags=sorted(parsed.tags))
            if not parsed.text.strip():
                shown = allowed_keys if limit is None else allowed_keys[:limit]
                return SearchHits(shown, len(allowed_keys))
            allowed = set(allowed_keys)
        elif not parsed.text.strip():
            keys = self.store.filtered_keys()
            return SearchHits(keys if limit is None else keys[:limit], len(keys))
        if self.store.has_dirty():
            self.try_flush_index()  # tags, notes or papers changed since the last commit
        result = self._with_index(lambda index: index.search(
            parsed.text, limit=limit, allowed=allowed, as_you_type=as_you_type))
        return SearchHits(result.keys, result.total, set(result.terms), result.suggestion,
                          result.error)

    def similar(self, key: str, limit: int = 20) -> list[str]:
        paper = self.get(key)
        if paper is None:
            return []
        # The abstract lives in SQLite, not in the index: hand it over for more-like-this.
        text = f"{paper.title}\n{paper.abstract}"
        return self._with_index(lambda index: index.similar(paper.key, limit, text=text))

    def term_stats(self):
        """The index's term statistics (index.foryou.TermStats). The engine package will
        provide doc_count()/doc_frequencies() on each engine: this then returns self.index."""
        from index.termstats_fts5 import Fts5TermStats

        return Fts5TermStats(self.index.path)

    def for_you(self, limit: int | None = None, progress: Progress | None = None, *,
                keep_words: bool = False):
        """Unread papers ranked by their likeness to the starred and read ones (and their
        tags): an index.foryou.Ranking, best first; `ranking.message` says why it is empty.
        Kept until the library changes, so switching to "for you" again costs nothing.
        Ranking takes ~20 us per unread paper: `progress(done, total)` follows it (and may
        raise to stop it; nothing is kept then). `keep_words`: a long-lived caller (the app)
        lets a big library keep each paper's words for the next ranking (KEEP_WORDS_FROM)."""
        from index.foryou import NOTHING_LIKED, PaperText, Ranking, rank

        mark = self.store.change_mark()
        if self._for_you is None or self._for_you[0] != mark:
            liked = [PaperText(*row) for row in self.store.ranking_rows(liked=True)]
            if not liked:
                ranking = Ranking(message=NOTHING_LIKED)
            else:
                profile = self._with_index(lambda index: self._liked_profile(liked))
                keeping = keep_words and self._words is not None
                total = 0 if keeping else self.store.ranking_count(liked=False)
                if keeping or (keep_words and total >= KEEP_WORDS_FROM):
                    ranking = self._rank_keeping_words(profile, progress)
                else:
                    ranking = rank(profile, self.store.ranking_rows(liked=False), total=total,
                                   progress=progress)
                if not ranking.unread:
                    ranking.message = "no unread papers to rank"
            self._for_you = (mark, ranking)
        ranking = self._for_you[1]
        if limit is None or len(ranking.keys) <= limit:
            return ranking
        from dataclasses import replace

        return replace(ranking, keys=ranking.keys[:limit])

    def _rank_keeping_words(self, profile, progress: Progress | None):
        """rank() for a big library: each unread paper's words are read and split once per
        session (index.foryou.WordCache), then only the profile changes between rankings."""
        from index.foryou import PROGRESS_EVERY, WordCache, rank_cached

        mark = self.store.change_mark()  # before reading: a change made meanwhile is seen next time
        if self._words is None:
            self._words = (mark, WordCache())
        else:
            self._words[1].forget(self.store.text_changed_since(self._words[0]))
        cache = self._words[1]
        candidates = self.store.ranking_keys()
        missing = [key for key, _ in candidates if key not in cache.papers]
        done = 0
        for key, title, abstract in self.store.texts(missing):
            cache.add(key, title, abstract)
            done += 1
            if progress is not None and not done % PROGRESS_EVERY:
                progress(done, len(missing))
        cache.keep_only({key for key, _ in candidates})
        self._words = (mark, cache)
        return rank_cached(profile, candidates, cache)

    def _liked_profile(self, liked):
        """The profile of the liked papers, rebuilt only when they (or the library's size,
        which moves every idf) changed."""
        from index.foryou import build_profile

        if self.store.has_dirty():
            self.try_flush_index()  # new papers count in the word statistics
        signature = hash((self.store.count(), *((p.key, *p.tags) for p in liked)))
        if self._profile is None or self._profile[0] != signature:
            self._profile = (signature, build_profile(liked, self.term_stats()))
        return self._profile[1]

    def _with_index(self, read):
        """Run a read on the index; when it finds the index damaged, rebuild it from the
        store and read again (once)."""
        from index.search import IndexUnavailable

        try:
            return read(self.index)
        except IndexUnavailable:
            self.reindex()
            return read(self.index)

    def all_tags(self) -> list[tuple[str, int]]:
        return self.store.tag_counts()

    def stats(self) -> dict:
        return {
            "papers": self.store.count(),
            "starred": self.store.count(starred=True),
            "status": self.store.status_counts(),
            "tags": len(self.store.tag_counts()),
            "pending_index_updates": len(self.store.dirty_keys()),
            "data_dir": str(self.data_dir),
            "device": self.store.device,
        }

    # ---- user changes --------------------------------------------------------------------------

    def set_star(self, key: str, starred: bool = True) -> bool:
        return self.store.set_field(key, "starred", bool(starred))

    def toggle_star(self, key: str) -> bool:
        paper = self._require(key)
        self.set_star(key, not paper.starred)
        return not paper.starred

    def set_status(self, key: str, status: str) -> bool:
        if status not in STATUSES:
            raise PapershelfError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        return self.store.set_field(key, "status", status)

    def cycle_status(self, key: str) -> str:
        paper = self._require(key)
        following = STATUSES[(STATUSES.index(paper.status) + 1) % len(STATUSES)]
        self.set_status(key, following)
        return following

    def add_tag(self, key: str, tag: str) -> bool:
        return self.add_tags(key, [tag])

    def add_tags(self, key: str, tags: Sequence[str]) -> bool:
        """Add tags in one transaction: all of them or none."""
        clean = [normalise_tag(tag) for tag in tags]
        if not all(clean):
            raise PapershelfError("a tag cannot be empty")
        if any(len(tag) > 100 for tag in clean):
            raise PapershelfError("a tag is at most 100 characters")
        return self.store.set_tags(key, clean, True)

    def remove_tag(self, key: str, tag: str) -> bool:
        return self.remove_tags(key, [tag])

    def remove_tags(self, key: str, tags: Sequence[str]) -> bool:
        return self.store.set_tags(key, [normalise_tag(tag) for tag in tags], False)

    def set_star_many(self, keys: Sequence[str], starred: bool) -> int:
        return self.store.set_starred_many(list(keys), bool(starred))

    def set_note(self, key: str, text: str) -> bool:
        return self.store.set_field(key, "note", text)

    def set_citekey(self, key: str, new: str) -> bool:
        from index.citekey import check_citekey

        if problem := check_citekey(new):
            raise PapershelfError(problem)
        return self.store.set_field(key, "citekey", new)

    def delete(self, key: str) -> None:
        self.store.delete(key)

    def _require(self, key: str) -> Paper:
        paper = self.store.get(key)
        if paper is None:
            raise KeyNotFound(f"no paper with key {key}")
        return paper
