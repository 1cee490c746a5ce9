"""Crash trials: kill `papershelf` commands with SIGKILL at random moments and check that
nothing a command reported as done was lost.

    .venv/bin/python benchmarks/crash_trials.py --trials 100 [--seed 1] [--keep DIR]

Each trial runs real `papershelf` commands one after another on the same data directory (so
damage, if any, accumulates from trial to trial, as it would for a person): `import` of
generated Daily Papers pages (5-400 papers), `star`/`unstar`, `tag`/`untag`, `status`,
`note --text`, `reindex`, `search` (and `sync FOLDER`). A random
0.05-3.0 s after the trial starts, the command running at that moment is killed with SIGKILL.
A command that exited 0 before the kill reported its change as done. Then, in this process:

1. the library opens;
2. `doctor.check` finds no error in the database (integrity_check) or the operation log
   (this device's seqs 1..N, every op decodes); pending index updates are fine;
3. the search index opens (or rebuilds itself), pending updates are written, and then the
   doctor finds no problem at all (index and store agree);
4. every change a command reported as done is in the library: imported keys exist, and each
   (paper, field) and (paper, tag) ends at the value of the last command that set it, or at
   the value of the one killed command (it may have committed);
5. with sync (--no-sync leaves it out): a peer device first
   publishes 30 papers into a sync folder; `papershelf sync` runs among the commands; after
   the kill a sync completes with no reported problem, the folder holds exactly one line per
   operation of this device, the peer's papers are present, and the doctor still finds
   nothing.

A SIGKILL loses the process, not the machine: the operating system still writes what the
process handed it. Power loss is not simulated here.

tests/test_crash.py runs a CI-size version (8 trials) of the same code.

Recorded results through the CLI (2 cores, shared: load average ~3), 2026-11-30:

    --trials 100, with sync (commit b4679aa):
        failed 0 of 100; 570 commands that exited 0 checked; no sync fork; killed in
        import 22, reindex 19, tag/untag 17, star/unstar 16, status 9, sync 7, note 6,
        search 4; 198 s.

Earlier results, when a worker drove the Library in-process (2 cores, shared with other
jobs: load average ~11), 2026-11-23:

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
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WARM_UP_LIMIT = 60.0  # seconds a warm-up command may take before it is killed all the same
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@dataclass
class Trial:
    number: int
    delay: float
    oks: int = 0
    inflight: str | None = None
    failures: list[str] = field(default_factory=list)
    papers: int = 0
    seconds: float = 0.0


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


class Commands:
    """Picks the next `papershelf` command of a trial and what it changes when it succeeds."""

    def __init__(self, base: Path, rng: random.Random, max_papers: int, sync_folder: Path | None):
        self.inputs = base / "inputs"
        self.inputs.mkdir(parents=True, exist_ok=True)
        self.rng = rng
        self.max_papers = max_papers
        self.sync_folder = sync_folder
        self.keys: list[str] = []
        self.imported: list[tuple[Path, list[str]]] = []  # (page, its keys)
        self.pages = 0

    def next(self) -> tuple[dict, list[str]]:
        """(the change as the verifier reads it, the command's arguments)."""
        rng, roll = self.rng, self.rng.random()
        if not self.keys or roll < 0.22:
            if len(self.keys) >= self.max_papers:  # big enough: import a page seen before
                return self._reimport()
            return self._import(rng.choice((5, 20, 60, 200, 400)))
        key = rng.choice(self.keys)
        if roll < 0.36:
            value = rng.random() < 0.6
            return ({"op": "star", "key": key, "value": value},
                    ["star" if value else "unstar", key])
        if roll < 0.52:
            tag, value = f"t{rng.randrange(8)}", rng.random() < 0.7
            return ({"op": "tag", "key": key, "tag": tag, "value": value},
                    ["tag" if value else "untag", key, tag])
        if roll < 0.66:
            value = rng.choice(("unread", "reading", "read"))
            return {"op": "status", "key": key, "value": value}, ["status", key, value]
        if roll < 0.8:
            text = f"note {self.pages}-{rng.randrange(10**6)} " + "x" * rng.randrange(0, 3000)
            return {"op": "note", "key": key, "value": text}, ["note", key, "--text", text]
        if self.sync_folder is not None and roll < 0.88:
            return {"op": "sync"}, ["sync", str(self.sync_folder)]
        if roll < 0.94:
            return {"op": "reindex"}, ["reindex"]
        return {"op": "search"}, ["search", rng.choice(("model", "learning", "graph"))]

    def _import(self, size: int) -> tuple[dict, list[str]]:
        from benchmarks.synthetic import make_page_text
        from index.sources import parse_file

        self.pages += 1
        path = self.inputs / f"page-{self.rng.randrange(10**9)}.txt"
        path.write_text(make_page_text(size, self.rng.randrange(10**9)), encoding="utf-8")
        keys = [record.key for record in parse_file(path).records]
        self.imported.append((path, keys))
        return {"op": "import", "keys": keys}, ["import", str(path)]

    def _reimport(self) -> tuple[dict, list[str]]:
        path, keys = self.rng.choice(self.imported)
        return {"op": "import", "keys": keys}, ["import", str(path)]

    def succeeded(self, op: dict) -> None:
        if op["op"] == "import":
            self.keys = list(dict.fromkeys(self.keys + op["keys"]))


def run_trial(number: int, data_dir: Path, commands: Commands, rng: random.Random, *,
              min_delay: float = 0.05, max_delay: float = 3.0, env: dict | None = None,
              sync_folder: Path | None = None, peer_keys: set[str] | None = None,
              warm_up: int = 0) -> Trial:
    """Run commands until the kill time, SIGKILL the one running then, and verify. The
    first `warm_up` commands run to their end before the kill clock starts, so a trial does
    that much work however slow the machine is."""
    delay = rng.uniform(min_delay, max_delay)
    trial = Trial(number, delay)
    began = time.monotonic()
    start = None if warm_up else began  # when the kill clock started
    child_env = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    done: list[dict] = []
    pending = None
    while True:
        op, args = commands.next()
        proc = subprocess.Popen(
            [sys.executable, "-m", "tui.cli", "--data-dir", str(data_dir), *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT, env=child_env)
        left = WARM_UP_LIMIT if start is None else max(0.0, start + delay - time.monotonic())
        try:
            err = proc.communicate(timeout=left)[1]
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            pending = op
            break
        if proc.returncode != 0:
            lines = err.decode("utf-8", "replace").strip().splitlines()
            trial.failures.append(f"`papershelf {args[0]}` failed on its own (exit "
                                  f"{proc.returncode}): {lines[-1:] if lines else ''}")
            break
        done.append(op)
        commands.succeeded(op)
        if start is None and len(done) >= warm_up:
            start = time.monotonic()
    trial.oks = len(done)
    trial.inflight = pending["op"] if pending else None
    trial.failures += verify_library(data_dir, done, pending, sync_folder=sync_folder,
                                     peer_keys=peer_keys)
    if pending is not None and pending["op"] == "import":
        # It may have committed: its papers are fair game for the next commands either way.
        with_keys = _present(data_dir, pending["keys"])
        commands.keys = list(dict.fromkeys(commands.keys + with_keys))
    try:
        conn = sqlite3.connect(data_dir / "library.sqlite3")
        trial.papers = conn.execute("SELECT COUNT(*) FROM papers").fetchone()[0]
        conn.close()
    except Exception:  # noqa: BLE001
        pass
    trial.seconds = time.monotonic() - began
    return trial


def _present(data_dir: Path, keys: list[str]) -> list[str]:
    from index.library import Library

    with Library.open(data_dir) as lib:
        return [key for key in keys if lib.get(key) is not None]


def run_trials(count: int, base: Path, *, seed: int = 1, max_papers: int = 3000,
               progress=None, env: dict | None = None, sync: bool = False,
               max_delay: float = 3.0, warm_up: int = 0) -> list[Trial]:
    """`count` trials on one data directory. With sync: a peer device publishes papers into
    a sync folder first; `papershelf sync` runs among the commands, and each check ends with
    a sync. `warm_up`: see run_trial."""
    rng = random.Random(seed)
    data_dir = base / "lib"
    folder = peer_keys = None
    if sync:
        folder = base / "syncfolder"
        folder.mkdir(parents=True, exist_ok=True)
        peer_keys = make_peer(base, folder)
    commands = Commands(base, random.Random(seed + 1), max_papers, folder)
    trials = []
    for number in range(1, count + 1):
        trial = run_trial(number, data_dir, commands, rng, env=env, sync_folder=folder,
                          peer_keys=peer_keys, max_delay=max_delay, warm_up=warm_up)
        trials.append(trial)
        if progress:
            progress(trial)
    return trials


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-papers", type=int, default=3000)
    parser.add_argument("--keep", metavar="DIR", help="run in DIR and keep it (default: a temp dir)")
    parser.add_argument("--no-sync", action="store_true", help="leave sync out")
    args = parser.parse_args(argv)
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="papershelf-crash-"))
    base.mkdir(parents=True, exist_ok=True)
    env = {"PAPERSHELF_CONFIG_DIR": str(base / "config")}
    os.environ.update(env)
    sync = not args.no_sync

    def show(trial: Trial) -> None:
        state = "FAIL" if trial.failures else "ok  "
        print(f"trial {trial.number:4d} {state} killed {trial.delay:.2f}s in, {trial.oks} commands "
              f"done, killed: {trial.inflight or '-'}, papers {trial.papers}, "
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
        "commands_done_checked": sum(t.oks for t in trials),
        "killed_while": inflight,
        "seconds": round(time.monotonic() - started, 1), "data_dir": str(base),
    }, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
