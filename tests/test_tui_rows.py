"""Issue 14: the selected row keeps its background on highlighted match words."""

from __future__ import annotations

from test_tui_support import make_app, settle


async def test_selected_row_background_covers_match_words(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"quant*", "escape")
        await settle(pilot)
        results = app.screen.results
        cursor = results.get_component_rich_style("results-list--cursor")
        match = results.get_component_rich_style("results-list--match")
        selected = list(results.render_line(0))
        other = list(results.render_line(1))
        word = next(s for s in selected if s.text.startswith("Quantiz"))
        assert word.style.bgcolor == cursor.bgcolor  # the row's background...
        assert word.style.color == match.color and word.style.bold  # ...and the highlight
        rest = next(s for s in selected if "Lullabies" in s.text)
        assert rest.style.bgcolor == cursor.bgcolor
        status = next(s for s in selected if "unread" in s.text)
        assert status.style.bgcolor == cursor.bgcolor
        unselected = next(s for s in other if s.text.startswith("Quantum"))
        assert unselected.style.bgcolor != cursor.bgcolor
        assert unselected.style.color == match.color
    lib.close()
