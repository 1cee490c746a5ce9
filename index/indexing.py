"""The Library's search index: opened on first use, rebuilt from the store when missing,
damaged, stale or of an old schema, switched between engines, and kept in step with the store.

A mixin of `index.library.Library` (it uses `self.store`, `self.data_dir`, `self.engine_name`),
so the front ends keep calling `lib.reindex()`, `lib.flush_index()` ... on the one facade.
"""

from __future__ import annotations

from collections.abc import Callable

from index import config as config_mod
from index.backup import INDEX_STALE_MARKER
from index.model import PapershelfError

Progress = Callable[[int, int], None]
# Where versions before 0.2 kept their (Whoosh) index: derived data, removed when found.
OLD_INDEX_DIRS = ("whoosh",)
# Index updates are committed this many papers at a time (bounds a big import's memory).
FLUSH_CHUNK = 20_000
# Past this many papers the app suggests the FTS5 engine (once; it never switches by itself).
SUGGEST_FTS5_FROM = 50_000


class IndexKeeping:
    """Library methods that open, rebuild and update the full-text index."""

    @property
    def index(self):
        """The search index, rebuilt from the store when missing, damaged or of an old schema."""
        if self._index is None:
            self._index = self.open_index()
        return self._index

    def _new_index(self, engine: str | None = None):
        from index.search import SearchIndex, engine_dir

        name = engine or self.engine_name
        return SearchIndex(engine_dir(self.data_dir, name), name,
                           writer_timeout=self.writer_timeout)

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

    def _with_index(self, read):
        """Run a read on the index; when it finds the index damaged, rebuild it from the
        store and read again (once)."""
        from index.search import IndexUnavailable

        try:
            return read(self.index)
        except IndexUnavailable:
            self.reindex()
            return read(self.index)


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
