"""Issue 14: the merge editor asks before saving conflict markers; its keys match the others."""

from __future__ import annotations

from dialog_harness import UNSET, Harness, result
from textual.widgets import TextArea

from tui.screens.confirm import ConfirmDialog
from tui.screens.note_conflict import NoteConflictScreen, has_conflict_markers
from tui.screens.note_editor import NoteEditor

MERGED = "shared intro\n<<<<<<< mine\nmy line\n=======\ntheir line\n>>>>>>> theirs\n"


def test_conflict_markers_are_recognised():
    assert has_conflict_markers(MERGED)
    assert not has_conflict_markers("a note\n===== a heading underline\n<<< not a marker")


async def test_saving_a_merge_with_markers_asks_first():
    app = Harness(lambda: NoteConflictScreen("A paper", "my line\n", "their line\n", MERGED))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("e", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog) and result(app) is UNSET
        assert "conflict markers" in app.screen.question
        await pilot.press("n")  # back to the editor, nothing saved
        await pilot.pause()
        assert isinstance(app.screen, NoteConflictScreen) and result(app) is UNSET
        merge = app.screen.query_one("#conflict-merge", TextArea)
        merge.text = "shared intro\nmy line\ntheir line\n"
        await pilot.press("ctrl+s")  # no markers left: saved at once
        await pilot.pause()
        assert result(app) == "shared intro\nmy line\ntheir line\n"


async def test_saving_markers_on_purpose():
    app = Harness(lambda: NoteConflictScreen("A paper", "a\n", "b\n", MERGED))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("e", "ctrl+s")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert result(app) == MERGED


async def test_ctrl_a_in_the_merge_editor_acts_as_in_the_note_editor():
    cursors = {}
    for name, make in [("merge", lambda: NoteConflictScreen("T", "a\n", "b\n", "one\ntwo words")),
                       ("note", lambda: NoteEditor("T", "one\ntwo words"))]:
        app = Harness(make)
        async with app.run_test(size=(100, 30)) as pilot:
            if name == "merge":
                await pilot.press("e")
            await pilot.pause()
            area = app.focused
            assert isinstance(area, TextArea)
            opened_at = area.cursor_location
            await pilot.press("ctrl+a")
            cursors[name] = (opened_at, area.cursor_location)
    assert cursors["merge"] == cursors["note"] == ((1, 9), (1, 0))
