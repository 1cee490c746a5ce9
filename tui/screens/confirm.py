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
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from index.textsafe import terminal_safe


class ConfirmDialog(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > Vertical {
        width: auto; min-width: 30; max-width: 80%; height: auto;
        border: thick $primary; background: $surface; padding: 1 2;
    }
    ConfirmDialog #confirm-question { width: auto; max-width: 76; margin-bottom: 1; }
    ConfirmDialog Horizontal { width: auto; height: auto; }
    ConfirmDialog Button { margin-right: 2; min-width: 10; }
    """

    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm-yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm-no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(terminal_safe(self.question)), id="confirm-question")
            with Horizontal():
                # Not focusable: enter must always mean yes, whatever has focus.
                yield Button("Yes (y)", variant="primary", id="confirm-yes", compact=True)
                yield Button("No (n)", id="confirm-no", compact=True)

    def on_mount(self) -> None:
        for button in self.query(Button):
            button.can_focus = False

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")
