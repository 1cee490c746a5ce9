"""The main screen, driven by keys through Pilot; assertions on what the widgets show."""

from __future__ import annotations

import tomllib
import time

import pytest
from test_tui_support import PAPERS, make_app, rows, settle, wait_for
from textual.command import CommandList, CommandPalette

from index.config import load_config

SIZE = (120, 36)


def titles(screen) -> list[str]:
    return [screen.results.paper(k).title for k in screen.results.keys]


async def test_launch_lists_papers_newest_first_with_detail(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        shown = rows(screen)
        assert len(shown) == 5
        assert "Quantized Lullabies" in shown[0]  # added last: newest first
        assert "Jan 5" in shown[0] and "unread" in shown[0]
        assert "5 papers" in screen.status.text()
        detail = screen.detail.text()
        assert "Quantized Lullabies: Low-Bit Audio Generation" in detail
        assert "Gia Romano" in detail and "Four-bit weights" in detail
    lib.close()


async def test_search_as_you_type_narrows_and_counts(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.search.typing_pause = 3600  # a slow typist: the word stays unfinished
        await pilot.press("slash", *"quan")
        await settle(pilot, typing=True)
        shown = rows(screen)
        assert {("Quantum" in r) or ("Quantized" in r) for r in shown} == {True}
        assert len(shown) == 2
        assert "2 matches" in screen.status.text()
        await pilot.press(*"tum")
        await settle(pilot, typing=True)
        assert len(rows(screen)) == 1 and "Quantum Annealing" in rows(screen)[0]
        assert "Quantum Annealing" in screen.detail.text()
    lib.close()


async def test_typing_fast_runs_only_the_newest_query(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("slash", *"sheep")  # five keys, no pause between them
        await settle(pilot)
        assert screen.applied_query == "sheep"
        assert [r for r in rows(screen) if "Sheep" in r] == rows(screen)
    lib.close()


async def test_cursor_keys_move_and_update_detail(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        results = screen.results
        await pilot.press("j", "j")
        assert results.cursor == 2
        await wait_for(pilot, lambda: titles(screen)[2] in screen.detail.text())
        await pilot.press("k")
        assert results.cursor == 1
        await pilot.press("G")
        assert results.cursor == 4
        await pilot.press("g")
        assert results.cursor == 0
        await pilot.press("down", "down", "up")
        assert results.cursor == 1
        await pilot.press("pagedown")
        assert results.cursor == 4
        await pilot.press("pageup")
        assert results.cursor == 0
    lib.close()


async def test_star_marks_and_status(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("s")
        await wait_for(pilot, lambda: rows(screen)[0][2] == "★")
        assert lib.get(screen.results.keys[0]).starred
        await pilot.press("s")
        await wait_for(pilot, lambda: rows(screen)[0][2] == " ")
        # space marks (and moves down); actions then apply to the marked set
        await pilot.press("space", "space")
        assert rows(screen)[0][0] == "●" and rows(screen)[1][0] == "●"
        assert "2 marked" in screen.status.text()
        await pilot.press("s")
        await wait_for(pilot, lambda: rows(screen)[1][2] == "★")
        assert rows(screen)[0][2] == "★" and rows(screen)[2][2] == " "
        await pilot.press("r")
        await wait_for(pilot, lambda: "reading" in rows(screen)[0])
        assert "reading" in rows(screen)[1] and "unread" in rows(screen)[2]
        assert [lib.get(k).status for k in screen.results.keys[:3]] == ["reading", "reading", "unread"]
        await pilot.press("escape")  # clears the marks
        assert "●" not in "".join(r[0] for r in rows(screen))
        assert screen.results.cursor == 2  # space moved the cursor down
        await pilot.press("r")  # no marks: the paper under the cursor only
        await wait_for(pilot, lambda: "reading" in rows(screen)[2])
        assert "unread" in rows(screen)[3]
    lib.close()


async def test_quick_filters(tmp_path):
    app, lib = make_app(tmp_path)
    lib.set_star(PAPERS[1].key)
    lib.set_status(PAPERS[3].key, "reading")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("2")
        await settle(pilot)
        assert len(rows(screen)) == 1 and "Gentle Diffusion" in rows(screen)[0]
        assert "filter: starred" in screen.status.text()
        await pilot.press("4")
        await settle(pilot)
        assert len(rows(screen)) == 1 and "Count Sheep" in rows(screen)[0]
        await pilot.press("3")
        await settle(pilot)
        assert len(rows(screen)) == 4
        await pilot.press("slash", *"quant*")
        await settle(pilot)
        assert screen.full_query() == "is:unread quant*"  # the words typed stay last
        assert len(rows(screen)) == 2
        await pilot.press("escape", "1")
        await settle(pilot)
        assert len(rows(screen)) == 2 and "filter" not in screen.status.text()
    lib.close()


async def test_enter_focuses_detail_and_escape_returns(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert app.focused is screen.results
        await pilot.press("enter")
        assert app.focused is screen.detail
        await pilot.press("escape")
        assert app.focused is screen.results
        await pilot.press("slash")
        assert app.focused is screen.query_one("#search")
        await pilot.press("down")
        assert app.focused is screen.results
    lib.close()


async def test_did_you_mean_and_one_key_accepts(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("slash", *"diffusoin")
        await settle(pilot)
        assert rows(screen) == []
        assert "did you mean diffusion? press ctrl+d" in screen.status.text()
        await pilot.press("ctrl+d")
        await settle(pilot)
        assert screen.query_text == "diffusion"
        assert len(rows(screen)) == 1 and "Gentle Diffusion" in rows(screen)[0]
    lib.close()


async def test_malformed_query_shows_error_and_keeps_results(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.query_one("#search").value = "year:abc"  # pasted in one go
        await settle(pilot)
        assert "year:abc is not a year" in screen.status.text()
        assert len(rows(screen)) == 5  # the last good results stay
    lib.close()


async def test_state_restored_on_next_launch(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("1", "slash", *"qua*")
        await settle(pilot)
        await pilot.press("escape", "j")
        selected = app.screen.results.current_key
        await pilot.press("q")
    lib.close()
    saved = tomllib.loads((tmp_path / "data" / "state.toml").read_text())
    assert saved == {"last_query": "qua*", "last_filter": "all", "last_selected": selected}
    assert "last_" not in (tmp_path / "config" / "config.toml").read_text()

    from tui.app import PapershelfApp
    from index.library import Library

    lib = Library.open(tmp_path / "data")
    app = PapershelfApp(lib, load_config(tmp_path / "config"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.query_one("#search").value == "qua*"
        assert screen.results.current_key == selected
        assert lib.get(selected).title in screen.detail.text()
    lib.close()


async def test_welcome_view_for_an_empty_library(tmp_path):
    app, lib = make_app(tmp_path, records=[])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        welcome = screen.query_one("#welcome")
        assert welcome.display and not screen.results.display
        text = welcome.content.plain
        assert "press i to import" in text and "papershelf import FILE" in text
        assert text.index("Press D to fetch today's Daily Papers") < text.index("press i")
    lib.close()


async def test_keymap_from_config_remaps_a_binding(tmp_path):
    app, lib = make_app(tmp_path, config_text='[keys]\nstar = "x"\n')
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        first = screen.results.keys[0]
        await pilot.press("s", "j")  # j moving the cursor shows that s was handled before it
        await wait_for(pilot, lambda: screen.results.current_key != first)
        assert rows(screen)[0][2] != "★" and not lib.get(first).starred
        await pilot.press("k", "x")
        await wait_for(pilot, lambda: rows(screen)[0][2] == "★")
    lib.close()


async def test_theme_from_config_and_palette_choice_saved(tmp_path):
    app, lib = make_app(tmp_path, config_text='[ui]\ntheme = "papershelf-light"\n')
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == "papershelf-light"
        app.theme = "papershelf-solarized"
        await wait_for(pilot, lambda: load_config(tmp_path / "config").get("ui", "theme")
                       == "papershelf-solarized", timeout=5)
    lib.close()


async def test_bad_user_theme_is_reported_once_and_skipped(tmp_path):
    themes = tmp_path / "config" / "themes"
    themes.mkdir(parents=True)
    (themes / "broken.toml").write_text('name = "broken"\nprimary = "not-a-colour"\n')
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        notes = [n.message for n in app._notifications]
        assert len([n for n in notes if "broken.toml" in n]) == 1
        assert "broken" not in app.available_themes
        assert rows(app.screen)  # the app runs on
    lib.close()


async def test_similar_papers_replace_the_results(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        key = screen.results.current_key
        await pilot.press("L")
        await wait_for(pilot, lambda: "similar to" in screen.status.text())
        assert key not in screen.results.keys
        await pilot.press("slash", *"sheep")
        await settle(pilot)
        assert "similar to" not in screen.status.text()
    lib.close()


async def test_copy_citation_key_falls_back_to_osc52(tmp_path, monkeypatch):
    import pyperclip

    def no_clipboard(text):
        raise pyperclip.PyperclipException("no backend")

    monkeypatch.setattr(pyperclip, "copy", no_clipboard)
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        citekey = screen.results.paper(screen.results.current_key).citekey
        await pilot.press("y")
        await wait_for(pilot, lambda: app.clipboard == citekey)
        await wait_for(pilot, lambda: "sent citation key" in screen.status.text())
        assert "to the terminal (OSC 52)" in screen.status.text()
        assert "(terminal (OSC 52))" not in screen.status.text()
        await pilot.press("Y")
        await wait_for(pilot, lambda: app.clipboard.startswith("@"))
        assert citekey in app.clipboard
        await pilot.press("m")
        await wait_for(pilot, lambda: app.clipboard.startswith("[Quantized Lullabies"))
    lib.close()


async def test_open_url_uses_the_browser_in_a_worker(tmp_path, monkeypatch):
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"gardening", "escape", "o")
        # an arXiv id wins over the paper's own page (tests/test_links.py has the rest)
        await wait_for(pilot, lambda: opened == ["https://arxiv.org/abs/2401.00003"])
    lib.close()


async def test_tag_change_becomes_searchable_after_flush(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        key = screen.results.current_key
        screen.change([key], lambda l, keys: l.add_tag(keys[0], "bedtime"), "tagged",
                      searchable=True)
        await wait_for(pilot, lambda: "#bedtime" in rows(screen)[0])
        await wait_for(pilot, lambda: not lib.stats()["pending_index_updates"], timeout=10)
        await pilot.press("slash", *"bedtime")
        await settle(pilot)
        assert len(rows(screen)) == 1 and "Quantized Lullabies" in rows(screen)[0]
    lib.close()


async def test_import_runs_in_a_worker_and_leaves_the_welcome(tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text("@article{moss2020,\n  title = {Mosses Remember Rain},\n"
                   "  author = {Hale, Iris},\n  year = {2020}\n}\n", encoding="utf-8")
    app, lib = make_app(tmp_path, records=[])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.query_one("#welcome").display
        screen.importing = True
        screen.import_worker([bib])
        await wait_for(pilot, lambda: "imported: added 1" in screen.status.text())
        await settle(pilot)
        assert not screen.query_one("#welcome").display
        assert "Mosses Remember Rain" in rows(screen)[0]
        assert not screen.query_one("#status-progress").display
    lib.close()


async def test_command_palette_offers_and_runs_actions(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Star")
        offered = app.screen.query_one(CommandList)

        def best_offer() -> str:
            if offered.highlighted is None:
                return ""
            return str(offered.get_option_at_index(offered.highlighted).prompt)

        await wait_for(pilot, lambda: best_offer().startswith("Star"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: rows(screen)[0][2] == "★")
    lib.close()


@pytest.mark.parametrize("width", [60, 80, 120, 200])  # below 60: "too small" (test_tui_80x24)
async def test_rows_fit_any_width(tmp_path, width):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=(width, 20)) as pilot:
        await settle(pilot)
        results = app.screen.results
        for y in range(5):
            assert results.render_line(y).cell_length == results.scrollable_content_region.width
    lib.close()


async def test_a_star_that_cannot_be_saved_is_put_back(tmp_path, monkeypatch):
    from index.library import Library
    from index.model import PapershelfError

    def refuse(self, keys, starred):
        time.sleep(0.5)  # a slow store: the row shows the star before the write is refused
        raise PapershelfError("the data directory is read-only; nothing was changed")

    monkeypatch.setattr(Library, "set_star_many", refuse)
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("s")
        assert rows(screen)[0][2] == "★"  # shown at once ...
        await wait_for(pilot, lambda: "read-only" in screen.status.text())
        await wait_for(pilot, lambda: rows(screen)[0][2] == " ")  # ... and put back
        assert not lib.get(screen.results.keys[0]).starred
    lib.close()


async def test_moving_past_the_first_ranked_hits_fetches_the_rest(tmp_path, monkeypatch):
    """A text search shows its best SEARCH_CAP hits at once; nearing their end (here with G)
    brings in every other hit, with the cursor kept where it was."""
    from index.model import PaperRecord
    from tui import search_controller
    from tui.screens import main as main_screen

    monkeypatch.setattr(search_controller, "SEARCH_CAP", 30)
    monkeypatch.setattr(main_screen, "MORE_WITHIN", 5)
    records = [PaperRecord(title=f"Heron Migration Study Number {i}", arxiv_id=f"2402.{i:05d}",
                           abstract="Herons fly south.", source="test:h") for i in range(45)]
    app, lib = make_app(tmp_path, records + PAPERS)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("slash", *"heron", "enter")
        await settle(pilot)
        assert len(screen.results.keys) == 30
        assert "30 of 45 matches" in screen.status.text()
        await pilot.press("G")
        at = screen.results.current_key
        await wait_for(pilot, lambda: len(screen.results.keys) == 45)
        await settle(pilot)
        assert "45 matches" in screen.status.text() and " of " not in screen.status.text()
        assert screen.results.current_key == at
        assert len(set(screen.results.keys)) == 45
    lib.close()
