"""Backups of the library, and restoring one.

A backup is one SQLite file: a consistent snapshot taken with the SQLite backup API (so it is
safe while another papershelf is writing), converted to a self-contained rollback-journal
database, written under a temporary name, fsynced and renamed into place. The operation log
lives in the `ops` table, so the file holds it too; the search index is derived and is not
backed up (it is rebuilt from the store after a restore).

Where backups go: `<data_dir>/backups/`. `papershelf backup` with no path writes
`papershelf-YYYYMMDD-HHMMSS.sqlite3` there; these are never pruned. Automatic backups are named
`papershelf-auto-YYYYMMDD-HHMMSS[-reason].sqlite3` and only the newest N are kept
(config `[backup] keep`, default 5; 0 turns automatic backups off).

When automatic backups are taken:
- `restore` always takes one of the current library first (even with keep = 0), so a restore
  can itself be undone;
- `papershelf doctor --repair` takes one before repairs that write to the database;
- `daily_backup(lib)`: once a day, on the first open of the library that day. The CLI calls
  it before the commands that bring in many changes (import, add, sync, resolve, daily), not
  before read-only ones (search, list); the app does not take one;
- `backup_before_migration(db_path)`: run by the store before it upgrades the schema of an
  existing database (`Library.open` hands it to `Store(before_upgrade=...)`; the store calls
  it when 0 < user_version < SCHEMA_VERSION).

The backup holds everything in the database: papers, tags, notes, registers, this device's
operation log, operations received from other devices and the sync bookkeeping.

A restored library keeps its device id. Operations written after a restore could reuse
sequence numbers this device already published to a sync folder; sync (index/sync/own_log.py)
detects exactly that (the folder holds operations of this device that the library never wrote)
and forks a new device id, moving the unpublished operations to it, so nothing is lost or
mixed up.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import shutil
import time
from pathlib import Path

from index.fileio import fsync_dir as _fsync_dir
from index.fileio import write_atomic
from index.model import PapershelfError
from index.store import DB_NAME
from index.store.files import (
    BackupError,
    DatabaseError,
    copy_database,
    copy_database_file,
    empty_wal,
    inspect_backup,
    lock_exclusively,
)
from index.store.files import reason as _reason

BACKUP_DIR = "backups"
DEFAULT_KEEP = 5
_AUTO = re.compile(r"^papershelf-auto-(\d{8}-\d{6})(?:-\d+)?(?:-[a-z-]+)?\.sqlite3$")


# Written before a restore swaps the database in, removed once the search index is rebuilt
# from the restored store: a restore stopped anywhere after the swap still heals.
INDEX_STALE_MARKER = "search-index.stale"


def mark_index_stale(data_dir: Path) -> None:
    """Say, durably, that the search index must be rebuilt before its next use."""
    write_atomic(Path(data_dir) / INDEX_STALE_MARKER,
                 b"the library was replaced (restore): rebuild the search index\n")
    _fsync_dir(Path(data_dir))


def _stamp(now: float | None = None) -> str:
    return _dt.datetime.fromtimestamp(now or time.time()).strftime("%Y%m%d-%H%M%S")


def _unique(path: Path) -> Path:
    if not path.exists():
        return path
    for n in range(1, 1000):
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise BackupError(f"{path}: too many backups with this name")


def backup_dir(data_dir: Path) -> Path:
    return Path(data_dir) / BACKUP_DIR


def backup(lib, dest: Path | None = None, *, force: bool = False) -> Path:
    """Write a backup of `lib`. `dest` may be a file path, an existing folder, or None
    (then `<data_dir>/backups/papershelf-YYYYMMDD-HHMMSS.sqlite3`). Returns the path.

    A file path whose folder is missing, or that names an existing file, is refused unless
    `force` (then the folders are made, or the file replaced), as `export` refuses them."""
    if dest is None:
        target = _unique(backup_dir(lib.data_dir) / f"papershelf-{_stamp()}.sqlite3")
    else:
        dest = Path(dest).expanduser()
        if dest.is_dir():
            target = _unique(dest / f"papershelf-{_stamp()}.sqlite3")
        else:
            target = dest
    if target.resolve() == Path(lib.store.path).resolve():
        raise BackupError(f"{target}: that is the library itself; choose another path")
    if dest is not None and target == dest and not force:
        if not dest.parent.is_dir():
            raise BackupError(f"folder {dest.parent} does not exist (--force creates it)")
        if dest.exists():
            raise BackupError(f"{dest} already exists (--force replaces it)")
    return lib.store.copy_to(target)


def configured_keep() -> int:
    from index import config as config_mod

    try:
        keep = config_mod.load_config(create=False).get("backup", "keep", DEFAULT_KEEP)
    except PapershelfError:
        return DEFAULT_KEEP
    return max(0, int(keep))


def auto_backups(data_dir: Path) -> list[Path]:
    """Automatic backups, oldest first."""
    folder = backup_dir(data_dir)
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if _AUTO.match(p.name)]
    return sorted(found, key=lambda p: (_AUTO.match(p.name)[1], p.stat().st_mtime, p.name))


def _auto_backup_to(copy, data_dir: Path, keep: int, reason: str = "") -> Path:
    """An automatic backup written by `copy(target)`, then the oldest beyond `keep` go."""
    suffix = f"-{reason}" if reason else ""
    target = _unique(backup_dir(data_dir) / f"papershelf-auto-{_stamp()}{suffix}.sqlite3")
    path = copy(target)
    prune(data_dir, keep)
    return path


def prune(data_dir: Path, keep: int) -> list[Path]:
    """Delete automatic backups beyond the newest `keep`. Manual backups are never touched."""
    existing = auto_backups(data_dir)
    doomed = existing[:-keep] if keep > 0 else existing
    cutoff = time.time() - 3600
    for stale in backup_dir(data_dir).glob(".*.tmp"):  # a backup killed half-way
        try:
            if stale.stat().st_mtime < cutoff:
                stale.unlink()
        except OSError:
            pass
    removed = []
    for path in doomed:
        try:
            path.unlink()
            removed.append(path)
        except OSError:
            pass
    return removed


def auto_backup(lib, keep: int | None = None, *, reason: str = "") -> Path | None:
    """Take an automatic backup and keep the newest `keep` (default: config). None when
    automatic backups are turned off (keep = 0)."""
    keep = configured_keep() if keep is None else keep
    if keep <= 0:
        return None
    return _auto_backup_to(lib.store.copy_to, lib.data_dir, keep, reason)


def daily_backup(lib, keep: int | None = None, *, now: float | None = None) -> Path | None:
    """An automatic backup when the newest one is from an earlier day (or there is none)."""
    keep = configured_keep() if keep is None else keep
    if keep <= 0:
        return None
    existing = auto_backups(lib.data_dir)
    today = _stamp(now)[:8]
    if existing and _AUTO.match(existing[-1].name)[1][:8] >= today:
        return None
    return auto_backup(lib, keep, reason="daily")


def backup_before_migration(db_path: Path, keep: int | None = None) -> Path | None:
    """An automatic backup of the database file at `db_path`, before its schema is upgraded."""
    db_path = Path(db_path)
    if not db_path.exists():
        return None
    keep = configured_keep() if keep is None else keep
    return _auto_backup_to(lambda target: copy_database_file(db_path, target, read_only=False),
                           db_path.parent,
                           max(keep, 1), "migration")


# ---- restore -----------------------------------------------------------------------------------

def validate(backup_path: Path) -> dict:
    """Check a backup file: readable SQLite, passes integrity_check, a papershelf schema this
    version knows. Returns {"papers": n, "ops": n, "schema": v}; raises BackupError."""
    path = Path(backup_path).expanduser()
    if not path.exists():
        raise BackupError(f"{path}: no such backup file")
    if path.is_dir():
        raise BackupError(f"{path}: is a folder, not a backup file")
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise BackupError(f"{path}: cannot read ({_reason(exc)})") from None
    if head != b"SQLite format 3\x00":
        raise BackupError(f"{path}: not a papershelf backup (not an SQLite database)")
    return inspect_backup(path)


def restore(lib_dir: Path, backup_path: Path, *, keep: int | None = None) -> dict:
    """Replace the library in `lib_dir` with `backup_path`.

    The library must not be open in this process (close it first), nor in another: restore
    takes SQLite's exclusive lock and says so when it cannot. Steps: validate the
    backup; take an automatic backup of the current library; copy the backup next to the
    database under a temporary name (fsynced); checkpoint the current
    database so its WAL is empty, mark the search index stale, remove the WAL, and rename the
    copy over the database; then remove the search index. The marker stays until the index
    is rebuilt from the restored store, so a restore killed after the swap still heals.

    Returns {"papers", "ops", "schema", "previous": path of the safety backup or None}.
    """
    from index.search import ENGINES  # (the engines' modules load only when restoring)

    lib_dir = Path(lib_dir)
    backup_path = Path(backup_path).expanduser()
    info = validate(backup_path)
    db_path = lib_dir / DB_NAME
    if db_path.exists() and backup_path.resolve() == db_path.resolve():
        raise BackupError(f"{backup_path}: that is the library itself, not a backup")
    keep = configured_keep() if keep is None else keep
    previous = None
    try:
        lib_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"{lib_dir}: cannot create the data directory ({_reason(exc)})") from None
    for stale in lib_dir.glob(f".{DB_NAME}.restore-*.tmp"):  # left by a restore that was killed
        stale.unlink(missing_ok=True)
    current = None
    if db_path.exists():
        current = lock_exclusively(db_path)
        try:
            if current is None:
                raise BackupError("damaged")
            lock = current
            previous = _auto_backup_to(lambda target: copy_database(lock, target), lib_dir,
                                       max(keep, 1), "before-restore")
        except (DatabaseError, BackupError) as exc:
            # A damaged library is what people restore over: keep its raw file instead.
            if current is not None:
                current.close()
                current = None
            previous = _unique(backup_dir(lib_dir) / f"papershelf-damaged-{_stamp()}.sqlite3")
            try:
                previous.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(db_path, previous)
            except OSError as copy_exc:
                raise BackupError(f"{db_path}: cannot save the current library before restoring "
                                  f"({_reason(copy_exc)}); nothing was changed") from None
            del exc
    tmp = lib_dir / f".{DB_NAME}.restore-{os.getpid()}.tmp"
    try:
        copy_database_file(backup_path, tmp)
        if current is not None:
            # Empty the WAL into the old database, so that removing it loses nothing and a
            # stale WAL can never be replayed onto the restored file.
            if not empty_wal(current):
                raise BackupError(f"{db_path}: the library is in use by another papershelf; "
                                  "close it and try again (nothing was changed)")
            current.close()
            current = None
        # Before the swap: killed anywhere after it, the index still gets rebuilt.
        mark_index_stale(lib_dir)
        for companion in ("-wal", "-shm", "-journal"):
            Path(str(db_path) + companion).unlink(missing_ok=True)
        os.replace(tmp, db_path)
        _fsync_dir(lib_dir)
    except BackupError:
        tmp.unlink(missing_ok=True)
        raise
    except (OSError, DatabaseError) as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise BackupError(f"{db_path}: restore failed ({_reason(exc)}); the library was not "
                          "replaced") from None
    finally:
        if current is not None:
            current.close()
    for name in ENGINES.values():  # every engine's index: derived from the replaced store
        index_dir = lib_dir / name
        if index_dir.exists():
            shutil.rmtree(index_dir, ignore_errors=True)
    return info | {"previous": str(previous) if previous else None}
