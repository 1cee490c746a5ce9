"""Hybrid-clock stamps order correctly and are read back for every value a writer makes, also
when the wall clock stays behind for hundreds of thousands of operations."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from index import sync
from index.clock import HybridClock, Timestamp
from index.store import Op
from samples import dense_page, make_papers

ROOT = Path(__file__).resolve().parent.parent


def test_200000_operations_while_the_clock_is_behind_all_parse_and_order():
    now = int(time.time() * 1000)
    clock = HybridClock("dev1", Timestamp(now + 3_600_000, 0, "dev1"), wall_ms=lambda: now)
    previous = ""
    for seq in range(1, 200_001):
        stamp = clock.tick().encode()
        assert stamp > previous, (seq, previous, stamp)
        previous = stamp
        if seq % 97 == 0 or seq > 99_990 and seq < 100_010:
            # the reader's check, on the line a writer publishes
            op, why = sync.parse_line(sync.encode_line(
                Op(f"dev1-{seq}", "dev1", seq, stamp, "set", "arxiv:1", "starred", True)))
            assert why is None and op.hlc == stamp, (seq, stamp, why)


def test_a_reader_accepts_the_wide_counters_older_writers_wrote():
    line = sync.encode_line(Op("dev1-5", "dev1", 5, "0001700000000000.100002.dev1", "set",
                               "arxiv:1", "starred", True))
    op, why = sync.parse_line(line)
    assert why is None
    assert op.hlc == "0001700000000001.00002.dev1"  # carried: after every .99999 of that ms
    assert op.hlc > "0001700000000000.99999.dev1"


def papershelf(data: Path, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "tui.cli", "--data-dir", str(data), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    return done


def test_changes_made_while_the_clock_is_behind_all_reach_the_other_device(tmp_path):
    folder, a, b = tmp_path / "Sync", tmp_path / "a", tmp_path / "b"
    folder.mkdir()
    papershelf(a, "stats")
    # A's clock has already seen a time an hour ahead, 99,990 operations into one millisecond:
    # its wall clock is now behind, so every new operation counts on from there.
    ahead = int(time.time() * 1000) + 3_600_000
    with sqlite3.connect(a / "library.sqlite3") as db:
        db.execute("INSERT OR REPLACE INTO meta VALUES ('hlc', ?)",
                   (Timestamp(ahead, 99_990, "x").encode(),))
    page = tmp_path / "page.txt"
    page.write_text(dense_page(make_papers(60, seed=3)), encoding="utf-8")
    papershelf(a, "import", str(page))
    papershelf(a, "sync", str(folder))
    report = json.loads(papershelf(b, "sync", str(folder), "--json").stdout)
    assert report["problems"] == []
    assert len(json.loads(papershelf(b, "list", "--json").stdout)) == 60
    with sqlite3.connect(b / "library.sqlite3") as db:
        stamps = [r[0] for r in db.execute("SELECT hlc FROM ops ORDER BY seq")]
    assert stamps == sorted(stamps) and len(stamps) == 60


def test_doctor_names_stamps_older_readers_cannot_read(tmp_path):
    data = tmp_path / "a"
    page = tmp_path / "page.txt"
    page.write_text(dense_page(make_papers(3, seed=5)), encoding="utf-8")
    papershelf(data, "import", str(page))
    with sqlite3.connect(data / "library.sqlite3") as db:  # as an older papershelf wrote it
        db.execute("UPDATE ops SET hlc = '0001700000000000.100001.' || device WHERE seq = 2")
    done = subprocess.run([sys.executable, "-m", "tui.cli", "--data-dir", str(data), "doctor"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert "not in the five-digit form (first: seq 2)" in done.stdout + done.stderr


def test_a_stamp_with_an_absurd_counter_is_reported_not_a_crash():
    line = sync.encode_line(Op("dev1-5", "dev1", 5, "0001700000000000." + "9" * 5000 + ".dev1",
                               "set", "arxiv:1", "starred", True))
    op, why = sync.parse_line(line)
    assert op is None and why == "not a papershelf operation"
