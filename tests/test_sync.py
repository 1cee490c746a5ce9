"""Sync through a folder: round trips, merge rules, note conflicts, and the command line end to
end. Damaged files, clones and odd folders are in test_sync_files.py."""

from __future__ import annotations

import json
import time

from index import merge, sync
from index.clock import HybridClock
from index.library import Library
from index.model import PaperRecord
from index.store import Store
from samples import dense_page, make_papers
from sync_support import devices, exchange, folder, own_log, records, state  # noqa: F401 - fixtures


# ---- round trips and merge rules -------------------------------------------------------------------

def test_two_devices_converge_and_nothing_echoes(folder, devices):
    a, b = devices("a"), devices("b")
    a.add(records(3))
    key = a.store.filtered_keys()[0]
    a.set_star(key)
    a.add_tag(key, "Reading Group")
    a.set_status(key, "reading")
    a.set_note(key, "first thoughts\n")
    a.delete(a.store.filtered_keys()[-1])
    report = sync.sync_now(a, folder)
    assert report.published == len(a.store.ops_since(a.store.device, 0))
    report = sync.sync_now(b, folder)
    assert report.received == report.published + len(a.store.ops_since(a.store.device, 0))
    assert state(a) == state(b)
    paper = b.get(key)
    assert paper.starred and paper.tags == ["reading-group"] and paper.status == "reading"
    assert paper.note == "first thoughts\n"
    assert b.store.count() == 2
    # Applying remote operations wrote no operation of b's own (no echo), and b stores a's.
    assert b.store.ops_since(b.store.device, 0) == []
    assert {o.op_id for o in a.store.ops_since(a.store.device, 0)} == \
        {o.op_id for o in b.store.ops_since(a.store.device, 0)}
    # Syncing again changes nothing and writes nothing.
    before = state(b)
    again = sync.sync_now(b, folder)
    assert (again.published, again.received, again.changed) == (0, 0, 0)
    assert state(b) == before


def test_last_writer_wins_and_tags_add_wins(folder, devices):
    a, b = devices("a"), devices("b")
    a.add(records(2))
    exchange(folder, a, b)
    key = a.store.filtered_keys()[0]
    a.set_status(key, "read")
    # In a later millisecond: two writes in the same millisecond on two machines are a clock
    # tie, which the device ids break (test_tag_add_wins_a_clock_tie has the tie rules).
    time.sleep(0.005)
    b.set_status(key, "reading")  # later clock: wins
    a.add_tag(key, "x")
    b.add_tag(key, "y")
    exchange(folder, a, b)
    assert a.get(key).status == b.get(key).status == "reading"
    assert a.get(key).tags == b.get(key).tags == ["x", "y"]
    # Concurrent add and remove of one tag: the later clock wins either way.
    b.remove_tag(key, "x")
    exchange(folder, a, b)
    assert a.get(key).tags == b.get(key).tags == ["y"]


def test_tag_add_wins_a_clock_tie(tmp_path):
    rows = [("k", "tag:t", "0000000000000005.00000.dev", "dev-1", "false"),
            ("k", "tag:t", "0000000000000005.00000.dev", "dev-1", "true")]
    for n, order in enumerate((rows, rows[::-1])):
        store = Store(tmp_path / f"lib{n}")
        store.ensure_sync_tables()
        with store.transaction():
            store.upsert_state(order)
        assert store.db.execute("SELECT value FROM sync_state").fetchone()[0] == "true"
        store.close()


def test_clocks_stay_ahead_when_a_wall_clock_runs_backwards(folder, devices):
    a, b = devices("a"), devices("b")
    a.add(records(1))
    key = a.store.filtered_keys()[0]
    future = 4_000_000_000_000
    a.store.clock = HybridClock(a.store.device, a.store.clock.last, wall_ms=lambda: future)
    a.set_star(key, True)  # stamped far in the future
    exchange(folder, a, b)
    b.store.clock = HybridClock(b.store.device, b.store.clock.last, wall_ms=lambda: 1000)
    b.set_star(key, False)  # b's wall clock says 1970, yet this is the later change
    ops = b.store.ops_since(b.store.device, 0)
    assert ops[-1].hlc > a.store.ops_since(a.store.device, 0)[-1].hlc
    exchange(folder, a, b)
    assert a.get(key).starred is False and b.get(key).starred is False
    hlcs = [o.hlc for o in a.store.ops_since(a.store.device, 0)]
    assert hlcs == sorted(hlcs) and len(set(hlcs)) == len(hlcs)


