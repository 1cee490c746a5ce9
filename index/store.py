"""Canonical library state in SQLite (WAL). The search index is derived from this.

Every change is one transaction that also appends an operation to this device's log (the `ops`
table), stamped with a hybrid logical clock, so that sync can publish and merge it later.
Registers remember the clock of the last write to each (paper, field) for last-writer-wins.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from index.citekey import (
    CitekeyAllocator,
    base_citekey,
    check_citekey,
    citekey_base,
    is_provisional,
)
from index.clock import HybridClock, Timestamp
from index.model import (
    STATUSES,
    ImportReport,
    Paper,
    PaperRecord,
    PapershelfError,
    Problem,
    normalise_tag,
    normalise_title,
    paper_key,
)
from index.textsafe import has_control_characters

SCHEMA_VERSION = 1
# How title keys read titles: "latex-as-text" since titles holding LaTeX are decoded first.
TITLE_KEYS = "latex-as-text"
DB_NAME = "library.sqlite3"

# Metadata fields a later listing may fill in when the stored paper lacks them.
FILLABLE_FIELDS = ("abstract", "authors", "year", "listing_date", "arxiv_id", "doi", "url",
                   "venue", "links")
JSON_COLUMNS = ("authors", "links", "extra", "sources")
# One encoder for all writes: json.dumps(..., ensure_ascii=False) builds a new one per call.
_to_json = json.JSONEncoder(ensure_ascii=False).encode

_SCHEMA = """
CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE papers (
    key TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    title_norm TEXT NOT NULL,
    abstract TEXT NOT NULL DEFAULT '',
    authors TEXT NOT NULL DEFAULT '[]',
    year INTEGER,
    listing_date TEXT,
    arxiv_id TEXT,
    doi TEXT,
    url TEXT,
    links TEXT NOT NULL DEFAULT '[]',
    venue TEXT,
    extra TEXT NOT NULL DEFAULT '{}',
    sources TEXT NOT NULL DEFAULT '[]',
    citekey TEXT UNIQUE,
    added REAL NOT NULL,
    starred INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'unread',
    note TEXT NOT NULL DEFAULT '',
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX papers_added ON papers (added DESC, key);
CREATE INDEX papers_title_norm ON papers (title_norm);
CREATE INDEX papers_starred ON papers (starred) WHERE starred = 1;
CREATE INDEX papers_status ON papers (status);
CREATE TABLE tags (key TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (key, tag)) WITHOUT ROWID;
CREATE INDEX tags_by_tag ON tags (tag);
CREATE TABLE registers (
    key TEXT NOT NULL, field TEXT NOT NULL, hlc TEXT NOT NULL, op_id TEXT NOT NULL,
    PRIMARY KEY (key, field)
) WITHOUT ROWID;
CREATE TABLE ops (
    op_id TEXT PRIMARY KEY,
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    hlc TEXT NOT NULL,
    type TEXT NOT NULL,
    key TEXT NOT NULL,
    field TEXT,
    value TEXT
);
CREATE UNIQUE INDEX ops_by_device ON ops (device, seq);
CREATE TABLE aliases (old_key TEXT PRIMARY KEY, new_key TEXT NOT NULL);
CREATE TABLE index_dirty (key TEXT PRIMARY KEY) WITHOUT ROWID;
"""


_LISTING_INDEX = ("CREATE INDEX IF NOT EXISTS papers_listing ON papers "
                  "(deleted, added DESC, key)")
# Papers whose citation key is still provisional (made without authors or year, never used),
# with that key: when the paper's key is no longer this one (renamed, or changed by a sync),
# it is no longer provisional. Local to this library: a copy that arrives by sync is frozen.
_PROVISIONAL_TABLE = ("CREATE TABLE IF NOT EXISTS provisional_citekeys "
                      "(key TEXT PRIMARY KEY, citekey TEXT NOT NULL) WITHOUT ROWID")
# Titles arXiv was asked about and had no exact match for (`resolve`), and when: a cache,
# local to this library, so a second run within a week does not ask again.
_RESOLVE_MISSES_TABLE = ("CREATE TABLE IF NOT EXISTS resolve_misses "
                         "(title_norm TEXT PRIMARY KEY, asked REAL NOT NULL) WITHOUT ROWID")


class StoreError(PapershelfError):
    pass


@dataclass(frozen=True)
class Op:
    """One operation: the unit of change and of sync."""

    op_id: str
    device: str
    seq: int
    hlc: str
    type: str  # paper.add | paper.source | paper.update | paper.merge | paper.delete | set | tag
    key: str
    field: str | None
    value: object

    def to_json(self) -> dict:
        return {"id": self.op_id, "device": self.device, "seq": self.seq, "hlc": self.hlc,
                "type": self.type, "key": self.key, "field": self.field, "value": self.value}

    @classmethod
    def from_json(cls, data: dict) -> Op:
        return cls(data["id"], data["device"], int(data["seq"]), data["hlc"], data["type"],
                   data["key"], data.get("field"), data.get("value"))


def _row_to_op(r: sqlite3.Row) -> Op:
    return Op(r["op_id"], r["device"], r["seq"], r["hlc"], r["type"], r["key"], r["field"],
              json.loads(r["value"]) if r["value"] is not None else None)


def _row_to_paper(row: sqlite3.Row, tags: list[str]) -> Paper:
    return Paper(
        key=row["key"], title=row["title"], abstract=row["abstract"],
        authors=json.loads(row["authors"]), year=row["year"], listing_date=row["listing_date"],
        arxiv_id=row["arxiv_id"], doi=row["doi"], url=row["url"], links=json.loads(row["links"]),
        venue=row["venue"], sources=json.loads(row["sources"]), citekey=row["citekey"],
        extra=json.loads(row["extra"]), added=row["added"], starred=bool(row["starred"]),
        tags=tags, status=row["status"], note=row["note"],
    )


class Store:
    def __init__(self, data_dir: Path, *, busy_timeout: float = 10.0):
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / DB_NAME
        try:
            # a new data directory is private: the library, index and backups are yours alone
            self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.data_dir}: cannot create the data directory ({exc.strerror})") from None
        if self.path.exists() and not os.access(self.path, os.R_OK):
            raise StoreError(f"{self.path}: permission denied")
        # A read-only library can still be searched and shown; writes are refused up front.
        self.read_only = not os.access(self.data_dir, os.W_OK) or (
            self.path.exists() and not os.access(self.path, os.W_OK))
        if self.read_only and not self.path.exists():
            raise StoreError(f"{self.data_dir}: the data directory is read-only")
        try:
            self.db = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None,
                                      check_same_thread=False)
            self.db.row_factory = sqlite3.Row
            self._migrate()
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path}: cannot open the library ({exc})") from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a papershelf library or damaged ({exc})") from None
        self._op_buffer: list[tuple] | None = None
        self._paper_buffer: dict[str, tuple] | None = None
        self._provisional_buffer: list[tuple[str, str]] = []
        self._citekeys: CitekeyAllocator | None = None
        self.device = self._meta("device_id")
        last = self._meta("hlc")
        self.clock = HybridClock(self.device, Timestamp.decode(last) if last else None)
        if not self.read_only and self._meta("title_keys") != TITLE_KEYS:
            self._rekey_latex_titles()

    # ---- schema ------------------------------------------------------------------------------

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: written by a newer papershelf (schema {version}; this version "
                f"knows up to {SCHEMA_VERSION}). Upgrade papershelf; nothing was changed."
            )
        writable = not self.read_only
        if version == SCHEMA_VERSION:
            if writable:
                self.db.execute("PRAGMA journal_mode=WAL")
                # Covers the newest-first listing (0.37 s -> 0.11 s at 100k papers); created
                # here too so libraries made before it gain it without a schema bump.
                self.db.execute(_LISTING_INDEX)
                self.db.execute(_PROVISIONAL_TABLE)
                self.db.execute(_RESOLVE_MISSES_TABLE)
            self.db.execute("PRAGMA synchronous=NORMAL")
            return
        if not writable:
            raise StoreError(f"{self.data_dir}: the data directory is read-only")
        if 0 < version < SCHEMA_VERSION:  # an upgrade: keep the old library as it was
            from index.backup import backup_before_migration

            backup_before_migration(self.path)
        self.db.execute("PRAGMA journal_mode=WAL")
        with self.transaction():
            if version == 0:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute("INSERT INTO meta VALUES ('device_id', ?)", (uuid.uuid4().hex[:12],))
                self.db.execute(_LISTING_INDEX)
                self.db.execute(_PROVISIONAL_TABLE)
                self.db.execute(_RESOLVE_MISSES_TABLE)
            # Future migrations go here: `if version < 2: ...`, each inside this transaction.
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _rekey_latex_titles(self) -> None:
        """Papers keyed by a title holding LaTeX before titles were read as text move to
        today's key (the old one stays an alias), as a merge operation other devices follow."""
        with self.transaction():
            if self._meta("title_keys") == TITLE_KEYS:
                return  # another process did it first
            rows = self.db.execute(
                "SELECT key, title FROM papers WHERE key LIKE 'title:%' AND deleted = 0 "
                "AND (instr(title, '\\') > 0 OR instr(title, '{') > 0)").fetchall()
            live = {r[0] for r in self.db.execute("SELECT key FROM papers")}
            for old_key, title in rows:
                new_key = paper_key(title=title)
                if new_key == old_key or new_key in live:
                    continue
                self.rekey(old_key, new_key)
                self.db.execute("UPDATE papers SET title_norm = ? WHERE key = ?",
                                (normalise_title(title), new_key))
                self._record_op("paper.merge", old_key, None, new_key, self._next_seq())
                live.add(new_key)
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('title_keys', ?)", (TITLE_KEYS,))

    def _meta(self, k: str) -> str | None:
        row = self.db.execute("SELECT v FROM meta WHERE k = ?", (k,)).fetchone()
        return row[0] if row else None

    def note_once(self, k: str) -> bool:
        """True the first time `k` is noted in this library (a hint shown once), False after."""
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM meta WHERE k = ?", (k,)).fetchone():
                return False
            db.execute("INSERT INTO meta VALUES (?, '1')", (k,))
            return True

    @contextmanager
    def transaction(self):
        """One write transaction (BEGIN IMMEDIATE so two writers queue instead of deadlocking)."""
        if self.read_only:
            raise StoreError(f"{self.data_dir}: the data directory is read-only; nothing was changed")
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(f"{self.path}: the library is busy (another papershelf is writing); try again") from None
            if "readonly" in str(exc) or "read-only" in str(exc):
                raise StoreError(f"{self.data_dir}: the data directory is read-only") from None
            raise
        # Another process (the TUI beside a CLI command) may have written since we last looked:
        # move our clock past the stored one so operations never go back in time.
        if (clock := getattr(self, "clock", None)) and (stored := self._meta("hlc")):
            clock.observe(Timestamp.decode(stored))
        try:
            yield self.db
        except sqlite3.DatabaseError as exc:
            self._rollback()
            raise StoreError(f"{self.path}: could not save ({exc}); nothing was changed") from None
        except BaseException:
            self._rollback()
            raise
        else:
            try:
                # The clock is saved once per transaction so it never runs backwards on restart.
                if clock := getattr(self, "clock", None):  # (none yet while migrating)
                    self.db.execute("INSERT OR REPLACE INTO meta VALUES ('hlc', ?)",
                                    (clock.last.encode(),))
                self.db.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                self._rollback()
                raise StoreError(f"{self.path}: could not save ({exc}); nothing was changed") from None

    def _rollback(self) -> None:
        # SQLite rolls back by itself on SQLITE_FULL / IOERR; a second ROLLBACK would then fail
        # and hide the real error.
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def close(self) -> None:
        self.db.close()

    # ---- operations ----------------------------------------------------------------------------

    def _next_seq(self) -> int:
        row = self.db.execute("SELECT MAX(seq) FROM ops WHERE device = ?", (self.device,)).fetchone()
        return (row[0] or 0) + 1

    def _record_op(self, type_: str, key: str, field: str | None, value: object,
                   seq: int) -> Op:
        stamp = self.clock.tick().encode()
        op = Op(f"{self.device}-{seq}", self.device, seq, stamp, type_, key, field, value)
        row = (op.op_id, op.device, op.seq, op.hlc, op.type, op.key, op.field, _to_json(value))
        if self._op_buffer is not None:  # a batch import writes its ops in one executemany
            self._op_buffer.append(row)
        else:
            self.db.execute("INSERT INTO ops VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
        if field is not None:
            self.db.execute("INSERT OR REPLACE INTO registers VALUES (?, ?, ?, ?)",
                            (key, field, stamp, op.op_id))
        return op

    def ops_since(self, device: str, after_seq: int) -> list[Op]:
        rows = self.db.execute(
            "SELECT * FROM ops WHERE device = ? AND seq > ? ORDER BY seq", (device, after_seq))
        return [_row_to_op(r) for r in rows]

    def ops_between(self, device: str, first: int, last: int) -> list[Op]:
        """A device's operations with seq first..last, in order."""
        rows = self.db.execute("SELECT * FROM ops WHERE device = ? AND seq BETWEEN ? AND ? "
                               "ORDER BY seq", (device, first, last))
        return [_row_to_op(r) for r in rows]

    def op(self, op_id: str) -> Op | None:
        row = self.db.execute("SELECT * FROM ops WHERE op_id = ?", (op_id,)).fetchone()
        return _row_to_op(row) if row is not None else None

    def register(self, key: str, field: str) -> tuple[str, str] | None:
        row = self.db.execute("SELECT hlc, op_id FROM registers WHERE key = ? AND field = ?",
                              (key, field)).fetchone()
        return (row[0], row[1]) if row else None

    # ---- import ----------------------------------------------------------------------------------

    def add_records(self, records: Iterable[PaperRecord], *, dry_run: bool = False,
                    progress=None) -> ImportReport:
        """Upsert records by paper key in one transaction. Re-adding what is known writes nothing."""
        report = ImportReport()
        records = list(records)
        try:
            self._add_records(records, report, dry_run, progress)
        except _DryRun:
            pass  # rolled back: a dry run reports what would happen and writes nothing
        finally:
            self._op_buffer = None
            self._paper_buffer = None
            self._provisional_buffer = []
            self._citekeys = None
        return report

    def _add_records(self, records, report, dry_run, progress) -> None:
        with self.transaction():
            seq = self._next_seq()
            self._citekeys = CitekeyAllocator(
                r[0] for r in self.db.execute("SELECT citekey FROM papers WHERE citekey IS NOT NULL"))
            # Loaded once per batch so most records cost no extra query.
            self._has_aliases = self.db.execute("SELECT 1 FROM aliases LIMIT 1").fetchone() is not None
            self._title_only = {r[0] for r in self.db.execute(
                "SELECT key FROM papers WHERE key LIKE 'title:%' AND deleted = 0")}
            live = {r[0] for r in self.db.execute("SELECT key FROM papers WHERE deleted = 0")}
            self._op_buffer = []
            self._paper_buffer = {}
            now = time.time()
            for done, record in enumerate(records, 1):
                problem = _validate(record)
                if problem:
                    report.rejected.append(problem)
                    continue
                key = self._resolve_alias(record.key) if self._has_aliases else record.key
                if key in self._paper_buffer:
                    self._flush_inserts()  # a repeat within this batch must see the first copy
                existing = self._get_row(key) if key in live else None
                if existing is None and record.arxiv_id:
                    existing, seq = self._merge_earlier_identity(record, key, seq, live)
                if existing is None:
                    citekey = record.citekey if record.citekey and not check_citekey(
                        record.citekey) and self._citekeys.claim(record.citekey) else None
                    if citekey is None:  # none of the source's own: we make one
                        citekey = self._citekeys.allocate(
                            citekey_base(record.authors, record.year, record.title))
                        if is_provisional(record.authors, record.year):
                            self._provisional_buffer.append((key, citekey))
                    self._insert(key, record, citekey, now + done * 1e-6)
                    live.add(key)
                    if key.startswith("title:"):
                        self._title_only.add(key)
                    value = record.to_dict() | {"citekey": citekey}
                    self._record_op("paper.add", key, None, value, seq)
                    seq += 1
                    for tag in record.tags:
                        self._set_tag(key, normalise_tag(tag), True, seq)
                        seq += 1
                    report.added.append(key)
                else:
                    seq, changed = self._merge_into(existing, record, seq)
                    (report.merged if changed else report.unchanged).append(key)
                if progress and (done % 200 == 0 or done == len(records)):
                    progress(done, len(records))
            self._flush_inserts()
            self.db.executemany("INSERT INTO ops VALUES (?, ?, ?, ?, ?, ?, ?, ?)", self._op_buffer)
            self._op_buffer = None
            if dry_run:
                raise _DryRun(report)

    def _resolve_alias(self, key: str) -> str:
        row = self.db.execute("SELECT new_key FROM aliases WHERE old_key = ?", (key,)).fetchone()
        return row[0] if row else key

    def _get_row(self, key: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM papers WHERE key = ? AND deleted = 0", (key,)).fetchone()

    _INSERT_PAPER = (
        "INSERT OR REPLACE INTO papers (key, title, title_norm, abstract, authors, year, "
        "listing_date, arxiv_id, doi, url, links, venue, extra, sources, citekey, added) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")

    def _insert(self, key: str, record: PaperRecord, citekey: str, added: float) -> None:
        row = (key, record.title, normalise_title(record.title), record.abstract,
               _to_json(record.authors), record.year, record.listing_date,
               record.arxiv_id, record.doi, record.url, _to_json(record.links), record.venue,
               _to_json(record.extra), _to_json([record.source] if record.source else []),
               citekey, added)
        if self._paper_buffer is not None:  # batch import: one executemany at the end
            self._paper_buffer[key] = row
            return
        self.db.execute(self._INSERT_PAPER, row)
        self.db.execute("INSERT OR IGNORE INTO index_dirty VALUES (?)", (key,))

    def _flush_inserts(self) -> None:
        if self._provisional_buffer:
            self.db.executemany("INSERT OR REPLACE INTO provisional_citekeys VALUES (?, ?)",
                                self._provisional_buffer)
            self._provisional_buffer.clear()
        if self._paper_buffer:
            self.db.executemany(self._INSERT_PAPER, self._paper_buffer.values())
            self.db.executemany("INSERT OR IGNORE INTO index_dirty VALUES (?)",
                                [(k,) for k in self._paper_buffer])
            self._paper_buffer.clear()

    def _merge_into(self, row: sqlite3.Row, record: PaperRecord, seq: int) -> tuple[int, bool]:
        """Add a new source and fill fields the stored paper lacks. Returns (seq, changed)."""
        key = row["key"]
        changed = False
        sources = json.loads(row["sources"])
        if record.source and record.source not in sources:
            sources.append(record.source)
            self.db.execute("UPDATE papers SET sources = ? WHERE key = ?",
                            (_to_json(sources), key))
            self._record_op("paper.source", key, None, record.source, seq)
            seq += 1
            changed = True
        for name in FILLABLE_FIELDS:
            new = getattr(record, name)
            old = json.loads(row[name]) if name in JSON_COLUMNS else row[name]
            if new and not old:
                stored = _to_json(new) if name in JSON_COLUMNS else new
                self.db.execute(f"UPDATE papers SET {name} = ? WHERE key = ?", (stored, key))
                self._record_op("paper.update", key, name, new, seq)
                seq += 1
                changed = True
        old_extra = json.loads(row["extra"])
        if any(name not in old_extra for name in record.extra):  # e.g. arXiv version, categories
            extra = record.extra | old_extra
            self.db.execute("UPDATE papers SET extra = ? WHERE key = ?", (_to_json(extra), key))
            self._record_op("paper.update", key, "extra", extra, seq)
            seq += 1
            changed = True
        if changed:
            self.db.execute("INSERT OR IGNORE INTO index_dirty VALUES (?)", (key,))
            seq = self._settle_provisional_citekey(key, seq)
        return seq, changed

    def _settle_provisional_citekey(self, key: str, seq: int) -> int:
        """A provisional key becomes the regular one once the paper has authors and a year."""
        held = self.db.execute("SELECT p.citekey, c.citekey, p.authors, p.year, p.title FROM "
                               "papers p JOIN provisional_citekeys c ON c.key = p.key "
                               "WHERE p.key = ?", (key,)).fetchone()
        if held is None:
            return seq
        current, provisional, authors, year, title = held
        authors = json.loads(authors)
        if current != provisional:  # renamed meanwhile (by hand or by a sync): frozen
            self.db.execute("DELETE FROM provisional_citekeys WHERE key = ?", (key,))
            return seq
        if is_provisional(authors, year) or self._citekeys is None:
            return seq
        self._citekeys.release(current)
        new = self._citekeys.allocate(base_citekey(authors, year, title))
        self.db.execute("UPDATE papers SET citekey = ? WHERE key = ?", (new, key))
        self.db.execute("DELETE FROM provisional_citekeys WHERE key = ?", (key,))
        self._record_op("set", key, "citekey", new, seq)
        return seq + 1

    def _merge_earlier_identity(self, record: PaperRecord, key: str, seq: int,
                                live: set[str]) -> tuple[sqlite3.Row | None, int]:
        """A paper first seen by DOI or by title only gains an arXiv id: re-key it, keeping
        the user's state. The merge is an operation, so it syncs."""
        old_key = None
        if record.doi:
            doi_key = paper_key(title="", doi=record.doi)
            if doi_key in live:
                old_key = doi_key
        if old_key is None:
            title_key = paper_key(title=record.title)
            if title_key in self._title_only:
                old_key = title_key
                self._title_only.discard(title_key)
        if old_key is None:
            return None, seq
        self._has_aliases = True
        if self._paper_buffer and old_key in self._paper_buffer:
            self._flush_inserts()  # first seen earlier in this same batch
        self.rekey(old_key, key, seq)
        self._record_op("paper.merge", old_key, None, key, seq)
        live.discard(old_key)
        live.add(key)
        return self._get_row(key), seq + 1

    def rekey(self, old_key: str, new_key: str, seq: int | None = None) -> None:
        """Move a paper (and its tags and registers) to a new key; the old key becomes an alias."""
        self.db.execute("UPDATE papers SET key = ? WHERE key = ?", (new_key, old_key))
        self.db.execute("UPDATE OR IGNORE tags SET key = ? WHERE key = ?", (new_key, old_key))
        self.db.execute("DELETE FROM tags WHERE key = ?", (old_key,))
        self.db.execute("UPDATE OR IGNORE registers SET key = ? WHERE key = ?", (new_key, old_key))
        self.db.execute("DELETE FROM registers WHERE key = ?", (old_key,))
        self.db.execute("UPDATE aliases SET new_key = ? WHERE new_key = ?", (new_key, old_key))
        self.db.execute("UPDATE OR REPLACE provisional_citekeys SET key = ? WHERE key = ?",
                        (new_key, old_key))
        self.db.execute("INSERT OR REPLACE INTO aliases VALUES (?, ?)", (old_key, new_key))
        self.db.execute("INSERT OR IGNORE INTO index_dirty VALUES (?)", (old_key,))
        self.db.execute("INSERT OR IGNORE INTO index_dirty VALUES (?)", (new_key,))

    # ---- user changes ----------------------------------------------------------------------------

    def _require(self, key: str) -> sqlite3.Row:
        row = self._get_row(key)
        if row is None:
            raise StoreError(f"no paper with key {key}")
        return row

    def set_field(self, key: str, field: str, value) -> bool:
        """Set starred/status/note/citekey. Returns False (and writes nothing) when unchanged."""
        return self._set_field(key, field, value)[0]

    def save_note(self, key: str, text: str, opened: str | None) -> tuple[bool, bool]:
        """Compare-and-set a note: `opened` is the version (register op id) the editor started
        from. Returns (changed, concurrent): concurrent when another process saved a different
        version meanwhile; the new version then names `opened` as its parent, so the two are
        siblings that sync's merge folds into a merge or a conflict, never an overwrite."""
        return self._set_field(key, "note", text, opened=opened)

    def note_version(self, key: str) -> str | None:
        """The version of the note as stored now (what `save_note` compares against)."""
        current = self.register(self._resolve_alias(key), "note")
        return current[1] if current else None

    def _set_field(self, key: str, field: str, value, *, opened: object = ...) -> tuple[bool, bool]:
        with self.transaction():
            row = self._require(key)
            current = bool(row[field]) if field == "starred" else row[field]
            if current == value:
                return False, False
            stored = int(value) if field == "starred" else value
            if field == "citekey":
                # BibTeX compares keys ignoring case, so a clash is one ignoring case too.
                clash = self.db.execute(
                    "SELECT key FROM papers WHERE citekey = ? COLLATE NOCASE AND key != ?",
                    (value, key)).fetchone()
                if clash:
                    raise StoreError(f"citation key {value} is already used by {clash[0]}")
                self.db.execute("DELETE FROM provisional_citekeys WHERE key = ?", (key,))
            self.db.execute(f"UPDATE papers SET {field} = ? WHERE key = ?", (stored, key))
            op_value = value
            concurrent = False
            if field == "note":  # note versions name their parent, for three-way merges in sync
                stored_version = self.register(key, "note")
                parent = stored_version[1] if stored_version else None
                if opened is not ... and opened != parent:
                    parent, concurrent = opened, True
                op_value = {"text": value, "parent": parent}
                self.db.execute("INSERT OR IGNORE INTO index_dirty VALUES (?)", (key,))
            self._record_op("set", key, field, op_value, self._next_seq())
            return True, concurrent

    def set_tag(self, key: str, tag: str, present: bool) -> bool:
        return self.set_tags(key, [tag], present)

    def set_tags(self, key: str, tags: list[str], present: bool) -> bool:
        """Add or remove several tags in one transaction: all of them or none."""
        with self.transaction():
            self._require(key)
            changed = False
            for tag in tags:
                changed |= self._set_tag(key, tag, present, self._next_seq())
            return changed

    def set_starred_many(self, keys: list[str], starred: bool) -> int:
        """Star or unstar several papers in one transaction. Returns how many changed."""
        changed = 0
        with self.transaction():
            for key in keys:
                row = self._require(key)
                if bool(row["starred"]) != starred:
                    self.db.execute("UPDATE papers SET starred = ? WHERE key = ?", (int(starred), key))
                    self._record_op("set", key, "starred", starred, self._next_seq())
                    changed += 1
        return changed

    def _set_tag(self, key: str, tag: str, present: bool, seq: int) -> bool:
        has = self.db.execute("SELECT 1 FROM tags WHERE key = ? AND tag = ?", (key, tag)).fetchone()
        if bool(has) == present:
            return False
        if present:
            self.db.execute("INSERT INTO tags VALUES (?, ?)", (key, tag))
        else:
            self.db.execute("DELETE FROM tags WHERE key = ? AND tag = ?", (key, tag))
        self.db.execute("INSERT OR IGNORE INTO index_dirty VALUES (?)", (key,))
        self._record_op("tag", key, "tag:" + tag, present, seq)
        return True

    def delete(self, key: str) -> None:
        with self.transaction():
            self._require(key)
            self.db.execute("UPDATE papers SET deleted = 1 WHERE key = ?", (key,))
            self.db.execute("INSERT OR IGNORE INTO index_dirty VALUES (?)", (key,))
            self._record_op("paper.delete", key, "deleted", True, self._next_seq())

    # ---- reading ---------------------------------------------------------------------------------

    def _tags_for(self, keys: list[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {k: [] for k in keys}
        for chunk_start in range(0, len(keys), 900):
            chunk = keys[chunk_start:chunk_start + 900]
            marks = ",".join("?" * len(chunk))
            for key, tag in self.db.execute(
                    f"SELECT key, tag FROM tags WHERE key IN ({marks}) ORDER BY tag", chunk):
                found[key].append(tag)
        return found

    def get(self, key: str) -> Paper | None:
        row = self._get_row(self._resolve_alias(key))
        if row is None:
            return None
        return _row_to_paper(row, self._tags_for([row["key"]])[row["key"]])

    def get_many(self, keys: list[str]) -> list[Paper]:
        """Papers for keys, in the order given; unknown keys are skipped."""
        rows: dict[str, sqlite3.Row] = {}
        for start in range(0, len(keys), 900):
            chunk = keys[start:start + 900]
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(
                    f"SELECT * FROM papers WHERE deleted = 0 AND key IN ({marks})", chunk):
                rows[row["key"]] = row
        tags = self._tags_for(list(rows))
        return [_row_to_paper(rows[k], tags[k]) for k in keys if k in rows]

    def filtered_keys(self, *, starred: bool | None = None, statuses: Iterable[str] = (),
                      tags: Iterable[str] = (), limit: int | None = None) -> list[str]:
        """Keys matching the user-state filters, newest first."""
        where, params = ["p.deleted = 0"], []
        if starred is not None:
            where.append("p.starred = ?")
            params.append(int(starred))
        statuses = list(statuses)
        if statuses:
            where.append(f"p.status IN ({','.join('?' * len(statuses))})")
            params += statuses
        for tag in tags:
            where.append("EXISTS (SELECT 1 FROM tags t WHERE t.key = p.key AND t.tag = ?)")
            params.append(tag)
        sql = f"SELECT p.key FROM papers p WHERE {' AND '.join(where)} ORDER BY p.added DESC, p.key"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [r[0] for r in self.db.execute(sql, params)]

    def count(self, **filters) -> int:
        if not filters:
            return self.db.execute("SELECT COUNT(*) FROM papers WHERE deleted = 0").fetchone()[0]
        return len(self.filtered_keys(**filters))

    def iter_papers(self, batch: int = 2000) -> Iterator[Paper]:
        last = ""
        while True:
            # `+deleted`: walk the primary key. With the listing index on (deleted, ...)
            # SQLite sorted every live paper for each batch (8 s of a 100k import).
            rows = self.db.execute(
                "SELECT * FROM papers WHERE +deleted = 0 AND key > ? ORDER BY key LIMIT ?",
                (last, batch)).fetchall()
            if not rows:
                return
            tags = self._tags_for([r["key"] for r in rows])
            for row in rows:
                yield _row_to_paper(row, tags[row["key"]])
            last = rows[-1]["key"]

    @staticmethod
    def _ranking_where(liked: bool) -> str:
        if liked:  # a union of two indexed lookups: `starred = 1 OR ...` scans every paper
            return ("p.rowid IN (SELECT rowid FROM papers WHERE starred = 1 UNION "
                    "SELECT rowid FROM papers WHERE status = 'read')")
        return "p.status = 'unread' AND p.starred = 0"

    def _ranking_tags(self, where: str) -> dict[str, list[str]]:
        tags: dict[str, list[str]] = {}
        for key, tag in self.db.execute(
                f"SELECT t.key, t.tag FROM tags t JOIN papers p ON p.key = t.key "
                f"WHERE p.deleted = 0 AND {where} ORDER BY t.tag"):
            tags.setdefault(key, []).append(tag)
        return tags

    def ranking_rows(self, *, liked: bool) -> Iterator[tuple[str, str, str, list[str]]]:
        """(key, title, abstract, tags) of the papers "for you" learns from (liked: starred
        or read) or ranks (not liked: unread and not starred), newest first. Only the columns
        it reads: the whole Paper costs 3x more at 100k papers."""
        where = self._ranking_where(liked)
        tags = self._ranking_tags(where)
        rows = self.db.execute(
            f"SELECT p.key, p.title, p.abstract FROM papers p WHERE p.deleted = 0 AND {where} "
            f"ORDER BY p.added DESC, p.key")
        for key, title, abstract in rows:
            yield key, title, abstract, tags.get(key, [])

    def ranking_count(self, *, liked: bool) -> int:
        """How many papers ranking_rows(liked=...) yields."""
        return self.db.execute(f"SELECT count(*) FROM papers p WHERE p.deleted = 0 AND "
                               f"{self._ranking_where(liked)}").fetchone()[0]

    def ranking_keys(self) -> list[tuple[str, list[str]]]:
        """(key, tags) of the papers "for you" ranks, newest first: ranking_rows(liked=False)
        without the text, for a caller that keeps the words of each paper."""
        where = self._ranking_where(False)
        tags = self._ranking_tags(where)
        return [(key, tags.get(key, [])) for (key,) in self.db.execute(
            f"SELECT p.key FROM papers p WHERE p.deleted = 0 AND {where} "
            f"ORDER BY p.added DESC, p.key")]

    def texts(self, keys: list[str]) -> Iterator[tuple[str, str, str]]:
        """(key, title, abstract) of these papers, in no particular order."""
        for start in range(0, len(keys), 900):
            chunk = keys[start:start + 900]
            yield from self.db.execute(
                f"SELECT key, title, abstract FROM papers WHERE key IN "
                f"({','.join('?' * len(chunk))})", chunk)

    def text_changed_since(self, mark: int) -> set[str]:
        """Keys whose title or abstract may have changed after change_mark() was `mark`."""
        return {key for (key,) in self.db.execute(
            "SELECT DISTINCT key FROM ops WHERE rowid > ? AND (type LIKE 'paper.%' OR "
            "(type = 'set' AND field IN ('title', 'abstract')))", (mark,))}

    def change_mark(self) -> int:
        """A number that grows with every change to the library (each is one operation, from
        this device or merged by sync): what a cache of derived results is keyed on."""
        return self.db.execute("SELECT coalesce(max(rowid), 0) FROM ops").fetchone()[0]

    def keys_with_prefix(self, prefix: str, limit: int = 10) -> list[str]:
        """Paper keys or citation keys starting with prefix (for unique-prefix key arguments)."""
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self.db.execute(
            "SELECT key FROM papers WHERE deleted = 0 AND (key LIKE ? ESCAPE '\\' OR "
            "citekey LIKE ? ESCAPE '\\' OR key LIKE ? ESCAPE '\\') LIMIT ?",
            (pattern, pattern, "%:" + pattern, limit))
        return [r[0] for r in rows]

    def _found_among(self, sql: str, values: list[str], *params) -> set[str]:
        """The first column of `sql` ({marks}: up to 900 of `values` at a time, then `params`).
        Empty when the table is missing: a read-only library made before it existed."""
        found: set[str] = set()
        try:
            for start in range(0, len(values), 900):
                chunk = values[start:start + 900]
                marks = ",".join("?" * len(chunk))
                found.update(r[0] for r in self.db.execute(sql.format(marks=marks),
                                                           [*chunk, *params]))
        except sqlite3.OperationalError:
            return set()
        return found

    def provisional_citekeys(self, keys: list[str]) -> set[str]:
        """The papers among `keys` whose citation key is still provisional."""
        return self._found_among(
            "SELECT c.key FROM provisional_citekeys c JOIN papers p ON p.key = c.key "
            "WHERE c.key IN ({marks}) AND p.citekey = c.citekey", keys)

    def freeze_citekeys(self, keys: list[str]) -> int:
        """The keys of these papers were used (exported, copied): they never change again."""
        provisional = self.provisional_citekeys(keys)
        if not provisional or self.read_only:
            return 0
        with self.transaction():
            self.db.executemany("DELETE FROM provisional_citekeys WHERE key = ?",
                                [(k,) for k in provisional])
        return len(provisional)

    def recent_misses(self, title_norms: list[str], since: float) -> set[str]:
        """The normalised titles among these that arXiv had no match for after `since`."""
        return self._found_among("SELECT title_norm FROM resolve_misses WHERE title_norm IN "
                                 "({marks}) AND asked >= ?", title_norms, since)

    def remember_misses(self, title_norms: list[str], when: float) -> None:
        with self.transaction():
            self.db.executemany("INSERT OR REPLACE INTO resolve_misses VALUES (?, ?)",
                                [(t, when) for t in title_norms])

    def key_for_citekey(self, citekey: str) -> str | None:
        """The paper that owns a citation key, compared ignoring case as BibTeX does."""
        row = self.db.execute(
            "SELECT key FROM papers WHERE citekey = ? COLLATE NOCASE AND deleted = 0 "
            "ORDER BY citekey = ? DESC LIMIT 1", (citekey, citekey)).fetchone()
        return row[0] if row else None

    def tag_counts(self) -> list[tuple[str, int]]:
        return [(r[0], r[1]) for r in self.db.execute(
            "SELECT t.tag, COUNT(*) FROM tags t JOIN papers p ON p.key = t.key "
            "WHERE p.deleted = 0 GROUP BY t.tag ORDER BY t.tag")]

    def status_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for status, n in self.db.execute(
                "SELECT status, COUNT(*) FROM papers WHERE deleted = 0 GROUP BY status"):
            counts[status] = n
        return counts

    # ---- index bookkeeping -----------------------------------------------------------------------

    # ---- changes by other processes ---------------------------------------------------------------

    def data_version(self) -> int:
        """Changes when another connection (another process, or another Library) commits."""
        return self.db.execute("PRAGMA data_version").fetchone()[0]

    def op_mark(self) -> int:
        """Where the op log ends now: `changes_since` reports what comes after it."""
        return self.db.execute("SELECT COALESCE(MAX(rowid), 0) FROM ops").fetchone()[0]

    def changes_since(self, mark: int, limit: int = 1000) -> tuple[int, list[tuple[str, str]]]:
        """(new mark, [(paper key, op type)]) for operations committed after `mark`; more than
        `limit` of them (the caller then refreshes everything) come back as `limit` + 1."""
        rows = self.db.execute("SELECT rowid, key, type FROM ops WHERE rowid > ? ORDER BY rowid "
                               "LIMIT ?", (mark, limit + 1)).fetchall()
        if len(rows) > limit:
            return self.op_mark(), [(r[1], r[2]) for r in rows]
        return (rows[-1][0] if rows else mark), [(r[1], r[2]) for r in rows]

    def has_dirty(self) -> bool:
        return self.db.execute("SELECT 1 FROM index_dirty LIMIT 1").fetchone() is not None

    def dirty_keys(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT key FROM index_dirty")]

    def clear_dirty(self, keys: Iterable[str]) -> None:
        with self.transaction():
            self.db.executemany("DELETE FROM index_dirty WHERE key = ?", [(k,) for k in keys])



class _DryRun(Exception):
    """Raised inside the import transaction to roll it back while keeping the report."""

    def __init__(self, report: ImportReport):
        self.report = report


def _validate(record: PaperRecord) -> Problem | None:
    where = record.source.split(":", 1)[-1] if record.source else None
    if not record.title or not record.title.strip():
        return Problem("record has no title", record.line, where)
    if len(record.title) > 2000:
        return Problem("title is longer than 2,000 characters", record.line, where)
    if record.extra.get("needs_fetch"):  # a placeholder from an id list is never stored as a paper
        return Problem(f"metadata for arXiv:{record.arxiv_id} was not fetched", record.line, where)
    # Identifiers become paper keys and are echoed by every command: never with control
    # characters (an ESC in a DOI would reach the terminal as an escape sequence).
    for name, label in (("arxiv_id", "arXiv id"), ("doi", "DOI")):
        value = getattr(record, name)
        if value and has_control_characters(value):
            return Problem(f"the {label} holds control characters; skipped", record.line, where)
    if any(has_control_characters(tag) for tag in record.tags):
        return Problem("a tag holds control characters; skipped", record.line, where)
    return None
