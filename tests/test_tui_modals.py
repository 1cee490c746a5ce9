"""The reusable dialogs: each pushed on a tiny harness App, driven with keys, result recorded."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, Static, TextArea

from dialog_harness import NASTY, UNSET, Harness, click_text, result, screen_text  # noqa: F401
from tui.screens.confirm import ConfirmDialog
from tui.screens.help import HelpScreen, help_rows
from tui.screens.note_editor import NoteEditor, note_language
from tui.screens.tag_prompt import TagPrompt, matching

# ---- ConfirmDialog ---------------------------------------------------------------------------


@pytest.mark.parametrize("key, expected", [("y", True), ("enter", True), ("n", False),
                                           ("escape", False)])
async def test_confirm_keys(key, expected):
    app = Harness(lambda: ConfirmDialog("Delete 3 papers?"))
    async with app.run_test() as pilot:
        await pilot.pause()
        assert "Delete 3 papers?" in screen_text(app)
        await pilot.press(key)
        await pilot.pause()
        assert result(app) is expected
        assert not isinstance(app.screen, ConfirmDialog)


async def test_confirm_buttons_click():
    app = Harness(lambda: ConfirmDialog("Sure?"))
    async with app.run_test() as pilot:
        await pilot.click("#confirm-no")
        await pilot.pause()
        assert result(app) is False


async def test_confirm_question_is_plain_text():
    question = "Delete " + " ".join(NASTY) + "?"
    app = Harness(lambda: ConfirmDialog(question))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        shown = screen_text(app)
        for nasty in NASTY:
            assert nasty in shown
        await click_text(pilot, "[@click=app.quit]x[/]")
        await click_text(pilot, "[ @click=app.bell]")
        assert app.actions_run == []
        assert isinstance(app.screen, ConfirmDialog)


# ---- HelpScreen ------------------------------------------------------------------------------

ROWS = [("s", "Star or unstar", "star"), ("t", "Add a tag", "tag-add"),
        ("question_mark", "Help", "help"), ("j,down", "Down", "cursor-down"),
        ("ctrl+s", "Save", "note-save")]


@pytest.mark.parametrize("key", ["escape", "q", "question_mark"])
async def test_help_lists_keys_and_closes(key):
    app = Harness(lambda: HelpScreen(ROWS))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        shown = screen_text(app)
        for _, description, binding_id in ROWS:
            assert description in shown and binding_id in shown
        assert "?" in shown and "^s" in shown and ("↓" in shown or "down" in shown)
        await pilot.press(key)
        await pilot.pause()
        assert result(app) is None and not isinstance(app.screen, HelpScreen)


class KeysScreen(Screen):
    BINDINGS = [
        Binding("s", "noop", "Star or unstar", id="star"),
        Binding("t", "noop", "Add a tag", id="tag-add"),
        Binding("x", "noop", "No id: not listed"),
    ]

    def compose(self) -> ComposeResult:
        yield Static("main")

    def action_noop(self) -> None:
        pass


class KeymapApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.results: list = []

    def on_mount(self) -> None:
        self.set_keymap({"star": "ctrl+b"})  # what a user's config.toml [keys] does
        self.push_screen(KeysScreen())


async def test_help_rows_follow_remapped_keys():
    app = KeymapApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        rows = help_rows(app.screen)
        by_id = {binding_id: keys for keys, _, binding_id in rows}
        assert by_id["star"] == "ctrl+b" and by_id["tag-add"] == "t"
        assert all(description != "No id: not listed" for _, description, _ in rows)
        app.push_screen(HelpScreen(rows), app.results.append)
        await pilot.pause()
        shown = screen_text(app)
        star_line = next(line for line in shown.splitlines() if "Star or unstar" in line)
        assert "^b" in star_line and " s " not in star_line
        await pilot.press("escape")
        await pilot.pause()
        app.push_screen(HelpScreen())  # no rows given: those of the screen underneath
        await pilot.pause()
        shown = screen_text(app)
        assert "Star or unstar" in shown and "tag-add" in shown and "No id" not in shown
        star_line = next(line for line in shown.splitlines() if "Star or unstar" in line)
        assert "^b" in star_line


async def test_help_rows_are_plain_text():
    rows = [(NASTY[0], NASTY[1], NASTY[2]), ("k", NASTY[3], "x")]
    app = Harness(lambda: HelpScreen(rows, title=NASTY[4]))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        shown = screen_text(app)
        for nasty in NASTY:
            assert nasty in shown
        await click_text(pilot, "[ @click=app.bell]")
        assert app.actions_run == []


# ---- NoteEditor ------------------------------------------------------------------------------


def test_note_language_is_safe_here():
    assert note_language() in (None, "markdown")


async def test_note_editor_saves_with_ctrl_s():
    app = Harness(lambda: NoteEditor("A paper", "first line"))
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.screen.query_one(TextArea).has_focus
        await pilot.press("enter", *"more", "ctrl+s")
        await pilot.pause()
        assert result(app) == "first line\nmore"


async def test_note_editor_escape_without_changes_just_closes():
    app = Harness(lambda: NoteEditor("A paper", "unchanged"))
    async with app.run_test() as pilot:
        await pilot.press("escape")
        await pilot.pause()
        assert result(app) is None
        assert not isinstance(app.screen, (NoteEditor, ConfirmDialog))


async def test_note_editor_escape_with_changes_asks_first():
    app = Harness(lambda: NoteEditor("A paper", ""))
    async with app.run_test() as pilot:
        await pilot.press(*"draft", "escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        assert "Discard changes" in screen_text(app)
        await pilot.press("n")  # keep editing
        await pilot.pause()
        assert isinstance(app.screen, NoteEditor) and result(app) is UNSET
        assert app.screen.query_one(TextArea).text == "draft"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")  # discard
        await pilot.pause()
        assert result(app) is None and not isinstance(app.screen, NoteEditor)


async def test_note_editor_markup_in_title_and_note():
    note = "\n".join(NASTY)
    app = Harness(lambda: NoteEditor(" ".join(NASTY), note))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        shown = screen_text(app)
        assert " ".join(NASTY) in shown
        for nasty in NASTY:
            assert nasty in shown
        await click_text(pilot, "[@click=app.quit]x[/] [/]")  # in the title line
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert result(app) == note and app.actions_run == []


# ---- TagPrompt -------------------------------------------------------------------------------

TAGS = ["Transformers", "transfer-learning", "vision", "RL", "[bold]"]


def test_matching_prefix_first_then_inside():
    assert matching(TAGS, "trans") == ["Transformers", "transfer-learning"]
    assert matching(TAGS, "sion") == ["vision"]
    assert matching(TAGS, "") == TAGS
    assert matching(TAGS, "r") == ["RL", "Transformers", "transfer-learning"]


async def test_tag_prompt_completes_case_insensitively_with_tab():
    app = Harness(lambda: TagPrompt("Add tag", TAGS))
    async with app.run_test() as pilot:
        await pilot.press(*"vis")
        await pilot.pause()
        await pilot.press("tab")
        await pilot.pause()
        assert app.screen.query_one(Input).value == "vision"
        await pilot.press("enter")
        await pilot.pause()
        assert result(app) == "vision"


async def test_tag_prompt_shows_matches_and_accepts_new_tag():
    app = Harness(lambda: TagPrompt("Add tag", TAGS))
    async with app.run_test() as pilot:
        await pilot.press(*"TRANS")
        await pilot.pause()
        matches = screen_text(app)
        assert "Transformers" in matches and "transfer-learning" in matches
        assert "vision" not in matches
        await pilot.press("tab")  # completes to the first match, as it is spelled
        await pilot.pause()
        assert app.screen.query_one(Input).value == "Transformers"
        app.screen.query_one(Input).value = "  brand new  "
        await pilot.press("enter")
        await pilot.pause()
        assert result(app) == "brand new"


@pytest.mark.parametrize("keys", [["enter"], ["space", "space", "enter"], ["escape"]])
async def test_tag_prompt_empty_or_escape_is_none(keys):
    app = Harness(lambda: TagPrompt("Add tag", TAGS))
    async with app.run_test() as pilot:
        await pilot.press(*keys)
        await pilot.pause()
        assert result(app) is None


async def test_tag_prompt_must_choose():
    app = Harness(lambda: TagPrompt("Remove tag", ["vision", "RL"], must_choose=True))
    async with app.run_test() as pilot:
        await pilot.press(*"nope", "enter")
        await pilot.pause()
        assert result(app) is UNSET and isinstance(app.screen, TagPrompt)
        assert "No tag nope here" in screen_text(app)
        app.screen.query_one(Input).value = "rl"
        await pilot.press("enter")
        await pilot.pause()
        assert result(app) == "RL"  # as spelled in the choices


async def test_tag_prompt_markup_in_tags_and_prompt():
    app = Harness(lambda: TagPrompt(NASTY[0], NASTY[1:], must_choose=True))
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        shown = screen_text(app)
        for nasty in NASTY:
            assert nasty in shown
        await click_text(pilot, "[ @click=app.bell]")
        await click_text(pilot, "[@click=app.quit]x[/]")
        await pilot.press(*"[/]x", "enter")  # not a choice: the error echoes it as text
        await pilot.pause()
        assert "No tag [/]x here" in screen_text(app)
        app.screen.query_one(Input).value = "[BOLD]"
        await pilot.press("enter")
        await pilot.pause()
        assert result(app) == "[bold]" and app.actions_run == []


# ---- snapshots (pytest --snapshot-update after a deliberate change in look) -------------------


class ThemedHarness(Harness):
    def on_mount(self) -> None:
        from tui.themes import load_themes

        for theme in load_themes(None)[0]:
            self.register_theme(theme)
        self.theme = "papershelf-dark"
        super().on_mount()


async def _steady(pilot) -> None:
    for area in pilot.app.screen.query(TextArea):
        area.cursor_blink = False
    await pilot.pause()


def test_snapshot_help(snap_compare):
    app = ThemedHarness(lambda: HelpScreen(ROWS))
    assert snap_compare(app, terminal_size=(80, 24), run_before=_steady)


def test_snapshot_note_editor(snap_compare):
    app = ThemedHarness(lambda: NoteEditor("Attention Is All You Need [@click=app.quit]x[/]",
                                           "# Notes\n\nRead section 3 again. [bold]not bold[/]"))
    assert snap_compare(app, terminal_size=(80, 24), run_before=_steady)
