"""`papershelf resolve`, `import --resolve` and `R` in the app, against a local arXiv stand-in
(tests/arxiv_server.py): exact title matches only, merged like an arXiv import, misses
cached for a week, failures halfway keep what was resolved, offline changes nothing."""

from __future__ import annotations

import json
import sqlite3

import pytest
from arxiv_server import ArxivServer
from test_tui_support import make_app, settle, wait_for

from index.library import Library
from index.model import PaperRecord
from samples import dense_page
from tui.cli import main

# Listing titles (as Daily Papers prints them) and what arXiv has. Written for these tests.
HIT = ("Quiet Transformers Learn Lullabies from Sparse Audio",
       "We teach a small transformer to hum. Code: https://example.org/hum")
LATEX = ('PATIENT-{\\Psi}: A na\\"{\\i}ve Simulator of Therapy Clients',
         "A simulator where clients answer trainees.")
MISS = ("Gardening Robots That Never Were Published",
        "Nobody posted this one anywhere.")
NEAR = ("Scaling Laws for Sparse Lanterns",
        "Lanterns, sparsely, at scale.")
CATALOGUE = {
    "2406.01111": ("Quiet Transformers Learn Lullabies from\n  Sparse Audio",
                   ["Ada Marsh", "Ben Okafor"], "2024-06-03"),
    "2405.02222": ('PATIENT-$\\Psi$: A Na\\"ive Simulator of Therapy Clients',
                   ["Cora Lind"], "2024-05-20"),
    "2404.03333": ("Scaling Laws for Sparse Lanterns Revisited", ["Dev Patel"], "2024-04-01"),
}


def _fillers(n: int) -> list[tuple[str, str]]:
    return [(f"Filler Paper Number {i} About Nothing", f"We say nothing, for the {i}th time.")
            for i in range(n)]


