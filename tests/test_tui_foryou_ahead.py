"""The app ranks "for you" ahead of time, once the person has left it idle: `5` then finds the
ranking ready (no progress shown), and a search started meanwhile stops the ranking at once
and never waits for it. Driven by keys through Pilot on a library the test makes."""

from __future__ import annotations

import time

from index.library import Library
from test_foryou import keys_on, topic_of, topic_records
from test_tui_support import make_app, settle, wait_for

SIZE = (120, 36)


def spy_on_progress(screen, monkeypatch) -> list[str]:
    shown: list[str] = []
    original = screen.status.progress
    monkeypatch.setattr(screen.status, "progress",
                        lambda done, total, label="": (shown.append(label),
                                                       original(done, total, label)))
    return shown


async def test_an_idle_app_ranks_ahead_and_5_shows_it_at_once(tmp_path, monkeypatch):
    import tui.screens.morning

    monkeypatch.setattr(tui.screens.morning, "IDLE_SECONDS", 0.2)
    monkeypatch.setattr(tui.screens.morning, "PROGRESS_AFTER", 0)  # any ranking on 5 shows
    app, lib = make_app(tmp_path, records=topic_records())
    lib.set_star_many(keys_on(lib, "protein")[:5], True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        shown = spy_on_progress(screen, monkeypatch)
        await wait_for(pilot, lambda: screen._ranked_ahead_at is not None)
        await pilot.press("5")
        await settle(pilot)
        assert shown == []  # ready: nothing was ranked on 5
        assert screen.filter == "foryou"
        assert [topic_of(lib, k) for k in screen.results.keys[:10]] == ["protein"] * 10
        # a star, here or by another process, changes the library: ranked ahead again once
        # the person is idle
        version = screen._ranked_ahead_at
        await pilot.press("1")
        await settle(pilot)
        starred = screen.results.current_key
        await pilot.press("s")
        await wait_for(pilot, lambda: screen._ranked_ahead_at not in (None, version))
        version = screen._ranked_ahead_at
        with Library.open(lib.data_dir) as other:
            other.set_status(keys_on(other, "astro")[1], "read")
        await wait_for(pilot, lambda: screen._ranked_ahead_at not in (None, version))
        await pilot.press("5")
        await settle(pilot)
        assert shown == []
        assert not {starred, keys_on(lib, "astro")[1]} & set(screen.results.keys)
    lib.close()


async def test_a_search_stops_a_ranking_ahead_and_does_not_wait_for_it(tmp_path, monkeypatch):
    import index.foryou_state
    import tui.screens.morning

    monkeypatch.setattr(tui.screens.morning, "IDLE_SECONDS", 0.2)
    monkeypatch.setattr(index.foryou_state, "WORDS_PER_READ", 1)
    app, lib = make_app(tmp_path, records=topic_records())
    lib.set_star_many(keys_on(lib, "speech")[:5], True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        engine = app.with_index(lambda index_lib: index_lib.index)
        original = engine.docs_with

        def slow_docs_with(words, first_doc=0):  # a big library: each word's postings take
            time.sleep(0.05)  # a while
            return original(words, first_doc)

        monkeypatch.setattr(engine, "docs_with", slow_docs_with)
        await wait_for(pilot, lambda: screen._ranking_ahead)
        monkeypatch.setattr(tui.screens.morning, "IDLE_SECONDS", 3600)  # once is enough
        await pilot.press("slash", *"telescope")
        await settle(pilot)
        assert screen.applied_query == "telescope" and screen.results.keys
        assert not screen._ranking_ahead and screen._ranked_ahead_at is None  # stopped
        monkeypatch.setattr(engine, "docs_with", original)
        screen.query_one("#search").value = ""
        await settle(pilot)
        await pilot.press("escape", "5")  # goes on from what the worker had done
        await settle(pilot)
        assert [topic_of(lib, k) for k in screen.results.keys[:5]] == ["speech"] * 5
    lib.close()
