"""Issue 14: what the app says and where it leaves you: did-you-mean, quick filters, quitting
during an import, the sync folder prompt."""

from __future__ import annotations

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
        await pilot.press("3", "slash", *"quant")  # unread only: both quant papers are read
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
