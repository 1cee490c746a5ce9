"""Issue 14: what the app says and where it leaves you: did-you-mean, quick filters, quitting
during an import, the sync folder prompt."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from test_tui_support import make_app, rows, settle, wait_for

from tui.widgets.search_bar import SearchBar

SIZE = (100, 30)


async def test_ctrl_d_leaves_the_cursor_at_the_end(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("slash", *"diffusoin", "home")
        await settle(pilot)
        assert "did you mean diffusion?" in screen.status.text()
        bar = screen.query_one(SearchBar)
        assert bar.cursor_position == 0
        await pilot.press("ctrl+d")
        await settle(pilot)
        assert bar.value == "diffusion" and bar.cursor_position == len("diffusion")
        await pilot.press(*" pix")
        assert bar.value == "diffusion pix"
    lib.close()


async def test_a_quick_filter_says_what_it_hides(tmp_path):
    app, lib = make_app(tmp_path)
    for paper in lib.get_many(lib.search("", limit=None).keys):
        if paper.title.startswith("Quant"):
            lib.set_status(paper.key, "read")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("3", "slash", *"quant*")  # unread only: both quant papers are read
        await settle(pilot)
        assert rows(screen) == []
        await wait_for(pilot, lambda: "0 of 2 matches: the unread filter hides them; 1 shows all"
                       in screen.status.text())
        await pilot.press("escape", "1")
        await settle(pilot)
        assert len(rows(screen)) == 2 and "hides" not in screen.status.text()
        await pilot.press("2")  # starred: none; the hint follows the filter
        await settle(pilot)
        await wait_for(pilot, lambda: "the starred filter hides them" in screen.status.text())
    lib.close()


async def test_quitting_during_an_import_says_it_is_finishing(tmp_path, monkeypatch):
    import threading

    from index.library import Library

    release = threading.Event()
    started = threading.Event()
    real_import = Library.import_files

    def slow_import(self, paths, **kwargs):
        started.set()
        release.wait(10)
        return real_import(self, paths, **kwargs)

    monkeypatch.setattr(Library, "import_files", slow_import)
    page = tmp_path / "page.bib"
    page.write_text("@article{k1, title={Counting Clouds with Small Models}, year={2024}}\n")
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await pilot.pause()
        app.screen.query_one("#import-path").value = str(page)
        await pilot.press("enter")
        await wait_for(pilot, started.is_set)
        await pilot.press("q")
        await wait_for(pilot, lambda: any("Finishing the import before quitting" in n.message
                                          for n in app._notifications))
        assert app.is_running and app.return_code is None
        release.set()
        await wait_for(pilot, lambda: not app.is_running)
    titles = [p.title for p in lib.get_many(lib.search("", limit=None).keys)]
    assert "Counting Clouds with Small Models" in titles  # the import was finished, not dropped
    lib.close()


@pytest.fixture
def short_dir():
    """A folder with a short path (in /tmp) for paths typed key by key: each key press costs
    Pilot an idle wait, and a pytest tmp_path is some 80 keys long."""
    path = Path(tempfile.mkdtemp(prefix="ps-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def test_S_without_a_folder_asks_for_one_and_remembers_it(tmp_path, short_dir):
    import tomllib

    from tui.screens.sync_folder import SyncFolderPrompt

    shared = short_dir / "Shared Sync"
    shared.mkdir()
    app, lib = make_app(tmp_path, config_text="[ui]\ndebounce_ms = 100\n")
    config_path = tmp_path / "config" / "config.toml"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, SyncFolderPrompt))
        prompt_input = app.screen.query_one("#sync-folder")
        prompt_input.value = ""
        await pilot.press(*str(short_dir / "nothing-here"), "enter")
        await pilot.pause()
        assert "No such folder" in app.screen.query_one("#sync-error").content.plain
        prompt_input.value = ""
        await pilot.press(*str(short_dir / "Sha"))
        await wait_for(pilot, lambda: getattr(prompt_input, "_suggestion", "")
                       == str(shared) + "/")
        await pilot.press("tab", "enter")  # completion, then sync
        await wait_for(pilot, lambda: "synced" in app.screen_stack[0].status.text())
        assert app.sync_folder == str(shared.resolve())
    saved = tomllib.loads(config_path.read_text(encoding="utf-8"))
    assert saved["sync"]["folder"] == str(shared.resolve())  # what `papershelf sync` saves
    assert saved["ui"]["debounce_ms"] == 100  # the rest of the user's file is kept
    assert (shared / "papershelf" / "FORMAT").exists()
    lib.close()


async def test_import_dialog_reads_subfolders_when_ticked(tmp_path):
    from textual.widgets import Checkbox

    from tui.screens.import_screen import ImportScreen

    folder = tmp_path / "drop"
    (folder / "older").mkdir(parents=True)
    (folder / "top.bib").write_text("@article{t1, title={Top Level Tiny Study}, year={2024}}\n")
    (folder / "older" / "deep.bib").write_text(
        "@article{d1, title={Deeply Nested Tiny Study}, year={2023}}\n")
    app, lib = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, ImportScreen))
        app.screen.query_one("#import-path").value = str(folder)
        app.screen.query_one("#import-recursive", Checkbox).value = True
        app.screen.query_one("#import-path").focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: "imported: added 2" in app.screen.status.text())
    titles = {p.title for p in lib.get_many(lib.search("", limit=None).keys)}
    assert {"Top Level Tiny Study", "Deeply Nested Tiny Study"} <= titles
    lib.close()


async def test_export_tag_picker_completes_and_exports_that_tag(tmp_path, monkeypatch):
    from tui.screens.export_dialog import ExportDialog

    app, lib = make_app(tmp_path)
    keys = lib.search("", limit=None).keys
    lib.add_tags(keys[0], ["sheep"])
    lib.add_tags(keys[1], ["lullaby"])
    lib.add_tags(keys[2], ["lullaby"])
    monkeypatch.chdir(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog))
        dialog = app.screen
        tag_input = dialog.query_one("#export-tag")
        tag_input.focus()
        tag_input.value = ""
        await pilot.press(*"lul")
        await wait_for(pilot, lambda: getattr(tag_input, "_suggestion", "") == "lullaby")
        await pilot.press("tab")  # accepts the completion
        await pilot.pause()
        assert tag_input.value == "lullaby"
        chosen = dialog.scopes[dialog.scope_index]
        assert (chosen.kind, chosen.tag, chosen.count) == ("tag", "lullaby", 2)
        assert "Tag: lullaby (2 papers)" in str(dialog.query_one(f"#scope-{dialog.scope_index}")
                                               .label)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "wrote 2 papers" in app.screen.status.text())
    assert (tmp_path / "papershelf.bib").read_text().count("@") == 2
    lib.close()


async def test_the_progress_names_the_indexing_phase(tmp_path):
    from tui.messages import ImportProgress

    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.post_message(ImportProgress(200, 1000))
        await wait_for(pilot, lambda: "importing 200/1,000" in screen.status.text())
        screen.post_message(ImportProgress(1000, 1000))  # stored: the index update follows
        await wait_for(pilot, lambda: "indexing the imported papers…" in screen.status.text())
        screen.status.progress_done()
    lib.close()
