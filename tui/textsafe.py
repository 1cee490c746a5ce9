"""Untrusted text on its way to a terminal: no control characters or escape sequences reach it raw."""

from __future__ import annotations

import re

from index.model import UNPRINTABLE

# ANSI/VT escape sequences (CSI, OSC, and two-character escapes), then any other C0/C1 control.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidi overrides can make a title read differently from what it is; show them as nothing.
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str, *, single_line: bool = False) -> str:
    text = _ESCAPES.sub("", text)
    text = _CONTROLS.sub("", text.replace("\t", " "))
    text = _BIDI.sub("", text)
    if single_line:
        text = " ".join(text.split())
    return text


# Characters json.dumps(ensure_ascii=False) leaves raw that a terminal or an editor acts on.
_JSON_RAW = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` with escape sequences and control characters removed, lines and tabs kept."""
    return UNPRINTABLE.sub("", _ESCAPES.sub("", text))


def json_safe(document: str) -> str:
    """A JSON document with C1 controls, DEL, line separators and bidi overrides written as
    \\u escapes (json.dumps escapes C0 controls such as ESC already). These characters occur
    only inside strings, so the document means the same."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m[0]):04x}", document)


class TerminalSafeWriter:
    """A text stream that passes everything written through `printable`: the one filter for
    every string a papershelf command prints (keys, DOIs, file names, messages)."""

    def __init__(self, stream):
        self._stream = stream

    @property
    def unfiltered(self):
        """The stream beneath, unfiltered: only for what papershelf draws itself from its own
        words (the progress bar, whose cursor moves the filter would strip)."""
        return self._stream

    def write(self, text: str) -> int:
        self._stream.write(printable(text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name):  # flush, fileno, isatty, encoding, buffer ...
        return getattr(self._stream, name)
