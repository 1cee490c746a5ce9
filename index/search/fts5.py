"""The SQLite FTS5 engine: the choice for very large libraries (see the README's "Choosing a
search engine"). It implements index.search.engine.Engine; only this module touches the FTS5
index file, and nothing here knows the query language beyond the tree it is handed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
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
    indexed,
)
from index.search.fts5_match import MatchBuilder, Plan, format_token

SCHEMA_VERSION = 6

# A query of only prefixes (a word being typed) is ranked by relevance up to this many hits,
# and listed newest first above it (ranking a prefix costs ~4 us per hit).
RANK_PREFIX_AT_MOST = 10_000
# Words plus a word being typed: when the typed word matches at most this many papers, rank
# the intersection in SQLite; above it, rank the words' matches once and filter that list
# on each keystroke.
INTERSECT_IN_SQL_AT_MOST = 5000
# ---------------------------------------------------------------------------------------------
# SQLite FTS5 (the engine)
#
# The index is one SQLite file in its own directory, separate from the library database: it is
# derived (rebuilt from the store at any time) and never synced. Three full-text tables share
# rowids with `docs`:
#
# - `full`: every searchable field, Porter-stemmed and accent-folded; ranked by BM25 with the
#   title weighted 3x. Year and source are columns too, so field filters compose with AND /
#   OR / NOT inside one FTS5 expression.
# - `names`: titles, authors and tags unstemmed, with a 3-letter prefix index: the partial
#   word while typing and `word*` prefixes (a stemmed index cannot answer "diffusi*": the
#   indexed stem is "diffus").
# - `spell`: titles and abstracts unstemmed, contentless: its vocabulary (`spell_vocab`)
#   gives "did you mean" candidates and document frequencies for "similar papers".
#
# Compared with the Whoosh engine (benchmarks/RESULTS.md): builds 5-6x faster, answers phrases
# and two-word queries 5-10x faster at 100k papers, and takes more disk (it keeps the text).

INDEX_FILE = "search.sqlite"
FORMAT = "papershelf-fts5"
# BM25 column weights of `full`: title, authors, tags, abstract, notes, year, source.
FULL_COLUMNS = ("title", "authors", "tags", "abstract", "notes", "year", "source")
FULL_WEIGHTS = "3.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0"
NAMES_WEIGHTS = "3.0, 1.0, 1.0"
_TOKENIZER = "unicode61 remove_diacritics 2"
_SCHEMA = f"""
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE docs (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, added REAL NOT NULL,
                   year INTEGER);
CREATE INDEX docs_added ON docs (added);
CREATE VIRTUAL TABLE full USING fts5 ({", ".join(FULL_COLUMNS)},
    tokenize = 'porter {_TOKENIZER}');
CREATE VIRTUAL TABLE names USING fts5 (title, authors, tags, tokenize = '{_TOKENIZER}',
    prefix = '3');
CREATE VIRTUAL TABLE spell USING fts5 (text, tokenize = '{_TOKENIZER}', content = '',
    detail = none);
