"""Keys that open a dialog: tag, untag, note, help, import, export (the dialogs are driven
by their own keys here; their own behaviour is tested in test_tui_modals.py)."""

from __future__ import annotations

from test_tui_support import make_app, rows, settle, wait_for

from tui.screens.export_dialog import ExportDialog
from tui.screens.help import HelpScreen
from tui.screens.import_screen import ImportScreen
from tui.screens.note_editor import NoteEditor
from tui.screens.tag_prompt import TagPrompt

SIZE = (120, 36)


async def test_t_adds_a_tag_and_T_removes_it(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("t")
        assert isinstance(app.screen, TagPrompt)
        await pilot.press(*"sleep", "enter")
        await wait_for(pilot, lambda: "#sleep" in rows(screen)[0])
        await wait_for(pilot, lambda: "sleep" in screen.detail.text())
        await pilot.press("T")
        assert isinstance(app.screen, TagPrompt)
        await pilot.press(*"sleep", "enter")
        await wait_for(pilot, lambda: "#sleep" not in rows(screen)[0])
        assert lib.get(screen.results.current_key).tags == []
    lib.close()


async def test_tag_applies_to_every_marked_paper(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("space", "j", "space", "t", *"later", "enter")
        await wait_for(pilot, lambda: "#later" in rows(screen)[2])
        assert "#later" in rows(screen)[0] and "#later" not in rows(screen)[1]
    lib.close()


async def test_n_edits_the_note_and_detail_renders_it(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("n")  # the note is read in a worker: the editor opens when it is
        await wait_for(pilot, lambda: isinstance(app.screen, NoteEditor))
        await pilot.press(*"Read **twice**", "ctrl+s")
        key = screen.results.current_key
        await wait_for(pilot, lambda: lib.get(key).note == "Read **twice**")
        await wait_for(pilot, lambda: "Read **twice**" in screen.detail.text())
        note = screen.query_one("#detail-note")
        assert note.display
    lib.close()


async def test_question_mark_opens_help_listing_the_keys(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        await wait_for(pilot, lambda: help_screen.query("#help-keys"))
        shown = str(help_screen.query_one("#help-keys").render())
        listed = {line.split()[-1] for line in shown.splitlines()}
        assert {"star", "tag-add", "status-cycle"} <= listed, shown
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))
    lib.close()


async def test_i_imports_a_file_with_progress_and_shows_it(tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text("@article{moss2020,\n  title = {Mosses Remember Rain},\n"
                   "  author = {Hale, Iris},\n  year = {2020}\n}\n", encoding="utf-8")
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("i")
        assert isinstance(app.screen, ImportScreen)
        app.screen.query_one("#import-path").value = str(bib)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "imported: added 1" in screen.status.text())
        await settle(pilot)
        assert "Mosses Remember Rain" in rows(screen)[0]
    lib.close()


async def test_e_exports_the_results_in_a_worker(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("e")
        assert isinstance(app.screen, ExportDialog)
        target = tmp_path / "out.bib"
        app.screen.query_one("#export-path").value = str(target)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: target.exists() and "wrote" in screen.status.text())
        assert target.read_text().count("@") == 5
    lib.close()


async def test_n_on_a_sync_note_conflict_opens_the_conflict_screen(tmp_path):
    from index import sync
    from index.library import Library
    from tui.screens.note_conflict import NoteConflictScreen

    folder = tmp_path / "Sync"
    folder.mkdir()
    app, lib = make_app(tmp_path)
    other = Library.open(tmp_path / "other")

    def exchange():
        for device in (lib, other, lib):
            sync.sync_now(device, folder)

    key = lib.search("", limit=1).keys[0]
    exchange()
    lib.set_note(key, "mine\n")
    other.set_note(key, "theirs\n")
    exchange()
    assert [c.key for c in sync.pending_conflicts(lib)] == [key]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.results.current_key == key
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, NoteConflictScreen))
        await pilot.press("1")  # keep mine
        await wait_for(pilot, lambda: not sync.pending_conflicts(lib))
        await wait_for(pilot, lambda: "mine" in screen.detail.text())
    other.close()
    lib.close()
