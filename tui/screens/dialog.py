"""Dialog: the frame every modal dialog shares, so each one is usable from 60x15 up.

    class MyDialog(Dialog[str | None]):
        def compose(self):
            with Vertical(classes="dialog-frame"):
                yield Static("Title", classes="dialog-title")          # docked on top
                with Horizontal(classes="dialog-buttons"):              # docked at the bottom
                    yield Button("OK")
                with DialogBody():                                      # what is left; scrolls
                    ...

The frame is as tall as its content up to the whole screen. The title and the buttons (or a
`dialog-hint` line) are docked, so they stay on screen however small it is, and the body
scrolls; Textual scrolls a focused widget into view, so tab never lands out of sight. Buttons
keep their full three rows at any size (a squeezed button draws as one border row).
"""

from __future__ import annotations

from typing import TypeVar

from textual.containers import VerticalScroll
from textual.screen import ModalScreen

ResultT = TypeVar("ResultT")


class Dialog(ModalScreen[ResultT]):
    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > .dialog-frame {
        height: auto; max-height: 100%; max-width: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    Dialog .dialog-title { dock: top; text-style: bold; height: auto; }
    Dialog .dialog-body { height: auto; max-height: 100%; }
    Dialog .dialog-buttons { dock: bottom; height: 3; align-horizontal: right; }
    Dialog .dialog-buttons Button { margin-left: 1; }
    Dialog .dialog-hint { dock: bottom; height: auto; color: $text-muted; }
    """


class DialogBody(VerticalScroll, can_focus=False):
    """The scrolling middle of a dialog. Not focusable itself: a click on its text must leave
    focus in the field being typed into; focusing a field scrolls it into view."""

    DEFAULT_CLASSES = "dialog-body"
