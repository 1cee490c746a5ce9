"""Crash-safe file writes, shared by config, export, backup and sync.

A whole file is written to a temp file beside it, flushed, fsynced and renamed over the
target, so a reader (or a sync tool) sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Replace `path` with `data` atomically. Temp files are named `.<name>.*.tmp` (sync
    recognises and cleans up leftovers of that shape). The file is private (0600, as mkstemp
    makes it) unless `mode` is given, e.g. `user_file_mode()` for files the user asked for."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def umask_mode(path: Path) -> int:
    """The permission bits a file at `path` keeps when rewritten: its own when it exists, else
    what open() would give a new file under the current umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return user_file_mode()


def _umask() -> int:
    # Linux shows it in /proc; os.umask() can only be read by setting it, which would change
    # it for a moment for every thread of the process
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def fsync_dir(directory: Path) -> None:
    """Make renames in `directory` durable. Best effort: not every platform can open a folder,
    and the rename itself is atomic either way."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def user_file_mode() -> int:
    """The mode a plain `open(path, "w")` would give: 0666 less the umask (0644 under 022).
    For files the user asked for (exports, notes) that others may need to read."""
    return 0o666 & ~_umask()
