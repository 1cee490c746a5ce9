"""NoteConflictScreen: two devices edited a note at once; choose what to keep.

    app.push_screen(NoteConflictScreen(paper.title, mine, theirs, merged), on_note)

`NoteConflictScreen(title: str, local: str, remote: str, merged: str | None = None)` is a
`ModalScreen[str | None]`. It shows this device's version (mine) and the other device's
(theirs) side by side, read-only. Keys: 1 keep mine, 2 keep theirs, 3 keep both (mine, then
BOTH_MARKER, then theirs), e edit a merge (starts from `merged` when given, else from "both",
the cursor at its end) and ctrl+s saves it, asking first while it still holds <<<<<<< conflict
markers; escape leaves the editor, or, outside it, dismisses with None (decide later: the
conflict stays). The result is the text to keep. Titles and notes are shown as
plain text.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from index.library import Library
from tui.textsafe import terminal_safe
from tui.screens.confirm import ConfirmDialog

def has_conflict_markers(text: str) -> bool:
    """True while a merge still holds the lines a three-way merge marks conflicts with."""
    return any(line.startswith(("<<<<<<<", ">>>>>>>")) or line.rstrip() == "======="
               for line in text.splitlines())


class NoteConflictScreen(ModalScreen[str | None]):
    DEFAULT_CSS = """
    NoteConflictScreen { align: center middle; }
    NoteConflictScreen > Vertical {
        width: 95%; height: 90%; border: thick $warning; background: $surface; padding: 0 1;
    }
    NoteConflictScreen #conflict-title { text-style: bold; height: auto; max-height: 2; }
    NoteConflictScreen #conflict-sides { height: 1fr; }
    NoteConflictScreen #conflict-sides > Vertical { width: 1fr; }
    NoteConflictScreen .side-label { color: $text-muted; }
    NoteConflictScreen #conflict-sides TextArea { height: 1fr; }
    NoteConflictScreen #conflict-merge { height: 1fr; }
    NoteConflictScreen #conflict-merge, NoteConflictScreen #conflict-merge-label { display: none; }
    NoteConflictScreen.-editing #conflict-merge,
    NoteConflictScreen.-editing #conflict-merge-label { display: block; }
    NoteConflictScreen.-editing #conflict-sides { height: 40%; }
    NoteConflictScreen #conflict-hint { color: $text-muted; height: 1; }
    """

    BINDINGS = [
        Binding("1", "keep_mine", "Keep mine", id="conflict-mine"),
        Binding("2", "keep_theirs", "Keep theirs", id="conflict-theirs"),
        Binding("3", "keep_both", "Keep both", id="conflict-both"),
        Binding("e", "edit", "Edit merge", id="conflict-edit"),
        Binding("ctrl+s", "save", "Save merge", id="conflict-save"),
        Binding("escape", "back", "Back", id="conflict-back"),
    ]

    CHOOSING_HINT = "1 keep mine   2 keep theirs   3 keep both   e edit a merge   escape later"
    MERGED_HINT = "1 keep mine   2 keep theirs   3 keep both   e edit the merge   escape later"
    EDITING_HINT = "ctrl+s save this merge   escape back to the choices"

    def __init__(self, title: str, local: str, remote: str, merged: str | None = None,
                 other_versions: int = 1) -> None:
        super().__init__()
        self.paper_title = title
        self.local = local
        self.remote = remote
        self.merged = merged
        self.other_versions = other_versions  # several: `remote` holds them merged

    @property
    def choosing_hint(self) -> str:
        return self.CHOOSING_HINT if self.merged is None else self.MERGED_HINT

    @property
    def editing(self) -> bool:
        return self.has_class("-editing")

    def compose(self) -> ComposeResult:
        with Vertical():
            title = terminal_safe(self.paper_title, single_line=True)
            yield Static(Content.assemble(("Note changed on two devices: ", "$warning"), title),
                         id="conflict-title")
            with Horizontal(id="conflict-sides"):
                with Vertical():
                    yield Static(Content("1  Mine (this device)"), classes="side-label")
                    yield TextArea(self.local, read_only=True, soft_wrap=True, id="conflict-local")
                with Vertical():
                    theirs = "other device" if self.other_versions == 1 else \
                        f"{self.other_versions} other versions, merged"
                    yield Static(Content(f"2  Theirs ({theirs})"), classes="side-label")
                    yield TextArea(self.remote, read_only=True, soft_wrap=True,
                                   id="conflict-remote")
            start = self.merged if self.merged is not None else \
                Library.keep_both_notes(self.local, self.remote)
            yield Static(Content("Your merge: edit it, then ctrl+s"), classes="side-label",
                         id="conflict-merge-label")
            yield TextArea(start, soft_wrap=True, id="conflict-merge")
            yield Static(Content(self.choosing_hint), id="conflict-hint")

    def on_mount(self) -> None:
        self.query_one("#conflict-local", TextArea).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While editing, 1/2/3/e are text; ctrl+s only means something in the editor.
        if action in ("keep_mine", "keep_theirs", "keep_both", "edit"):
            return not self.editing
        if action == "save":
            return self.editing
        return True

    def action_keep_mine(self) -> None:
        self.dismiss(self.local)

    def action_keep_theirs(self) -> None:
        self.dismiss(self.remote)

    def action_keep_both(self) -> None:
        self.dismiss(Library.keep_both_notes(self.local, self.remote))

    def action_edit(self) -> None:
        self.set_editing(True)

    def action_save(self) -> None:
        text = self.query_one("#conflict-merge", TextArea).text
        if not has_conflict_markers(text):
            self.dismiss(text)
            return

        def answered(save: bool | None) -> None:
            if save:
                self.dismiss(text)

        self.app.push_screen(ConfirmDialog(
            "This merge still holds conflict markers (<<<<<<< ======= >>>>>>>). "
            "Save it with them?"), answered)

    def action_back(self) -> None:
        if self.editing:
            self.set_editing(False)  # the edited text stays for the next e
        else:
            self.dismiss(None)

    def set_editing(self, editing: bool) -> None:
        self.set_class(editing, "-editing")
        self.query_one("#conflict-hint", Static).update(
            Content(self.EDITING_HINT if editing else self.choosing_hint))
        area = self.query_one("#conflict-merge" if editing else "#conflict-local", TextArea)
        area.focus()
        if editing and area.cursor_location == (0, 0):
            area.move_cursor(area.document.end)  # as the note editor: type on at the end
        self.refresh_bindings()
