"""Copy text to the clipboard: the system clipboard via pyperclip, else the terminal's OSC 52.

On a headless machine or over SSH pyperclip has no backend; most terminals (and tmux with
`set-clipboard on`) accept OSC 52 instead, which puts the text on the clipboard of the machine
the terminal runs on. The caller supplies how to emit it: the app passes Textual's
`App.copy_to_clipboard`, the CLI `osc52_to_terminal`.
"""

from __future__ import annotations

import base64
import os
import sys
from collections.abc import Callable

from index.export.markdown import display_title, link
from index.model import Paper, PapershelfError

SYSTEM = "system clipboard"
TERMINAL = "terminal (OSC 52)"
OSC52_MAX_BYTES = 100_000  # terminals drop longer sequences (xterm's default limit is ~100 kB)


def copy_text(text: str, *, osc52: Callable[[str], None] | None = None) -> str:
    """Copy `text`; returns which method worked. Raises PapershelfError if none did."""
    import pyperclip

    try:
        pyperclip.copy(text)
        return SYSTEM
    except pyperclip.PyperclipException as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "no clipboard backend"
    if osc52 is None:
        raise PapershelfError(f"cannot copy: no system clipboard ({reason[:80]}) and no terminal")
    try:
        osc52(text)
    except (OSError, ValueError) as exc:
        raise PapershelfError(f"cannot copy: no system clipboard, and the terminal refused ({exc})")
    return TERMINAL


def osc52_sequence(text: str) -> str:
    data = base64.b64encode(text.encode("utf-8")).decode("ascii")
    if len(data) > OSC52_MAX_BYTES:
        raise ValueError("text too long for the terminal clipboard")
    # Plain OSC 52 also inside tmux: tmux takes it itself when `set-clipboard` is on. The
    # passthrough-wrapped form is dropped under tmux's default `allow-passthrough off`.
    return f"\x1b]52;c;{data}\x07"


def in_tmux() -> bool:
    return bool(os.environ.get("TMUX"))


def copied_message(what: str, method: str) -> str:
    """What a copy did, honestly: OSC 52 is only sent; nothing says the terminal took it."""
    if method == SYSTEM:
        return f"copied {what} to the system clipboard"
    message = f"sent {what} to the terminal (OSC 52)"
    if in_tmux():
        message += "; in tmux this needs `set -g set-clipboard on`"
    return message


def osc52_to_terminal(text: str) -> None:
    """Write OSC 52 to the controlling terminal (/dev/tty), else stderr if it is a terminal."""
    sequence = osc52_sequence(text)
    try:
        with open("/dev/tty", "w", encoding="ascii") as tty:
            tty.write(sequence)
            tty.flush()
            return
    except OSError:
        pass
    if sys.stderr.isatty():
        sys.stderr.write(sequence)
        sys.stderr.flush()
        return
    raise OSError("no terminal to send OSC 52 to")


def markdown_link(paper: Paper) -> str:
    """`[Title](<url>)`, or the escaped title alone when the paper has no http(s) URL."""
    return link(display_title(paper), paper.best_url)
