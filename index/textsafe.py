"""Untrusted text on its way to a terminal: no control characters or escape sequences reach it raw."""

from __future__ import annotations

import re

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
