"""Sync through a folder, when files go wrong: flipped bytes, torn and truncated lines, sync
tools' conflict copies and temp files, broken snapshots, cloned data directories, restored
backups, and folders that are missing, read-only or of a newer format."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import pytest

from index import sync
from index.clock import HybridClock
from index.library import Library
from sync_support import devices, exchange, folder, own_log, records, state  # noqa: F401 - fixtures


# ---- damaged and odd files ----------------------------------------------------------------------

def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _published(folder, devices):
    """Devices a and b; a has published three papers: (a, b, a's log, its bytes, its lines)."""
    a, b = devices("a"), devices("b")
    a.add(records(3))
    sync.sync_now(a, folder)
    log = own_log(folder, a)
    return a, b, log, log.read_bytes(), _lines(log)


def test_flipped_byte_is_reported_and_the_owner_republishes(folder, devices):
    a, b, log, good, lines = _published(folder, devices)
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
    a, b, log, good, lines = _published(folder, devices)
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