def test_concurrent_note_edits_merge_cleanly_or_conflict(folder, devices):
    a, b = devices("a"), devices("b")
    a.add(records(1))
    key = a.store.filtered_keys()[0]
    a.set_note(key, "one\ntwo\nthree\n")
    exchange(folder, a, b)
    a.set_note(key, "one A\ntwo\nthree\n")
    b.set_note(key, "one\ntwo\nthree B\n")
    exchange(folder, a, b)
    assert a.get(key).note == b.get(key).note == "one A\ntwo\nthree B\n"
    assert sync.pending_conflicts(a) == []
    # An edit after the clean merge descends from both versions: no new conflict.
    b.set_note(key, "one A\ntwo\nthree B\nfour\n")
    exchange(folder, a, b)
    assert a.get(key).note == "one A\ntwo\nthree B\nfour\n"
    assert sync.pending_conflicts(a) == []
    # Both change the same line: both versions are kept and a conflict waits.
    a.set_note(key, "one A\nTWO from a\nthree B\nfour\n")
    b.set_note(key, "one A\ntwo from b\nthree B\nfour\n")
    exchange(folder, a, b)
    assert state(a) == state(b)
    conflicts = sync.pending_conflicts(a)
    assert [c.key for c in conflicts] == [key]
    assert conflicts[0].local == "one A\nTWO from a\nthree B\nfour\n"
    assert conflicts[0].remote == "one A\ntwo from b\nthree B\nfour\n"
    assert "<<<<<<<" in conflicts[0].merged and "two from b" in conflicts[0].merged
    assert sync.pending_conflicts(b)[0].local == "one A\ntwo from b\nthree B\nfour\n"
    texts = [v.text for v in sync.note_versions(b, key)]
    assert "one A\nTWO from a\nthree B\nfour\n" in texts and "one A\ntwo from b\nthree B\nfour\n" in texts
    sync.resolve_conflict(b, key, keep="merged", text="settled\n")
    exchange(folder, a, b)
    assert a.get(key).note == b.get(key).note == "settled\n"
    assert sync.pending_conflicts(a) == sync.pending_conflicts(b) == []
    assert len(sync.note_versions(a, key)) == 7  # every version ever written


def test_keep_both_from_the_cli_keeps_what_the_app_keeps(folder, devices, tmp_path, capsys):
    """`papershelf sync --resolve KEY --keep both` and the app's "keep both" write the same note:
    this device's version, the marker line, the other device's."""
    from index.library import Library
    from index.sync import BOTH_MARKER
    from tui.cli import main

    a, b = devices("a"), devices("b")
    a.add(records(1))
    exchange(folder, a, b)
    key = a.store.filtered_keys()[0]
    a.set_note(key, "line from a\n")
    b.set_note(key, "line from b\n")
    exchange(folder, a, b)
    conflict = next(c for c in sync.pending_conflicts(b) if c.key == key)
    in_the_app = Library.keep_both_notes(conflict.local, conflict.remote)  # the app's 3 key
    assert main(["--data-dir", str(tmp_path / "b"), "sync", "--resolve", key,
                 "--keep", "both"]) == 0
    assert "settled (both)" in capsys.readouterr().out
    assert b.get(key).note == in_the_app
    assert in_the_app == f"line from b\n\n{BOTH_MARKER}\n\nline from a\n"
    assert sync.pending_conflicts(b) == []


