"""Two papershelf processes at once: imports, stars, and a held search-index writer.

Every process here is a real `python -m tui.cli` subprocess on the same data directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.synthetic import make_page_text, make_records
from index.library import Library

ROOT = Path(__file__).resolve().parent.parent


# `papershelf` with a short search-index writer timeout, for tests that wait it out.
_CLI_WITH_WRITER_TIMEOUT = ("import sys; import index.library as library; "
                            "library.WRITER_TIMEOUT = float(sys.argv[1]); "
                            "from tui.cli import main; sys.exit(main(sys.argv[2:]))")


def cli(data: Path, *args: str, writer_timeout: float | None = None) -> subprocess.Popen:
    command = ([sys.executable, "-m", "tui.cli"] if writer_timeout is None else
               [sys.executable, "-c", _CLI_WITH_WRITER_TIMEOUT, str(writer_timeout)])
    return subprocess.Popen([*command, "--data-dir", str(data), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def assert_no_traceback(err: str) -> None:
    assert "Traceback" not in err and "LockError" not in err, err[-3000:]


def page(tmp_path: Path, name: str, n: int, seed: int) -> Path:
    path = tmp_path / name
    path.write_text(make_page_text(n, seed), encoding="utf-8")
    return path


def keys_in(path: Path) -> set[str]:
    """The paper keys an import of `path` must produce (as the parser reads the page)."""
    from index.sources import parse_file

    return {r.key for r in parse_file(path).records}


def seeded(tmp_path: Path) -> Path:
    """A library whose search index exists already (see test_concurrent_rebuild_... for
    the race when two processes create it at the same time)."""
    data = tmp_path / "lib"
    with Library.open(data) as lib:
        lib.add(make_records(10, 5))
    return data


def test_two_imports_at_once(tmp_path):
    data = seeded(tmp_path)
    a, b = page(tmp_path, "a.txt", 120, 1), page(tmp_path, "b.txt", 120, 2)
    first, second = cli(data, "import", str(a)), cli(data, "import", str(b))
    results = [finish(first), finish(second)]
    for code, out, err in results:
        assert_no_traceback(err)
        assert code == 0 or (code == 1 and len(err.strip().splitlines()) == 1
                             and "busy" in err), err
    with Library.open(data) as lib:
        stored = set(lib.store.filtered_keys())
        expected = {r.key for r in make_records(10, 5)}
        for (code, _, _), path in zip(results, (a, b)):
            if code == 0:
                expected |= keys_in(path)
        assert expected <= stored and len(stored) == len(expected) == 250
        assert all(code == 0 for code, _, _ in results), "an import gave up instead of waiting"
        lib.flush_index()
        from index import doctor

        report = doctor.check(lib)
        assert report.ok, report.problems  # incl. clocks in order across the two processes


def test_starring_while_another_process_imports(tmp_path):
    data = seeded(tmp_path)
    with Library.open(data) as lib:
        keys = lib.store.filtered_keys()
    big = page(tmp_path, "big.txt", 200, 6)
    importing = cli(data, "import", str(big))
    time.sleep(0.3)  # the import is parsing, writing, or indexing by now
    starred = []
    for key in keys[:2]:
        code, out, err = finish(cli(data, "star", key), timeout=60)
        assert_no_traceback(err)
        assert code == 0, err
        starred.append(key)
    code, out, err = finish(importing)
    assert_no_traceback(err)
    assert code == 0, err
    with Library.open(data) as lib:
        assert lib.store.count() == 210
        assert set(lib.store.filtered_keys(starred=True)) == set(starred)


def _hold_index_writer(data: Path, seconds: float | None = None) -> subprocess.Popen:
    """A process that takes the write lock of the library's search index and keeps it for
    `seconds`, or (None) until `_release` tells it to let go."""
    script = (
        "import sys, time; from index.library import Library; from whoosh import index\n"
        "lib = Library.open(sys.argv[1]); assert lib.engine_name == 'whoosh'\n"
        "w = index.open_dir(str(lib.index.directory), indexname='papers').writer()\n"
        "print('HOLDING', flush=True)\n"
        "time.sleep(float(sys.argv[2])) if sys.argv[2] else sys.stdin.readline()\n"
        "w.cancel()"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(data),
                             "" if seconds is None else str(seconds)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.stdout.readline().strip() == "HOLDING"
    return proc


def _release(holder: subprocess.Popen) -> None:
    holder.communicate("release\n", timeout=30)


@pytest.fixture
def indexed(tmp_path) -> Path:
    data = tmp_path / "lib"
    with Library.open(data) as lib:
        lib.add(make_records(10, 8))
    return data


def test_a_held_index_writer_blocks_nobody_and_loses_nothing(indexed, tmp_path):
    """Another process holds the search index's write lock (until every command has finished,
    so past their writer timeout, injected short here):
    - a star does not wait for it (stars are answered from SQLite);
    - an import and a tag, run at the same time, both save their changes and report the busy
      index in one line (exit 0, no LockError traceback);
    - once the writer is free, the next command catches the index up and the doctor agrees.
    (How long the star takes meanwhile: benchmarks/bench_concurrency.py.)"""
    with Library.open(indexed) as lib:
        first, second = lib.store.filtered_keys()[:2]
    path = page(tmp_path, "p.txt", 40, 9)
    holder = _hold_index_writer(indexed)
    try:
        # (the default writer timeout: a star that waited on the index would say "busy")
        code, out, err = finish(cli(indexed, "star", first))
        assert_no_traceback(err)
        assert code == 0 and "busy" not in err, (code, err)
        importing = cli(indexed, "import", str(path), writer_timeout=0.2)
        tagging = cli(indexed, "tag", second, "busy-day", writer_timeout=0.2)
        (icode, _, ierr), (tcode, _, terr) = finish(importing), finish(tagging)
    finally:
        _release(holder)
    for code, err in ((icode, ierr), (tcode, terr)):
        assert_no_traceback(err)
        assert code == 0 and len(err.strip().splitlines()) == 1 and "busy" in err, err
    with Library.open(indexed) as lib:
        assert keys_in(path) <= set(lib.store.filtered_keys())
        assert lib.get(first).starred and "busy-day" in lib.get(second).tags
    code, out, err = finish(cli(indexed, "list", "--limit", "1"))
    assert code == 0 and not err
    with Library.open(indexed) as lib:
        from index import doctor

        assert not lib.store.dirty_keys()
        assert doctor.check(lib).ok


def test_a_rebuild_waits_for_another_process_writing_the_index(indexed):
    from index.search import IndexBusy

    holder = _hold_index_writer(indexed, 0.3)  # shorter than the 5 s writer timeout: it waits
    try:
        with Library.open(indexed) as lib:
            assert lib.reindex() == 10
    finally:
        holder.wait(timeout=30)
    holder = _hold_index_writer(indexed)  # held past the writer timeout: the rebuild gives up
    try:
        with Library.open(indexed, writer_timeout=0.2) as lib:
            lib.open_index().close()
            with pytest.raises(IndexBusy):
                lib.reindex()
            assert len(lib.search("", limit=None).keys) == 10  # nothing lost either way
    finally:
        _release(holder)


def test_two_processes_never_write_clocks_out_of_order(tmp_path):
    from index.clock import HybridClock
    from index.store import Store

    first, second = Store(tmp_path / "lib"), Store(tmp_path / "lib")
    # Two processes whose wall clocks read the same millisecond (or the second's is behind).
    first.clock = HybridClock(first.device, first.clock.last, wall_ms=lambda: 2_000_000)
    second.clock = HybridClock(second.device, second.clock.last, wall_ms=lambda: 1_999_000)
    from benchmarks.synthetic import make_records

    first.add_records(make_records(3, 1))
    second.set_field(make_records(3, 1)[0].key, "starred", True)  # written after all of them
    ops = first.ops_since(first.device, 0)
    assert ops[-1].type == "set"
    assert all(earlier.hlc < ops[-1].hlc for earlier in ops[:-1])
    first.close()
    second.close()


def test_sync_while_importing_and_two_syncs_at_once(tmp_path):
    """`papershelf sync` runs while another process imports, and two syncs start together:
    no traceback; a sync that finds another one running says so in one line; afterwards one
    more sync publishes every operation of this device exactly once, and a second device
    receives every paper."""
    from index.sync import sync_now

    data = seeded(tmp_path)
    folder = tmp_path / "sync"
    folder.mkdir()
    path = page(tmp_path, "p.txt", 150, 12)
    procs = [cli(data, "import", str(path)), cli(data, "sync", str(folder)),
             cli(data, "sync", str(folder))]
    time.sleep(0.2)
    procs.append(cli(data, "sync", str(folder)))
    results = [finish(p) for p in procs]
    for code, out, err in results:
        assert_no_traceback(err)
    assert results[0][0] == 0, results[0][2]
    for code, out, err in results[1:]:
        assert code == 0 or (code == 1 and len(err.strip().splitlines()) == 1
                             and "syncing" in err), err
    with Library.open(data) as lib:
        sync_now(lib, folder)
        own = lib.store.db.execute("SELECT COUNT(*) FROM ops WHERE device = ?",
                                   (lib.store.device,)).fetchone()[0]
        device_dir = folder / "papershelf" / "devices" / lib.store.device
        lines = sum(p.read_bytes().count(b"\n") for p in device_dir.glob("ops-*.jsonl"))
        assert lines == own
        keys = set(lib.store.filtered_keys())
        assert len(keys) == 160
    with Library.open(tmp_path / "peer") as peer:
        sync_now(peer, folder)
        assert set(peer.store.filtered_keys()) == keys
