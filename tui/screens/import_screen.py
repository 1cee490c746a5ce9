"""ImportScreen: pick a file, or a folder of files, to import.

    app.push_screen(ImportScreen(), on_paths)   # on_paths(list[Path] | None)

`ImportScreen(start: str | Path | None = None)` is a `ModalScreen[list[Path] | None]`. The
input starts with `start` (e.g. "~/Downloads/") and completes paths as you type (tab or right
arrow accepts). enter on a file dismisses with [that file]; on a folder, with the files in it
(not recursive, hidden files skipped, sorted by name). A missing path, an empty folder or an
unreadable one shows a one-line error and the screen stays open. escape -> None. Paths are
returned with `~` expanded. File names are shown as plain text.
"""

from __future__ import annotations

import os
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from index.textsafe import terminal_safe
from tui.widgets.path_input import PathInput


class ImportPathError(ValueError):
    pass


def import_paths(text: str) -> list[Path]:
    """The files a typed path stands for; ImportPathError says why there are none."""
    text = text.strip()
    if not text:
        raise ImportPathError("Type the path of a file or a folder.")
    path = Path(os.path.expanduser(text))
    try:
        if path.is_file():
            return [path]
        if not path.exists():
            raise ImportPathError(f"No such file or folder: {text}")
        if not path.is_dir():
            raise ImportPathError(f"Not a file or a folder: {text}")
        files = sorted((entry for entry in path.iterdir()
                        if not entry.name.startswith(".") and entry.is_file()),
                       key=lambda entry: entry.name)
    except PermissionError:
        raise ImportPathError(f"Permission denied: {text}") from None
    except OSError as exc:
        raise ImportPathError(f"Cannot read {text}: {exc.strerror or exc}") from None
    if not files:
        raise ImportPathError(f"No files in folder {text}")
    return files


class ImportScreen(ModalScreen[list[Path] | None]):
    DEFAULT_CSS = """
    ImportScreen { align: center middle; }
    ImportScreen > Vertical {
        width: 80; max-width: 95%; height: auto;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    ImportScreen #import-title { text-style: bold; }
    ImportScreen #import-hint { color: $text-muted; }
    ImportScreen #import-error { color: $error; height: auto; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="import-cancel")]

    def __init__(self, start: str | Path | None = None) -> None:
        super().__init__()
        self.start = str(start) if start is not None else ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content("Import papers from a file or a folder"), id="import-title")
            yield PathInput(self.start, placeholder="~/Downloads/papers.bib", id="import-path",
                            select_on_focus=False)
            yield Static("", id="import-error")
            yield Static(Content("tab completes   enter imports   escape cancels"),
                         id="import-hint")

    def on_mount(self) -> None:
        path_input = self.query_one(Input)
        path_input.focus()
        path_input.cursor_position = len(path_input.value)  # type on after the start folder

    @on(Input.Changed, "#import-path")
    def clear_error(self) -> None:
        self.query_one("#import-error", Static).update("")

    @on(Input.Submitted, "#import-path")
    def submit(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            paths = import_paths(event.value)
        except ImportPathError as exc:
            error = terminal_safe(str(exc), single_line=True)
            self.query_one("#import-error", Static).update(Content(error))
            return
        self.dismiss(paths)

    def action_cancel(self) -> None:
        self.dismiss(None)
