"""The morning routine in the app: D fetches today's Daily Papers (and fetch_on_start does it
at launch), and the "for you" filter (5) ranks unread papers, saying why in the detail pane.
Driven by keys through Pilot, against a local Daily Papers API the test starts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from hf_daily_server import DailyServer, api_item
from index.library import Library
from test_foryou import TOPICS, keys_on, topic_of, topic_records
from test_tui_support import for_you_shows_the_saved_ranking, make_app, rows, settle, wait_for
from tui.app import PapershelfApp
from tui.screens import morning

SIZE = (120, 36)
TODAY = date.today()
TODAY_LABEL = f"{TODAY:%b} {TODAY.day}"


def todays_list() -> list[dict]:
    day = TODAY.isoformat()
    return [
        api_item("2611.30001", "Glacier Flow Under Warming Summers",
                 "We model how ice streams speed up when meltwater reaches the bed.", day),
        api_item("2611.30002", "Cheap Proofs for Sorting Networks",
                 "Short certificates that a comparator network sorts every input.", day),
    ]


async def test_empty_library_offers_daily_first_and_d_fetches_it(tmp_path, monkeypatch):
    app, lib = make_app(tmp_path, records=[])
    with DailyServer({TODAY.isoformat(): todays_list()}) as server:
        monkeypatch.setenv("PAPERSHELF_HF_API", server.url)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = app.screen
            welcome = screen.query_one("#welcome")
            text = welcome.render().plain
            assert welcome.display
            assert text.index("Press D to fetch today's Daily Papers") < text.index("press i")
            await pilot.press("D")
            await wait_for(pilot, lambda: "2 new papers from " + TODAY_LABEL
                           in screen.status.text())
            await settle(pilot)
            assert not welcome.display
            assert any("Glacier Flow" in row for row in rows(screen))
            await pilot.press("D")  # the same day again: nothing new
            await wait_for(pilot, lambda: "no new papers from" in screen.status.text())
    assert server.requests[0]["date"] == [TODAY.isoformat()]
    assert lib.store.count() == 2
    lib.close()


async def test_a_failed_fetch_is_one_line_in_the_status(tmp_path, monkeypatch):
    app, lib = make_app(tmp_path)
    with DailyServer(mode="503") as server:
        monkeypatch.setenv("PAPERSHELF_HF_API", server.url)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("D")
            screen = app.screen
            await wait_for(pilot, lambda: "Daily Papers not fetched" in screen.status.text())
            assert "HTTP 503" in screen.status.text()
            assert len(screen.results.keys) == 5
    lib.close()


async def test_fetch_on_start_fetches_when_the_app_opens(tmp_path, monkeypatch):
    with DailyServer({TODAY.isoformat(): todays_list()}) as server:
        monkeypatch.setenv("PAPERSHELF_HF_API", server.url)
        app, lib = make_app(tmp_path, config_text="[daily]\nfetch_on_start = true\n")
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            await wait_for(pilot, lambda: "2 new papers from" in screen.status.text())
            await settle(pilot)
            assert len(screen.results.keys) == 7
    lib.close()


async def test_without_fetch_on_start_nothing_goes_online(tmp_path, monkeypatch):
    with DailyServer({TODAY.isoformat(): todays_list()}) as server:
        monkeypatch.setenv("PAPERSHELF_HF_API", server.url)
        app, lib = make_app(tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
    assert server.requests == []
    lib.close()


async def test_for_you_filter_ranks_the_starred_topic_first_and_says_why(tmp_path):
    app, lib = make_app(tmp_path, records=topic_records())
    lib.set_star_many(keys_on(lib, "protein")[:5], True)
    expected = lib.for_you().keys
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("5")
        await settle(pilot)
        assert screen.results.keys == expected
        assert {topic_of(lib, key) for key in screen.results.keys[:10]} == {"protein"}
        assert "filter: for you" in screen.status.text()
        assert f"{len(expected)} papers" in screen.status.text()
        await wait_for(pilot, lambda: "For you" in screen.detail.text())
        why = screen.detail.text().split("For you", 1)[1].splitlines()[0]
        assert "with the 5 you starred or read" in why
        assert any(word in why for word in TOPICS["protein"]), why
        await pilot.press("1")  # back to everything: the reason goes
        await settle(pilot)
        await wait_for(pilot, lambda: "For you" not in screen.detail.text())
    lib.close()


async def test_for_you_opens_on_the_ranking_the_last_process_saved(tmp_path, monkeypatch):
    # ranked and saved by another process (the library closes), nothing changed since: the
    # app shows it when 5 is pressed, before it has ranked anything itself
    monkeypatch.setattr(morning, "IDLE_SECONDS", 3600)  # no ranking ahead meanwhile
    app, lib = make_app(tmp_path, records=topic_records())
    lib.set_star_many(keys_on(lib, "astro")[:5], True)
    with Library.open(lib.data_dir) as other:
        expected = other.for_you().keys
    async with app.run_test(size=SIZE) as pilot:
        await for_you_shows_the_saved_ranking(pilot, expected, TOPICS["astro"])
    # a command changes the library before the next launch: that one ranks it as it is now
    with Library.open(lib.data_dir) as other:
        other.set_star_many(keys_on(other, "speech")[:8], True)
        now = other.for_you(saved=False).keys
    assert now != expected
    again = PapershelfApp(lib, app.config)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        assert again.screen.results.keys == now
    lib.close()


def write_late_bib(tmp_path) -> Path:
    """A BibTeX file of one astronomy paper the topic library does not have."""
    bib = tmp_path / "late.bib"
    bib.write_text("@article{late2026,\n  title = {Stellar Spectra of a Transit Survey},\n"
                   "  abstract = {Exoplanet photometry with a telescope: orbital luminosity.},\n"
                   "  author = {Hale, Iris},\n  year = {2026}\n}\n", encoding="utf-8")
    return bib


async def start_import_with_i(pilot, path: Path) -> None:
    """`i`, the file's path, enter: the import runs in a worker."""
    await pilot.press("i")
    pilot.app.screen.query_one("#import-path").value = str(path)
    await pilot.press("enter")


