"""Crash-safe file writes, shared by config, export, backup and sync.

A whole file is written to a temp file beside it, flushed, fsynced and renamed over the
target, so a reader (or a sync tool) sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically. Temp files are named `.<name>.*.tmp` (sync
    recognises and cleans up leftovers of that shape)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
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
