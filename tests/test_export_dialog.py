"""ExportDialog driven with Pilot in a tiny harness app."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Input, RadioButton

from tui.screens.export_dialog import ExportDialog, ExportRequest, ExportScope

HOSTILE_TAG = "[@click=app.quit]x[/]"


class Harness(App):
    def __init__(self, dialog: ExportDialog):
        super().__init__()
        self.dialog = dialog
        self.results: list[ExportRequest | None] = []

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.results.append)


def _scopes():
    return [ExportScope("marked", 3), ExportScope("results", 0), ExportScope("starred", 5),
            ExportScope("tag", 2, tag=HOSTILE_TAG), ExportScope("all", 40)]


async def test_defaults_export_bibtex_of_the_first_scope(tmp_path):
    app = Harness(ExportDialog(_scopes(), directory=tmp_path))
    async with app.run_test(size=(100, 50)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
    (request,) = app.results
    assert request.format == "bibtex" and request.scope.kind == "marked"
    assert request.path == tmp_path / "papershelf.bib"
    assert request.with_notes is False


async def test_choose_markdown_tag_scope_and_path(tmp_path):
    app = Harness(ExportDialog(_scopes(), directory=tmp_path))
    async with app.run_test(size=(100, 50)) as pilot:
        await pilot.pause()
        dialog = app.screen
        # Empty scopes are not offered: marked, starred, tag, all.
        assert len(dialog.query("#export-scope RadioButton")) == 4
        tag_button = dialog.query_one("#scope-2", RadioButton)
        assert HOSTILE_TAG in tag_button.label.plain  # shown literally, never as markup
        await pilot.press("down", "enter")  # format: markdown
        assert dialog.query_one("#export-path", Input).value.endswith("papershelf.md")
        await pilot.press("tab", "down", "down", "enter")  # scope: the tag
        await pilot.press("tab", "enter")  # include notes
        await pilot.press("tab", "enter")  # group by tag
        await pilot.press("tab")
        path_input = dialog.query_one("#export-path", Input)
        assert path_input.has_focus
        path_input.value = ""
        await pilot.press(*"list.md")
        await pilot.press("enter")
        await pilot.pause()
    (request,) = app.results
    assert request.format == "markdown"
    assert request.scope == ExportScope("tag", 2, tag=HOSTILE_TAG)
    assert request.with_notes is True and request.group_by == "tag"
    assert request.path == tmp_path / "list.md"


async def test_escape_cancels(tmp_path):
    app = Harness(ExportDialog(_scopes(), directory=tmp_path))
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]


async def test_empty_path_and_folder_are_refused(tmp_path):
    app = Harness(ExportDialog(_scopes(), directory=tmp_path))
    async with app.run_test(size=(100, 50)) as pilot:
        await pilot.pause()
        dialog = app.screen
        dialog.query_one("#export-path", Input).value = ""
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.results == [] and app.screen is dialog
        assert "Give a file" in str(dialog.query_one("#export-error").render())
        dialog.query_one("#export-path", Input).value = str(tmp_path)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.results == [] and app.screen is dialog
        await pilot.press("escape")
    assert app.results == [None]


async def test_obsidian_takes_a_folder(tmp_path):
    app = Harness(ExportDialog(_scopes(), directory=tmp_path, initial_format="obsidian",
                               initial_scope="all"))
    async with app.run_test(size=(100, 50)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
    (request,) = app.results
    assert request.format == "obsidian" and request.scope.kind == "all"
    assert request.path == tmp_path / "papershelf"


def test_bindings_have_ids():
    assert all(b.id for b in ExportDialog.BINDINGS)