def rankings_made(monkeypatch) -> list[int]:
    """Grows by one at every ranking made (RankingState.ranked); no ranking ahead."""
    import index.foryou_state

    monkeypatch.setattr(morning, "IDLE_SECONDS", 3600)
    ranked: list[int] = []
    original = index.foryou_state.RankingState.ranked
    monkeypatch.setattr(index.foryou_state.RankingState, "ranked",
                        lambda state, profile: ranked.append(1) or original(state, profile))
    return ranked


async def test_d_ranks_the_new_papers_before_it_reports_so_5_shows_them_at_once(
        tmp_path, monkeypatch):
    ranked = rankings_made(monkeypatch)
    app, lib = make_app(tmp_path, records=topic_records())
    lib.set_star_many(keys_on(lib, "astro")[:5], True)
    day = TODAY.isoformat()
    served = todays_list() + [api_item(
        "2611.30003", "Transit Photometry of a Planetary Atmosphere",
        "Telescope spectra of an exoplanet's orbital luminosity and stellar transit.", day)]
    with DailyServer({day: served}) as server:
        monkeypatch.setenv("PAPERSHELF_HF_API", server.url)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = app.screen
            await pilot.press("5", "1")  # the reader uses "for you"
            await settle(pilot)
            await pilot.press("D")
            await wait_for(pilot, lambda: "3 new papers from " + TODAY_LABEL
                           in screen.status.text())
            await settle(pilot)
            assert not screen.query_one("#status-progress").display
            ranked.clear()
            await pilot.press("5")
            await settle(pilot)
            # among the 15 unread astronomy papers at the top
            assert screen.results.keys.index("arxiv:2611.30003") < 16
            assert not ranked  # ranked by the fetch's worker, not when 5 was pressed
    lib.close()


