"""The dialogs about files and notes: the import screen's path completion, and the note
conflict screen (keep mine, theirs, both, or edit a merge), each on a tiny harness App."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.widgets import Input, TextArea

from dialog_harness import NASTY, UNSET, Harness, click_text, result, screen_text  # noqa: F401
from index.sync import BOTH_MARKER, keep_both
from tui.screens.import_screen import ImportScreen, ImportPathError, import_paths
from tui.screens.note_conflict import NoteConflictScreen
from tui.widgets.path_input import complete_path


# ---- ImportScreen ----------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "papers").mkdir()
    for name in ("b.bib", "a.txt", ".hidden.bib", "[bold]x.bib"):
        (tmp_path / "papers" / name).write_text("x")
    (tmp_path / "papers" / "sub").mkdir()
    (tmp_path / "papers" / "sub" / "deep.bib").write_text("x")
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.md").write_text("x")
    return tmp_path


def test_import_paths(folder: Path):
    assert import_paths(str(folder / "notes.md")) == [folder / "notes.md"]
    names = [p.name for p in import_paths(str(folder / "papers"))]
    assert names == ["[bold]x.bib", "a.txt", "b.bib"]  # sorted, no hidden, not recursive
    for bad, message in [("", "Type the path"), (str(folder / "missing"), "No such file"),
                         (str(folder / "empty"), "No files in folder")]:
        with pytest.raises(ImportPathError, match=message):
            import_paths(bad)


def test_import_paths_expands_home(folder: Path, monkeypatch):
    monkeypatch.setenv("HOME", str(folder))
    assert import_paths("~/notes.md") == [folder / "notes.md"]


def test_complete_path(folder: Path, monkeypatch):
    base = str(folder) + os.sep
    assert complete_path(base + "no") == base + "notes.md"
    assert complete_path(base + "pap") == base + "papers" + os.sep
    assert complete_path(base + "papers/a") == base + "papers/a.txt"
    assert complete_path(base + "papers/.h") == base + "papers/.hidden.bib"
    assert complete_path(base + "papers/zzz") is None
    assert complete_path(base + "missing/x") is None
    (folder / "papers" / "b2.bib").write_text("x")
    (folder / "papers" / "bb.bib").write_text("x")
    assert complete_path(base + "papers/b") == base + "papers/b.bib"  # common prefix = typed
    monkeypatch.setenv("HOME", str(folder))
    assert complete_path("~") == "~" + os.sep
    assert complete_path("~/em") == "~/empty" + os.sep


async def test_import_screen_tab_completes_and_enter_returns_folder_files(folder: Path):
    app = Harness(lambda: ImportScreen(str(folder) + os.sep))
    async with app.run_test() as pilot:
        await pilot.press(*"pap")
        await pilot.pause()
        await pilot.press("tab")
        await pilot.pause()
        path_input = app.screen.query_one(Input)
        assert path_input.value == str(folder / "papers") + os.sep
        await pilot.press("enter")
        await pilot.pause()
        assert result(app) == [folder / "papers" / n for n in ("[bold]x.bib", "a.txt", "b.bib")]


async def test_import_screen_file_and_missing_path(folder: Path, monkeypatch):
    monkeypatch.chdir(folder)
    app = Harness(lambda: ImportScreen())
    async with app.run_test(size=(100, 24)) as pilot:
        missing = "[@click=app.quit]x[/]"
        app.screen.query_one(Input).value = missing
        await pilot.press("enter")
        await pilot.pause()
        assert result(app) is UNSET and isinstance(app.screen, ImportScreen)
        assert "No such file or folder" in screen_text(app)
        assert "[@click=app.quit]x[/]" in screen_text(app)
        await click_text(pilot, "[@click=app.quit]x[/]")
        await pilot.press("backspace")  # editing clears the error
        await pilot.pause()
        assert "No such file" not in screen_text(app)
        app.screen.query_one(Input).value = str(folder / "notes.md")
        await pilot.press("enter")
        await pilot.pause()
        assert result(app) == [folder / "notes.md"] and app.actions_run == []


async def test_import_screen_escape():
    app = Harness(lambda: ImportScreen("~/"))
    async with app.run_test() as pilot:
        await pilot.press("escape")
        await pilot.pause()
        assert result(app) is None


# ---- NoteConflictScreen ----------------------------------------------------------------------

MINE, THEIRS = "my note\nline 2\n", "their note\n"


@pytest.mark.parametrize("key, expected", [
    ("1", MINE), ("2", THEIRS), ("3", keep_both(MINE, THEIRS)), ("escape", None)])
async def test_conflict_choices(key, expected):
    app = Harness(lambda: NoteConflictScreen("A paper", MINE, THEIRS, None))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        shown = screen_text(app)
        assert "my note" in shown and "their note" in shown and "A paper" in shown
        await pilot.press(key)
        await pilot.pause()
        assert result(app) == expected


def test_keep_both_has_marker_and_both_texts():
    both = keep_both(MINE, THEIRS)
    assert both.index("my note") < both.index(BOTH_MARKER) < both.index("their note")


async def test_conflict_edit_merge_then_save():
    app = Harness(lambda: NoteConflictScreen("A paper", MINE, THEIRS, "merged start"))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("ctrl+s")  # nothing to save before editing
        await pilot.pause()
        assert result(app) is UNSET
        await pilot.press("e")
        await pilot.pause()
        merge = app.screen.query_one("#conflict-merge", TextArea)
        assert merge.has_focus and merge.text == "merged start"
        merge.move_cursor(merge.document.end)
        await pilot.press(*" 123e")  # typed into the merge, not taken as choices
        await pilot.pause()
        assert result(app) is UNSET
        await pilot.press("escape")  # back to the choices, the edit kept
        await pilot.pause()
        assert not merge.has_focus and result(app) is UNSET
        await pilot.press("e", "ctrl+s")
        await pilot.pause()
        assert result(app) == "merged start 123e"


async def test_conflict_edit_starts_from_both_without_merge():
    app = Harness(lambda: NoteConflictScreen("A paper", MINE, THEIRS, None))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("e", "ctrl+s")
        await pilot.pause()
        assert result(app) == keep_both(MINE, THEIRS)


async def test_conflict_markup_is_plain_text():
    app = Harness(lambda: NoteConflictScreen(NASTY[0], NASTY[1], NASTY[2], NASTY[3]))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        shown = screen_text(app)
        for nasty in NASTY[:3]:
            assert nasty in shown
        await click_text(pilot, NASTY[0])
        await pilot.press("1")
        await pilot.pause()
        assert result(app) == NASTY[1] and app.actions_run == []
