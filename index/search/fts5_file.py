"""The FTS5 index file: its tables, creating and opening it checked, and the rows a paper
becomes. Part of the FTS5 engine (fts5.py runs transactions and searches over it, fts5_run.py
runs planned queries); no module outside the engine touches this file.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from index.model import Paper
from index.search.engine import IndexUnavailable, indexed
from index.search.fts5_match import format_token

SCHEMA_VERSION = 6

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
SCHEMA = f"""
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
TABLES = ("meta", "docs", "full", "names", "spell", "spell_vocab")


def row(paper: Paper) -> tuple[str, ...]:
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


def spell_text(title: str, abstract: str) -> str:
    # Must be rebuilt byte for byte from `full` to delete it from the contentless table.
    return f"{title}\n{abstract}"


def connect_checked(path: Path, timeout: float):
    """The index file opened; IndexUnavailable when it is missing, damaged or older."""
    if not path.is_file():
        raise IndexUnavailable(f"no search index at {path.parent}")
    check_header(path)
    try:
        db = sqlite3.connect(path, timeout=timeout, check_same_thread=False,
                             isolation_level=None)
    except sqlite3.Error as exc:
        raise IndexUnavailable(f"search index is damaged ({exc})") from None
    try:
        configure(db)
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        if not set(TABLES) <= names:
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


def new_file(directory: Path, timeout: float):
    """A new, empty index file in `directory` (the old one is damaged beyond opening)."""
    path = directory / INDEX_FILE
    directory.parent.mkdir(parents=True, exist_ok=True)
    if directory.exists() and not directory.is_dir():
        directory.unlink()  # a file where the folder belongs
    directory.mkdir(exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.unlink(f"{path}{suffix}")
        except FileNotFoundError:
            pass
    db = sqlite3.connect(path, timeout=timeout, check_same_thread=False,
                         isolation_level=None)
    # Incremental vacuum: a rebuild frees the old tables' pages, and the file should
    # shrink back afterwards (set before the first table is created).
    db.execute("PRAGMA auto_vacuum = INCREMENTAL")
    configure(db)
    return db


def create_tables(db) -> None:
    """Drop every table and create them afresh, empty (within the caller's transaction)."""
    for name in ("spell_vocab", "spell", "names", "full", "docs", "meta"):
        db.execute(f"DROP TABLE IF EXISTS {name}")
    for statement in SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)
    db.executemany("INSERT INTO meta VALUES (?, ?)",
                   [("format", FORMAT), ("schema", str(SCHEMA_VERSION))])


def insert_chunk(db, papers: Sequence[Paper]) -> None:
    """Add papers that are not in the index yet (ids after the highest)."""
    start = (db.execute("SELECT max(id) FROM docs").fetchone()[0] or 0) + 1
    ids = range(start, start + len(papers))
    rows = [row(p) for p in papers]
    db.executemany("INSERT INTO docs (id, key, added, year) VALUES (?, ?, ?, ?)",
                   [(i, p.key, float(p.added or 0.0), p.year or None) for i, p in zip(ids, papers)])
    db.executemany(f"INSERT INTO full (rowid, {', '.join(FULL_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   [(i, *r) for i, r in zip(ids, rows)])
    db.executemany("INSERT INTO names (rowid, title, authors, tags) VALUES (?, ?, ?, ?)",
                   [(i, r[0], r[1], r[2]) for i, r in zip(ids, rows)])
    db.executemany("INSERT INTO spell (rowid, text) VALUES (?, ?)",
                   [(i, spell_text(r[0], r[3])) for i, r in zip(ids, rows)])

def remove(db, keys: Sequence[str]) -> None:
    """Remove papers by key from every table."""
    rows = db.execute(
        "SELECT d.id, f.title, f.abstract FROM docs d LEFT JOIN full f ON f.rowid = d.id "
        "WHERE d.key IN (SELECT value FROM json_each(?))", (json.dumps(list(keys)),)).fetchall()
    if not rows:
        return
    # The spelling table keeps no text: deleting from it takes the exact text indexed.
    db.executemany("INSERT INTO spell (spell, rowid, text) VALUES ('delete', ?, ?)",
                   [(i, spell_text(t, a)) for i, t, a in rows if t is not None])
    ids = [(r[0],) for r in rows]
    db.executemany("DELETE FROM full WHERE rowid = ?", ids)
    db.executemany("DELETE FROM names WHERE rowid = ?", ids)
    db.executemany("DELETE FROM docs WHERE id = ?", ids)


def configure(db) -> None:
    db.execute("PRAGMA journal_mode = WAL")
    # A rebuild writes the whole index through the WAL: give that space back afterwards.
    db.execute("PRAGMA journal_size_limit = 16777216")


def check_header(path: Path) -> None:
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


def is_disk_error(exc) -> bool:
    text = str(exc).lower()
    return "disk" in text and ("full" in text or "i/o" in text) or "readonly" in text
