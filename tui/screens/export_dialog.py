"""The export dialog: format, which papers, destination. Dismisses with an ExportRequest.

The app opens it with the scopes that make sense right now (marked papers, the current search
results, starred, the current tag, everything) and their counts, and does the writing itself in
a worker (`index.export.write_export`). A count that is still being counted (in the app's
worker) is None, shown as "counting…"; `show_counts` then puts the counted scopes in. Tag names
are user text: shown only as Content.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.suggester import SuggestFromList
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet, Static

from index.model import EXPORT_SUFFIXES as SUFFIXES
from tui.screens.dialog import Dialog, DialogBody
from tui.widgets.path_input import CompletingInput

FORMATS = (("bibtex", "BibTeX (.bib)"), ("markdown", "Markdown reading list (.md)"),
           ("obsidian", "Obsidian notes (a folder)"))
SCOPE_LABELS = {"marked": "Marked papers", "results": "Current search results",
                "starred": "Starred", "tag": "Tag", "all": "Everything"}


@dataclass(frozen=True)
class ExportScope:
    """One choice of papers: `kind` is marked | results | starred | tag | all."""

    kind: str
    count: int | None  # None while it is being counted
    tag: str | None = None  # for kind == "tag"

    def label(self) -> Content:
        name = SCOPE_LABELS.get(self.kind, self.kind)
        if self.kind == "tag" and self.tag:
            name = f"Tag: {self.tag}"
        if self.count is None:
            return Content(f"{name} (counting…)")
        plural = "" if self.count == 1 else "s"
        return Content(f"{name} ({self.count} paper{plural})")


@dataclass(frozen=True)
class ExportRequest:
    format: str  # bibtex | markdown | obsidian
    scope: ExportScope
    path: Path  # a file, or a folder for obsidian
    with_notes: bool = False
    group_by: str = "status"


class ExportDialog(Dialog[ExportRequest | None]):
    DEFAULT_CSS = """
    ExportDialog > .dialog-frame { width: 72; }
    ExportDialog .section { margin-top: 1; text-style: bold; }
    ExportDialog RadioSet { width: 100%; }
    ExportDialog #export-error { color: $error; height: auto; dock: bottom; }
    ExportDialog #export-tag { margin-left: 4; width: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="export.cancel"),
        Binding("ctrl+s", "confirm", "Export", id="export.confirm"),
    ]

    def __init__(self, scopes: list[ExportScope], *, directory: Path | None = None,
                 stem: str = "papershelf", initial_format: str = "bibtex",
                 initial_scope: str | None = None,
                 tags: list[tuple[str, int]] | None = None) -> None:
        super().__init__()
        # every tag and its paper count: the tag scope's picker completes from these
        self.tag_counts = {name: count for name, count in (tags or [])}
        self.scopes = self._offered(scopes)
        self.directory = directory or Path.home()
        self.stem = stem
        self.format = initial_format if initial_format in SUFFIXES else "bibtex"
        kinds = [s.kind for s in self.scopes]
        self.scope_index = kinds.index(initial_scope) if initial_scope in kinds else 0
        self._suggested = ""  # the path we filled in; once the person changes it, it stays

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-frame"):
            yield Label("Export papers", classes="dialog-title")
            with Horizontal(id="export-buttons", classes="dialog-buttons"):
                yield Button(Content("Cancel"), id="export-cancel")
                yield Button(Content("Export"), variant="primary", id="export-ok")
            yield Static(Content(""), id="export-error")
            with DialogBody():
                yield from self._fields()

    def _offered(self, scopes: list[ExportScope]) -> list[ExportScope]:
        """Empty scopes are not offered (the tag scope is while any tag exists)."""
        return [s for s in scopes if s.count is None or s.count > 0
                or s.kind == "tag" and self.tag_counts] or list(scopes)

    def _fields(self) -> ComposeResult:
        yield Label("Format", classes="section")
        with RadioSet(id="export-format"):
            for fmt, label in FORMATS:
                yield RadioButton(Content(label), value=fmt == self.format, id=f"format-{fmt}")
        yield Label("Papers", classes="section", id="export-papers")
        yield from self._scope_fields()
        yield Label("Options", classes="section")
        yield Checkbox(Content("Include my notes (BibTeX annote)"), id="export-notes")
        yield Checkbox(Content("Markdown: group by tag instead of status"), id="export-by-tag")
        yield Label("Save to", classes="section")
        self._suggested = str(self._default_path())
        yield Input(self._suggested, id="export-path",
                    placeholder="file (folder for Obsidian notes)")

    def _scope_fields(self) -> list:
        fields: list = [RadioSet(*(RadioButton(scope.label(), value=i == self.scope_index,
                                               id=f"scope-{i}")
                                   for i, scope in enumerate(self.scopes)), id="export-scope")]
        if self.tag_counts:
            tag_scope = next((s for s in self.scopes if s.kind == "tag"), None)
            fields.append(CompletingInput(tag_scope.tag if tag_scope else "", id="export-tag",
                                          placeholder="tag (tab completes)",
                                          select_on_focus=False,
                                          suggester=SuggestFromList(list(self.tag_counts),
                                                                    case_sensitive=False)))
        return fields

    async def show_counts(self, scopes: list[ExportScope],
                          tags: list[tuple[str, int]]) -> None:
        """The counted scopes (and every tag with its count) replace the provisional ones;
        the chosen kind stays chosen when it is still offered."""
        chosen = self.scopes[self.scope_index].kind if self.scopes else None
        self.tag_counts = {name: count for name, count in tags}
        self.scopes = self._offered(scopes)
        kinds = [s.kind for s in self.scopes]
        self.scope_index = kinds.index(chosen) if chosen in kinds else 0
        old = self.query_one("#export-scope", RadioSet)
        focused = self.focused is old
        await old.remove()
        await self.query("#export-tag").remove()
        fields = self._scope_fields()
        await self.query_one(DialogBody).mount_all(fields, after="#export-papers")
        if focused:
            fields[0].focus()

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

    @on(Input.Changed, "#export-tag")
    def _tag_typed(self, event: Input.Changed) -> None:
        """Typing a tag chooses the tag scope and shows how many papers carry that tag."""
        index = next((i for i, s in enumerate(self.scopes) if s.kind == "tag"), None)
        if index is None:
            return
        tag = self._known_tag(event.value) or event.value.strip()
        self.scopes[index] = ExportScope("tag", self.tag_counts.get(tag, 0), tag=tag)
        button = self.query_one(f"#scope-{index}", RadioButton)
        button.label = self.scopes[index].label()
        if not button.value:
            button.value = True  # RadioSet.Changed follows and sets scope_index
        self._error("")

    def _known_tag(self, text: str) -> str | None:
        wanted = text.strip().casefold()
        return next((t for t in self.tag_counts if t.casefold() == wanted), None)

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
        scope = self.scopes[self.scope_index]
        if scope.kind == "tag" and self.tag_counts and self._known_tag(scope.tag or "") is None:
            self._error(f"No tag {scope.tag or ''!r}: pick one (tab completes).")
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
            scope=scope,
            path=path,
            with_notes=self.query_one("#export-notes", Checkbox).value,
            group_by="tag" if self.query_one("#export-by-tag", Checkbox).value else "status",
        )

    def _error(self, message: str) -> None:
        self.query_one("#export-error", Static).update(Content(message))
