"""Shared helpers for the TUI tests: a small invented library and ways to wait for the app."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from index.config import load_config
from index.library import Library
from index.model import PaperRecord

PAPERS = [
    PaperRecord(title="Quantum Annealing for Sparse Graph Partitioning", arxiv_id="2401.00001",
                abstract="We anneal sparse graphs with a quantum device and compare partitions.",
                authors=["Ada Marsh", "Ben Okafor"], listing_date="Jan 3", source="test:a"),
    PaperRecord(title="Gentle Diffusion Models for Pixel Art", arxiv_id="2401.00002",
                abstract="Diffusion models that respect the pixel grid of small sprites.",
                authors=["Cora Lind"], year=2024, source="test:a"),
    PaperRecord(title="Retrieval Augmented Gardening Assistants", arxiv_id="2401.00003",
                abstract="An assistant that retrieves plant care notes before it answers.",
                authors=["Dev Patel", "Eve Moreau"], listing_date="Jan 4", source="test:a",
                url="https://example.org/garden"),
    PaperRecord(title="Transformers That Count Sheep", arxiv_id="2401.00004",
                abstract="Counting with attention, one sheep at a time, until sleep.",
                authors=["Finn Alder"], year=2023, source="test:b"),
    PaperRecord(title="Quantized Lullabies: Low-Bit Audio Generation", arxiv_id="2401.00005",
                abstract="Four-bit weights still sing lullabies; we measure how well.",
                authors=["Gia Romano"], listing_date="Jan 5", source="test:b"),
]


def make_library(tmp_path: Path, records=None) -> Library:
    lib = Library.open(tmp_path / "data")
    if records is None:
        records = PAPERS
    if records:
        lib.add(list(records))
    return lib


def make_app(tmp_path: Path, records=None, config_text: str | None = None):
    from tui.app import PapershelfApp

    lib = make_library(tmp_path, records)
    config_dir = tmp_path / "config"
    if config_text is not None:
        config_dir.mkdir(parents=True, exist_ok=True)
        (config_dir / "config.toml").write_text(config_text, encoding="utf-8")
    return PapershelfApp(lib, load_config(config_dir)), lib


async def settle(pilot, timeout: float = 10.0, *, typing: bool = False) -> None:
    """Until the main screen shows the results of its current query, every row in view has
    its paper and no job is running: the finished query (typing paused), or with `typing`
    the as-you-type one."""
    screen = pilot.app.screen_stack[0]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await pilot.pause()
        busy = [w for w in pilot.app.workers if not w.is_finished]
        if screen.idle and not busy and (typing or screen.search.pause_timer is None):
            await pilot.pause()
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"search for {screen.full_query()!r} did not finish")


async def wait_for(pilot, condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await pilot.pause()
        if condition():
            return
        await asyncio.sleep(0.01)
    status = getattr(pilot.app.screen_stack[0], "status", None)
    shown = f"; the status line shows: {status.text()!r}" if status is not None else ""
    raise AssertionError(f"condition not met in {timeout:g} s{shown}")


async def for_you_shows_the_saved_ranking(pilot, expected: list[str], words) -> None:
    """`5` in a launched app: the list is `expected`, shown from the ranking a process saved
    (the app's own ranking state never ranked), and the detail pane says why, naming one of
    `words`."""
    app = pilot.app
    screen = app.screen
    await settle(pilot)
    await pilot.press("5")
    await settle(pilot)
    assert screen.results.keys == expected
    assert app.with_index(lambda index_lib: index_lib._for_you.ranking) is None
    await wait_for(pilot, lambda: "For you" in screen.detail.text())
    assert any(word in screen.detail.text() for word in words)


async def handled(pilot, pump) -> None:
    """Until `pump` (a screen or widget) has handled every message posted to it so far, those
    posted from worker threads included: what a negative assertion waits for."""
    done: list[bool] = []
    await pilot.pause()  # messages a thread posted reach the queue on the loop's next turn
    pump.call_later(done.append, True)
    await wait_for(pilot, lambda: done)


def rows(screen, count: int | None = None) -> list[str]:
    """The results list as it renders: one string per visible line that holds a paper."""
    results = screen.results
    height = results.scrollable_content_region.height
    visible = min(height, len(results.keys) - results.scroll_offset.y)
    lines = [results.render_line(y).text.rstrip() for y in range(max(visible, 0))]
    return lines[:count] if count else lines
