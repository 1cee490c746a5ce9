""""For you" ready at the next launch after the library changed: a `papershelf` command that
changes the library ranks again before it ends (when the reader uses "for you": a ranking is
saved), and the app, closing after a star, updates its ranking before saving it. Either way the
next app launch shows "for you" from the saved ranking, without ranking anything itself.

Commands run as real `python -m tui.cli` processes; the app runs headless through Pilot."""

from __future__ import annotations

from index import foryou_saved
from index.library import Library
from test_app_and_cli import papershelf
from test_foryou import TOPICS, keys_on, topic_of, topic_records
from test_tui_support import for_you_shows_the_saved_ranking, make_app, settle, wait_for
from tui.app import PapershelfApp
from tui.screens import morning

SIZE = (120, 36)


def saved_ranking_now(data_dir):
    """The saved ranking when it holds for the library as it is now, else None."""
    with Library.open(data_dir) as lib:
        return foryou_saved.load(data_dir, lib._ranking_stamp(lib.store.change_mark()))


def fresh_ranking(data_dir) -> list[str]:
    with Library.open(data_dir) as lib:
        keys = lib.for_you(saved=False).keys
        lib._for_you_unsaved = None  # leave the saved file as the commands left it
        return keys


async def test_a_star_from_the_shell_leaves_for_you_ready_for_the_app(tmp_path, monkeypatch):
    monkeypatch.setattr(morning, "IDLE_SECONDS", 3600)  # the app ranks nothing ahead
    app, lib = make_app(tmp_path, records=topic_records())
    data = lib.data_dir
    lib.set_star_many(keys_on(lib, "astro")[:5], True)
    before = lib.for_you().keys
    speech = keys_on(lib, "speech")[:6]
    lib.save_for_you()  # as at close: the reader uses "for you"

    done = papershelf(data, "star", *speech)
    assert done.returncode == 0, done.stderr
    saved = saved_ranking_now(data)
    assert saved is not None, "the command left a ranking of the library before its stars"
    expected = fresh_ranking(data)
    assert saved.keys == expected and expected != before
    assert not set(speech) & set(expected)  # starred papers left the unread ranking

    async with app.run_test(size=SIZE) as pilot:
        await for_you_shows_the_saved_ranking(pilot, expected, TOPICS["speech"] + TOPICS["astro"])
    lib.close()


def test_a_status_change_from_the_shell_is_ranked_too_and_a_search_writes_nothing(tmp_path):
    with Library.open(tmp_path / "lib") as lib:
        lib.add(topic_records())
        lib.set_star_many(keys_on(lib, "protein")[:4], True)
        lib.for_you()
        read = keys_on(lib, "astro")[0]
    data = tmp_path / "lib"
    done = papershelf(data, "status", read, "read")
    assert done.returncode == 0, done.stderr
    saved = saved_ranking_now(data)
    assert saved is not None and saved.keys == fresh_ranking(data)
    assert read not in saved.keys and saved.liked == 5

    path = data / foryou_saved.FILE_NAME
    written = path.read_bytes(), path.stat().st_mtime_ns
    done = papershelf(data, "search", "protein")
    assert done.returncode == 0, done.stderr
    assert (path.read_bytes(), path.stat().st_mtime_ns) == written  # nothing changed: no ranking


def test_an_import_is_ranked_and_a_dry_run_writes_nothing(tmp_path):
    with Library.open(tmp_path / "lib") as lib:
        lib.add(topic_records())
        lib.set_star_many(keys_on(lib, "speech")[:4], True)
        lib.for_you()
    data = tmp_path / "lib"
    bib = tmp_path / "new.bib"
    bib.write_text("@article{vox1, title={Vocoder Prosody for Whispered Speech}, "
                   "abstract={An acoustic vocoder keeps the prosody of whispered utterances.}, "
                   "author={Okafor, Ada}, year={2025}}\n", encoding="utf-8")
    path = data / foryou_saved.FILE_NAME
    written = path.read_bytes(), path.stat().st_mtime_ns
    done = papershelf(data, "import", "--dry-run", str(bib))
    assert done.returncode == 0 and "would have: added 1" in done.stdout, done.stderr
    assert (path.read_bytes(), path.stat().st_mtime_ns) == written  # rolled back: no ranking

    done = papershelf(data, "import", str(bib))
    assert done.returncode == 0, done.stderr
    saved = saved_ranking_now(data)
    assert saved is not None and saved.keys == fresh_ranking(data)
    with Library.open(data) as lib:
        new = next(p.key for p in lib.all_papers() if p.title.startswith("Vocoder Prosody"))
        ahead = saved.keys[:saved.keys.index(new)]
        assert {topic_of(lib, key) for key in ahead} <= {"speech"}  # ranked with its topic


def test_a_library_that_never_ranked_gets_no_ranking_from_a_star(tmp_path):
    with Library.open(tmp_path / "lib") as lib:
        lib.add(topic_records())
        key = keys_on(lib, "speech")[0]
    done = papershelf(tmp_path / "lib", "star", key)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "lib" / foryou_saved.FILE_NAME).exists()  # the star stays quick


async def test_a_star_in_the_app_then_quit_leaves_the_ranking_up_to_date(tmp_path, monkeypatch):
    monkeypatch.setattr(morning, "IDLE_SECONDS", 3600)
    app, lib = make_app(tmp_path, records=topic_records())
    data = lib.data_dir
    lib.set_star_many(keys_on(lib, "protein")[:5], True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("5")  # ranked here
        await settle(pilot)
        best = screen.results.keys[0]
        await pilot.press("s")  # the best paper is starred: the ranking is stale now
        await wait_for(pilot, lambda: lib.get(best).starred)
    # the app has quit at once after the star; what it saved is the library as it is now
    saved = saved_ranking_now(data)
    assert saved is not None
    assert best not in saved.keys and saved.keys == fresh_ranking(data)
    again = PapershelfApp(lib, app.config)
    async with again.run_test(size=SIZE) as pilot:
        await for_you_shows_the_saved_ranking(pilot, saved.keys, TOPICS["protein"])
    lib.close()


def test_a_new_citation_key_then_close_leaves_the_saved_ranking_holding(tmp_path):
    with Library.open(tmp_path / "lib") as lib:
        lib.add(topic_records())
        lib.set_star_many(keys_on(lib, "astro")[:4], True)
        ranked = lib.for_you().keys
        lib.set_citekey(ranked[0], "transitSurvey2026")  # moves the library's mark only
    saved = saved_ranking_now(tmp_path / "lib")
    assert saved is not None and saved.keys == ranked == fresh_ranking(tmp_path / "lib")
