"""ImportScreen: pick a file, or a folder of files, to import.

    app.push_screen(ImportScreen(), on_paths)   # on_paths(list[Path] | None)

`ImportScreen(start: str | Path | None = None)` is a `ModalScreen[list[Path] | None]`. The
input starts with `start` (e.g. "~/Downloads/") and completes paths as you type (tab or right
arrow accepts). enter on a file dismisses with [that file]; on a folder, with the files in it
(and in its subfolders when "Include subfolders" is ticked; hidden files skipped, sorted by
name: `index.library.folder_files`, the same as `papershelf import [--recursive] FOLDER`). A missing path, an empty folder or an
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
from textual.widgets import Checkbox, Input, Static

from index.library import folder_files
from tui.textsafe import terminal_safe
from tui.screens.dialog import Dialog, DialogBody
from tui.widgets.path_input import PathInput


class ImportPathError(ValueError):
    pass


def import_paths(text: str, recursive: bool = False) -> list[Path]:
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
        files = folder_files(path, recursive=recursive)
    except PermissionError:
        raise ImportPathError(f"Permission denied: {text}") from None
    except OSError as exc:
        raise ImportPathError(f"Cannot read {text}: {exc.strerror or exc}") from None
    if not files:
        hint = "" if recursive else " (tick Include subfolders for the ones below)"
        raise ImportPathError(f"No files in folder {text}{hint}")
    return files


class ImportScreen(Dialog[list[Path] | None]):
    DEFAULT_CSS = """
    ImportScreen > .dialog-frame { width: 80; }
    ImportScreen #import-error { color: $error; height: auto; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="import-cancel")]

    def __init__(self, start: str | Path | None = None) -> None:
        super().__init__()
        self.start = str(start) if start is not None else ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-frame"):
            yield Static(Content("Import papers from a file or a folder"), id="import-title",
                         classes="dialog-title")
            yield Static(Content("tab completes   enter imports   escape cancels"),
                         id="import-hint", classes="dialog-hint")
            with DialogBody():
                yield PathInput(self.start, placeholder="~/Downloads/papers.bib",
                                id="import-path", select_on_focus=False)
                yield Static("", id="import-error")
                yield Checkbox(Content("Include subfolders"), id="import-recursive")

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
            paths = import_paths(event.value,
                                 self.query_one("#import-recursive", Checkbox).value)
        except ImportPathError as exc:
            error = terminal_safe(str(exc), single_line=True)
            self.query_one("#import-error", Static).update(Content(error))
            return
        self.dismiss(paths)

    def action_cancel(self) -> None:
        self.dismiss(None)