def test_three_concurrent_note_versions_are_all_shown_before_one_settles_them(folder, devices):
    """Three machines edit the same line at once: the conflict shows this device's version
    and every other one (none hidden behind another), and the settled note descends from all
    three."""
    a, b, c = devices("a"), devices("b"), devices("c")
    a.add(records(1))
    key = a.store.filtered_keys()[0]
    a.set_note(key, "start\n")
    exchange(folder, a, b, c)
    a.set_note(key, "from a\n")
    b.set_note(key, "from b\n")
    c.set_note(key, "from c\n")
    exchange(folder, a, b, c)
    [conflict] = sync.pending_conflicts(a)
    assert len(conflict.heads) == 3
    assert conflict.local == "from a\n"
    assert "from b" in conflict.remote and "from c" in conflict.remote
    assert all(f"from {d}" in conflict.merged for d in "abc")
    sync.resolve_conflict(a, key, keep="merged", text="from a, b and c\n")
    exchange(folder, a, b, c)
    for device in (a, b, c):
        assert device.get(key).note == "from a, b and c\n"
        assert sync.pending_conflicts(device) == []


def test_diff3():
    assert merge.diff3("a\nb\nc\n", "A\nb\nc\n", "a\nb\nC\n") == ("A\nb\nC\n", True)
    assert merge.diff3("a\n", "a\nmine\n", "a\n") == ("a\nmine\n", True)
    assert merge.diff3("a\nb\n", "x\nb\n", "x\nb\n") == ("x\nb\n", True)
    text, clean = merge.diff3("a\nb\n", "x\nb\n", "y\nb\n")
    assert not clean and text == "<<<<<<< mine\nx\n=======\ny\n>>>>>>> theirs\nb\n"
    assert merge.diff3("", "new", "") == ("new", True)


def test_rekeyed_paper_keeps_remote_changes(folder, devices):
    a, b = devices("a"), devices("b")
    title = "Sparse Lanterns for Dark Video"
    a.add([PaperRecord(title=title, source="test:titles")])
    old = a.store.filtered_keys()[0]
    exchange(folder, a, b)
    b.set_star(old)  # b still knows the paper by its title key
    b.add_tag(old, "video")
    a.add([PaperRecord(title=title, arxiv_id="2402.00001", abstract="Now with an id.",
                       source="test:arxiv")])  # a re-keys it to arxiv:2402.00001
    exchange(folder, a, b)
    assert state(a) == state(b)
    paper = b.get("arxiv:2402.00001")
    assert paper.starred and paper.tags == ["video"] and paper.abstract == "Now with an id."
    assert b.get(old).key == "arxiv:2402.00001"  # the old key is an alias


def test_citation_key_clash_resolves_the_same_everywhere(folder, devices):
    a, b = devices("a"), devices("b")
    a.add([PaperRecord(title="Deep Things", authors=["Kim"], year=2024, arxiv_id="2403.00001")])
    b.add([PaperRecord(title="Deep Stuff", authors=["Kim"], year=2024, arxiv_id="2403.00002")])
    assert a.get("arxiv:2403.00001").citekey == b.get("arxiv:2403.00002").citekey == "kim2024deep"
    exchange(folder, a, b)
    assert state(a) == state(b)
    keys = [p.citekey for p in a.all_papers()]
    assert len(set(keys)) == 2 and "kim2024deep" in keys


def test_delete_is_a_tombstone(folder, devices):
    a, b = devices("a"), devices("b")
    a.add(records(2))
    exchange(folder, a, b)
    key = a.store.filtered_keys()[0]
    b.set_star(key)
    sync.sync_now(b, folder)
    a.delete(key)  # later than b's star
    exchange(folder, a, b)
    assert a.get(key) is None and b.get(key) is None
    assert state(a) == state(b)


# ---- the command line, end to end ---------------------------------------------------------------------

