"""The app finds what the command line finds: typing in the search box, through Pilot, against
`papershelf search` run as a separate process on the same library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from textual import events
from test_tui_support import handled, make_app, settle

ROOT = Path(__file__).resolve().parents[1]
SIZE = (120, 36)
ABSTRACT_WORD = "partitions"  # only in the Quantum Annealing abstract (the title says "Partitioning")


def cli_search(data: Path, query: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--data-dir", str(data), "search", "--json",
         "--limit", "1000", query],
        cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def cli_keys(data: Path, query: str) -> list[str]:
    return [r["key"] for r in cli_search(data, query)["results"]]


async def type_query(pilot, text: str) -> None:
    screen = pilot.app.screen
    await pilot.press("slash")
    screen.query_one("#search").value = ""
    await pilot.press(*[("space" if c == " " else c) for c in text])


async def paste_and_type_last(pilot, text: str) -> None:
    """Paste all but the last character into the search box, as a terminal delivers a paste,
    and type that one: a search that is superseded, then the final one, for a fraction of the
    key presses (each costs Pilot an idle wait)."""
    await pilot.press("slash")
    pilot.app.screen.query_one("#search").value = ""
    pilot.app.post_message(events.Paste(text[:-1]))
    await pilot.press("space" if text[-1] == " " else text[-1])


async def test_a_word_only_in_an_abstract_is_found_by_typing_it(tmp_path):
    app, lib = make_app(tmp_path)
    target = lib.search(f"abstract:{ABSTRACT_WORD}").keys
    assert len(target) == 1 and ABSTRACT_WORD not in lib.get(target[0]).title.lower()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        # without a trailing space: found once typing pauses
        await type_query(pilot, ABSTRACT_WORD)
        await settle(pilot)
        assert screen.results.keys == target
        assert "1 match" in screen.status.text()
        # with a trailing space: the word is finished at once, no pause needed
        screen.search.typing_pause = 3600
        await type_query(pilot, ABSTRACT_WORD + " ")
        await settle(pilot, typing=True)
        assert screen.results.keys == target
        # Enter finishes it too
        await type_query(pilot, ABSTRACT_WORD)
        await pilot.press("enter")
        await settle(pilot, typing=True)
        assert screen.results.keys == target
    lib.close()


QUERIES = [
    "partitions",  # only in an abstract
    "quantum",
    "quant",  # not a word: nothing, as on the command line (both offer a correction)
    "quant*",
    '"pixel art"',
    "sheep OR lullabies",
    "diffusion -pixel",
    "title:gardening",
    "author:marsh",
    "is:unread sheep",
    "is:starred",
    "tag:bedtime",
    "year:2023..2024",
    "notes:lighthouse",
    "counting",  # stemmed: "Count", "Counting"
]


async def test_the_apps_final_results_equal_the_command_lines(tmp_path):
    app, lib = make_app(tmp_path)
    keys = [lib.search(f"title:{w}").keys[0] for w in ("sheep", "lullabies")]
    lib.set_star(keys[0])
    lib.add_tags(keys[1], ["bedtime"])
    lib.set_note(keys[1], "reminds me of a lighthouse keeper's song")
    lib.set_status(keys[0], "read")
    lib.flush_index()
    data = lib.data_dir
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        for query in QUERIES:
            await paste_and_type_last(pilot, query)
            await settle(pilot)  # typing paused: the query is finished
            expected = cli_keys(data, query)
            assert screen.results.keys == expected, query
        # the command line's did-you-mean for a word left unfinished is the app's too
        await paste_and_type_last(pilot, "lullab")
        await settle(pilot)
        assert screen.suggestion == cli_search(data, "lullab")["suggestion"] == "lullab*"
    lib.close()


@pytest.mark.parametrize("query,hint", [
    ("foo:bar", "unknown field foo:"),
    ('"unclosed', "quote is not closed"),
    ("(a OR", "parenthesis is not closed"),
])
async def test_query_problems_are_a_hint_in_the_status_line(tmp_path, query, hint):
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_query(pilot, query)
        await settle(pilot)
        assert hint in app.screen.status.text()
    lib.close()
    out = subprocess.run([sys.executable, "-m", "tui.cli", "--data-dir", str(lib.data_dir),
                          "search", query], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and hint in out.stderr


async def test_a_big_library_on_whoosh_is_offered_fts5_once(tmp_path, monkeypatch):
    import index.indexing

    monkeypatch.setattr(index.indexing, "SUGGEST_FTS5_FROM", 5)  # stands in for 50,000
    for launch in range(2):
        app, lib = make_app(tmp_path, records=[] if launch else None)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await handled(pilot, app.screen)  # the start-up check's message, advice or none
            shown = "--engine sqlite" in app.screen.status.text()
            assert shown == (launch == 0), launch  # once, never again
        assert lib.engine_name == "whoosh"  # it never switches by itself
        lib.close()


async def test_did_you_mean_with_a_quick_filter_on_offers_only_what_was_typed(tmp_path):
    # the app sends "is:unread count shep" for "count shep" typed with the unread filter on;
    # the suggestion goes back into the search bar without the filter's words (the filter
    # stays on by itself)
    app, lib = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("3")
        await settle(pilot)
        assert screen.filter == "unread"
        await type_query(pilot, "count shep")
        await settle(pilot)
        assert screen.suggestion == "count sheep"
        assert "is:unread" not in screen.status.text()
        await pilot.press("ctrl+d")
        await settle(pilot)
        assert screen.query_one("#search").value == "count sheep"
        assert screen.filter == "unread"
        assert screen.results.keys == cli_keys(lib.data_dir, "is:unread count sheep")
        assert screen.results.keys
    lib.close()
