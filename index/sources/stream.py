"""Big input files, read in bounded memory: cut into pieces at places where a format's entries
begin, each piece parsed on its own by the format's usual parser.

A file larger than STREAM_FROM is never read whole. Lines are read one at a time (a line over
MAX_LINE_BYTES is skipped with a problem naming it, without ever being held), gathered into
pieces of about PIECE_BYTES, and a piece is cut only where the next entry begins:

* BibTeX: before a line starting with `@`. The @string definitions seen so far go in front of
  every later piece, so macros keep working across pieces.
* Daily Papers page text: after an abstract-like line, before a blank line or a title-like
  one. The listing date seen last goes in front of the next piece.

Other formats (JSON, Atom, id lists) hold one document and are only read whole, up to
STREAM_FROM. So memory follows the piece size, not the file size, and the limits that remain
apply to one line, one value or one entry.
"""

from __future__ import annotations

import codecs
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from index.model import Problem

STREAM_FROM = 32 * 1024 * 1024  # files above this are read piece by piece
PIECE_BYTES = 4 * 1024 * 1024
MAX_LINE_BYTES = 1024 * 1024  # one line: far beyond any title, abstract or BibTeX line
STREAMED_FORMATS = ("bibtex", "dailypapers")


@dataclass
class Piece:
    text: str
    first_line: int  # the file's line number of the piece's first line
    skipped: list[Problem] = field(default_factory=list)  # over-long lines left out


def _lines(path: Path, skipped: list[Problem]) -> Iterator[tuple[int, str]]:
    """(line number, text) of every line of `path`, decoded as UTF-8 (a bad byte becomes
    U+FFFD); a line over MAX_LINE_BYTES is read through in bounded pieces and skipped."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return  # read_text refuses it with a message; nothing to stream here
        number = 0
        while True:
            raw = handle.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):  # the rest of that line, unkept
                    raw = handle.readline(MAX_LINE_BYTES)
                skipped.append(Problem(f"line is longer than {MAX_LINE_BYTES // 1024:,} KiB; "
                                       "skipped", number, str(path)))
                yield number, "\n"
                continue
            yield number, decoder.decode(raw)


def pieces(path: Path, fmt: str, piece_bytes: int = PIECE_BYTES) -> Iterator[Piece]:
    """The file as pieces that each hold whole entries of format `fmt` (see the module
    docstring); the context a piece needs (@strings, the listing date) is put in front of
    it, and `first_line` accounts for it."""
    if fmt not in STREAMED_FORMATS:
        raise ValueError(f"{fmt} is not read piece by piece")
    from index.sources import dailypapers

    skipped: list[Problem] = []
    carried: list[str] = []  # context for the next piece
    strings: list[str] = []  # BibTeX @string lines so far
    date_line: str | None = None
    buffer: list[str] = []
    size = 0
    start = 1
    previous_abstract = False
    for number, line in _lines(path, skipped):
        stripped = line.strip()
        if size >= piece_bytes and _entry_starts(fmt, stripped, previous_abstract):
            yield _piece(carried, buffer, start, skipped)
            skipped.clear()  # (the list _lines appends to)
            carried = list(strings) if fmt == "bibtex" else ([date_line] if date_line else [])
            buffer, size, start = [], 0, number
        buffer.append(line)
        size += len(line)
        if fmt == "bibtex" and stripped.lower().startswith("@string") \
                and line.count("{") == line.count("}"):  # a whole one-line definition
            strings.append(line if line.endswith("\n") else line + "\n")
        elif fmt == "dailypapers" and stripped:
            if len(stripped) <= 20 and dailypapers.DATE_LINE.fullmatch(stripped):
                date_line = stripped + "\n"
            previous_abstract = dailypapers.title_score(stripped) < 0
    if buffer or skipped:
        yield _piece(carried, buffer, start, skipped)


def _piece(carried: list[str], buffer: list[str], start: int, skipped: list[Problem]) -> Piece:
    if not any(line.strip() for line in buffer):  # only blank lines: nothing to parse
        return Piece("", start, list(skipped))
    return Piece("".join(carried + buffer), start - len(carried), list(skipped))


def _entry_starts(fmt: str, stripped: str, previous_abstract: bool) -> bool:
    if fmt == "bibtex":
        return stripped.startswith("@")
    from index.sources.dailypapers import title_score

    # after an abstract, blank lines and the next title begin something new
    return previous_abstract and (not stripped or title_score(stripped) > 0)