def test_cli_end_to_end_two_data_dirs_one_folder(tmp_path, folder, capsys):
    from tui.cli import main

    d1, d2 = tmp_path / "d1", tmp_path / "d2"
    page = tmp_path / "daily.txt"
    pairs = make_papers(4, seed=5)
    text = dense_page(pairs)
    assert text.splitlines()[:2] == ["Get trending papers in your email inbox once a day!",
                                     "Get trending papers in your email inbox!"]
    assert text.splitlines()[2].startswith("Subscribe")
    page.write_text(text, encoding="utf-8")

    def run(data, *argv, expect=0):
        code = main(["--data-dir", str(data), *map(str, argv)])
        out, err = capsys.readouterr()
        assert code == expect, err
        return out, err

    run(d1, "import", page)
    listed = json.loads(run(d1, "list", "--json")[0])
    if len(listed) != len(pairs):  # the Daily Papers parser is not there yet: add directly
        with Library.open(d1) as lib:
            lib.add([PaperRecord(title=t, abstract=a, source="dailypapers:daily.txt")
                     for t, a in pairs])
        listed = json.loads(run(d1, "list", "--json")[0])
    assert len(listed) == len(pairs)
    key = listed[0]["key"]
    run(d1, "star", key)
    run(d1, "tag", key, "to-read")
    out, _ = run(d1, "sync", folder)
    assert "synced with" in out
    out, _ = run(d2, "sync")  # the folder was remembered in config.toml
    assert f"received {len(pairs) + 2}" in out
    assert json.loads(run(d2, "list", "--json")[0]) == json.loads(run(d1, "list", "--json")[0])
    out, _ = run(d2, "search", pairs[0][0].split()[0])
    assert out.strip()
    # A note conflict, seen in --status and settled from the command line.
    run(d1, "note", key, "--text", "mine\n")
    run(d2, "note", key, "--text", "theirs\n")
    run(d1, "sync")
    out, err = run(d2, "sync")
    assert "1 note conflict" in out
    out, _ = run(d2, "sync", "--status")
    assert key in out and "note conflicts (1)" in out
    with Library.open(d1) as lib:
        assert lib.store.device in out
    run(d2, "sync", "--resolve", key, "--keep", "both")
    run(d2, "sync")
    run(d1, "sync")
    shown1 = json.loads(run(d1, "show", key, "--json")[0])
    shown2 = json.loads(run(d2, "show", key, "--json")[0])
    # "both" is the app's rule: the two versions with the marker line between them.
    assert shown1["note"] == shown2["note"] == f"theirs\n\n{sync.BOTH_MARKER}\n\nmine\n"
    out, _ = run(d1, "sync", "--status")
    assert "note conflicts: none" in out
    # One-line errors.
    _, err = run(d1, "sync", tmp_path / "missing", expect=1)
    assert err.count("\n") == 1 and "does not exist" in err
    _, err = run(d1, "sync", "--resolve", key, "--keep", "mine", expect=1)
    assert "no note conflict" in err


def test_a_note_longer_than_the_tail_window_is_not_published_twice(folder, devices):
    a, b = devices("a"), devices("b")
    a.add(records(1))
    key = a.store.filtered_keys()[0]
    a.set_note(key, "long line " * 20_000 + "\n")  # one log line of ~200 KB
    assert sync.sync_now(a, folder).published == 2
    assert sync.sync_now(a, folder).published == 0
    with open(own_log(folder, a), "ab") as handle:  # and a torn append after it
        handle.write(b'{"id": "x')
    assert sync.sync_now(a, folder).published == 0
    assert own_log(folder, a).read_bytes().endswith(b"}\n")
    sync.sync_now(b, folder)
    assert b.get(key).note == a.get(key).note


def test_a_fresh_library_receives_everything_and_indexes_it(folder, devices, tmp_path):
    a = devices("a")
    a.add(records(2))
    sync.sync_now(a, folder)
    with Library.open(tmp_path / "fresh") as fresh:
        report = sync.sync_now(fresh, folder)
        assert report.received == len(a.store.ops_since(a.store.device, 0))
        assert fresh.store.count() == 2
        assert fresh.search(records(2)[0].title.split()[0]).total >= 1  # indexed too


def test_update_index_false_leaves_the_changed_papers_marked(folder, devices, tmp_path):
    a = devices("a")
    a.add(records(2))
    sync.sync_now(a, folder)
    with Library.open(tmp_path / "b") as b:
        sync.sync_now(b, folder, update_index=False)
        assert sorted(b.store.dirty_keys()) == sorted(a.store.filtered_keys())
        b.flush_index()
        assert b.store.dirty_keys() == []
