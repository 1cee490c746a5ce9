"""The library database as a file: consistent copies (for backups), checking a copy, and
holding the file exclusively while a restore swaps another one in. Backup policy (names,
how many are kept, when) is index/backup.py's."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from index.fileio import fsync_dir
from index.model import PapershelfError
from index.store.schema import SCHEMA_VERSION

# What a damaged or busy database file raises, for callers that handle it without SQL.
DatabaseError = sqlite3.Error


class BackupError(PapershelfError):
    pass


def reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def copy_database(source: sqlite3.Connection, dest: Path) -> Path:
    """Snapshot `source` into `dest` atomically (temp name, fsync, rename)."""
    dest = Path(dest)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    target = None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
            leftover.unlink(missing_ok=True)
        target = sqlite3.connect(tmp, isolation_level=None)
        source.backup(target)
        # A WAL database needs its -wal/-shm companions; a backup must be one file.
        target.execute("PRAGMA journal_mode=DELETE")
        ok = target.execute("PRAGMA quick_check").fetchone()[0]
        target.close()
        target = None
        if ok != "ok":
            raise BackupError(f"{dest}: the copy failed its check ({ok}); nothing was written")
        with open(tmp, "rb") as handle:
            os.fchmod(handle.fileno(), 0o600)  # a backup holds the whole library: private
            os.fsync(handle.fileno())
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
    except BaseException as exc:
        if target is not None:
            try:
                target.close()
            except sqlite3.Error:
                pass
        for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
            try:
                leftover.unlink(missing_ok=True)
            except OSError:
                pass
        if isinstance(exc, BackupError):
            raise
        if isinstance(exc, (OSError, sqlite3.Error)):
            raise BackupError(f"{dest}: could not write the backup ({reason(exc)}); "
                              "nothing was changed") from None
        raise
    return dest


def copy_database_file(path: Path, dest: Path, *, read_only: bool = True) -> Path:
    """copy_database from the database file at `path` (opened read-only unless asked)."""
    source = (sqlite3.connect(f"file:{path}?mode=ro", uri=True) if read_only
              else sqlite3.connect(path))
    try:
        return copy_database(source, dest)
    finally:
        source.close()


def inspect_backup(path: Path) -> dict:
    """Open a backup file read-only and check it: passes integrity_check, holds papershelf's
    tables in a schema this version knows. Returns {"papers", "ops", "schema"}."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"{path}: cannot open ({exc})") from None
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check(5)")]
        if rows != ["ok"]:
            raise BackupError(f"{path}: the backup is damaged ({rows[0]})")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"papers", "ops", "meta", "tags"} <= tables or version < 1:
            raise BackupError(f"{path}: not a papershelf backup (no papershelf tables)")
        if version > SCHEMA_VERSION:
            raise BackupError(f"{path}: written by a newer papershelf (schema {version}; this "
                              f"version knows up to {SCHEMA_VERSION}); upgrade papershelf")
        papers = conn.execute("SELECT COUNT(*) FROM papers WHERE deleted = 0").fetchone()[0]
        ops = conn.execute("SELECT COUNT(*) FROM ops").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: the backup is damaged ({exc})") from None
    finally:
        conn.close()
    return {"papers": papers, "ops": ops, "schema": version}


def lock_exclusively(db_path: Path, timeout: float = 2.0) -> sqlite3.Connection | None:
    """A connection holding the database's exclusive lock until it closes, so that no other
    process has the library open while its file is replaced (a process that kept it open would
    go on writing into the replaced file, and those writes would be lost). None when the file
    is too damaged to lock; BackupError when another process has the library open."""
    conn = sqlite3.connect(db_path, isolation_level=None, timeout=timeout)
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("COMMIT")
        return conn
    except sqlite3.OperationalError as exc:
        conn.close()
        if "locked" in str(exc) or "busy" in str(exc):
            raise BackupError(f"{db_path}: the library is open in another papershelf (the app?); "
                              "close it and try again (nothing was changed)") from None
        return None
    except sqlite3.DatabaseError:
        conn.close()
        return None


def empty_wal(conn: sqlite3.Connection) -> bool:
    """Move the WAL into the database file and truncate it; False when a reader kept it busy."""
    busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy
