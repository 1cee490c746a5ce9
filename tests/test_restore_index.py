"""A restore killed right after it swapped the database in: the search index (a valid index of
the library it replaced) must not be believed. `doctor` says it is stale, and the next search
rebuilds it, so search agrees with the restored library. Every step is a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from index.library import Library
from index.model import PaperRecord

ROOT = Path(__file__).resolve().parent.parent

# Runs the real `papershelf restore`, SIGKILLed the moment the database file is swapped in.
KILL_AFTER_SWAP = """
import os, signal, sys
real_replace = os.replace
def replace(src, dst, *a, **k):
    real_replace(src, dst, *a, **k)
    if str(dst).endswith("library.sqlite3"):
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
from tui.cli import main
sys.exit(main(sys.argv[1:]))
"""


def papershelf(data: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui.cli", "--data-dir", str(data), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))


def found(data: Path, query: str) -> set[str]:
    done = papershelf(data, "search", query, "--json")
    assert done.returncode == 0, done.stderr
    data_out = json.loads(done.stdout)
    results = data_out["results"] if isinstance(data_out, dict) else data_out
    return {paper["key"] for paper in results}


def test_restore_killed_after_the_swap_ends_with_search_agreeing(tmp_path):
    data = tmp_path / "data"
    papers = [PaperRecord(title=f"Tidal Pools Study {i}", doi=f"10.5555/pool.{i}",
                          abstract="Barnacles and limpets.") for i in range(30)]
    with Library.open(data) as lib:
        lib.add(papers)
        keys = sorted(lib.store.filtered_keys())
        for key in keys[:10]:
            lib.set_note(key, "marmalade jar observations")
        lib.flush_index()  # the backup then owes the index nothing: it looks up to date
    saved = tmp_path / "before.sqlite3"
    assert papershelf(data, "backup", str(saved)).returncode == 0
    with Library.open(data) as lib:  # after the backup: other notes, same papers
        for key in keys[:10]:
            lib.set_note(key, "quince orchard observations")
        lib.flush_index()
    assert found(data, "quince") == set(keys[:10])  # the index knows the current notes

    killed = subprocess.run([sys.executable, "-c", KILL_AFTER_SWAP, "--data-dir", str(data),
                             "restore", str(saved)], capture_output=True, text=True, cwd=ROOT,
                            timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (data / "search-whoosh").exists()  # the old index is still there, valid as a file

    doctor = papershelf(data, "doctor")
    assert "stale" in doctor.stdout + doctor.stderr

    assert found(data, "marmalade") == set(keys[:10])  # the restored notes
    assert found(data, "quince") == set()  # nothing of the library that was replaced
    stats = json.loads(papershelf(data, "stats", "--json").stdout)
    assert stats["papers"] == 30
    doctor = papershelf(data, "doctor")
    assert "stale" not in doctor.stdout + doctor.stderr
    assert "agrees with the library" in doctor.stdout + doctor.stderr