@pytest.fixture
def cli(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PAPERSHELF_ARXIV_DELAY", "0")
    data = tmp_path / "data"

    def cli(*argv, expect=0):
        code = main(["--data-dir", str(data), *map(str, argv)])
        out, err = capsys.readouterr()
        assert code == expect, (code, out, err)
        return out, err
    cli.data = data
    return cli


def _import(cli, tmp_path, pairs, *extra):
    page = tmp_path / "daily.txt"
    page.write_text(dense_page(pairs), encoding="utf-8")
    return cli("import", *extra, page)


def _papers(data) -> dict[str, dict]:
    with Library.open(data) as lib:
        return {p.display_title: p for p in lib.all_papers()}


def test_a_batch_with_hits_and_misses(cli, tmp_path, monkeypatch):
    _import(cli, tmp_path, [HIT, LATEX, MISS, NEAR])
    with Library.open(cli.data) as lib:
        key = next(p.key for p in lib.all_papers() if p.title == HIT[0])
        lib.set_star(key)
        lib.add_tag(key, "sleep")
        lib.set_note(key, "read on the train")
    with ArxivServer(CATALOGUE) as server:
        monkeypatch.setenv("PAPERSHELF_ARXIV_API", server.url)
        out, err = cli("resolve")
        assert len(server.requests) == 1  # one batch for the four titles
        sent = server.requests[0]["search_query"][0]
        assert 'ti:"quiet transformers learn lullabies from sparse audio"' in sent
    assert "arXiv:2406.01111  Quiet Transformers" in out
    assert "arXiv:2405.02222  PATIENT-Ψ: A naïve Simulator" in out
    unmatched = out.split("not on arXiv")[1]
    assert MISS[0] in unmatched and NEAR[0] in unmatched
    assert "resolved 2, not on arXiv 2" in out
    papers = _papers(cli.data)
    hit = papers[HIT[0]]
    assert hit.key == "arxiv:2406.01111" and hit.arxiv_id == "2406.01111"
    assert hit.authors == ["Ada Marsh", "Ben Okafor"] and hit.year == 2024
    assert hit.doi == "10.5555/2406.01111" and hit.url == "https://arxiv.org/abs/2406.01111"
    assert hit.extra["arxiv_version"] == "v2" and hit.extra["categories"] == ["cs.CL", "cs.LG"]
    assert hit.starred and hit.tags == ["sleep"] and hit.note == "read on the train"
    assert hit.title == HIT[0] and hit.abstract == HIT[1]  # the listing's text is kept
    assert any(s.startswith("dailypapers:") for s in hit.sources) and "arxiv:api" in hit.sources
    assert hit.citekey == "marsh2024quiet"  # the provisional key became the regular one
    latex = papers["PATIENT-Ψ: A naïve Simulator of Therapy Clients"]
    assert latex.arxiv_id == "2405.02222" and latex.title == LATEX[0]
    for title in (MISS[0], NEAR[0]):
        assert papers[title].arxiv_id is None and papers[title].authors == []
    assert len(papers) == 4


def test_misses_are_not_asked_again_for_a_week(cli, tmp_path, monkeypatch):
    _import(cli, tmp_path, [MISS, NEAR])
    with ArxivServer(CATALOGUE) as server:
        monkeypatch.setenv("PAPERSHELF_ARXIV_API", server.url)
        cli("resolve")
        out, _ = cli("resolve")
        assert len(server.requests) == 1
        assert "skipped 2 not found within the last week" in out
        cli("resolve", "--retry")
        assert len(server.requests) == 2
    with Library.open(cli.data) as lib, ArxivServer(CATALOGUE) as server:
        week_later = lib.find_on_arxiv(base_url=server.url, delay=0,
                                       clock=lambda: __import__("time").time() + 8 * 86400)
        assert week_later.asked == 2 and len(server.requests) == 1


@pytest.mark.parametrize("mode", ["fail_after", "stall_after"])
def test_a_server_that_fails_halfway_keeps_what_was_resolved(cli, tmp_path, monkeypatch, mode):
    # 10 titles per request: the first request resolves HIT, the second never answers well
    fillers = _fillers(9)
    _import(cli, tmp_path, [HIT, *fillers, LATEX, MISS])
    with ArxivServer(CATALOGUE, mode=mode, after=1) as server:
        monkeypatch.setenv("PAPERSHELF_ARXIV_API", server.url)
        out, err = cli("resolve", "--timeout", "0.5", expect=1)
        assert len(server.requests) == 2
    assert "arXiv:2406.01111" in out and "2405.02222" not in out
    assert "stopped:" in err and "the 1 resolved before it are kept" in err
    papers = _papers(cli.data)
    assert papers[HIT[0]].arxiv_id == "2406.01111"
    assert papers["PATIENT-Ψ: A naïve Simulator of Therapy Clients"].arxiv_id is None
    db = sqlite3.connect(cli.data / "library.sqlite3")
    cached = {r[0] for r in db.execute("SELECT title_norm FROM resolve_misses")}
    db.close()
    assert "gardening robots that never were published" not in cached  # never answered


def test_offline_is_one_line_and_changes_nothing(cli, tmp_path):
    _import(cli, tmp_path, [HIT, MISS])  # conftest points the API at a closed port
    before = sorted(_papers(cli.data))
    db = sqlite3.connect(cli.data / "library.sqlite3")
    ops = db.execute("SELECT COUNT(*) FROM ops").fetchone()[0]
    out, err = cli("resolve", expect=1)
    assert out == ""
    assert err.count("\n") == 1 and "cannot reach arXiv" in err and "nothing changed" in err
    assert db.execute("SELECT COUNT(*) FROM ops").fetchone()[0] == ops
    assert db.execute("SELECT COUNT(*) FROM resolve_misses").fetchone()[0] == 0
    db.close()
    assert sorted(_papers(cli.data)) == before


def test_import_with_resolve(cli, tmp_path, monkeypatch):
    with ArxivServer(CATALOGUE) as server:
        monkeypatch.setenv("PAPERSHELF_ARXIV_API", server.url)
        out, _ = _import(cli, tmp_path, [HIT, MISS], "--resolve")
    assert "added 2" in out and "arXiv:2406.01111" in out and "resolved 1, not on arXiv 1" in out
    listed = json.loads(cli("list", "--json")[0])
    assert {p["key"] for p in listed} >= {"arxiv:2406.01111"}


def test_ctrl_c_keeps_what_was_resolved(tmp_path):
    fillers = _fillers(9)
    with Library.open(tmp_path / "data") as lib, ArxivServer(CATALOGUE) as server:
        lib.add([PaperRecord(title=t, abstract=a, source="dailypapers:d.txt")
                 for t, a in [HIT, *fillers, LATEX]])
        calls = []

        def progress(done, total):
            calls.append(done)
            if len(calls) == 2:  # the first batch is saved: now the person presses Ctrl+C
                raise KeyboardInterrupt

        report = lib.find_on_arxiv(base_url=server.url, delay=0, progress=progress)
        assert report.interrupted and report.resolved and len(server.requests) == 1
        saved = {p.title: p.arxiv_id for p in lib.all_papers() if p.arxiv_id}
        assert saved == dict(report.resolved)  # the first batch's matches, and only those
        assert report.asked == 10 and len(list(lib.all_papers())) == 11


def test_requests_are_spaced_by_the_delay(tmp_path):
    fillers = _fillers(25)
    slept = []
    with Library.open(tmp_path / "data") as lib, ArxivServer(CATALOGUE) as server:
        lib.add([PaperRecord(title=t, abstract=a, source="dailypapers:d.txt")
                 for t, a in fillers])
        report = lib.find_on_arxiv(base_url=server.url, delay=3.0, sleep=slept.append)
        assert report.requests == 3 and slept == [3.0, 3.0]


def test_namesakes_are_left_alone(tmp_path):
    twins = dict(CATALOGUE, **{"2301.09999": ("Quiet Transformers Learn Lullabies from "
                                              "Sparse Audio", ["Eve Moreau"], "2023-01-30")})
    with Library.open(tmp_path / "data") as lib, ArxivServer(twins) as server:
        lib.add([PaperRecord(title=HIT[0], source="dailypapers:d.txt")])
        report = lib.find_on_arxiv(base_url=server.url, delay=0)
        assert report.ambiguous == [HIT[0]] and not report.resolved
        assert next(lib.all_papers()).arxiv_id is None


async def test_R_resolves_the_marked_papers_in_the_app(tmp_path, monkeypatch):
    records = [PaperRecord(title=t, abstract=a, source="dailypapers:d.txt")
               for t, a in [HIT, LATEX, MISS]]
    with ArxivServer(CATALOGUE) as server:
        monkeypatch.setenv("PAPERSHELF_ARXIV_API", server.url)
        monkeypatch.setenv("PAPERSHELF_ARXIV_DELAY", "0")
        app, lib = make_app(tmp_path, records)
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            screen = app.screen
            await pilot.press("slash", *"quiet OR gardening", "escape")
            await settle(pilot)
            assert len(screen.results.keys) == 2
            shown: list[str] = []  # every message the status line is given (they fade)
            set_status = screen.status.set

            def record(**values):
                if values.get("message"):
                    shown.append(values["message"])
                set_status(**values)

            monkeypatch.setattr(screen.status, "set", record)
            # Home first: when typing finishes, the cursor stays on the paper it was on, which
            # is the second row or the first depending on which as-you-type searches ran.
            await pilot.press("home", "space", "down", "space")
            await wait_for(pilot, lambda: "2 marked" in screen.status.text())
            await pilot.press("R")
            await wait_for(pilot, lambda: any("resolved 1, not on arXiv 1" in m for m in shown),
                           timeout=30)
            assert len(server.requests) == 1
            assert "PATIENT" not in server.requests[0]["search_query"][0].upper()
            await settle(pilot)
            detail = screen.detail.text() + "\n".join(
                screen.results.paper(k).key for k in screen.results.keys)
            assert "arxiv:2406.01111" in detail
        lib.close()
