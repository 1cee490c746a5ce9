"""The SQLite FTS5 engine: the choice for very large libraries (see the README's "Choosing a
search engine"). It implements index.search.engine.Engine over the index file of
fts5_file.py, running queries planned by fts5_match.py through fts5_run.py; nothing here
knows the query language beyond the tree it is handed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from array import array
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from index.model import Paper
from index.query import Node
from index.search.engine import (
    Hits,
    IndexBusy,
    IndexUnavailable,
    Progress,
    WordDocs,
    busy,
    edit_distance,
)
from index.search.fts5_file import (
    INDEX_FILE,
    connect_checked,
    create_tables,
    insert_chunk,
    is_disk_error,
    new_file,
    remove,
)
from index.search.fts5_match import MatchBuilder
from index.search.fts5_run import PlanRunner, ReadCache


class Fts5Engine:
    """The FTS5 index of the library. Thread-safe (one lock around every operation); several
    processes may read while one writes (SQLite WAL)."""

    name = "sqlite"

    def __init__(self, directory: Path, *, writer_timeout: float = 5.0):
        self.directory = Path(directory)
        self.writer_timeout = writer_timeout
        self._db = None
        self._identity = None
        self._cache = ReadCache()
        self._runner = PlanRunner(self._cache)
        self._lock = threading.RLock()

    @property
    def path(self) -> Path:
        return self.directory / INDEX_FILE

    # -- opening --------------------------------------------------------------------------

    def open(self) -> None:
        """Open the index; raise IndexUnavailable when it is missing, damaged or older."""
        with self._lock:
            self.close()
            self._db = connect_checked(self.path, self.writer_timeout)
            self._identity = self._file_identity()

    def _file_identity(self):
        try:
            st = os.stat(self.path)
            return (st.st_dev, st.st_ino)
        except OSError:
            return None

    def _conn(self):
        """The open connection; reopened when another process replaced the file."""
        if self._db is not None and self._file_identity() != self._identity:
            self.close()
        if self._db is None:
            self.open()
        return self._db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                try:
                    self._db.close()
                except Exception:
                    pass
            self._db = None
            self._cache.clear()

    def doc_count(self) -> int:
        with self._reading():
            return self._conn().execute("SELECT count(*) FROM docs").fetchone()[0]

    def all_keys(self) -> list[str]:
        """The key of every indexed document, once per copy in the full-text table (a key
        missing from `docs` shows as None): what `doctor` compares with the library."""
        with self._reading():
            rows = self._conn().execute(
                "SELECT d.key FROM full LEFT JOIN docs d ON d.id = full.rowid")
            return [r[0] for r in rows]

    # -- errors ---------------------------------------------------------------------------

    def _reading(self):
        return _Guard(self)

    def _busy(self, what: str = "") -> IndexBusy:
        return busy(self.writer_timeout, what)

    # -- writing --------------------------------------------------------------------------

    def _begin_write(self, db, what: str = "") -> None:
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise self._busy(what) from None
            raise

    def rebuild(
        self,
        papers: Iterable[Paper],
        total: int | None = None,
        progress: Progress | None = None,
    ) -> None:
        """Replace the whole index with `papers`, in one transaction: other processes see the
        old index until the new one is complete. A damaged file is started afresh."""
        with self._lock:
            try:
                db = self._conn()
            except IndexUnavailable:
                self.close()
                db = self._db = new_file(self.directory, self.writer_timeout)
            done = 0

            def replace_everything(db):
                nonlocal done
                create_tables(db)
                done = self._insert(db, papers, 0, total, progress)

            self._transaction(db, replace_everything, "the rebuild again",
                              "search index could not be rebuilt")
            try:
                db.execute("PRAGMA incremental_vacuum")  # give the old tables' pages back
            except sqlite3.DatabaseError:
                pass  # only space is at stake
            if progress is not None:
                progress(done, max(total or 0, done))
            self._identity = self._file_identity()

    def _insert(self, db, papers, done, total, progress) -> int:
        """Insert papers that are not in the index yet, in chunks (progress between them)."""
        chunk: list[Paper] = []
        for paper in papers:
            chunk.append(paper)
            if len(chunk) >= 500:
                insert_chunk(db, chunk)
                done += len(chunk)
                chunk = []
                if progress is not None:
                    progress(done, max(total or 0, done))
        if chunk:
            insert_chunk(db, chunk)
            done += len(chunk)
        return done

    def _write(self, change: Callable[[Any], None]) -> None:
        with self._lock:
            self._transaction(self._conn(), change, "", "search index is damaged")

    def _transaction(self, db, change: Callable[[Any], None], retry: str, failure: str) -> None:
        """Run `change` in one write transaction. Another writer past the timeout is
        IndexBusy, a full or failing disk OSError, anything else IndexUnavailable."""
        self._cache.clear()
        try:
            self._begin_write(db, retry)
            try:
                change(db)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise self._busy(retry) from None
            if "no such module" in str(exc):
                self.close()
                raise IndexUnavailable(
                    f"this Python's SQLite has no full-text search ({exc}); papershelf needs "
                    "SQLite with FTS5, which python.org and most Linux builds include") from None
            if is_disk_error(exc):
                raise OSError(str(exc)) from None
            self.close()
            raise IndexUnavailable(f"{failure} ({exc})") from None

    def upsert(self, papers: Sequence[Paper]) -> None:
        """Add or replace papers (by key) in one transaction. Searches from other threads and
        processes go on against the previous state until it commits."""
        papers = list({p.key: p for p in papers}.values())  # one copy per key, the last wins
        if not papers:
            return

        def change(db):
            remove(db, [p.key for p in papers])
            insert_chunk(db, papers)

        self._write(change)

    def delete(self, keys: Sequence[str]) -> None:
        keys = list(keys)
        if keys:
            self._write(lambda db: remove(db, keys))

    # -- reading --------------------------------------------------------------------------

    def search(self, tree: Node, *, limit: int | None, allowed: set[str] | None = None,
               excluded: set[str] | None = None) -> Hits:
        """The papers matching `tree`, best first; a damaged index raises IndexUnavailable."""
        with self._reading():
            db = self._conn()
            self._cache.check(db)
            plan = MatchBuilder(lambda: self._runner.years(db)).plan(tree)
            if plan is None or (allowed is not None and not allowed):
                return Hits()
            try:
                keys, total = self._runner.run(db, plan, limit, allowed, excluded)
            except sqlite3.OperationalError as exc:
                if not str(exc).startswith("fts5:"):
                    raise
                # the compiler quotes every word, so this is a bug of ours: say so in one line
                # rather than treating the index as damaged
                raise IndexUnavailable(f"could not run this query ({exc})") from None
            return Hits(keys=keys, total=total)

    # -- term statistics (suggestions, similar papers) ---------------------------------

    def spelling_candidates(self, word: str, maxdist: int) -> list[str]:
        with self._reading():
            rows = self._conn().execute(
                "SELECT term FROM spell_vocab WHERE term >= ? AND term < ? AND length(term) "
                "BETWEEN ? AND ?", (word[0], word[0] + "\U0010ffff", len(word) - maxdist,
                                    len(word) + maxdist))
            return [term for (term,) in rows if edit_distance(word, term) <= maxdist]

    def has_word(self, word: str) -> bool:
        with self._reading():
            return self._conn().execute("SELECT 1 FROM spell_vocab WHERE term = ?",
                                        (word,)).fetchone() is not None

    def doc_frequencies(self, words: Iterable[str]) -> dict[str, int]:
        with self._reading():
            rows = self._conn().execute(
                "SELECT term, doc FROM spell_vocab WHERE term IN (SELECT value FROM json_each(?))",
                (json.dumps(sorted(set(words))),))
            return dict(rows.fetchall())

    def docs_with(self, words: Iterable[str], first_doc: int = 0) -> WordDocs:
        """From the unstemmed `spell` table: its postings, and its token counts per paper
        (FTS5's docsize table), so a length counts every word, short ones and numbers too.
        The keys and lengths (~0.1 s at 100k) are read again only after a commit, here or
        by another connection: "for you" asks for a few words at a time."""
        with self._reading():
            db = self._conn()
            docs = {}
            for word in set(words):
                phrase = '"' + word.replace('"', '""') + '"'
                # one string a word: ~3x quicker than a row per paper
                ids = db.execute("SELECT group_concat(rowid) FROM (SELECT rowid FROM spell "
                                 "WHERE spell MATCH ? AND rowid >= ? ORDER BY rowid)",
                                 (phrase, first_doc)).fetchone()[0]
                if ids:
                    docs[word] = array("I", map(int, ids.split(",")))  # 4 bytes a posting
            version = (self._identity, id(db), db.execute("PRAGMA data_version").fetchone()[0],
                       db.total_changes)
            kept = getattr(self, "_docs_of", None)
            if kept is None or kept[0] != version:
                rows = db.execute("SELECT d.id, d.key, s.sz FROM docs d "
                                  "JOIN spell_docsize s ON s.id = d.id").fetchall()
                size = max((row[0] for row in rows), default=0) + 1
                keys: list[str | None] = [None] * size
                lengths = [0] * size
                for i, key, sz in rows:
                    keys[i], lengths[i] = key, _varint(sz)
                kept = self._docs_of = (version, keys, lengths)
            return WordDocs(docs, kept[2], kept[1])

    def prefix_doc_frequency(self, prefix: str) -> int:
        # a paper with "heron" and "herons" counts twice: an estimate is all similar needs
        with self._reading():
            return self._conn().execute(
                "SELECT sum(doc) FROM spell_vocab WHERE term >= ? AND term < ?",
                (prefix, prefix + "\U0010ffff")).fetchone()[0] or 0


class _Guard:
    """Turns storage errors met while reading into IndexUnavailable (and drops the
    connection, so the next call reopens and re-checks the file)."""

    def __init__(self, index: Fts5Engine):
        self.index = index

    def __enter__(self):
        self.index._lock.acquire()
        return self

    def __exit__(self, kind, exc, tb):
        try:
            if isinstance(exc, sqlite3.DatabaseError):
                self.index.close()
                raise IndexUnavailable(f"search index is damaged ({exc})") from None
        finally:
            self.index._lock.release()
        return False


def _varint(data: bytes) -> int:
    """The first of FTS5's varints (SQLite's format: 7 bits a byte, high bit set on all but
    the last; the ninth byte, never reached by a token count, would carry 8 bits)."""
    value = 0
    for byte in data[:8]:
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            break
    return value
