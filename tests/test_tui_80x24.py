"""Issue 14: every dialog is usable at 80x24: buttons on screen, each field reachable with tab
and scrolled into view; the footer keeps q Quit and ? Help; too small a terminal is said."""

from __future__ import annotations

import pytest
from test_tui_support import make_app, settle, wait_for
from textual.widgets import Button, TextArea

from tui.screens.confirm import ConfirmDialog
from tui.screens.export_dialog import ExportDialog
from tui.screens.help import HelpScreen
from tui.screens.import_screen import ImportScreen
from tui.screens.note_conflict import NoteConflictScreen
from tui.screens.note_editor import NoteEditor
from tui.screens.sync_folder import SyncFolderPrompt
from tui.screens.tag_prompt import TagPrompt
from tui.screens.too_small import TooSmallScreen

SMALL = (80, 24)


def screen_text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def assert_visible(screen, widget) -> None:
    """Inside the terminal and not covered or clipped: the widget is what shows at its middle."""
    region = widget.region
    assert region.area > 0, f"{widget} has no room"
    assert screen.region.contains_region(region), f"{widget} at {region} is off screen"
    shown, _ = screen.get_widget_at(region.x + region.width // 2, region.y + region.height // 2)
    assert shown is widget or widget in shown.ancestors, f"{widget} is covered by {shown}"


async def assert_every_field_reachable(pilot, screen, limit: int = 30) -> list:
    """Tab through the dialog: each focused widget is scrolled into view. Returns them."""
    seen = []
    for _ in range(limit):
        focused = pilot.app.focused
        if focused in seen:
            break
        seen.append(focused)
        await pilot.pause()
        assert_visible(screen, focused)
        await pilot.press("tab")
        await pilot.pause()
    return seen


async def open_dialog(pilot, keys, kind):
    await settle(pilot)
    await pilot.press(*keys)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, kind))
    await pilot.pause(0.1)
    return pilot.app.screen


async def test_export_dialog_at_80x24_scrolls_to_each_field_and_keeps_its_buttons(tmp_path):
    app, lib = make_app(tmp_path)
    lib.add_tags(lib.search("", limit=1).keys[0], ["sheep"])
    async with app.run_test(size=SMALL) as pilot:
        dialog = await open_dialog(pilot, ["e"], ExportDialog)
        for button in dialog.query(Button):
            assert_visible(dialog, button)
        reached = {w.id for w in await assert_every_field_reachable(pilot, dialog)}
        assert {"export-format", "export-scope", "export-tag", "export-notes", "export-by-tag",
                "export-path", "export-cancel", "export-ok"} <= reached
        for button in dialog.query(Button):  # still there after scrolling to the end
            assert_visible(dialog, button)
    lib.close()


async def test_export_buttons_keep_their_height_at_140x40(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        dialog = await open_dialog(pilot, ["e"], ExportDialog)
        for button in dialog.query(Button):
            assert_visible(dialog, button)
            assert button.region.height == 3  # a squeezed button is one border row
        assert "Export" in screen_text(app) and "Cancel" in screen_text(app)
    lib.close()


@pytest.mark.parametrize("keys, kind", [(["i"], ImportScreen), (["t"], TagPrompt),
                                        (["question_mark"], HelpScreen), (["n"], NoteEditor),
                                        (["S"], SyncFolderPrompt)])
async def test_dialogs_fit_80x24(tmp_path, keys, kind):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        dialog = await open_dialog(pilot, keys, kind)
        frame = dialog.children[0]
        assert dialog.region.contains_region(frame.region)
        await assert_every_field_reachable(pilot, dialog)
        for hint in dialog.query(".dialog-hint, #note-hint"):
            assert_visible(dialog, hint)
    lib.close()


async def test_help_shows_its_last_line_at_140x40_and_80x24(tmp_path):
    for size in [(140, 40), SMALL]:
        app, lib = make_app(tmp_path / f"{size[0]}")
        async with app.run_test(size=size) as pilot:
            dialog = await open_dialog(pilot, ["question_mark"], HelpScreen)
            assert_visible(dialog, dialog.query_one("#help-hint"))
            assert "escape closes." in screen_text(app)
        lib.close()


async def test_confirm_dialog_with_a_long_question_keeps_its_buttons(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        answers = []
        app.push_screen(ConfirmDialog("Discard these changes? " * 40), answers.append)
        await pilot.pause(0.1)
        for button in app.screen.query(Button):
            assert_visible(app.screen, button)
        await pilot.press("n")
        assert answers == [False]
    lib.close()


async def test_note_editor_and_its_discard_question_at_80x24(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        editor = await open_dialog(pilot, ["n"], NoteEditor)
        await pilot.press(*"draft", "escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        for button in app.screen.query(Button):
            assert_visible(app.screen, button)
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is editor)
        assert_visible(editor, editor.query_one("#note-hint"))
    lib.close()


async def test_conflict_view_at_80x24_in_both_modes(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        mine, theirs = "mine\n" * 40, "theirs\n" * 40
        app.push_screen(NoteConflictScreen("A Paper", mine, theirs))
        await pilot.pause(0.1)
        view = app.screen
        for area in view.query(TextArea).filter("#conflict-local, #conflict-remote"):
            assert_visible(view, area)
        assert_visible(view, view.query_one("#conflict-hint"))
        await pilot.press("e")
        await pilot.pause(0.1)
        assert_visible(view, view.query_one("#conflict-merge"))
        assert_visible(view, view.query_one("#conflict-hint"))
    lib.close()


async def test_footer_keeps_quit_and_help_at_80_columns(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.pause(0.2)
        footer = screen_text(app).splitlines()[-1]
        assert "q Quit" in footer and "? Help" in footer
        assert "s Star" in footer  # the first keys stay too; the later ones gave way
    lib.close()


async def test_status_line_ends_a_cut_message_with_an_ellipsis(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        app.screen.status.set(message="wrote 2 papers as bibtex to /home/someone/a/long/"
                                      "folder/name/that/goes/on/and/on/refs.bib")
        await pilot.pause(0.1)
        status = screen_text(app).splitlines()[-2]
        assert status.rstrip().endswith("…")
    lib.close()


async def test_too_small_terminal_says_so_and_recovers(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=(40, 10)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TooSmallScreen))
        text = " ".join(screen_text(app).split())
        assert "needs at least 60x15" in text and "40x10" in text
        await pilot.resize_terminal(100, 30)
        await wait_for(pilot, lambda: not isinstance(app.screen, TooSmallScreen))
        await settle(pilot)
        assert "Quantized Lullabies" in screen_text(app)
    lib.close()
