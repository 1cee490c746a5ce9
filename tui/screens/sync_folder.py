"""SyncFolderPrompt: choose the shared folder the first time `S` is pressed.

    app.push_screen(SyncFolderPrompt(), on_folder)   # on_folder(Path | None)

A `Dialog[Path | None]` with a path input that completes folders as you type (tab accepts), as
the import dialog does. enter on an existing folder dismisses with it (`~` expanded); anything
else shows a one-line reason and the prompt stays open; escape -> None. The app then syncs and,
once that worked, remembers the folder in config.toml exactly as `papershelf sync FOLDER` does.
"""

from __future__ import annotations

import os
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Static

from tui.textsafe import terminal_safe
from tui.screens.dialog import Dialog, DialogBody
from tui.widgets.path_input import PathInput


def folder_problem(text: str) -> str | None:
    """Why `text` cannot be the sync folder, or None when it can."""
    text = text.strip()
    if not text:
        return "Type the path of a folder that Dropbox, Syncthing or iCloud replicates."
    path = Path(os.path.expanduser(text))
    if not path.exists():
        return f"No such folder: {text} (create it, or let your sync tool create it, first)"
    if not path.is_dir():
        return f"Not a folder: {text}"
    return None


class SyncFolderPrompt(Dialog[Path | None]):
    DEFAULT_CSS = """
    SyncFolderPrompt > .dialog-frame { width: 80; }
    SyncFolderPrompt #sync-error { color: $error; height: auto; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="sync-folder-cancel")]

    def __init__(self, start: str = "~/") -> None:
        super().__init__()
        self.start = start

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-frame"):
            yield Static(Content("Sync with your other machines through a shared folder"),
                         classes="dialog-title")
            yield Static(Content("tab completes   enter syncs and remembers it   "
                                 "escape cancels"), classes="dialog-hint")
            with DialogBody():
                yield Static(Content("A folder Dropbox, Syncthing, Nextcloud or iCloud "
                                     "replicates, e.g. ~/Sync. Every machine uses its own "
                                     "log inside it; nothing is overwritten."))
                yield PathInput(self.start, placeholder="~/Sync", id="sync-folder",
                                select_on_focus=False)
                yield Static("", id="sync-error")

    def on_mount(self) -> None:
        self.query_one(PathInput).focus()  # Input starts with its cursor after the text

    @on(Input.Changed, "#sync-folder")
    def clear_error(self) -> None:
        self.query_one("#sync-error", Static).update("")

    @on(Input.Submitted, "#sync-folder")
    def submit(self, event: Input.Submitted) -> None:
        event.stop()
        problem = folder_problem(event.value)
        if problem:
            self.query_one("#sync-error", Static).update(
                Content(terminal_safe(problem, single_line=True)))
            return
        self.dismiss(Path(os.path.expanduser(event.value.strip())))

    def action_cancel(self) -> None:
        self.dismiss(None)
