"""Sync through a folder: round trips, merge rules, damaged files, clones, the folder itself,
and the command line end to end."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from index import merge, sync
from index.clock import HybridClock
from index.library import Library
from index.model import PaperRecord
from index.store import Store
from samples import dense_page, make_papers


def _fast_index(lib: Library) -> Library:
    """Tests of merging need no search index: pending index updates are simply dropped."""
    lib.flush_index = lambda: lib.store.clear_dirty(lib.store.dirty_keys())
    return lib


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "Sync"
    path.mkdir()
    return path


@pytest.fixture
def devices(tmp_path):
    opened = []

    def make(name: str) -> Library:
        lib = _fast_index(Library.open(tmp_path / name))
        opened.append(lib)
        return lib

    yield make
    for lib in opened:
        lib.close()


def records(n: int = 3) -> list[PaperRecord]:
    return [PaperRecord(title=t, abstract=a, authors=[f"Ada Author{i}"], year=2024,
                        arxiv_id=f"2401.{i:05d}", source="test:one")
            for i, (t, a) in enumerate(make_papers(n))]


def state(lib: Library) -> dict:
    """Everything a person can see, plus tombstones and pending conflicts."""
    db = lib.store.db
    papers = {}
    for row in db.execute("SELECT * FROM papers ORDER BY key"):
        papers[row["key"]] = (row["title"], row["abstract"], row["authors"], row["year"],
                              row["citekey"], bool(row["starred"]), row["status"], row["note"],
                              bool(row["deleted"]), row["sources"])
    tags = sorted(tuple(r) for r in db.execute("SELECT key, tag FROM tags"))
    conflicts = []
    if lib.store.has_sync_tables():
        conflicts = sorted((r[0], r[1]) for r in db.execute("SELECT key, heads FROM sync_conflicts"))
    return {"papers": papers, "tags": tags, "conflicts": conflicts}


def exchange(folder, *libs, rounds: int = 2):
    for _ in range(rounds):
        for lib in libs:
            sync.sync_now(lib, folder)


def own_log(folder, lib) -> Path:
    return folder / "papershelf" / "devices" / lib.store.device / "ops-000001.jsonl"


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


# ---- damaged and odd files ----------------------------------------------------------------------

def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_flipped_byte_is_reported_and_the_owner_republishes(folder, devices):
    a, b = devices("a"), devices("b")
    a.add(records(3))
    sync.sync_now(a, folder)
    log = own_log(folder, a)
    good = log.read_bytes()
    lines = _lines(log)
    damaged = bytearray(lines[1])
    damaged[len(damaged) // 2] ^= 0x01
    log.write_bytes(lines[0] + bytes(damaged) + b"".join(lines[2:]))
    report = sync.sync_now(b, folder)
    assert len(report.problems) == 1 and "checksum" in report.problems[0]
    assert report.received == len(lines) - 1
    report = sync.sync_now(a, folder)  # the owner notices and writes its operations again
    assert report.republished == len(lines) and "damaged" in report.messages[0]
    assert log.read_bytes() == good
    report = sync.sync_now(b, folder)
    assert report.problems == [] and report.received == 1
    assert state(a) == state(b)


def test_truncated_tail_is_a_write_in_progress(folder, devices):
    a, b = devices("a"), devices("b")
    a.add(records(3))
    sync.sync_now(a, folder)
    log = own_log(folder, a)
    good = log.read_bytes()
    lines = _lines(log)
    log.write_bytes(b"".join(lines[:2]) + lines[2][:17])
    report = sync.sync_now(b, folder)
    assert report.problems == [] and report.received == 2
    log.write_bytes(good)
    report = sync.sync_now(b, folder)
    assert report.problems == [] and report.received == len(lines) - 2
    assert state(a) == state(b)


def test_garbage_files_temp_files_and_conflict_copies(folder, devices):
    a, b, c = devices("a"), devices("b"), devices("c")
    a.add(records(3))
    sync.sync_now(a, folder)
    devdir = own_log(folder, a).parent
    content = own_log(folder, a).read_bytes()
    # Conflict copies of every sync tool, holding the same operations again (plus one more).
    a.set_star(a.store.filtered_keys()[0])
    extra = sync.encode_line(a.store.ops_since(a.store.device, 0)[-1])
    for name in ("ops-000001.sync-conflict-20240101-120000-ABCDEFG.jsonl",
                 "ops-000001 (Bob's conflicted copy 2024-01-01).jsonl",
                 "ops-000001 2.jsonl", "ops-000001 (1).jsonl"):
        (devdir / name).write_bytes(content + extra)
    # Temp files are ignored, whatever they hold; garbage is reported.
    for name in (".syncthing.ops-000002.jsonl.tmp", "~ops-000002.jsonl.tmp", "ops-000002.jsonl.tmp"):
        (devdir / name).write_bytes(b"\x00\xff garbage")
    (devdir / "ops-000007.jsonl").write_bytes(os.urandom(300) + b"\n{\"id\": 1}\n[1,2]\n")
    (folder / "papershelf" / "devices" / "not-a-dir").write_bytes(b"junk")
    report = sync.sync_now(b, folder)
    assert len(report.problems) >= 2
    assert all("ops-000007.jsonl" in p for p in report.problems)
    assert report.received == len(content.splitlines()) + 1
    assert b.get(a.store.filtered_keys()[0]).starred
    # a publishes the star itself later; c reads everything; all agree.
    exchange(folder, a, b, c)
    assert state(a) == state(b) == state(c)


def test_crash_leftovers_are_ignored_and_a_torn_own_append_is_repaired(folder, devices):
    a, b = devices("a"), devices("b")
    a.add(records(2))
    sync.sync_now(a, folder)
    root = folder / "papershelf"
    # A crash between writing a temp file and renaming it leaves the temp behind.
    (root / ".FORMAT.abc123.tmp").write_bytes(b'{"format": "papershelf-oplog", "ma')
    (root / "snapshots" / ".snapshot-x.json.gz.k2.tmp").write_bytes(b"partial")
    # A crash in the middle of a's own append leaves a torn line; a's database never counted
    # those operations as published.
    key = a.store.filtered_keys()[0]
    a.set_star(key)
    a.add_tag(key, "t")
    torn = sync.encode_line(a.store.ops_since(a.store.device, 0)[-2])[:25]
    with open(own_log(folder, a), "ab") as handle:
        handle.write(torn)
    report = sync.sync_now(a, folder)
    assert report.published == 2
    assert own_log(folder, a).read_bytes().endswith(b"\n")
    report = sync.sync_now(b, folder)
    assert report.problems == []
    assert state(a) == state(b)
    # Our own stale temp files are removed after an hour; other tools' are left alone.
    (root / ".syncthing.FORMAT.tmp").write_bytes(b"theirs")
    for name in (".FORMAT.abc123.tmp", ".syncthing.FORMAT.tmp"):
        os.utime(root / name, (1, 1))
    sync.sync_now(a, folder)
    assert not (root / ".FORMAT.abc123.tmp").exists()
    assert (root / ".syncthing.FORMAT.tmp").exists()


def test_snapshot_starts_a_new_device_and_a_corrupt_one_falls_back(folder, devices, monkeypatch):
    monkeypatch.setattr(sync, "SNAPSHOT_EVERY", 5)
    a, b = devices("a"), devices("b")
    a.add(records(4))
    key = a.store.filtered_keys()[0]
    a.set_note(key, "from a\n")
    b.add(records(6)[4:])
    exchange(folder, a, b)
    snaps = sorted((folder / "papershelf" / "snapshots").glob("snapshot-*.json.gz"))
    assert snaps
    a.set_star(key)  # newer than any snapshot
    sync.sync_now(a, folder)
    c = devices("c")
    report = sync.sync_now(c, folder)
    assert report.snapshot_loaded and report.problems == []
    assert state(c) == state(a)
    assert [v.text for v in sync.note_versions(c, key)] == ["from a\n"]
    # The next sync copies the operations the snapshot covered: every operation is kept.
    sync.sync_now(c, folder)
    held = {r[0] for r in c.store.db.execute("SELECT op_id FROM ops")}
    for lib in (a, b):
        assert {o.op_id for o in lib.store.ops_since(lib.store.device, 0)} <= held
    # Damage every snapshot: a new device replays the logs instead.
    for snap in snaps:
        data = bytearray(gzip.decompress(snap.read_bytes()))
        data[-10] ^= 0x20
        snap.write_bytes(gzip.compress(bytes(data)))
    d = devices("d")
    report = sync.sync_now(d, folder)
    assert report.snapshot_loaded is None
    assert any("damaged snapshot" in p for p in report.problems)
    assert state(d) == state(a)


def _cloned(folder, devices, tmp_path) -> tuple[Library, Library, Library]:
    """Device a with two synced papers, a2 a copy of its data directory, and b."""
    a = devices("a")
    a.add(records(2))
    sync.sync_now(a, folder)
    a.close()
    shutil.copytree(tmp_path / "a", tmp_path / "a2")
    return devices("a"), devices("a2"), devices("b")


def test_cloned_device_id_forks_and_loses_nothing(folder, devices, tmp_path):
    a, a2, b = _cloned(folder, devices, tmp_path)
    assert a.store.device == a2.store.device
    key = a.store.filtered_keys()[0]
    a.set_star(key)
    a2.add_tag(key, "from-the-copy")
    a2.set_note(key, "copy note\n")
    a2.set_note(key, "copy note, edited\n")
    sync.sync_now(a, folder)
    report = sync.sync_now(a2, folder)
    assert report.forked_from == a.store.device and a2.store.device != a.store.device
    assert "copied data directory" in report.messages[0]
    exchange(folder, a, a2, b)
    assert state(a) == state(a2) == state(b)
    paper = b.get(key)
    assert paper.starred and paper.tags == ["from-the-copy"] and paper.note == "copy note, edited\n"
    # The fork renumbered only unpublished operations, and both logs stay continuous.
    seqs = [o.seq for o in a2.store.ops_since(a2.store.device, 0)]
    assert seqs == list(range(1, len(seqs) + 1))
    assert sync.sync_now(a, folder).forked_from is None


def test_clones_writing_in_the_same_millisecond_still_lose_nothing(folder, devices, tmp_path):
    """Two copies of one data directory number their operations alike; a change made on each
    in the same millisecond also gets the same clock reading. The copy that forks must still
    tell its change from the other's (it once took the other's star for its own tag: the star
    never reached it, and its tag never left)."""
    a, a2, b = _cloned(folder, devices, tmp_path)
    same_moment = a.store.clock.last.ms + 1000
    for lib in (a, a2):
        lib.store.clock = HybridClock(lib.store.device, lib.store.clock.last,
                                      wall_ms=lambda: same_moment)
    key = a.store.filtered_keys()[0]
    a.set_star(key)
    a2.add_tag(key, "from-the-copy")
    assert a.store.ops_since(a.store.device, 0)[-1].hlc == a2.store.ops_since(a2.store.device, 0)[-1].hlc
    sync.sync_now(a, folder)
    assert sync.sync_now(a2, folder).forked_from == a.store.device
    exchange(folder, a, a2, b)
    assert state(a) == state(a2) == state(b)
    paper = b.get(key)
    assert paper.starred and paper.tags == ["from-the-copy"]


def test_restored_backup_behind_the_log_forks_and_gets_its_ops_back(folder, devices, tmp_path):
    a = devices("a")
    a.add(records(2))
    a.close()
    shutil.copytree(tmp_path / "a", tmp_path / "backup")
    a = devices("a")
    a.set_star(a.store.filtered_keys()[0])
    sync.sync_now(a, folder)
    a.close()
    shutil.rmtree(tmp_path / "a")
    shutil.copytree(tmp_path / "backup", tmp_path / "a")
    restored = devices("a")
    report = sync.sync_now(restored, folder)
    assert report.forked_from is not None
    assert restored.get(restored.store.filtered_keys()[0]).starred  # recovered from the log


def test_missing_read_only_and_newer_folders_fail_with_one_line(folder, devices, tmp_path, monkeypatch):
    a = devices("a")
    a.add(records(1))
    with pytest.raises(sync.SyncError, match="does not exist") as info:
        sync.sync_now(a, tmp_path / "nowhere")
    assert "\n" not in str(info.value)
    # Read-only (simulated: the tests may run as root, who can write anywhere).
    real_access = os.access
    monkeypatch.setattr(sync.os, "access",
                        lambda p, mode: False if mode == os.W_OK and Path(p) == folder
                        else real_access(p, mode))
    with pytest.raises(sync.SyncError, match="read-only") as info:
        sync.sync_now(a, folder)
    assert "\n" not in str(info.value)
    assert not (folder / "papershelf").exists()
    monkeypatch.undo()
    newer = tmp_path / "newer"
    (newer / "papershelf").mkdir(parents=True)
    (newer / "papershelf" / "FORMAT").write_text('{"format": "papershelf-oplog", "major": 2}')
    with pytest.raises(sync.SyncError, match="newer papershelf"):
        sync.sync_now(a, newer)
    assert sorted(os.listdir(newer / "papershelf")) == ["FORMAT"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_really_read_only_folder(folder, devices):
    a = devices("a")
    a.add(records(1))
    folder.chmod(0o555)
    try:
        with pytest.raises(sync.SyncError, match="read-only|cannot write"):
            sync.sync_now(a, folder)
    finally:
        folder.chmod(0o755)


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
