"""Output formats, one module each: bibtex, markdown (a reading list), obsidian (a folder).

`write_export` is what the CLI and the app's export worker both call: papers + format +
destination -> files written safely (temp + fsync + rename) and a one-line summary.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from index.model import EXPORT_FORMATS as FORMATS
from index.model import EXPORT_SUFFIXES as SUFFIXES  # noqa: F401 - file name endings
from index.model import ExportOptions, Paper, PapershelfError

Progress = Callable[[int, int], None]


def render(papers: Sequence[Paper], fmt: str, options: ExportOptions | None = None,
           progress: Progress | None = None) -> str:
    """Papers -> the text of a one-file format (bibtex, markdown)."""
    options = options or ExportOptions()
    if fmt == "bibtex":
        from index.export.bibtex import export_bibtex

        return export_bibtex(papers, with_notes=options.with_notes, progress=progress)
    if fmt == "markdown":
        from index.export.markdown import export_markdown

        return export_markdown(papers, group_by=options.group_by, abstract=options.abstract,
                               progress=progress)
    raise PapershelfError(f"{fmt} is not a one-file format (choose from bibtex, markdown)")


def write_export(papers: Sequence[Paper], fmt: str, destination: str | Path,
                 options: ExportOptions | None = None, progress: Progress | None = None) -> str:
    """Write papers to a file (bibtex, markdown) or a folder (obsidian); returns a summary."""
    if fmt not in FORMATS:
        raise PapershelfError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    destination = Path(destination).expanduser()
    count = f"{len(papers)} paper{'s' if len(papers) != 1 else ''}"
    if fmt == "obsidian":
        from index.export.obsidian import export_obsidian

        return export_obsidian(papers, destination, progress=progress).summary()
    if destination.is_dir():
        raise PapershelfError(f"{destination} is a folder; give a file name for {fmt} export")
    if not destination.parent.is_dir():
        raise PapershelfError(f"folder {destination.parent} does not exist")
    text = render(papers, fmt, options, progress)
    from index.export.obsidian import atomic_write

    try:
        atomic_write(destination, text)
    except OSError as exc:
        raise PapershelfError(f"cannot write {destination}: {exc.strerror or exc}") from None
    return f"wrote {count} as {fmt} to {destination}"
