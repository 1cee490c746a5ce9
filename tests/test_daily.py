"""`papershelf daily` against a local Daily Papers API that the tests start: a normal day,
an empty day, a day already imported, malformed JSON, HTTP errors, a stalled server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date

import pytest

from hf_daily_server import DailyServer, api_item
from index.daily_api import day_label, recent_days
from index.library import Library
from test_cli import data, run  # noqa: F401 - the command line as a person runs it
from tui.cli import main

DAY = "2026-11-29"
NOV_29 = [
    api_item("2611.20001", "Sparse Routers for Mixture-of-Experts Decoding",
             "We route tokens to few experts and keep accuracy at a third of the compute.", DAY),
    api_item("2611.20002v2", "Tidal Heat Budgets of Icy Moons",
             "A thermal model of ice shells heated by tides, checked against flyby data.", DAY),
    api_item("2611.20003", "Counting Lattice Paths with Forbidden Steps",
             "Closed forms for walks on the square lattice that avoid a set of steps.", DAY),
]
NOV_28 = [api_item("2611.19001", "Low-Light Denoising with Event Cameras",
                   "Event streams guide a denoiser for frames shot in near darkness.",
                   "2026-11-28")]


def library_state(data) -> list[tuple]:
    with Library.open(data) as lib:
        return sorted((p.key, p.title, tuple(p.sources)) for p in lib.all_papers())


def test_a_normal_day_is_imported_with_ids_authors_dates_and_links(run, data, monkeypatch):
    with DailyServer({DAY: NOV_29}) as server:
        monkeypatch.setenv("PAPERSHELF_HF_API", server.url)
        out, err = run("daily", "--date", DAY)
    assert out.strip() == "3 new papers from Nov 29"
    assert server.requests == [{"date": [DAY], "limit": ["100"]}]
    with Library.open(data) as lib:
        paper = lib.get("arxiv:2611.20002")
        assert paper.title == "Tidal Heat Budgets of Icy Moons"
        assert paper.authors == ["Mira Castellanos", "Tobiah Renner"]
        assert paper.listing_date == DAY and paper.year == 2026
        assert "https://github.com/example/2611-20002v2" in paper.links
        assert paper.sources == ["dailypapers-json:hf-daily-2026-11-29"]
        assert lib.search("lattice").keys == ["arxiv:2611.20003"]  # the index has them too


def test_the_new_papers_are_ranked_for_you_before_the_command_ends(run, data, monkeypatch):
    nov_30 = [api_item("2611.21001", "Ice Shells of Moons Heated by Tides",
                       "Tidal heat keeps oceans under the ice of icy moons liquid.",
                       "2026-11-30"),
              api_item("2611.21002", "Faster Sorting Networks",
                       "Comparator networks for sorting short arrays in registers.",
                       "2026-11-30")]
    with DailyServer({DAY: NOV_29, "2026-11-30": nov_30}) as server:
        monkeypatch.setenv("PAPERSHELF_HF_API", server.url)
        run("daily", "--date", DAY)
        with Library.open(data) as lib:
            lib.set_star("arxiv:2611.20002", True)  # "Tidal Heat Budgets of Icy Moons"
        run("daily", "--date", "2026-11-30")
    with Library.open(data) as lib:  # as the app opens: the ranking is there, made at this state
        shown = lib.for_you()
        assert lib._for_you.ranking is None  # shown from what `daily` saved, not ranked here
        assert shown.keys[0] == "arxiv:2611.21001"
        assert shown.keys == lib.for_you(saved=False).keys


def test_the_same_day_twice_changes_nothing(run, data, monkeypatch):
    with DailyServer({DAY: NOV_29}) as server:
        monkeypatch.setenv("PAPERSHELF_HF_API", server.url)
        run("daily", "--date", DAY)
        before = library_state(data)
        with Library.open(data) as lib:
            ops_before = lib.store.db.execute("SELECT count(*) FROM ops").fetchone()[0]
        out, _ = run("daily", "--date", DAY)
    assert out.strip() == "no new papers from Nov 29 (3 already in your library)"
    assert library_state(data) == before
    with Library.open(data) as lib:
        assert lib.store.db.execute("SELECT count(*) FROM ops").fetchone()[0] == ops_before


def test_an_empty_day_says_so_and_adds_nothing(run, data, monkeypatch):
    with DailyServer({}) as server:
        monkeypatch.setenv("PAPERSHELF_HF_API", server.url)
        out, _ = run("daily", "--date", "2026-11-28")
    assert out.strip() == "no papers listed for Nov 28"
    assert library_state(data) == []


def test_a_long_day_is_read_page_by_page(run, data, monkeypatch):
    long_day = [api_item(f"2611.{30000 + n}", f"Paper number {n} of a long day",
                         f"Abstract {n}.", DAY) for n in range(230)]
    with DailyServer({DAY: long_day}) as server:
        monkeypatch.setenv("PAPERSHELF_HF_API", server.url)
        out, _ = run("daily", "--date", DAY)
    assert [q.get("p", ["0"])[0] for q in server.requests] == ["0", "1", "2"]
    assert out.strip() == "230 new papers from Nov 29"


def test_several_days_ask_for_each_day(run, data, monkeypatch):
    with DailyServer({DAY: NOV_29, "2026-11-28": NOV_28}) as server:
        monkeypatch.setenv("PAPERSHELF_HF_API", server.url)
        out, _ = run("daily", "--date", DAY, "--days", "3")
    assert [q["date"][0] for q in server.requests] == ["2026-11-27", "2026-11-28", DAY]
    assert out.strip() == "4 new papers from Nov 27 to Nov 29"


@pytest.mark.parametrize("mode, says", [
    ("malformed", "is not valid JSON; nothing imported"),
    ("503", "answered HTTP 503"),
])
def test_a_bad_answer_is_one_line_and_changes_nothing(run, data, monkeypatch, mode, says):
    with DailyServer({DAY: NOV_28}) as good:
        monkeypatch.setenv("PAPERSHELF_HF_API", good.url)
        run("daily", "--date", DAY)
    before = library_state(data)
    with DailyServer(mode=mode) as server:
        monkeypatch.setenv("PAPERSHELF_HF_API", server.url)
        out, err = run("daily", "--date", DAY, expect=1)
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("papershelf: ") and says in err
    assert library_state(data) == before


def test_an_answer_that_is_not_a_list_is_refused(run, data, monkeypatch):
    with DailyServer({DAY: NOV_29}) as server:
        server.days = {DAY: {"error": "Invalid date"}}
        monkeypatch.setenv("PAPERSHELF_HF_API", server.url)
        _, err = run("daily", "--date", DAY, expect=1)
    assert "not a list of papers" in err and library_state(data) == []


def test_one_bad_day_among_several_imports_none(run, data, monkeypatch):
    with DailyServer({DAY: NOV_29}) as server:
        server.days["2026-11-28"] = [{"paper": {"id": "2611.1"}}]  # an item without a title
        monkeypatch.setenv("PAPERSHELF_HF_API", server.url)
        _, err = run("daily", "--date", DAY, "--days", "2", expect=1)
    assert "2026-11-28" in err and "has no title" in err
    assert library_state(data) == []


def test_offline_is_one_line(run, data):
    # conftest points $PAPERSHELF_HF_API at a closed port
    _, err = run("daily", expect=1)
    assert err.count("\n") == 1 and "cannot reach 127.0.0.1:9" in err
    assert library_state(data) == []


def test_a_stalled_server_times_out_in_a_real_process(tmp_path):
    data = tmp_path / "data"
    with DailyServer({DAY: NOV_29}, mode="stall") as server:
        env = dict(os.environ, PAPERSHELF_HF_API=server.url)
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "tui.cli", "--data-dir", str(data), "daily", "--date", DAY,
             "--timeout", "1"], capture_output=True, text=True, env=env, timeout=30)
        elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip() == (
        f"papershelf: cannot reach {server.url.split('/')[2]} (no answer within 1 s); "
        "check your connection")
    assert elapsed < 10
    assert library_state(data) == []


def test_bad_arguments_are_usage_errors(run, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["daily", "--date", "29/11/2026"])
    assert exc.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["daily", "--days", "0"])


def test_day_helpers():
    assert recent_days(3, date(2026, 3, 1)) == [date(2026, 2, 27), date(2026, 2, 28),
                                                 date(2026, 3, 1)]
    assert day_label([date(2026, 11, 29)]) == "Nov 29"
    assert day_label([date(2026, 12, 1), date(2026, 11, 30)]) == "Nov 30 to Dec 1"
