"""Which files an import of a folder means, the same for the CLI and the app.

A folder stands for the files directly in it, sorted by name; with `recursive`, for the files
in its subfolders too. Hidden files and folders (a leading dot: `.git`, `.DS_Store`, sync
tools' temp files) are skipped, and symlinked folders are not followed (no loops).
"""

from __future__ import annotations

import os
from pathlib import Path


def folder_files(folder: Path, *, recursive: bool = False) -> list[Path]:
    """The files an import of `folder` reads. OSError propagates (the caller words it)."""
    found: list[Path] = []
    with os.scandir(folder) as entries:
        items = sorted(entries, key=lambda entry: entry.name)
    for entry in items:
        if entry.name.startswith("."):
            continue
        if entry.is_file():
            found.append(Path(entry.path))
        elif recursive and entry.is_dir(follow_symlinks=False):
            found += folder_files(Path(entry.path), recursive=True)
    return found

