"""The export dialog: format, which papers, destination. Dismisses with an ExportRequest.

The app opens it with the scopes that make sense right now (marked papers, the current search
results, starred, the current tag, everything) and their counts, and does the writing itself in
a worker (`index.export.write_export`). Tag names are user text: shown only as Content.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet, Static

from index.export import SUFFIXES

FORMATS = (("bibtex", "BibTeX (.bib)"), ("markdown", "Markdown reading list (.md)"),
           ("obsidian", "Obsidian notes (a folder)"))
SCOPE_LABELS = {"marked": "Marked papers", "results": "Current search results",
                "starred": "Starred", "tag": "Tag", "all": "Everything"}


@dataclass(frozen=True)
class ExportScope:
    """One choice of papers: `kind` is marked | results | starred | tag | all."""

    kind: str
    count: int
    tag: str | None = None  # for kind == "tag"

    def label(self) -> Content:
        name = SCOPE_LABELS.get(self.kind, self.kind)
        if self.kind == "tag" and self.tag:
            name = f"Tag: {self.tag}"
        plural = "" if self.count == 1 else "s"
        return Content(f"{name} ({self.count} paper{plural})")


@dataclass(frozen=True)
class ExportRequest:
    format: str  # bibtex | markdown | obsidian
    scope: ExportScope
    path: Path  # a file, or a folder for obsidian
    with_notes: bool = False
    group_by: str = "status"


class ExportDialog(ModalScreen[ExportRequest | None]):
    DEFAULT_CSS = """
    ExportDialog { align: center middle; }
    ExportDialog > Vertical {
        width: 72; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 1 2;
    }
    ExportDialog .section { margin-top: 1; text-style: bold; }
    ExportDialog RadioSet { width: 100%; }
    ExportDialog #export-error { color: $error; height: auto; }
    ExportDialog #export-buttons { height: auto; margin-top: 1; align-horizontal: right; }
    ExportDialog #export-buttons Button { margin-left: 1; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="export.cancel"),
        Binding("ctrl+s", "confirm", "Export", id="export.confirm"),
    ]

    def __init__(self, scopes: list[ExportScope], *, directory: Path | None = None,
                 stem: str = "papershelf", initial_format: str = "bibtex",
                 initial_scope: str | None = None) -> None:
        super().__init__()
        self.scopes = [s for s in scopes if s.count > 0] or list(scopes)
        self.directory = directory or Path.home()
        self.stem = stem
        self.format = initial_format if initial_format in SUFFIXES else "bibtex"
        kinds = [s.kind for s in self.scopes]
        self.scope_index = kinds.index(initial_scope) if initial_scope in kinds else 0
        self._suggested = ""  # the path we filled in; once the person changes it, it stays

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Export papers")
            yield Label("Format", classes="section")
            with RadioSet(id="export-format"):
                for fmt, label in FORMATS:
                    yield RadioButton(Content(label), value=fmt == self.format, id=f"format-{fmt}")
            yield Label("Papers", classes="section")
            with RadioSet(id="export-scope"):
                for i, scope in enumerate(self.scopes):
                    yield RadioButton(scope.label(), value=i == self.scope_index, id=f"scope-{i}")
            yield Label("Options", classes="section")
            yield Checkbox(Content("Include my notes (BibTeX annote)"), id="export-notes")
            yield Checkbox(Content("Markdown: group by tag instead of status"), id="export-by-tag")
            yield Label("Save to", classes="section")
            self._suggested = str(self._default_path())
            yield Input(self._suggested, id="export-path",
                        placeholder="file (folder for Obsidian notes)")
            yield Static(Content(""), id="export-error")
            with Horizontal(id="export-buttons"):
                yield Button(Content("Cancel"), id="export-cancel")
                yield Button(Content("Export"), variant="primary", id="export-ok")

    def on_mount(self) -> None:
        self.query_one("#export-format", RadioSet).focus()

    def _default_path(self) -> Path:
        name = self.stem if self.format == "obsidian" else self.stem + SUFFIXES[self.format]
        return self.directory / name

    @on(RadioSet.Changed, "#export-format")
    def _format_changed(self, event: RadioSet.Changed) -> None:
        self.format = FORMATS[event.index][0]
        path_input = self.query_one("#export-path", Input)
        if path_input.value.strip() in (self._suggested, ""):  # not edited: follow the format
            self._suggested = str(self._default_path())
            path_input.value = self._suggested

    @on(RadioSet.Changed, "#export-scope")
    def _scope_changed(self, event: RadioSet.Changed) -> None:
        self.scope_index = event.index

    @on(Input.Changed, "#export-path")
    def _path_changed(self) -> None:
        self._error("")

    @on(Input.Submitted, "#export-path")
    @on(Button.Pressed, "#export-ok")
    def action_confirm(self) -> None:
        request = self.request()
        if request is not None:
            self.dismiss(request)

    @on(Button.Pressed, "#export-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def request(self) -> ExportRequest | None:
        """The request the dialog describes now, or None (with the reason shown)."""
        if not self.scopes:
            self._error("There are no papers to export.")
            return None
        raw = self.query_one("#export-path", Input).value.strip()
        if not raw:
            self._error("Give a file to save to.")
            return None
        path = Path(raw).expanduser()
        if not path.is_absolute():
            path = self.directory / path
        if self.format != "obsidian" and path.is_dir():
            self._error("That is a folder; give a file name.")
            return None
        if self.format == "obsidian" and path.exists() and not path.is_dir():
            self._error("Obsidian notes go into a folder, and that is a file.")
            return None
        return ExportRequest(
            format=self.format,
            scope=self.scopes[self.scope_index],
            path=path,
            with_notes=self.query_one("#export-notes", Checkbox).value,
            group_by="tag" if self.query_one("#export-by-tag", Checkbox).value else "status",
        )

    def _error(self, message: str) -> None:
        self.query_one("#export-error", Static).update(Content(message))
