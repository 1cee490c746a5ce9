"""Input formats. One module per format; each exposes

    FORMAT: str                      # short name, e.g. "dailypapers"
    sniff(text: str) -> float        # 0.0 (not this format) .. 1.0 (certainly this format)
    parse(text: str, source: str) -> ParseResult

`parse_file` reads a file safely, detects its format from the content (never the file name)
and returns records plus problems. Problems carry line numbers where a line is known.
"""

from __future__ import annotations

import importlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from index.model import ParseResult, PapershelfError, Problem

# Order matters only for ties in sniff(); the most specific formats come first.
FORMAT_MODULES = [
    "index.sources.bibtex",
    "index.sources.arxiv_atom",
    "index.sources.dailypapers_json",
    "index.sources.arxiv_ids",
    "index.sources.dailypapers",
]

MAX_FILE_BYTES = 32 * 1024 * 1024  # larger files are refused: no listing is anywhere near this


class InputError(PapershelfError):
    """A file that cannot be read as input at all (missing, binary, too big ...)."""


def available_formats() -> dict[str, object]:
    """name -> module, for every format module that is present."""
    found = {}
    for name in FORMAT_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # that format is simply not built (yet)
                continue
            raise
        found[module.FORMAT] = module
    return found


def decode_bytes(data: bytes, path: str) -> tuple[str, list[Problem]]:
    """Bytes to text: UTF-8 (with or without BOM), UTF-16 with a BOM, else Latin-1 with a notice."""
    notices: list[Problem] = []
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), notices
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not readable as UTF-16 text ({exc.reason})") from None
        notices.append(Problem("read as UTF-16 (it has a UTF-16 byte-order mark)", None, path))
        return text, notices
    if b"\x00" in data[:8192]:
        raise InputError(f"{path}: looks like a binary file, not a text listing")
    try:
        return data.decode("utf-8"), notices
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        notices.append(Problem("not UTF-8; read as Latin-1", line, path))
        return data.decode("latin-1"), notices


_NOT_FILES = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
              (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _refuse_special(mode: int, shown: str) -> None:
    for test, what in _NOT_FILES:
        if test(mode):
            raise InputError(f"{shown}: is {what}, not a file; it was not opened")
    if not stat.S_ISREG(mode):
        raise InputError(f"{shown}: not a regular file; it was not opened")


def read_text(path: Path) -> tuple[str, list[Problem]]:
    """Read a file as text with clear one-line errors for everything that is not a text file.
    FIFOs, sockets and devices are refused from stat() alone: opening a FIFO blocks until
    someone writes to it, and a device may never end."""
    shown = str(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(f"{shown}: no such file") from None
    except PermissionError:
        raise InputError(f"{shown}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{shown}: cannot read ({exc.strerror})") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{shown}: is a directory (give the files inside it)")
    _refuse_special(mode, shown)
    try:
        # O_NONBLOCK: should the path have become a FIFO since stat(), open() does not wait
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            _refuse_special(info.st_mode, shown)
            if info.st_size > MAX_FILE_BYTES:
                raise InputError(
                    f"{shown}: file is {info.st_size / 1e6:.1f} MB; papershelf reads at most "
                    f"{MAX_FILE_BYTES // (1024 * 1024)} MiB per file"
                )
            data = handle.read()
    except PermissionError:
        raise InputError(f"{shown}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{shown}: cannot read ({exc.strerror})") from None
    if not data.strip():
        raise InputError(f"{shown}: file is empty")
    return decode_bytes(data, shown)


def detect_format(text: str) -> str | None:
    best, best_score = None, 0.0
    for name, module in available_formats().items():
        score = module.sniff(text)
        if score > best_score:
            best, best_score = name, score
    return best if best_score >= 0.5 else None


def parse_text(text: str, source: str, fmt: str | None = None) -> ParseResult:
    fmt = fmt or detect_format(text)
    if fmt is None:
        raise InputError(
            f"{source}: not a format papershelf knows (Daily Papers page, BibTeX, arXiv Atom, "
            "Daily Papers JSON, or a list of arXiv ids)"
        )
    module = available_formats()[fmt]
    result = module.parse(text, source)
    result.format = fmt
    for i, problem in enumerate(result.problems):
        if problem.path is None:
            result.problems[i] = Problem(problem.message, problem.line, source)
    return result


def parse_file(path: Path, fmt: str | None = None) -> ParseResult:
    text, notices = read_text(path)
    result = parse_text(text, str(path), fmt)
    result.notices = notices + result.notices
    return result


def parse_file_in_pieces(path: Path) -> Iterator[tuple[ParseResult, bool]]:
    """(result, streamed) for a file of any size: the whole file when it is up to
    MAX_FILE_BYTES; a bigger BibTeX file or Daily Papers page piece by piece, in bounded
    memory (index/sources/stream.py), with line numbers of the whole file."""
    from index.sources import stream

    try:
        mode, size = os.stat(path).st_mode, os.stat(path).st_size
    except OSError:
        mode = size = 0
    if not stat.S_ISREG(mode) or size <= MAX_FILE_BYTES:
        yield parse_file(path), False  # (read_text says what is wrong with a special file)
        return
    shown = str(path)
    with open(path, "rb") as handle:
        head, _ = decode_bytes(handle.read(65536), shown)
    fmt = detect_format(head)
    if fmt not in stream.STREAMED_FORMATS:
        raise InputError(f"{shown}: file is {size / 1e6:.1f} MB; papershelf reads JSON, Atom "
                         f"and id lists of at most {MAX_FILE_BYTES // (1024 * 1024)} MiB "
                         "(BibTeX and Daily Papers pages of any size)")
    for piece in stream.pieces(path, fmt):
        if piece.text.strip():
            result = parse_text(piece.text, shown, fmt)
        else:  # only blank lines (or a line too long to keep)
            result = ParseResult(format=fmt)
        shift = piece.first_line - 1
        for record in result.records:
            if record.line is not None:
                record.line += shift
        result.problems = [Problem(p.message, p.line + shift if p.line else p.line, p.path)
                           for p in result.problems] + piece.skipped
        yield result, True
        del piece, result  # before the next piece is read: one piece in memory at a time
