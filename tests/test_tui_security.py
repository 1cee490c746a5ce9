"""Untrusted text with markup-like content is shown literally, runs no action, never crashes."""

from __future__ import annotations

import pytest
from test_tui_support import make_app, rows, settle, wait_for

from index.model import PaperRecord
from tui.screens.tag_prompt import TagPrompt

NASTY = ["[bold]", "[@click=app.quit]x[/]", "[/]", "[Re]", "[ @click=app.bell]"]


def nasty_records() -> list[PaperRecord]:
    return [
        PaperRecord(title=f"{text} Title {i}", arxiv_id=f"2402.0000{i}",
                    abstract=f"Abstract with {text} inside and [link](javascript:alert) too.",
                    authors=[f"{text} Author"], listing_date="[/]", source=f"test:{text}",
                    links=[f"https://example.org/{text}"], tags=[f"tag{text}"])
        for i, text in enumerate(NASTY)
    ]


# One case a paper: clicking over each takes a while, and the cases run in parallel.
@pytest.mark.parametrize("index", range(len(NASTY)))
async def test_markup_like_text_is_literal_and_inert(tmp_path, monkeypatch, index):
    app, lib = make_app(tmp_path, nasty_records())
    for i, text in enumerate(NASTY):
        lib.set_note(f"arxiv:2402.0000{i}",
                     f"{text} note [@click=app.quit]quit[/] and [md link](app.quit)")
    actions: list[str] = []
    monkeypatch.setattr(type(app), "bell", lambda self: actions.append("bell"))
    opened: list[str] = []
    monkeypatch.setattr(type(app), "open_url", lambda self, url, **kw: opened.append(url))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        shown = "\n".join(rows(screen))
        for text in NASTY:
            assert f"{text} Title" in shown
        screen.results.move_to(index)
        key = screen.results.current_key
        await wait_for(pilot, lambda: screen.detail.paper and screen.detail.paper.key == key)
        paper = screen.detail.paper
        detail = screen.detail.text()
        assert paper.title in detail and paper.abstract in detail
        assert paper.note in detail
        # click on the row, the title, the abstract and the note
        for y in range(len(NASTY)):
            await pilot.click(screen.results, offset=(10, y))
        for target in ("#detail-title", "#detail-facts", "#detail-abstract", "#detail-note"):
            widget = screen.query_one(target)
            for x in range(0, 40, 4):
                await pilot.click(widget, offset=(x, 0))
        await pilot.pause()
        assert app.is_running
        await wait_for(pilot, lambda: app.is_running)
        assert actions == []
        assert opened == []  # a Markdown link to "app.quit" is not an http(s) link
        assert app.return_code is None
    lib.close()


async def test_markup_like_query_and_tags_in_status_and_prompts(tmp_path):
    app, lib = make_app(tmp_path, nasty_records())
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        for text in NASTY:
            screen.query_one("#search").value = text
            await settle(pilot)
            assert app.is_running
        await pilot.press("escape", "t", *"[/]", "enter")
        await wait_for(pilot, lambda: "[/]" in lib.get(screen.results.current_key).tags)
        await pilot.press("T")  # the untag prompt offers the paper's tags, "[/]" among them
        await wait_for(pilot, lambda: isinstance(app.screen, TagPrompt))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, TagPrompt))
        assert app.is_running
    lib.close()
