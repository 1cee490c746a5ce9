"""Backups: `papershelf backup [PATH]` writes a consistent copy, `restore` brings it back,
automatic backups keep the newest N."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from crash_worker import dump, records

from index import backup as backup_mod
from index.backup import BackupError
from index.library import Library
from tui.cli import main


def _make(path: Path, n: int = 30) -> Library:  # n >= 4
    lib = Library.open(path)
    lib.store.add_records(records(n, 3))
    keys = lib.store.filtered_keys()
    lib.set_star(keys[0])
    lib.add_tag(keys[1], "to-read")
    lib.set_note(keys[2], "a note with ünïcode and [brackets]")
    lib.set_status(keys[3], "reading")
    return lib


def test_backup_is_a_complete_single_file_copy(tmp_path):
    lib = _make(tmp_path / "lib")
    path = backup_mod.backup(lib, tmp_path / "out.sqlite3")
    assert path == tmp_path / "out.sqlite3"
    assert dump(path) == dump(lib.store.db)  # papers, tags, registers, ops, meta, aliases
    # One self-contained file: not in WAL mode, no companions, no temp files left.
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lib", "out.sqlite3"]
    assert backup_mod.validate(path)["papers"] == 30
    lib.close()


def test_default_destination_and_folder_destination(tmp_path):
    lib = _make(tmp_path / "lib")
    first = backup_mod.backup(lib)
    second = backup_mod.backup(lib)  # same second: a distinct name, never an overwrite
    assert first.parent == tmp_path / "lib" / "backups" and first != second
    assert first.name.startswith("papershelf-") and first.suffix == ".sqlite3"
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    third = backup_mod.backup(lib, folder)
    assert third.parent == folder
    with pytest.raises(BackupError, match="the library itself"):
        backup_mod.backup(lib, lib.store.path)
    lib.close()


def test_backup_is_consistent_while_another_process_writes(tmp_path):
    lib = _make(tmp_path / "lib", 6)
    stop = threading.Event()

    def writer():
        other = Library.open(tmp_path / "lib")
        key = other.store.filtered_keys()[0]
        i = 0
        while not stop.is_set():
            other.set_note(key, f"version {i}")
            i += 1
        other.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.1)
        paths = [backup_mod.backup(lib, tmp_path / f"b{i}.sqlite3") for i in range(5)]
    finally:
        stop.set()
        thread.join()
    for path in paths:
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        seqs = [r[0] for r in conn.execute("SELECT seq FROM ops ORDER BY seq")]
        assert seqs == list(range(1, len(seqs) + 1))  # a snapshot, not a torn copy
        conn.close()
    lib.close()


def test_restore_brings_back_the_backup_and_saves_the_current_state(tmp_path):
    lib = _make(tmp_path / "lib")
    key = lib.store.filtered_keys()[0]
    saved = backup_mod.backup(lib, tmp_path / "b.sqlite3")
    before = dump(lib.store.db)
    lib.set_note(key, "written after the backup")
    lib.delete(lib.store.filtered_keys()[5])
    after = dump(lib.store.db)
    old_device = lib.store.device
    lib.close()
    for name in ("search", "search-whoosh"):  # both engines' index folders
        (tmp_path / "lib" / name).mkdir(exist_ok=True)
        (tmp_path / "lib" / name / "junk").write_text("x")

    info = backup_mod.restore(tmp_path / "lib", saved, keep=3)
    assert info["papers"] == 30
    assert not (tmp_path / "lib" / "search").exists()  # rebuilt from the store on next use
    assert not (tmp_path / "lib" / "search-whoosh").exists()
    with Library.open(tmp_path / "lib") as restored:
        now = dump(restored.store.db)
        for table in ("papers", "tags", "ops", "registers", "aliases"):
            assert now[table] == before[table]
        assert restored.get(key).note == ""
        assert restored.store.device == old_device  # sync forks a new id if it must
        assert restored.set_status(key, "read")
        from index import doctor

        assert not doctor.check(restored, index=False).problems  # op log continuous
    # The state before the restore was saved as an automatic backup, and can come back.
    previous = Path(info["previous"])
    assert previous.parent == tmp_path / "lib" / "backups" and "before-restore" in previous.name
    assert dump(previous)["papers"] == after["papers"]
    backup_mod.restore(tmp_path / "lib", previous)
    with Library.open(tmp_path / "lib") as undone:
        assert undone.get(key).note == "written after the backup"


def test_restore_of_a_bad_file_changes_nothing(tmp_path):
    lib = _make(tmp_path / "lib")
    before = dump(lib.store.db)
    lib.close()
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database at all" * 100)
    other = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    good = tmp_path / "good.sqlite3"
    with Library.open(tmp_path / "lib") as lib:
        backup_mod.backup(lib, good)
    damaged = tmp_path / "damaged.sqlite3"
    data = bytearray(good.read_bytes())
    for offset in range(4096 * 2, len(data), 4096):  # scramble every page after the first two
        data[offset + 100: offset + 400] = bytes(300)
    damaged.write_bytes(bytes(data))
    cases = {
        tmp_path / "missing.sqlite3": "no such backup file",
        tmp_path: "is a folder",
        garbage: "not an SQLite database",
        other: "not a papershelf backup",
        damaged: "damaged",
    }
    for path, message in cases.items():
        with pytest.raises(BackupError, match=message):
            backup_mod.restore(tmp_path / "lib", path)
    assert dump(tmp_path / "lib" / "library.sqlite3") == before
    assert not (tmp_path / "lib" / "backups").exists()  # validation fails before any write


def test_restore_refuses_a_newer_schema(tmp_path):
    with Library.open(tmp_path / "lib") as lib:
        path = backup_mod.backup(lib, tmp_path / "b.sqlite3")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(BackupError, match="newer papershelf"):
        backup_mod.restore(tmp_path / "lib", path)


def test_automatic_backups_keep_the_newest_n_and_never_touch_manual_ones(tmp_path):
    lib = _make(tmp_path / "lib", 4)
    manual = backup_mod.backup(lib)
    made = [backup_mod.auto_backup(lib, keep=3) for _ in range(5)]
    kept = backup_mod.auto_backups(lib.data_dir)
    assert kept == made[-3:]
    assert manual.exists()
    assert backup_mod.auto_backup(lib, keep=0) is None
    lib.close()


def test_keep_comes_from_the_config(tmp_path, isolated_dirs):
    config = isolated_dirs / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text("[backup]\nkeep = 2\n")
    lib = _make(tmp_path / "lib", 4)
    for _ in range(4):
        backup_mod.auto_backup(lib)
    assert len(backup_mod.auto_backups(lib.data_dir)) == 2
    lib.close()


def test_daily_backup_once_a_day(tmp_path):
    lib = _make(tmp_path / "lib", 4)
    assert backup_mod.daily_backup(lib, keep=5) is not None
    assert backup_mod.daily_backup(lib, keep=5) is None  # already one today
    tomorrow = time.time() + 86400
    assert backup_mod.daily_backup(lib, keep=5, now=tomorrow) is not None
    lib.close()


def test_backup_before_migration(tmp_path):
    lib = _make(tmp_path / "lib", 4)
    lib.close()
    path = backup_mod.backup_before_migration(tmp_path / "lib" / "library.sqlite3", keep=2)
    assert "migration" in path.name and backup_mod.validate(path)["papers"] == 4
    assert backup_mod.backup_before_migration(tmp_path / "nothing" / "library.sqlite3") is None


# ---- through the CLI ----------------------------------------------------------------------------

def test_cli_backup_and_restore(tmp_path, capsys):
    data = tmp_path / "lib"
    lib = _make(data)
    key = lib.store.filtered_keys()[0]
    lib.close()
    assert main(["--data-dir", str(data), "backup", str(tmp_path / "b.sqlite3")]) == 0
    out = capsys.readouterr().out
    assert "backed up 30 papers" in out and "b.sqlite3" in out
    assert main(["--data-dir", str(data), "unstar", key]) == 0
    assert main(["--data-dir", str(data), "restore", str(tmp_path / "b.sqlite3")]) == 0
    captured = capsys.readouterr()
    assert "restored 30 papers" in captured.out and "before-restore" in captured.err
    with Library.open(data) as lib:
        assert lib.get(key).starred


def test_cli_restore_errors_are_one_line(tmp_path, capsys):
    data = tmp_path / "lib"
    _make(data).close()
    before = dump(data / "library.sqlite3")
    bad = tmp_path / "bad.sqlite3"
    bad.write_text("hello")
    for path in (tmp_path / "missing.sqlite3", bad):
        assert main(["--data-dir", str(data), "restore", str(path)]) == 1
        err = capsys.readouterr().err
        assert err.startswith("papershelf: ") and err.count("\n") == 1
        assert "Traceback" not in err
    assert dump(data / "library.sqlite3") == before


def test_restore_then_sync_loses_nothing(tmp_path):
    """Restore an older backup on a device that has synced since: the next sync notices the
    folder holds operations this library never wrote, takes a new device id, and publishes the
    edits made after the restore; another device receives them."""
    from index import sync

    folder = tmp_path / "sync"
    folder.mkdir()
    data = tmp_path / "lib"
    lib = _make(data, 6)
    keys = lib.store.filtered_keys()
    sync.sync_now(lib, folder)
    saved = backup_mod.backup(lib, tmp_path / "b.sqlite3")
    lib.set_note(keys[4], "after the backup, synced")
    sync.sync_now(lib, folder)
    lib.close()
    backup_mod.restore(data, saved)
    with Library.open(data) as lib:
        lib.add_tag(keys[5], "after-restore")
        report = sync.sync_now(lib, folder)
        assert not report.problems
        from index import doctor

        assert not doctor.check(lib, index=False).problems
    with Library.open(tmp_path / "peer") as peer:
        sync.sync_now(peer, folder)
        assert "after-restore" in peer.get(keys[5]).tags
        assert peer.get(keys[4]).note == "after the backup, synced"


def test_cli_restore_handler_works_without_an_open_library(tmp_path, capsys):
    """run_restore accepts lib=None (what main() passes for needs_library=False)."""
    from tui.cli.backup import run_restore
    from tui.cli.parser import build_parser

    data = tmp_path / "lib"
    with Library.open(data) as lib:
        lib.store.add_records(records(4, 3))
        good = backup_mod.backup(lib, tmp_path / "good.sqlite3")
    (data / "library.sqlite3").write_bytes(b"garbage" * 1000)
    args = build_parser().parse_args(["--data-dir", str(data), "restore", str(good)])
    assert args.needs_library is False
    assert run_restore(args, None) == 0
    with Library.open(data) as lib:
        assert lib.store.count() == 4
    assert "damaged" in " ".join(p.name for p in (data / "backups").iterdir())


def test_cli_restore_over_a_damaged_library(tmp_path, capsys):
    data = tmp_path / "lib"
    with Library.open(data) as lib:
        lib.store.add_records(records(4, 3))
        good = backup_mod.backup(lib, tmp_path / "good.sqlite3")
    (data / "library.sqlite3").write_bytes(b"garbage" * 1000)
    for leftover in ("library.sqlite3-wal", "library.sqlite3-shm"):
        (data / leftover).unlink(missing_ok=True)
    assert main(["--data-dir", str(data), "restore", str(good)]) == 0
    with Library.open(data) as lib:
        assert lib.store.count() == 4


def test_restore_refuses_while_another_process_has_the_library_open(tmp_path, capsys):
    """A process that kept the library open (the app) would go on writing into the replaced
    file and lose those writes: restore says so and changes nothing."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    data = tmp_path / "lib"
    lib = _make(data, 4)
    good = backup_mod.backup(lib, tmp_path / "good.sqlite3")
    lib.close()
    script = ("import sys, time; from index.library import Library;"
              "lib = Library.open(sys.argv[1]); lib.stats(); print('OPEN', flush=True);"
              "time.sleep(30)")
    other = subprocess.Popen([sys.executable, "-c", script, str(data)], stdout=subprocess.PIPE,
                             text=True, cwd=root, env=dict(os.environ, PYTHONPATH=str(root)))
    try:
        assert other.stdout.readline().strip() == "OPEN"
        before = dump(data / "library.sqlite3")
        assert main(["--data-dir", str(data), "restore", str(good)]) == 1
        err = capsys.readouterr().err
        assert "open in another papershelf" in err and err.count("\n") == 1
        assert dump(data / "library.sqlite3") == before
    finally:
        other.kill()
        other.wait()
    assert main(["--data-dir", str(data), "restore", str(good)]) == 0  # once it is closed