CREATE VIRTUAL TABLE spell_vocab USING fts5vocab (spell, 'row');
"""
_TABLES = ("meta", "docs", "full", "names", "spell", "spell_vocab")


def _row(paper: Paper) -> tuple[str, ...]:
    """The `full` columns of one paper."""
    doc = indexed(paper)
    sources = [format_token(f) for f in doc.formats] + doc.sources
    return (
        doc.title,
        doc.authors,
        " , ".join(doc.tags),
        doc.abstract,
        doc.notes,
        str(doc.year) if doc.year else "",
        " , ".join(sources),
    )


def _spell_text(title: str, abstract: str) -> str:
    # Must be rebuilt byte for byte from `full` to delete it from the contentless table.
    return f"{title}\n{abstract}"


class Fts5Engine:
    """The FTS5 index of the library. Thread-safe (one lock around every operation); several
    processes may read while one writes (SQLite WAL)."""

    name = "sqlite"

    def __init__(self, directory: Path, *, writer_timeout: float = 5.0):
        self.directory = Path(directory)
        self.writer_timeout = writer_timeout
        self._db = None
        self._identity = None
        self._cache = _ReadCache()
        self._lock = threading.RLock()

    @property
    def path(self) -> Path:
        return self.directory / INDEX_FILE

    # -- opening --------------------------------------------------------------------------

    def open(self) -> None:
        """Open the index; raise IndexUnavailable when it is missing, damaged or older."""
        with self._lock:
            self.close()
            self._db = self._connect_checked(self.path, self.writer_timeout)
            self._identity = self._file_identity()

    @staticmethod
    def _connect_checked(path: Path, timeout: float):
        if not path.is_file():
            raise IndexUnavailable(f"no search index at {path.parent}")
        _check_header(path)
        try:
            db = sqlite3.connect(path, timeout=timeout, check_same_thread=False,
                                 isolation_level=None)
        except sqlite3.Error as exc:
            raise IndexUnavailable(f"search index is damaged ({exc})") from None
        try:
            _configure(db)
            names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
            if not set(_TABLES) <= names:
                raise IndexUnavailable("search index is incomplete")
            meta = dict(db.execute("SELECT name, value FROM meta"))
            if meta.get("format") != FORMAT or meta.get("schema") != str(SCHEMA_VERSION):
                raise IndexUnavailable(
                    f"search index has schema {meta.get('schema', '?')}, this version needs "
                    f"{SCHEMA_VERSION}")
            # Touch each table's pages a little: damage usually shows here already.
            db.execute("SELECT max(id), count(*) FROM docs").fetchone()
            db.execute("SELECT rowid FROM full WHERE full MATCH 'model OR data' LIMIT 1").fetchall()
            db.execute("SELECT rowid FROM names WHERE names MATCH 'mod*' LIMIT 1").fetchall()
            db.execute("SELECT term FROM spell_vocab WHERE term = 'model'").fetchall()
        except IndexUnavailable:
            db.close()
            raise
        except sqlite3.Error as exc:
            db.close()
            raise IndexUnavailable(f"search index is damaged ({exc})") from None
        return db

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
                db = self._fresh_file()
            done = 0

            def replace_everything(db):
                nonlocal done
                for name in ("spell_vocab", "spell", "names", "full", "docs", "meta"):
                    db.execute(f"DROP TABLE IF EXISTS {name}")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.executemany("INSERT INTO meta VALUES (?, ?)",
                               [("format", FORMAT), ("schema", str(SCHEMA_VERSION))])
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

    def _fresh_file(self):
        """Start a new, empty index file (the old one is damaged beyond opening)."""
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        if self.directory.exists() and not self.directory.is_dir():
            self.directory.unlink()  # a file where the folder belongs
        self.directory.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.unlink(f"{self.path}{suffix}")
            except FileNotFoundError:
                pass
        db = sqlite3.connect(self.path, timeout=self.writer_timeout, check_same_thread=False,
                             isolation_level=None)
        # Incremental vacuum: a rebuild frees the old tables' pages, and the file should
        # shrink back afterwards (set before the first table is created).
        db.execute("PRAGMA auto_vacuum = INCREMENTAL")
        _configure(db)
        self._db = db
        return db

    def _insert(self, db, papers, done, total, progress) -> int:
        """Insert papers that are not in the index yet, in chunks (progress between them)."""
        chunk: list[Paper] = []
        for paper in papers:
            chunk.append(paper)
            if len(chunk) >= 500:
                self._insert_chunk(db, chunk)
                done += len(chunk)
                chunk = []
                if progress is not None:
                    progress(done, max(total or 0, done))
        if chunk:
            self._insert_chunk(db, chunk)
            done += len(chunk)
        return done

    @staticmethod
    def _insert_chunk(db, papers: Sequence[Paper]) -> None:
        start = (db.execute("SELECT max(id) FROM docs").fetchone()[0] or 0) + 1
        ids = range(start, start + len(papers))
        rows = [_row(p) for p in papers]
        db.executemany("INSERT INTO docs (id, key, added, year) VALUES (?, ?, ?, ?)",
                       [(i, p.key, float(p.added or 0.0), p.year or None) for i, p in zip(ids, papers)])
        db.executemany(f"INSERT INTO full (rowid, {', '.join(FULL_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [(i, *r) for i, r in zip(ids, rows)])
        db.executemany("INSERT INTO names (rowid, title, authors, tags) VALUES (?, ?, ?, ?)",
                       [(i, r[0], r[1], r[2]) for i, r in zip(ids, rows)])
        db.executemany("INSERT INTO spell (rowid, text) VALUES (?, ?)",
                       [(i, _spell_text(r[0], r[3])) for i, r in zip(ids, rows)])

    @staticmethod
    def _remove(db, keys: Sequence[str]) -> None:
        rows = db.execute(
            "SELECT d.id, f.title, f.abstract FROM docs d LEFT JOIN full f ON f.rowid = d.id "
            "WHERE d.key IN (SELECT value FROM json_each(?))", (json.dumps(list(keys)),)).fetchall()
        if not rows:
            return
        # The spelling table keeps no text: deleting from it takes the exact text indexed.
        db.executemany("INSERT INTO spell (spell, rowid, text) VALUES ('delete', ?, ?)",
                       [(i, _spell_text(t, a)) for i, t, a in rows if t is not None])
        ids = [(r[0],) for r in rows]
        db.executemany("DELETE FROM full WHERE rowid = ?", ids)
        db.executemany("DELETE FROM names WHERE rowid = ?", ids)
        db.executemany("DELETE FROM docs WHERE id = ?", ids)

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
            if _is_disk_error(exc):
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
            self._remove(db, [p.key for p in papers])
            self._insert_chunk(db, papers)

        self._write(change)

    def delete(self, keys: Sequence[str]) -> None:
        keys = list(keys)
        if keys:
            self._write(lambda db: self._remove(db, keys))

    # -- reading --------------------------------------------------------------------------

    def search(self, tree: Node, *, limit: int | None, allowed: set[str] | None = None) -> Hits:
        """The papers matching `tree`, best first; a damaged index raises IndexUnavailable."""
        with self._reading():
            db = self._conn()
            self._cache.check(db)
            plan = MatchBuilder(self._year_list).plan(tree)
            if plan is None or (allowed is not None and not allowed):
                return Hits()
            try:
                keys, total = self._run(db, plan, limit, allowed)
            except sqlite3.OperationalError as exc:
                if not str(exc).startswith("fts5:"):
                    raise
                # the compiler quotes every word, so this is a bug of ours: say so in one line
                # rather than treating the index as damaged
                raise IndexUnavailable(f"could not run this query ({exc})") from None
            return Hits(keys=keys, total=total)

    def _year_list(self) -> list[int]:
        """The years papers have (what a year range expands to)."""
        return self._cache.get(("years",), lambda: _ids(
            self._db, "SELECT DISTINCT year FROM docs WHERE year IS NOT NULL ORDER BY year"))

    def _run(self, db, plan: Plan, limit, allowed) -> tuple[list[str], int]:
        """(keys of the first `limit` hits, number of hits).

        BM25 costs ~1.5 us per matching paper in FTS5, so ranking is only ever done over the
        papers that pass every condition: the words being typed and the user-state filter are
        turned into rowid sets first (cheap, and kept between keystrokes), and the ranked
        query filters on them."""
        allowed_ids = self._allowed_ids(db, allowed) if allowed is not None else None
        if plan.negative:
            matched = set(_ids(db, "SELECT rowid FROM full WHERE full MATCH ?", (plan.match,)))
            if plan.prefix:
                typed = self._names_set(db, plan.prefix)
                ids = [i for i in self._ranked_names(db, plan.prefix) if i in typed and i not in matched]
            else:
                ids = [i for i in self._newest(db) if i not in matched]
        elif plan.match:
            return self._run_full(db, plan, limit, allowed_ids)
        elif len(typed := self._names_set(db, plan.prefix)) <= RANK_PREFIX_AT_MOST:
            ids = self._ranked_names(db, plan.prefix)
        else:
            # "tra" matches a quarter of a big library's titles, and ranking a prefix costs
            # ~2 us per hit: newest first until the word narrows it down
            ids = [i for i in self._newest(db) if i in typed]
        if allowed_ids is not None:
            ids = [i for i in ids if i in allowed_ids[0]]
        shown = ids if limit is None else ids[:limit]
        return _keys_for(db, shown), len(ids)

    def _run_full(self, db, plan: Plan, limit, allowed_ids) -> tuple[list[str], int]:
        """A query with words over `full`, ranked in SQLite (see `_run`)."""
        ranked = self._cache.peek(("full", plan.match))
        if plan.prefix and (ranked is not None or len(
                self._names_set(db, plan.prefix)) > INTERSECT_IN_SQL_AT_MOST):
            # "diffusion mod", "diffusion mode", ...: rank "diffusion" once, then filter
            if ranked is None:
                ranked = self._cache.get(("full", plan.match), lambda: _ids(
                    db, f"SELECT rowid FROM full WHERE full MATCH ? ORDER BY "
                        f"bm25(full, {FULL_WEIGHTS}), rowid DESC", (plan.match,)))
            typed = self._names_set(db, plan.prefix)
            allowed = allowed_ids[0] if allowed_ids is not None else None
            ids = [i for i in ranked if i in typed and (allowed is None or i in allowed)]
            return _keys_for(db, ids if limit is None else ids[:limit]), len(ids)
        sql = "FROM full WHERE full MATCH ?"
        params: list[Any] = [plan.match]
        # "+rowid": a plain `rowid IN (...)` is handed to FTS5 one value at a time, which
        # re-runs the whole match per value (a minute at 100k papers).
        if plan.prefix:
            sql += " AND +rowid IN (SELECT value FROM json_each(?))"
            params.append(self._cache.get(("names-json", plan.prefix), lambda: json.dumps(
                sorted(self._names_set(db, plan.prefix)))))
        if allowed_ids is not None:
            sql += " AND +rowid IN (SELECT value FROM json_each(?))"
            params.append(allowed_ids[1])
        order = f"ORDER BY bm25(full, {FULL_WEIGHTS}), rowid DESC"
        if limit is None:
            ids = _ids(db, f"SELECT rowid {sql} {order}", params)
            return _keys_for(db, ids), len(ids)
        ids = _ids(db, f"SELECT rowid {sql} {order} LIMIT ?", (*params, limit))
        total = len(ids) if len(ids) < limit else \
            db.execute(f"SELECT count(*) {sql}", params).fetchone()[0]
        return _keys_for(db, ids), total

    def _newest(self, db) -> list[int]:
        return self._cache.get(("newest",), lambda: _ids(
            db, "SELECT id FROM docs ORDER BY added DESC, id DESC"))

    def _names_set(self, db, match: str) -> set[int]:
        return self._cache.get(("names-set", match), lambda: set(_ids(
            db, "SELECT rowid FROM names WHERE names MATCH ?", (match,))))

    def _ranked_names(self, db, match: str) -> list[int]:
        return self._cache.get(("names", match), lambda: _ids(
            db, f"SELECT rowid FROM names WHERE names MATCH ? ORDER BY bm25(names, {NAMES_WEIGHTS}), "
                "rowid DESC", (match,)))

    def _allowed_ids(self, db, allowed: set[str]) -> tuple[set[int], str]:
        """The rowids of the allowed keys, as a set and as JSON for SQL (kept between calls:
        the app sends the same filter with every keystroke)."""
        frozen = frozenset(allowed)

        def compute():
            ids = _ids(db, "SELECT id FROM docs WHERE key IN (SELECT value FROM json_each(?))",
                       (json.dumps(sorted(frozen)),))
            return set(ids), json.dumps(sorted(ids))

        return self._cache.get(("allowed", frozen), compute)

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

    def docs_with(self, words: Iterable[str]) -> WordDocs:
        """From the unstemmed `spell` table: its postings, and its token counts per paper
        (FTS5's docsize table), so a length counts every word, short ones and numbers too."""
        with self._reading():
            db = self._conn()
            docs = {}
            for word in set(words):
                phrase = '"' + word.replace('"', '""') + '"'
                # one string a word: ~3x quicker than a row per paper
                ids = db.execute("SELECT group_concat(rowid) FROM spell WHERE spell MATCH ?",
                                 (phrase,)).fetchone()[0]
                if ids:
                    docs[word] = list(map(int, ids.split(",")))
            rows = db.execute("SELECT d.id, d.key, s.sz FROM docs d "
                              "JOIN spell_docsize s ON s.id = d.id").fetchall()
            size = max((row[0] for row in rows), default=0) + 1
            keys: list[str | None] = [None] * size
            lengths = [0] * size
            for i, key, sz in rows:
                keys[i], lengths[i] = key, _varint(sz)
            return WordDocs(docs, lengths, keys)

    def prefix_doc_frequency(self, prefix: str) -> int:
        # a paper with "heron" and "herons" counts twice: an estimate is all similar needs
        with self._reading():
            return self._conn().execute(
                "SELECT sum(doc) FROM spell_vocab WHERE term >= ? AND term < ?",
                (prefix, prefix + "\U0010ffff")).fetchone()[0] or 0


class _ReadCache:
    """Recent ranked id lists and allowed sets, dropped whenever the index changes (in this
    process or any other: SQLite's data_version tells)."""

    SIZE = 8

    def __init__(self):
        self._entries: dict[Any, Any] = {}
        self._version: int | None = None

    def clear(self) -> None:
        self._entries.clear()
        self._version = None

    def check(self, db) -> None:
        version = db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version:
            self._entries.clear()
            self._version = version

    def peek(self, key):
        return self._entries.get(key)

    def get(self, key, compute: Callable[[], Any]):
        if key in self._entries:
            value = self._entries.pop(key)  # most recent last
        else:
            value = compute()
            while len(self._entries) >= self.SIZE:
                self._entries.pop(next(iter(self._entries)))
        self._entries[key] = value
        return value


def _ids(db, sql: str, params: Sequence[Any] = ()) -> list[int]:
    return [r[0] for r in db.execute(sql, params)]


def _keys_for(db, ids: Sequence[int]) -> list[str]:
    """The keys of `ids`, in that order."""
    if not ids:
        return []
    keys: dict[int, str] = {}
    for start in range(0, len(ids), 20_000):
        part = ids[start:start + 20_000]
        keys.update(db.execute("SELECT id, key FROM docs WHERE id IN (SELECT value FROM "
                               "json_each(?))", (json.dumps(list(part)),)).fetchall())
    return [keys[i] for i in ids if i in keys]


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


def _configure(db) -> None:
    db.execute("PRAGMA journal_mode = WAL")
    # A rebuild writes the whole index through the WAL: give that space back afterwards.
    db.execute("PRAGMA journal_size_limit = 16777216")


def _check_header(path: Path) -> None:
    """Refuse a file that is not an SQLite database or is shorter than its header says
    (truncated); SQLite itself would only notice on the pages that are gone."""
    try:
        with open(path, "rb") as f:
            head = f.read(100)
        size = path.stat().st_size
    except OSError as exc:
        raise IndexUnavailable(f"search index unreadable ({exc.strerror or exc})") from None
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        raise IndexUnavailable("search index is damaged (not an SQLite file)")
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    valid_for = int.from_bytes(head[92:96], "big")
    change_counter = int.from_bytes(head[24:28], "big")
    if page_size < 512 or page_size & (page_size - 1):
        raise IndexUnavailable("search index is damaged (bad page size)")
    if valid_for == change_counter and pages * page_size > size:
        raise IndexUnavailable("search index is damaged (file truncated)")


def _varint(data: bytes) -> int:
    """The first of FTS5's varints (SQLite's format: 7 bits a byte, high bit set on all but
    the last; the ninth byte, never reached by a token count, would carry 8 bits)."""
    value = 0
    for byte in data[:8]:
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            break
    return value


def _is_disk_error(exc) -> bool:
    text = str(exc).lower()
    return "disk" in text and ("full" in text or "i/o" in text) or "readonly" in text