async def test_a_star_is_ranked_right_away_so_5_a_moment_later_finds_it_ready(
        tmp_path, monkeypatch):
    ranked = rankings_made(monkeypatch)  # and no ranking ahead for being idle
    app, lib = make_app(tmp_path, records=topic_records())
    lib.set_star_many(keys_on(lib, "astro")[:5], True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("5")
        await settle(pilot)
        best = screen.results.current_key
        ranked.clear()
        await pilot.press("s")  # the best paper: starred, it leaves the unread ones
        await wait_for(pilot, lambda: ranked and not screen._ranking_ahead)
        await pilot.press("1")
        await settle(pilot)
        ranked.clear()
        await pilot.press("5")
        await settle(pilot)
        assert not ranked  # ready: ranked in the moment after the star
        with Library.open(lib.data_dir) as other:
            assert screen.results.keys == other.for_you(saved=False).keys
        assert best not in screen.results.keys
    lib.close()


async def test_an_import_with_i_is_ranked_before_it_reports_too(tmp_path, monkeypatch):
    ranked = rankings_made(monkeypatch)
    bib = write_late_bib(tmp_path)
    app, lib = make_app(tmp_path, records=topic_records())
    lib.set_star_many(keys_on(lib, "astro")[:5], True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("5", "1")
        await settle(pilot)
        await start_import_with_i(pilot, bib)
        await wait_for(pilot, lambda: "imported: added 1" in screen.status.text())
        await settle(pilot)
        ranked.clear()
        await pilot.press("5")
        await settle(pilot)
        assert not ranked
        titles = [lib.get(key).title for key in screen.results.keys[:16]]
        assert "Stellar Spectra of a Transit Survey" in titles
    lib.close()


async def test_a_key_stops_the_ranking_after_an_import_so_the_import_reports_at_once(
        tmp_path, monkeypatch):
    # the ranking after an import holds the index (from scratch, a second at 100k papers):
    # a key means the person is back, and their search must not wait for it
    import threading
    import time

    from index.library import Library as LibraryClass

    started, stopped = threading.Event(), []

    def slow_ranking(lib, progress=None):  # a long ranking, one progress call a step
        started.set()
        deadline = time.monotonic() + 30
        try:
            while time.monotonic() < deadline:
                progress(0, 1)
                time.sleep(0.01)
        except morning.RankingStopped:
            stopped.append(True)
            raise
        return True

    monkeypatch.setattr(LibraryClass, "rank_after_import", slow_ranking)
    bib = write_late_bib(tmp_path)
    app, lib = make_app(tmp_path, records=topic_records())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await start_import_with_i(pilot, bib)
        await wait_for(pilot, started.is_set)
        await pilot.press("j")
        await wait_for(pilot, lambda: "imported: added 1" in screen.status.text())
        assert stopped
    lib.close()


async def test_for_you_with_nothing_liked_says_so(tmp_path):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("5")
        await settle(pilot)
        assert screen.results.keys == []
        assert "nothing to rank by yet: star papers or mark them read" in screen.status.text()
    lib.close()


async def test_for_you_with_typed_words_keeps_the_ranking_order(tmp_path):
    app, lib = make_app(tmp_path, records=topic_records())
    lib.set_star_many(keys_on(lib, "astro")[:5], True)
    ranking = lib.for_you().keys
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("5", "slash", *"method")
        await settle(pilot)
        shown = screen.results.keys
        assert shown and shown == [key for key in ranking if key in set(shown)]
        assert len(shown) < len(ranking)
    lib.close()


async def test_a_long_ranking_shows_progress_and_a_newer_filter_wins(tmp_path, monkeypatch):
    import index.foryou_state
    import tui.screens.morning

    monkeypatch.setattr(index.foryou_state, "WORDS_PER_READ", 5)
    monkeypatch.setattr(tui.screens.morning, "IDLE_SECONDS", 3600)  # 5 ranks, not a worker ahead
    monkeypatch.setattr(tui.screens.morning, "PROGRESS_AFTER", 0)
    app, lib = make_app(tmp_path, records=topic_records())
    lib.set_star_many(keys_on(lib, "speech")[:5], True)
    shown = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        original = screen.status.progress
        monkeypatch.setattr(screen.status, "progress",
                            lambda done, total, label="": (shown.append((done, label)),
                                                           original(done, total, label)))
        await pilot.press("5")
        await settle(pilot)
        assert shown and shown[-1][1] == "ranking for you"
        assert not screen.query_one("#status-progress").display
        lib.set_star(keys_on(lib, "speech")[5])  # the library changed: 5 ranks again...
        await pilot.press("1", "5", "2")  # ...but 2 comes first
        await settle(pilot)
        assert screen.filter == "starred" and len(screen.results.keys) == 6
    lib.close()


async def test_searching_goes_on_while_a_fetch_waits_on_a_stalled_server(tmp_path, monkeypatch):
    app, lib = make_app(tmp_path, records=topic_records())
    with DailyServer({TODAY.isoformat(): todays_list()}, mode="stall") as server:
        monkeypatch.setenv("PAPERSHELF_HF_API", server.url)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = app.screen
            await pilot.press("D")
            await wait_for(pilot, lambda: server.requests)  # the fetch is waiting on it
            await pilot.press("slash", *"exoplanet")
            await wait_for(pilot, lambda: screen.applied_query == "exoplanet", timeout=5)
            assert screen.results.keys
            assert screen._fetching_daily  # still waiting: the search did not wait for it
    lib.close()
