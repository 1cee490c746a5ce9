"""Sync timings (issue 5's targets): a 10,000-paper library into an empty second device
(<= 10 s) and an incremental sync of 100 new operations (<= 0.3 s).

    .venv/bin/python benchmarks/bench_sync.py [--papers 10000] [--runs 3] [--ops 100] [--no-index]

For each run: device A imports the synthetic library and syncs (publishes its log and writes a
snapshot); then an empty device B syncs, once starting from A's snapshot (and once more, which
copies the operations the snapshot covered into its ops table) and once (a third, fresh device C)
replaying the logs only. Then A makes --ops changes (stars, statuses, tags,
notes), syncs, and B syncs them in. Every sync time is split into the merge into SQLite and
the search-index update (`flush_index`, SQLite FTS5) that sync_now ends with. Prints medians.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic import make_records  # noqa: E402
from index import sync  # noqa: E402
from index.library import Library  # noqa: E402


def timed_sync(lib: Library, folder: Path) -> tuple[float, float, sync.SyncReport, float]:
    """(total seconds, of which index seconds, report, CPU seconds of the merge part)."""
    spent = [0.0]
    original = lib.flush_index

    def flush():
        started = time.perf_counter()
        try:
            return original()
        finally:
            spent[0] += time.perf_counter() - started

    def flush_cpu():
        before = time.process_time()
        try:
            return flush()
        finally:
            cpu_index[0] += time.process_time() - before

    cpu_index = [0.0]
    lib.flush_index = flush_cpu
    started, cpu = time.perf_counter(), time.process_time()
    report = sync.sync_now(lib, folder)
    total = time.perf_counter() - started
    cpu = time.process_time() - cpu - cpu_index[0]
    lib.flush_index = original
    return total, spent[0], report, cpu


NO_INDEX = False


def open_library(path: Path) -> Library:
    lib = Library.open(path)
    if NO_INDEX:  # measure the merge alone: pending index updates are dropped
        lib.flush_index = lambda: lib.store.clear_dirty(lib.store.dirty_keys())
    return lib


def one_run(n: int, n_ops: int, seed: int, work: Path) -> dict:
    folder = work / "Sync"
    folder.mkdir(parents=True)
    a = open_library(work / "a")
    a.add(make_records(n, seed))
    result = {}
    total, index, report, cpu = timed_sync(a, folder)
    result["publish"] = (total, index, report.published, cpu)
    b = open_library(work / "b")
    total, index, report, cpu = timed_sync(b, folder)
    assert report.snapshot_loaded, report
    assert b.store.count() == a.store.count()
    result["new device (snapshot)"] = (total, index, report.changed, cpu)
    total, index, report, cpu = timed_sync(b, folder)  # once: stores the ops the snapshot covered
    result["its next sync (backfill)"] = (total, index, b.store.db.execute(
        "SELECT COUNT(*) FROM ops").fetchone()[0], cpu)
    snapshots = folder / "papershelf" / "snapshots"
    shutil.move(snapshots, work / "snapshots-aside")
    snapshots.mkdir()
    c = open_library(work / "c")
    total, index, report, cpu = timed_sync(c, folder)
    assert not report.snapshot_loaded and c.store.count() == a.store.count()
    result["new device (logs only)"] = (total, index, report.received, cpu)
    c.close()
    shutil.rmtree(snapshots)  # put a's snapshot back (else a's next sync writes a new one)
    shutil.move(work / "snapshots-aside", snapshots)
    rng = random.Random(seed)
    keys = a.store.filtered_keys()
    for i in range(n_ops):
        key = rng.choice(keys)
        kind = i % 4
        if kind == 0:
            a.set_star(key, not a.get(key).starred)
        elif kind == 1:
            a.set_status(key, rng.choice(["reading", "read", "unread"]))
        elif kind == 2:
            a.add_tag(key, f"topic-{rng.randrange(20)}")
        else:
            a.set_note(key, f"note {i}: {rng.random()}\n")
    total, index, report, cpu = timed_sync(a, folder)
    result["incremental publish"] = (total, index, report.published, cpu)
    published = report.published  # (a change to the value a paper already has writes nothing)
    total, index, report, cpu = timed_sync(b, folder)
    assert report.received == published, report
    result["incremental receive"] = (total, index, report.received, cpu)
    total, index, report, cpu = timed_sync(b, folder)
    result["nothing new"] = (total, index, report.received, cpu)
    a.close()
    b.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=10_000)
    parser.add_argument("--ops", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-index", action="store_true",
                        help="leave the search index out (times the merge alone)")
    args = parser.parse_args()
    global NO_INDEX
    NO_INDEX = args.no_index
    sync.SNAPSHOT_EVERY = min(sync.SNAPSHOT_EVERY, max(1, args.papers // 2))  # small --papers too
    runs = []
    for run in range(args.runs):
        work = Path(tempfile.mkdtemp(prefix="papershelf-bench-sync-"))
        try:
            runs.append(one_run(args.papers, args.ops, args.seed + run, work))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(f"run {run + 1}: " + ", ".join(f"{k} {v[0]:.2f}s" for k, v in runs[-1].items()),
              file=sys.stderr)
    print(f"papers: {args.papers}, changes: {args.ops}, runs: {args.runs} (medians)"
          + (", search index left out" if NO_INDEX else ""))
    print("merge = everything but the search index (wall clock; cpu = this process's CPU time)")
    print(f"{'step':<24} {'total s':>8} {'merge s':>8} {'merge cpu':>9} {'index s':>8} "
          f"{'ops/papers':>10}")
    for step in runs[0]:
        totals = [r[step][0] for r in runs]
        indexes = [r[step][1] for r in runs]
        merges = [r[step][0] - r[step][1] for r in runs]
        cpus = [r[step][3] for r in runs]
        print(f"{step:<24} {statistics.median(totals):8.3f} {statistics.median(merges):8.3f} "
              f"{statistics.median(cpus):9.3f} {statistics.median(indexes):8.3f} "
              f"{runs[0][step][2]:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
