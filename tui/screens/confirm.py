"""ConfirmDialog: a yes/no question.

    app.push_screen(ConfirmDialog("Delete 3 papers?"), callback)   # callback(bool)

`ConfirmDialog(question: str)` is a `ModalScreen[bool]`: y or enter -> True, n or escape ->
False. The question may hold untrusted text (a paper title): it is shown as plain text.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Static

from tui.textsafe import terminal_safe
from tui.screens.dialog import Dialog, DialogBody


class ConfirmDialog(Dialog[bool]):
    DEFAULT_CSS = """
    ConfirmDialog > .dialog-frame { padding: 1 2; }
    ConfirmDialog #confirm-question { margin-bottom: 1; }
    ConfirmDialog .dialog-buttons { height: 1; align-horizontal: left; }
    ConfirmDialog Button { margin: 0 2 0 0; min-width: 10; }
    """

    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm-yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm-no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-frame"):
            with Horizontal(classes="dialog-buttons"):
                # Not focusable: enter must always mean yes, whatever has focus.
                yield Button("Yes (y)", variant="primary", id="confirm-yes", compact=True)
                yield Button("No (n)", id="confirm-no", compact=True)
            with DialogBody():  # a long question scrolls
                yield Static(Content(terminal_safe(self.question)), id="confirm-question")

    def on_mount(self) -> None:
        # As wide as the question (wrapped past 72 columns), never wider than the screen.
        longest = max((len(line) for line in self.question.splitlines()), default=0)
        self.query_one(".dialog-frame").styles.width = min(max(longest + 6, 30), 78)
        for button in self.query(Button):
            button.can_focus = False

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")
