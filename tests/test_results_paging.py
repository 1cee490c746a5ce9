"""ResultsList reads its pages off the UI thread: a row whose page has not arrived is a
placeholder, and the loader is never called from render_line."""

from __future__ import annotations

import threading

from textual.app import App, ComposeResult

from index.model import Paper
from test_tui_support import wait_for
from tui.widgets.results_list import PAGE, ResultsList

KEYS = [f"k{i:05d}" for i in range(10_000)]


class Loader:
    """Papers invented from their keys; records the threads it was called on."""

    def __init__(self) -> None:
        self.threads: list[str] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, keys: list[str]) -> list[Paper]:
        self.threads.append(threading.current_thread().name)
        self.gate.wait(10)
        return [Paper(key=k, title=f"Paper {k}") for k in keys if k in KEYS_SET]


KEYS_SET = set(KEYS)


class ListApp(App):
    def __init__(self, loader: Loader) -> None:
        super().__init__()
        self.loader = loader

    def compose(self) -> ComposeResult:
        yield ResultsList(self.loader, id="results")


def shown(results: ResultsList) -> list[str]:
    height = results.scrollable_content_region.height
    return [results.render_line(y).text.strip() for y in range(height)]


async def test_rows_are_placeholders_until_their_page_arrives_from_a_worker():
    loader = Loader()
    loader.gate.clear()  # the page worker waits: what is drawn meanwhile?
    app = ListApp(loader)
    async with app.run_test(size=(80, 24)) as pilot:
        results = app.query_one(ResultsList)
        results.set_results(KEYS)
        await pilot.pause()
        assert shown(results)[0] == "…" and not results.rows_ready()
        loader.gate.set()
        await wait_for(pilot, results.rows_ready)
        assert "Paper k00000" in shown(results)[0]
        assert threading.main_thread().name not in loader.threads  # never on the UI thread


async def test_scrolling_far_shows_rows_once_their_pages_arrive():
    loader = Loader()
    app = ListApp(loader)
    async with app.run_test(size=(80, 24)) as pilot:
        results = app.query_one(ResultsList)
        results.set_results(KEYS)
        await wait_for(pilot, results.rows_ready)
        await pilot.press("G")
        await wait_for(pilot, results.rows_ready)
        assert "Paper k09999" in shown(results)[-1]
        results.move_to(5 * PAGE + 3)
        await wait_for(pilot, results.rows_ready)
        assert any(f"Paper k{5 * PAGE + 3:05d}" in row for row in shown(results))
        assert threading.main_thread().name not in loader.threads


async def test_a_key_the_store_no_longer_has_is_a_blank_row_not_a_reload_loop():
    loader = Loader()
    app = ListApp(loader)
    async with app.run_test(size=(80, 24)) as pilot:
        results = app.query_one(ResultsList)
        results.set_results(["gone", *KEYS[:5]])
        await wait_for(pilot, results.rows_ready)
        calls = len(loader.threads)
        assert shown(results)[0] == "" and "Paper k00000" in shown(results)[1]
        await pilot.pause()
        shown(results)
        await pilot.pause()
        assert len(loader.threads) == calls
