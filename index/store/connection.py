"""The connection to the library database: opening it, write transactions, and meta values.

Writers queue on SQLite's lock (BEGIN IMMEDIATE, waiting up to `busy_timeout` seconds); a
read-only data directory can still be read. An upgrade of an older schema first calls
`before_upgrade(path)` (the Library passes the backup that keeps the old file).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from index.citekey import CitekeyAllocator
from index.clock import HybridClock, Timestamp
from index.store.rows import StoreError
from index.store.schema import (
    DB_NAME,
    SCHEMA_VERSION,
    TITLE_KEYS,
    add_later_tables,
    create_tables,
)


class Connection:
    """The database connection every part of the store works through."""

    def __init__(self, data_dir: Path, *, busy_timeout: float = 10.0,
                 before_upgrade: Callable[[Path], object] | None = None):
        self._before_upgrade = before_upgrade
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
        # Whether this process recorded or received an operation: what it leaves behind
        # (a saved "for you" ranking) may need bringing up to date before it ends.
        self.changed_here = False
        self._paper_buffer: dict[str, tuple] | None = None
        self._provisional_buffer: list[tuple[str, str]] = []
        self._citekeys: CitekeyAllocator | None = None
        self.device = self.meta("device_id")
        last = self.meta("hlc")
        self.clock = HybridClock(self.device, Timestamp.decode(last) if last else None)
        if not self.read_only and self.meta("title_keys") != TITLE_KEYS:
            self._rekey_latex_titles()

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
                add_later_tables(self.db)
            self.db.execute("PRAGMA synchronous=NORMAL")
            return
        if not writable:
            raise StoreError(f"{self.data_dir}: the data directory is read-only")
        if 0 < version < SCHEMA_VERSION:  # an upgrade: keep the old library as it was
            if self._before_upgrade is not None:
                self._before_upgrade(self.path)
        self.db.execute("PRAGMA journal_mode=WAL")
        with self.transaction():
            if version == 0:
                create_tables(self.db)
            # Future migrations go here: `if version < 2: ...`, each inside this transaction.
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def meta(self, k: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT v FROM meta WHERE k = ?", (k,)).fetchone()
        return row[0] if row else default

    def set_meta(self, k: str, v: object) -> None:
        """Inside a transaction: remember `v` (as text) under `k`."""
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (k, str(v)))

    def forget_meta(self, k: str) -> None:
        self.db.execute("DELETE FROM meta WHERE k = ?", (k,))

    def become_device(self, device: str) -> None:
        """Inside a transaction: this library writes its operations as `device` from now on
        (a fork: its old id is someone else's too)."""
        self.set_meta("device_id", device)
        self.device = device
        self.clock.device = device

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
        if (clock := getattr(self, "clock", None)) and (stored := self.meta("hlc")):
            clock.observe(Timestamp.decode(stored))
        changed_before = getattr(self, "changed_here", False)
        try:
            yield self.db
        except sqlite3.DatabaseError as exc:
            self._rollback(changed_before)
            raise StoreError(f"{self.path}: could not save ({exc}); nothing was changed") from None
        except BaseException:
            self._rollback(changed_before)
            raise
        else:
            try:
                # The clock is saved once per transaction so it never runs backwards on restart.
                if clock := getattr(self, "clock", None):  # (none yet while migrating)
                    self.set_meta("hlc", clock.last.encode())
                self.db.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                self._rollback(changed_before)
                raise StoreError(f"{self.path}: could not save ({exc}); nothing was changed") from None

    def _rollback(self, changed_before: bool) -> None:
        # SQLite rolls back by itself on SQLITE_FULL / IOERR; a second ROLLBACK would then fail
        # and hide the real error.
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")
        self.changed_here = changed_before  # what was rolled back (a dry run) changed nothing

    def close(self) -> None:
        self.db.close()

    def data_version(self) -> int:
        """Changes when another connection (another process, or another Library) commits."""
        return self.db.execute("PRAGMA data_version").fetchone()[0]
