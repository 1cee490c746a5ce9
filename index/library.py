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

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index import config as config_mod
from index.model import (
    STATUSES,
    AmbiguousKey,
    KeyNotFound,
    Paper,
    PapershelfError,
    has_control_characters,
    next_status,
    normalise_tag,
)
from index.importing import Importing, download_daily  # noqa: F401 - for the app
from index.backup import backup_before_migration
from index.indexing import IndexKeeping, _configured_engine
from index.recommending import Recommending
from index.store import Store
from index.folders import folder_files  # noqa: F401 - for the front ends

Progress = Callable[[int, int], None]
# Seconds a write to the search index waits for another process's writer lock.
WRITER_TIMEOUT = 5.0
# A search with state filters hands the index the papers they leave out, when at most this
# many, rather than every paper they let through.
EXCLUDED_AT_MOST = 5000


@dataclass
class SearchHits:
    keys: list[str]
    total: int
    terms: set[str] = field(default_factory=set)
    suggestion: str | None = None
    error: str | None = None  # the query could not run
    hint: str | None = None  # part of it was read leniently (see index/query.py)


class Library(IndexKeeping, Importing, Recommending):
    def __init__(self, data_dir: Path, store: Store, engine: str | None = None, *,
                 writer_timeout: float = WRITER_TIMEOUT):
        self.data_dir = data_dir
        self.store = store
        self.engine_name = engine or _configured_engine()
        self.writer_timeout = writer_timeout
        self._index = None  # opened on first use: the CLI's `star` never pays for the index
        # Why the index could not be written in this session, once it has failed: later
        # flushes give up at once instead of waiting on the same lock or disk again.
        self.index_problem: str | None = None
        self.index_problem_reported = False
        self._for_you = None  # index.foryou_state.RankingState: "for you", kept (first use)
        self._for_you_unsaved = None  # (stamp, ranking) made here and not saved yet
        self._for_you_saved = None  # (stamp, ranking or None): the saved one, read once

    @classmethod
    def open(cls, data_dir: str | Path | None = None, *, engine: str | None = None,
             writer_timeout: float | None = None) -> Library:
        """`writer_timeout`: how long a write to the search index waits for another process
        that holds the index's writer lock (default WRITER_TIMEOUT)."""
        directory = config_mod.data_dir(data_dir)
        store = Store(directory, before_upgrade=backup_before_migration)
        return cls(directory, store, engine,
                   writer_timeout=WRITER_TIMEOUT if writer_timeout is None else writer_timeout)

    @classmethod
    def open_existing(cls, data_dir: str | Path | None = None) -> Library | None:
        """The library in `data_dir` if there is one, else None (never creates one: shell
        completion asks)."""
        from index.store import DB_NAME

        directory = config_mod.data_dir(data_dir)
        return cls.open(directory) if (directory / DB_NAME).exists() else None

    def close(self) -> None:
        try:
            self.update_kept_ranking()
        except Exception:  # noqa: BLE001 - derived data: closing must not fail for it
            pass
        self.save_for_you()
        if self._index is not None:
            self._index.close()
        self.store.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- text helpers for the front ends (pure functions of the core's rules) ----------------

    @staticmethod
    def highlight_spans(text: str, terms) -> list[tuple[int, int]]:
        """Where the search terms (SearchHits.terms) occur in `text`, as the index reads words."""
        from index.highlight import highlight_spans

        return list(highlight_spans(text, terms))

    @staticmethod
    def snippet(text: str, terms, *, width: int):
        """(a part of `text` around its first matches, at most `width` long; their spans)."""
        from index.highlight import snippet

        return snippet(text, terms, width=width)

    @staticmethod
    def decode_latex(text: str) -> str:
        """LaTeX in a title or abstract read as text (`na\\"{\\i}ve` -> `naïve`)."""
        from index.latex_text import plain_text

        return plain_text(text)

    @staticmethod
    def recent_days(count: int, today=None) -> list:
        """The last `count` days (datetime.date), oldest first, ending on `today`."""
        from index.daily_api import recent_days

        return recent_days(count, today)

    @staticmethod
    def keep_both_notes(local: str, remote: str) -> str:
        """The note "keep both" settles a note conflict with (see Library.sync.resolve)."""
        from index.sync.conflicts import keep_both

        return keep_both(local, remote)

    # ---- services handed out to the front ends ---------------------------------------------

    @property
    def exports(self):
        """Export scopes and counts, writing formats, clipboard text (index/export/service.py)."""
        from index.export.service import Exports

        return Exports(self)

    @property
    def sync(self):
        """Sync through a folder, and settling note conflicts (index/sync/service.py)."""
        from index.sync.service import SyncService

        return SyncService(self)

    @property
    def care(self):
        """The doctor's checks and repairs, and backups (index/care.py)."""
        from index.care import Care

        return Care(self)

    @staticmethod
    def validate_backup(path: str | Path) -> dict:
        """Check a backup file (a one-line error when it is not one this version can restore)."""
        from index.backup import validate

        return validate(Path(path))

    @staticmethod
    def restore_backup(data_dir: str | Path, path: str | Path) -> dict:
        """Replace the (closed) library in `data_dir` with a backup: {"papers", "previous"...}."""
        from index.backup import restore

        return restore(Path(data_dir), Path(path))

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
        allowed = excluded = None
        if filters.active:
            state = dict(starred=filters.starred, statuses=sorted(filters.statuses),
                         tags=sorted(filters.tags))
            if query.has_text:
                # the shorter list: the papers the filter leaves out, when they are few
                failing = self.store.keys_failing(**state, at_most=EXCLUDED_AT_MOST)
                if failing is not None:
                    excluded = set(failing)
            if excluded is None:
                allowed_keys = self.store.filtered_keys(**state)
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
        result = self._with_index(lambda index: index.search(
            query, limit=limit, allowed=allowed, excluded=excluded))
        return SearchHits(result.keys, result.total, set(result.terms), result.suggestion,
                          result.error, result.hint)

    def keys_matching(self, text: str) -> list[str]:
        """Every paper a query finds, best first; a query that cannot run is an error."""
        hits = self.search(text, limit=None)
        if hits.error:
            raise PapershelfError(f"bad query: {hits.error}")
        return hits.keys

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

    def count(self, *, starred: bool | None = None, tag: str | None = None) -> int:
        """How many papers (starred, or with this tag), counted in SQL."""
        filters = {} if starred is None else {"starred": starred}
        if tag is not None:
            filters["tags"] = [normalise_tag(tag)]
        return self.store.count(**filters)

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

    def set_status(self, key: str, status: str) -> bool:
        if status not in STATUSES:
            raise PapershelfError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        return self.store.set_field(key, "status", status)

    def cycle_status(self, key: str) -> str:
        paper = self._require(key)
        following = next_status(paper.status)
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
        from index.sync import fold_local

        fold_local(self)  # the same merge sync uses: a clean merge, or a conflict row
        return "conflict" if self.sync.conflict(key) else "merged"

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
