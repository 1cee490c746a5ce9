"""A real, small filesystem for full-disk tests: a tmpfs of a few hundred KiB to a few MiB,
mounted for one test and unmounted after it. Importable as `small_fs` (tests/ is on sys.path).

    with small_filesystem(tmp_path, size_kib=4096) as mount:
        ...                      # put a library on it
        fill(mount, leave_kib=64)  # then leave it nearly full

Mounting needs root (CAP_SYS_ADMIN) on Linux; where the test may not mount (another OS, an
ordinary user, a container without that capability) it is skipped, and the skip says why.
A full disk is then real: ENOSPC comes from the kernel, not from a patched function or
`PRAGMA max_page_count`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _why_not_mountable() -> str | None:
    if not sys.platform.startswith("linux"):
        return f"a tmpfs mount is a Linux test fixture (this is {sys.platform})"
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root (CAP_SYS_ADMIN); this test runs as an ordinary user"
    if shutil.which("mount") is None or shutil.which("umount") is None:
        return "mount/umount are not installed"
    return None


@contextmanager
def small_filesystem(where: Path, size_kib: int) -> Iterator[Path]:
    """A tmpfs of `size_kib` KiB mounted at `where`/small-fs for the duration."""
    if reason := _why_not_mountable():
        pytest.skip(reason)
    mount = Path(where) / "small-fs"
    mount.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kib}k,mode=0755",
                           "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode}); "
                    "a container needs CAP_SYS_ADMIN for this test")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def free_kib(mount: Path) -> int:
    stat = os.statvfs(mount)
    return stat.f_bavail * stat.f_frsize // 1024


def fill(mount: Path, leave_kib: int) -> Path:
    """Write a filler file until about `leave_kib` KiB are left free; returns it (delete it
    to free the space again)."""
    filler = mount / "filler.bin"
    chunk = b"\0" * 65536
    with open(filler, "ab") as handle:
        while free_kib(mount) > leave_kib:
            room = (free_kib(mount) - leave_kib) * 1024
            try:
                handle.write(chunk[:max(4096, min(len(chunk), room))])
                handle.flush()
            except OSError:
                break
    return filler
