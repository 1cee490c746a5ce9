"""NoteEditor: edit a paper's note in a TextArea.

    app.push_screen(NoteEditor(paper.title, paper.note or ""), on_note)   # on_note(str | None)

`NoteEditor(title: str, text: str)` is a `ModalScreen[str | None]`: ctrl+s saves (dismisses with
the text, changed or not); escape closes, first asking "Discard changes?" (a ConfirmDialog) when
the text was changed, and dismisses with None. The title is shown as plain text. The TextArea
highlights Markdown when tree-sitter and its markdown grammar are installed, else plain text.
"""

from __future__ import annotations

from importlib.util import find_spec

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea
from textual.widgets.text_area import BUILTIN_LANGUAGES

from tui.textsafe import terminal_safe
from tui.screens.confirm import ConfirmDialog


def note_language() -> str | None:
    """"markdown" when TextArea can highlight it here (Textual's `syntax` extra: tree-sitter and
    its markdown grammar installed); None, plain text, otherwise. Without them TextArea would
    log a warning and fall back anyway; with tree-sitter but not the grammar it would raise."""
    installed = all(find_spec(name) is not None for name in ("tree_sitter", "tree_sitter_markdown"))
    return "markdown" if installed and "markdown" in BUILTIN_LANGUAGES else None


class NoteEditor(ModalScreen[str | None]):
    DEFAULT_CSS = """
    NoteEditor { align: center middle; }
    NoteEditor > Vertical {
        width: 90%; height: 85%; border: thick $primary; background: $surface; padding: 0 1;
    }
    NoteEditor #note-title { text-style: bold; height: auto; max-height: 2; }
    NoteEditor TextArea { height: 1fr; }
    NoteEditor #note-hint { color: $text-muted; height: 1; }
    """

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="note-save"),
        Binding("escape", "close", "Close", id="note-close"),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.paper_title = title
        self.original = text

    def compose(self) -> ComposeResult:
        with Vertical():
            title = terminal_safe(self.paper_title, single_line=True)
            yield Static(Content.assemble(("Note: ", "$text-muted"), title), id="note-title")
            yield TextArea(self.original, language=note_language(), soft_wrap=True,
                           show_line_numbers=False, id="note-text")
            yield Static(Content("ctrl+s save   escape close"), id="note-hint")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    @property
    def changed(self) -> bool:
        return self.text != self.original

    def action_save(self) -> None:
        self.dismiss(self.text)

    def action_close(self) -> None:
        if not self.changed:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(ConfirmDialog("Discard changes to this note?"), answered)
