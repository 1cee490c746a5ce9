"""Crash trials: kill a papershelf process with SIGKILL at random moments and check that
nothing it reported as done was lost.

    .venv/bin/python benchmarks/crash_trials.py --trials 100 [--seed 1] [--keep DIR]

Each trial starts tests/crash_worker.py on the same data directory (so damage, if any,
accumulates from trial to trial, as it would for a person), lets it run imports, stars,
tags, statuses, notes, index flushes (and sync, when index/sync.py exists) for a random
0.02-2.0 s after it has opened the library, then kills it with SIGKILL. Then, in this process:

1. the library opens;
2. `doctor.check` finds no error in the database (integrity_check) or the operation log
   (this device's seqs 1..N, every op decodes); pending index updates are fine;
3. the search index opens (or rebuilds itself), pending updates are written, and then the
   doctor finds no problem at all (index and store agree);
4. every change the child printed `OK` for is in the library: imported keys exist, and each
   (paper, field) and (paper, tag) ends at the value of the last OK change to it, or at the
   value of the one change that was in flight when the child died (it may have committed);
5. with sync (on when index/sync.py exists; --no-sync leaves it out): a peer device first
   publishes 30 papers into a sync folder; the child syncs among its edits; after the kill a
   sync completes with no reported problem, the folder holds exactly one line per operation
   of this device, the peer's papers are present, and the doctor still finds nothing.

A SIGKILL loses the process, not the machine: the operating system still writes what the
process handed it. Power loss is not simulated here.

tests/test_crash.py runs a CI-size version (10 trials) of the same code.

Recorded results (2 cores, shared with other jobs: load average ~11), 2026-11-23:

    --trials 100, with sync, the FTS5 index (0.2, commit 31fe44d; load ~0.5):
        failed 0 of 100; 8,867 OK-reported changes checked; killed while writing a note 50,
        syncing 3, starring 1, tagging 1, between calls 45; 158 s. Imports and index
        flushes are now too short for the random kill times to land in;
        tests/test_crash.py::test_kill_while_the_search_index_is_written aims at them.

    --trials 100 --seed 2, with sync (commit 01ea190):
        failed 0 of 100; 2,217 OK-reported changes checked; killed while importing 38,
        flushing the index 38, syncing 19, setting a status 1, between calls 4; no sync
        fork; 365 s.
    --trials 100, with sync (commit 35e353f + fixes up to 82c26c4):
        failed 0 of 100; 1,782 OK-reported changes checked; killed while importing 48,
        flushing the index 24, syncing 23, writing a note 2, a status 1, between calls 2;
        sync never had to fork a new device id; 571 s.
    --trials 100, without sync, delay counted from process start (commit ee21f15):
        failed 0 of 100; 403 OK-reported changes checked; killed while importing 27,
        flushing 16, starring 1, starting up / between calls 56; 243 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKER = ROOT / "tests" / "crash_worker.py"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@dataclass
class Trial:
    number: int
    delay: float
    oks: int = 0
    inflight: str | None = None
    finished: bool = False  # the child ran all its steps before the kill
    failures: list[str] = field(default_factory=list)
    stderr: str = ""
    papers: int = 0
    seconds: float = 0.0


def parse_output(text: str) -> tuple[list[dict], dict | None, bool]:
    """(ops reported OK in order, the op in flight or None, finished)."""
    done: list[dict] = []
    pending = None
    finished = False
    for line in text.splitlines():
        kind, _, payload = line.partition(" ")
        if kind == "DO":
            try:
                pending = json.loads(payload)
            except ValueError:  # a line cut by the kill
                pending = None
        elif kind == "OK":
            try:
                done.append(json.loads(payload))
            except ValueError:
                continue
            pending = None
        elif kind == "DONE":
            finished = True
    return done, pending, finished


def _target(op: dict) -> tuple | None:
    if op["op"] in ("star", "status", "note"):
        return (op["key"], op["op"])
    if op["op"] == "tag":
        return (op["key"], "tag:" + op["tag"])
    return None


def verify_library(data_dir: Path, done: list[dict], pending: dict | None,
                   check_index: bool = True, sync_folder: Path | None = None,
                   peer_keys: set[str] | None = None) -> list[str]:
    """Open the library after a crash and list everything wrong (empty: all good)."""
    from index import doctor
    from index.library import Library

    failures: list[str] = []
    try:
        lib = Library.open(data_dir)
    except Exception as exc:  # noqa: BLE001
        return [f"library does not open: {type(exc).__name__}: {exc}"]
    try:
        report = doctor.check(lib, index=False)
        for finding in report.problems:
            failures.append(f"after the crash: {finding}")
        if check_index:
            try:
                lib.index  # noqa: B018 - opens, or rebuilds a damaged index
                lib.flush_index()
            except Exception as exc:  # noqa: BLE001
                failures.append(f"search index does not open/flush: {type(exc).__name__}: {exc}")
            else:
                for finding in doctor.check(lib).problems:
                    failures.append(f"after opening the index: {finding}")
        expected: dict[tuple, object] = {}
        for op in done:
            if op["op"] == "import":
                missing = [k for k in op["keys"] if lib.get(k) is None]
                if missing:
                    failures.append(f"import reported OK but {len(missing)} papers are missing "
                                    f"(first {missing[0]})")
            elif (target := _target(op)) is not None:
                expected[target] = op["value"]
        also = {}
        if pending is not None and (target := _target(pending)) is not None:
            also[target] = pending["value"]
        for (key, what), value in expected.items():
            paper = lib.get(key)
            if paper is None:
                failures.append(f"{key}: paper vanished")
                continue
            if what == "star":
                actual = paper.starred
            elif what == "status":
                actual = paper.status
            elif what == "note":
                actual = paper.note
            else:
                actual = what[4:] in paper.tags
            if actual != value and also.get((key, what), object()) != actual:
                shown = actual if not isinstance(actual, str) else actual[:40]
                failures.append(f"{key} {what}: expected {str(value)[:40]!r}, found {shown!r}")
        if sync_folder is not None:
            failures += _verify_sync(lib, Path(sync_folder), peer_keys or set())
    finally:
        lib.close()
    return failures


def _own_lines(folder: Path, device: str) -> int:
    """Complete lines (one per operation) this device has in the sync folder."""
    directory = folder / "papershelf" / "devices" / device
    count = 0
    for path in sorted(directory.glob("ops-*.jsonl")) if directory.is_dir() else []:
        if path.name.count(".") == 1:  # not a sync tool's conflict copy
            count += path.read_bytes().count(b"\n")
    return count


def _verify_sync(lib, folder: Path, peer_keys: set[str]) -> list[str]:
    """After the crash: a sync completes, reports no corrupt data, publishes every one of this
    device's operations exactly once, and brings the peer's papers in."""
    from index import doctor
    from index.sync import sync_now

    failures = []
    try:
        report = sync_now(lib, folder)
    except Exception as exc:  # noqa: BLE001
        return [f"sync after the crash fails: {type(exc).__name__}: {exc}"]
    failures += [f"sync problem: {p}" for p in report.problems]
    own = lib.store.db.execute("SELECT COUNT(*) FROM ops WHERE device = ?",
                               (lib.store.device,)).fetchone()[0]
    lines = _own_lines(folder, lib.store.device)
    if lines != own:
        failures.append(f"sync folder holds {lines} lines of this device's log, the library "
                        f"{own} operations")
    missing = [k for k in peer_keys if lib.get(k) is None]
    if missing:
        failures.append(f"{len(missing)} papers of the other device are missing after sync")
    failures += [f"after sync: {f}" for f in doctor.check(lib).problems]
    if report.forked_from:
        failures.append(f"note (not a loss): sync forked a new device id: {report.messages}")
    return failures


def make_peer(base: Path, folder: Path) -> set[str]:
    """A second device that publishes 30 papers (5 starred, 5 tagged) into the sync folder."""
    from index.library import Library
    from index.sync import sync_now

    sys.path.insert(0, str(ROOT / "tests"))
    from crash_worker import records

    recs = records(30, 987654)
    with Library.open(base / "peer") as peer:
        peer.add(recs)
        for rec in recs[:5]:
            peer.set_star(rec.key)
            peer.add_tag(rec.key, "from-peer")
        sync_now(peer, folder)
    return {r.key for r in recs}


def run_trial(number: int, data_dir: Path, rng: random.Random, *, min_delay: float = 0.02,
              max_delay: float = 2.0, max_papers: int = 1500, env: dict | None = None,
              sync_folder: Path | None = None, peer_keys: set[str] | None = None) -> Trial:
    delay = rng.uniform(min_delay, max_delay)
    trial = Trial(number, delay)
    start = time.monotonic()
    seed = rng.randrange(1, 10**6)
    child_env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", **(env or {}))
    if sync_folder is not None:
        child_env["PAPERSHELF_CRASH_SYNC"] = str(sync_folder)
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), str(data_dir), str(seed), "400", str(max_papers)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=child_env)
    ready = proc.stdout.readline()  # "READY": the library is open, the work starts now
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate()
    out = ready + out
    trial.stderr = err.decode("utf-8", "replace")
    done, pending, trial.finished = parse_output(out.decode("utf-8", "replace"))
    trial.oks = len(done)
    trial.inflight = pending["op"] if pending else None
    if proc.returncode not in (0, -signal.SIGKILL):
        trial.failures.append(f"worker failed on its own (exit {proc.returncode}): "
                              f"{trial.stderr.strip().splitlines()[-1:]}")
    trial.failures += verify_library(data_dir, done, pending, sync_folder=sync_folder,
                                     peer_keys=peer_keys)
    try:
        import sqlite3

        conn = sqlite3.connect(data_dir / "library.sqlite3")
        trial.papers = conn.execute("SELECT COUNT(*) FROM papers").fetchone()[0]
        conn.close()
    except Exception:  # noqa: BLE001
        pass
    trial.seconds = time.monotonic() - start
    return trial


def sync_available() -> bool:
    try:
        from index.sync import sync_now  # noqa: F401
    except ImportError:
        return False
    return True


def run_trials(count: int, base: Path, *, seed: int = 1, max_papers: int = 1500,
               progress=None, env: dict | None = None, sync: bool = False,
               max_delay: float = 2.0) -> list[Trial]:
    """`count` trials on one data directory. With sync: a peer device publishes papers into
    a sync folder first; the child syncs among its edits, and each check ends with a sync."""
    rng = random.Random(seed)
    data_dir = base / "lib"
    folder = peer_keys = None
    if sync:
        folder = base / "syncfolder"
        folder.mkdir(parents=True, exist_ok=True)
        peer_keys = make_peer(base, folder)
    trials = []
    for number in range(1, count + 1):
        trial = run_trial(number, data_dir, rng, max_papers=max_papers, env=env,
                          sync_folder=folder, peer_keys=peer_keys, max_delay=max_delay)
        trials.append(trial)
        if progress:
            progress(trial)
    return trials


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-papers", type=int, default=1500)
    parser.add_argument("--keep", metavar="DIR", help="run in DIR and keep it (default: a temp dir)")
    parser.add_argument("--no-sync", action="store_true",
                        help="leave sync out (it is included when index/sync.py exists)")
    args = parser.parse_args(argv)
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="papershelf-crash-"))
    base.mkdir(parents=True, exist_ok=True)
    env = {"PAPERSHELF_CONFIG_DIR": str(base / "config")}
    os.environ.update(env)
    sync = sync_available() and not args.no_sync

    def show(trial: Trial) -> None:
        state = "FAIL" if trial.failures else "ok  "
        print(f"trial {trial.number:4d} {state} killed {trial.delay:.2f}s into the work, {trial.oks} ok "
              f"ops, in flight: {trial.inflight or '-'}, papers {trial.papers}, "
              f"{trial.seconds:.1f}s", flush=True)
        for failure in trial.failures:
            print(f"           {failure}", flush=True)

    started = time.monotonic()
    trials = run_trials(args.trials, base, seed=args.seed, max_papers=args.max_papers,
                        progress=show, env=env, sync=sync)
    failed = [t for t in trials if any(not f.startswith("note") for f in t.failures)]
    forks = sum(any(f.startswith("note") for f in t.failures) for t in trials)
    inflight: dict[str, int] = {}
    for t in trials:
        inflight[t.inflight or "none"] = inflight.get(t.inflight or "none", 0) + 1
    print(json.dumps({
        "trials": len(trials), "failed": len(failed), "sync": sync, "sync_forks": forks,
        "ok_ops_checked": sum(t.oks for t in trials),
        "killed_while": inflight,
        "finished_before_kill": sum(t.finished for t in trials),
        "seconds": round(time.monotonic() - started, 1), "data_dir": str(base),
    }, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
