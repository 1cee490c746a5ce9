"""Library: the one facade the TUI and the CLI call. It composes the SQLite store (canonical)
and the full-text index (derived: index/search/, on the engine config.toml names) and keeps
them in step. Queries are parsed once, by index/query.py.

User state that changes often (star, status, tags as filters) is answered from the store, so a
star never waits on an index commit. Changes that affect full-text fields (tags and notes as
words, new papers) are marked dirty in the store inside the same transaction and written to
the index in batches by `flush_index()`; a crash in between only leaves work for the next
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
from index.textsafe import has_control_characters
from index.folders import folder_files  # noqa: F401 - for the front ends

Progress = Callable[[int, int], None]
# Present while the search index may describe another library than the store (written by a
# restore before it swaps the database in): the index is then rebuilt before it is used,
# whichever engine writes it and wherever the restore was stopped.
INDEX_STALE_MARKER = "search-index.stale"
# Where versions before 0.2 kept their (Whoosh) index: derived data, removed when found.
OLD_INDEX_DIRS = ("whoosh",)
# Index updates are committed this many papers at a time (bounds a big import's memory).
FLUSH_CHUNK = 20_000
# Past this many papers the app suggests the FTS5 engine (once; it never switches by itself).
SUGGEST_FTS5_FROM = 50_000


@dataclass
class SearchHits:
    keys: list[str]
    total: int
    terms: set[str] = field(default_factory=set)
    suggestion: str | None = None
    error: str | None = None  # the query could not run
    hint: str | None = None  # part of it was read leniently (see index/query.py)


def mark_index_stale(data_dir: Path) -> None:
    """Say, durably, that the search index must be rebuilt before its next use."""
    from index.fileio import fsync_dir, write_atomic

    write_atomic(Path(data_dir) / INDEX_STALE_MARKER,
                 b"the library was replaced (restore): rebuild the search index\n")
    fsync_dir(Path(data_dir))


def download_daily(days: Sequence | None = None, *, timeout: float = 15.0):
    """The Hugging Face Daily Papers lists of these days (default today), fetched but not yet
    added (index.daily_api.DailyFetch): the network part of Library.fetch_daily, which the app
    runs without holding the library, so a stalled server never holds up a search."""
    from index.daily_api import fetch_days, recent_days

    return fetch_days(days or recent_days(1), timeout=timeout)


class Library:
    def __init__(self, data_dir: Path, store: Store, engine: str | None = None):
        self.data_dir = data_dir
        self.store = store
        self.engine_name = engine or _configured_engine()
        self._index = None  # opened on first use: the CLI's `star` never pays for the index
        # Why the index could not be written in this session, once it has failed: later
        # flushes give up at once instead of waiting on the same lock or disk again.
        self.index_problem: str | None = None
        self.index_problem_reported = False
        self._for_you = None  # (store change mark, Ranking): the last "for you" ranking
        self._profile = None  # (liked signature, Profile)

    @classmethod
    def open(cls, data_dir: str | Path | None = None, *, engine: str | None = None) -> Library:
        directory = config_mod.data_dir(data_dir)
        return cls(directory, Store(directory), engine)

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
        """The search index, rebuilt from the store when missing, damaged or of an old schema."""
        if self._index is None:
            self._index = self.open_index()
        return self._index

    def _new_index(self, engine: str | None = None):
        from index.search import SearchIndex, engine_dir

        name = engine or self.engine_name
        return SearchIndex(engine_dir(self.data_dir, name), name)

    def open_index(self, progress: Progress | None = None):
        from index.search import IndexUnavailable

        self._remove_old_indexes()
        index = self._new_index()
        if self.index_stale():
            self._rebuild(index, progress)
            return index
        try:
            index.open()
        except IndexUnavailable:
            self._rebuild(index, progress)
        return index

    def index_stale(self) -> bool:
        """True when the index may hold another library's papers (see INDEX_STALE_MARKER)."""
        return (self.data_dir / INDEX_STALE_MARKER).exists()

    def _remove_old_indexes(self) -> None:
        """0.1's Whoosh folder (`whoosh/`, another layout): derived data, removed when found."""
        import shutil

        for name in OLD_INDEX_DIRS:
            old = self.data_dir / name
            if old.is_dir() and not self.store.read_only:
                shutil.rmtree(old, ignore_errors=True)

    def index_ready(self) -> bool:
        """True when the index can be opened as it is (no rebuild needed). An index opened
        here is kept for the searches that follow (the app and the doctor ask first)."""
        from index.search import IndexUnavailable

        if self.index_stale():
            return False
        try:
            probe = self._new_index()
            probe.open()
        except IndexUnavailable:
            return False
        if self._index is None:
            self._remove_old_indexes()
            self._index = probe
        else:
            probe.close()
        return True

    def _rebuild(self, index, progress: Progress | None, *, remove_others: bool = True) -> None:
        dirty = self.store.dirty_keys()
        index.rebuild(self.store.iter_papers(), total=self.store.count(), progress=progress)
        self.store.clear_dirty(dirty)
        if not self.store.read_only:
            (self.data_dir / INDEX_STALE_MARKER).unlink(missing_ok=True)  # built from this store
        if remove_others:
            self._remove_other_indexes(index.name)

    def _remove_other_indexes(self, active: str) -> None:
        """Other engines' indexes (and 0.1's) stop being kept up to date once this one is
        complete: remove them, so a later switch back builds afresh instead of reading one
        that missed changes."""
        import shutil

        from index.search import ENGINES

        if self.store.read_only:
            return
        others = [d for name, d in ENGINES.items() if name != active] + list(OLD_INDEX_DIRS)
        for name in others:
            old = self.data_dir / name
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)

    def reindex(self, progress: Progress | None = None, *, engine: str | None = None) -> int:
        """Rebuild the full-text index from the store, on `engine` when given (switching to
        it: the new index is complete before the old one is removed). Returns the number of
        papers indexed."""
        from index.search import ENGINES

        if engine is not None and engine not in ENGINES:
            raise PapershelfError(f"unknown search engine {engine!r}; use {' or '.join(ENGINES)}")
        index = self._new_index(engine)
        switching = engine is not None and engine != _configured_engine()
        try:
            self._rebuild(index, progress, remove_others=not switching)
            index.verify(self.store.count())
        except OSError as exc:  # a full or failing disk: the old index stays in use
            index.close()
            raise PapershelfError(f"the search index was not rebuilt ({_disk_problem(exc)}); "
                                  "the previous one is still in use") from None
        if switching:
            # the new index is complete: only now does config.toml name it (that one key),
            # and only then does the old engine's index go
            config_mod.load_config().set("search", "engine", index.name)
            self._remove_other_indexes(index.name)
        if self._index is not None:
            self._index.close()
        self._index = index
        self.engine_name = index.name
        return self.store.count()

    def engine_advice(self) -> str | None:
        """Once per library, past SUGGEST_FTS5_FROM papers on the Whoosh engine: the one line
        that suggests FTS5 (papershelf never switches by itself)."""
        if self.engine_name != "whoosh" or self.store.read_only:
            return None
        count = self.store.count()
        if count < SUGGEST_FTS5_FROM or not self.store.note_once("advice:fts5"):
            return None
        return (f"{count:,} papers: `papershelf reindex --engine sqlite` makes search faster "
                "at this size (see the README)")

    def flush_index(self) -> int:
        """Write pending changes (new papers, tags, notes, deletes) to the index: one commit
        per FLUSH_CHUNK papers, so a 100k-paper import holds one chunk's postings at a time."""
        if not self.store.has_dirty():
            return 0
        index = self.index  # first: when it has to be built, the build covers every change
        dirty = self.store.dirty_keys()
        for start in range(0, len(dirty), FLUSH_CHUNK):
            chunk = dirty[start:start + FLUSH_CHUNK]
            papers = self.store.get_many(chunk)
            live = {p.key for p in papers}
            gone = [k for k in chunk if k not in live]
            if papers:
                index.upsert(papers)
            if gone:
                index.delete(gone)
            self.store.clear_dirty(chunk)
            del papers
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
                self.index_problem = _disk_problem(exc)
        return self.index_problem

    def import_files(self, paths: Sequence[str | Path], *, dry_run: bool = False,
                     progress: Progress | None = None,
                     on_file: Callable[[Path, ImportReport], None] | None = None,
                     recursive: bool = False) -> ImportReport:
        """Parse and add each file; a file that cannot be read is rejected with its reason.
        A folder imports the files in it (and in its subfolders with `recursive`)."""
        from index.sources import InputError, parse_file_in_pieces

        total = ImportReport()
        records: list[PaperRecord] = []
        files: list[Path] = []
        for path in map(Path, paths):
            if not path.is_dir():
                files.append(path)
                continue
            try:
                inside = folder_files(path, recursive=recursive)
            except OSError as exc:
                total.rejected.append(Problem(f"cannot read the folder: {exc.strerror or exc}",
                                              None, str(path)))
                continue
            if not inside:
                total.rejected.append(Problem("no files in this folder" + (
                    "" if recursive else " (--recursive reads its subfolders)"), None, str(path)))
            files += inside
        for path in files:
            try:
                for result, streamed in parse_file_in_pieces(path):
                    if any(r.extra.get("needs_fetch") for r in result.records):
                        from index.arxiv_api import ArxivUnavailable, fetch_pending  # id lists only

                        try:
                            result = fetch_pending(result)
                        except ArxivUnavailable as exc:  # this file waits; the others import
                            total.rejected.append(Problem(str(exc), None, str(path)))
                            continue
                    total.rejected += result.problems
                    total.notices += result.notices
                    if streamed:  # a piece of a big file: saved now, so memory stays bounded
                        total.extend(self.add(result.records, dry_run=dry_run,
                                              progress=progress))
                    else:
                        records += result.records
                        if len(records) >= FLUSH_CHUNK:  # many files: save whole files so far
                            total.extend(self.add(records, dry_run=dry_run, progress=progress))
                            records = []
            except InputError as exc:
                total.rejected.append(Problem(str(exc).split(": ", 1)[-1], None, str(path)))
            except (ValueError, RecursionError, MemoryError) as exc:  # a parser's blind spot:
                # this file is rejected in one line, the other files still import
                total.rejected.append(Problem(f"could not be read ({type(exc).__name__}: "
                                              f"{str(exc)[:200]})", None, str(path)))
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
            raise AmbiguousKey(f"key {prefix!r} matches several papers: "
                               f"{self._candidates(matches)}")
        return matches[0]

    def provisional_citekeys(self, keys: Sequence[str]) -> set[str]:
        """Papers among `keys` whose citation key is provisional: made without authors or a
        year, and replaced by the regular key when they arrive, until the key is used."""
        return self.store.provisional_citekeys(list(keys))

    def citekeys_used(self, keys: Sequence[str]) -> int:
        """Exporting or copying a key uses it: from now on it never changes."""
        return self.store.freeze_citekeys(list(keys))

    def find_on_arxiv(self, keys: Sequence[str] | None = None, **options):
        """`resolve`: look papers without an arXiv id (these, or all) up on arXiv by title
        and merge exact matches (index/resolve.py). Returns a ResolveReport."""
        from index.resolve import resolve_on_arxiv

        if keys is None:  # in the order they were listed
            papers = [p for p in self.store.get_many(self.store.filtered_keys()[::-1])
                      if not p.arxiv_id]
        else:
            keys = list(dict.fromkeys(keys))
            papers = self.store.get_many(keys)
            found = {p.key for p in papers}  # keys an import just re-keyed are aliases now
            papers += [p for k in keys if k not in found and (p := self.store.get(k))]
        return resolve_on_arxiv(self, papers, **options)
    def complete_keys(self, prefix: str, limit: int = 200) -> list[str]:
        """What a shell completes a paper argument with: each matching paper's citation key,
        or its key or arXiv id when that is what `prefix` starts (`resolve` takes them all)."""
        out = []
        for paper in self.store.get_many(self.store.keys_with_prefix(prefix, limit=limit)):
            key_id = paper.key.split(":", 1)[-1]
            if paper.citekey and paper.citekey.casefold().startswith(prefix.casefold()):
                out.append(paper.citekey)
            elif paper.key.startswith(prefix):
                out.append(paper.key)
            elif key_id.startswith(prefix):
                out.append(key_id)
        return sorted(set(out))

    def _candidates(self, keys: list[str]) -> str:
        """The papers an ambiguous prefix could mean, by citation key and title."""
        shown = []
        for paper in self.store.get_many(keys[:5]):
            title = paper.title if len(paper.title) <= 40 else paper.title[:39].rstrip() + "…"
            shown.append(f"{paper.citekey or paper.key} “{title}”")
        return "; ".join(shown) + (" ..." if len(keys) > 5 else "")

    def citekey_owner(self, citekey: str) -> str | None:
        """The key of the paper using `citekey` (ignoring case), or None."""
        return self.store.key_for_citekey(citekey)

    def list_papers(self, *, starred: bool | None = None, tag: str | None = None,
                    status: str | None = None, limit: int | None = None) -> list[Paper]:
        keys = self.store.filtered_keys(
            starred=starred, statuses=[status] if status else (),
            tags=[normalise_tag(tag)] if tag else (), limit=limit)
        return self.store.get_many(keys)

    def search(self, text: str, limit: int | None = 50, *, typing: bool = False) -> SearchHits:
        """Full-text search, the user-state filters answered from the store. `typing`: the
        last word may still be being typed (the app, while keys come in)."""
        from index.query import parse

        query = parse(text, typing=typing)
        if query.error:
            return SearchHits([], 0, error=query.error, hint=query.hint)
        filters = query.filters
        allowed = None
        if filters.active:
            allowed_keys = self.store.filtered_keys(
                starred=filters.starred, statuses=sorted(filters.statuses),
                tags=sorted(filters.tags))
            if not query.has_text:
                shown = allowed_keys if limit is None else allowed_keys[:limit]
                return SearchHits(shown, len(allowed_keys), hint=query.hint)
            allowed = set(allowed_keys)
        elif not query.has_text:  # nothing typed yet (or only a word's first letters)
            keys = self.store.filtered_keys()
            return SearchHits(keys if limit is None else keys[:limit], len(keys),
                              hint=query.hint)
        if self.store.has_dirty():
            self.try_flush_index()  # tags, notes or papers changed since the last commit
        result = self._with_index(lambda index: index.search(query, limit=limit, allowed=allowed))
        return SearchHits(result.keys, result.total, set(result.terms), result.suggestion,
                          result.error, result.hint)

    def query_kind(self, text: str, *, typing: bool = False) -> str:
        """"words" (the full-text index answers), "filters" (the store lists the papers
        that pass them) or "all" (nothing typed yet: the whole library)."""
        from index.query import parse

        query = parse(text, typing=typing)
        if query.has_text or query.error:
            return "words"
        return "filters" if query.filters.active else "all"

    def first_page(self, text: str, count: int, *, typing: bool = False) -> list[str] | None:
        """The newest `count` papers for a query of filters alone (None when it has words or
        an error): the app shows these while the whole list is counted."""
        from index.query import parse

        query = parse(text, typing=typing)
        if query.error or query.has_text:
            return None
        filters = query.filters
        return self.store.filtered_keys(
            starred=filters.starred, statuses=sorted(filters.statuses), tags=sorted(filters.tags),
            limit=count)

    def similar(self, key: str, limit: int = 20) -> list[str]:
        paper = self.get(key)
        if paper is None:
            return []
        # The abstract lives in SQLite, not in the index: hand it over for more-like-this.
        text = f"{paper.title}\n{paper.abstract}"
        return self._with_index(lambda index: index.similar(paper.key, limit, text=text))

    def term_stats(self):
        """The index's term statistics (index.foryou.TermStats: doc_count, doc_frequencies,
        docs_with), from whichever engine is active."""
        return self.index

    def for_you(self, limit: int | None = None, progress: Progress | None = None):
        """Unread papers ranked by their likeness to the starred and read ones (and their
        tags): an index.foryou.Ranking, best first; `ranking.message` says why it is empty.
        Kept until the library changes, so switching to "for you" again costs nothing.
        `progress(done, total)` follows the ranking (and may raise to stop it; nothing is
        kept then)."""
        from index.foryou import NOTHING_LIKED, PaperText, Ranking, rank

        mark = self.store.change_mark()
        if self._for_you is None or self._for_you[0] != mark:
            liked = [PaperText(*row) for row in self.store.ranking_rows(liked=True)]
            if not liked:
                ranking = Ranking(message=NOTHING_LIKED)
            else:
                profile = self._with_index(lambda index: self._liked_profile(liked))
                found = self._with_index(lambda index: index.docs_with(profile.words))
                ranking = rank(profile, self.store.ranking_keys(), found, progress=progress)
                if not ranking.unread:
                    ranking.message = "no unread papers to rank"
            self._for_you = (mark, ranking)
        ranking = self._for_you[1]
        if limit is None or len(ranking.keys) <= limit:
            return ranking
        from dataclasses import replace

        return replace(ranking, keys=ranking.keys[:limit])

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
            "engine": self.engine_name,
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
        if any(has_control_characters(tag) for tag in clean):
            raise PapershelfError("a tag cannot hold control characters")
        return self.store.set_tags(key, clean, True)

    def remove_tag(self, key: str, tag: str) -> bool:
        return self.remove_tags(key, [tag])

    def remove_tags(self, key: str, tags: Sequence[str]) -> bool:
        return self.store.set_tags(key, [normalise_tag(tag) for tag in tags], False)

    def set_star_many(self, keys: Sequence[str], starred: bool) -> int:
        return self.store.set_starred_many(list(keys), bool(starred))

    def set_note(self, key: str, text: str) -> bool:
        return self.store.set_field(key, "note", text)

    def note_version(self, key: str) -> str | None:
        """The version of this note as stored now: give it back to `save_note`."""
        return self.store.note_version(key)

    def save_note(self, key: str, text: str, opened: str | None) -> str:
        """Save a note edited from version `opened` (compare-and-set). Returns "saved",
        "unchanged", "merged" (another process changed other lines meanwhile: both edits
        kept), or "conflict" (both versions wait in the conflict view, as after a sync)."""
        changed, concurrent = self.store.save_note(key, text, opened)
        if not changed:
            return "unchanged"
        if not concurrent:
            return "saved"
        from index.sync import fold_local, pending_conflicts

        fold_local(self)  # the same merge sync uses: a clean merge, or a conflict row
        return "conflict" if any(c.key == key for c in pending_conflicts(self)) else "merged"

    def data_version(self) -> int:
        return self.store.data_version()

    def op_mark(self) -> int:
        return self.store.op_mark()

    def changes_since(self, mark: int) -> tuple[int, list[tuple[str, str]]]:
        """Papers changed by operations after `mark` (see Store.changes_since)."""
        return self.store.changes_since(mark)

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


def _configured_engine() -> str:
    """The engine config.toml's [search] engine names (whoosh by default)."""
    from index.search import DEFAULT_ENGINE

    try:
        return config_mod.load_config(create=False).get("search", "engine", DEFAULT_ENGINE)
    except config_mod.ConfigError:
        return DEFAULT_ENGINE  # the front ends report a broken config themselves


def _disk_problem(exc: OSError) -> str:
    """One plain phrase for a failed index write."""
    import errno

    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full"
    return exc.strerror or str(exc)
