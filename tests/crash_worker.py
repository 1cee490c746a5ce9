"""Child process for the crash harness (tests/test_crash.py, benchmarks/crash_trials.py).

    python tests/crash_worker.py DATA_DIR SEED [STEPS [MAX_PAPERS]]

Opens the library once and runs a random mix of imports (Library.add of synthetic records),
stars, tags, statuses, notes and index flushes (plus sync, when index/sync.py provides one
and PAPERSHELF_CRASH_SYNC names a folder). Before each call it prints `DO <json>`, after the
call returns `OK <json>`, each line flushed, so the parent, which kills this process with
SIGKILL at a random moment, knows every change that reported success and the one (at most)
that was in flight.

Also holds small helpers the tests share (`dump`, `records`), importable as `crash_worker`.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TABLES = ("papers", "tags", "ops", "registers", "aliases", "meta")


def dump(db: sqlite3.Connection | Path) -> dict[str, list[tuple]]:
    """Every row of the user-data tables, sorted: equal dumps mean an unchanged library."""
    own = not isinstance(db, sqlite3.Connection)
    conn = sqlite3.connect(db) if own else db
    try:
        return {t: sorted(tuple(r) for r in conn.execute(f"SELECT * FROM {t}")) for t in TABLES}
    finally:
        if own:
            conn.close()


def records(n: int, seed: int):
    """n synthetic PaperRecords; batches with different seeds have distinct keys."""
    from benchmarks.synthetic import make_records

    return make_records(n, seed)


def _emit(kind: str, data: dict) -> None:
    sys.stdout.write(f"{kind} {json.dumps(data, ensure_ascii=False)}\n")
    sys.stdout.flush()


def _sync_function():
    """The sync entry point, if index/sync.py exists and offers one."""
    folder = os.environ.get("PAPERSHELF_CRASH_SYNC")
    if not folder:
        return None
    try:
        from index import sync
    except ModuleNotFoundError:
        return None
    for name in ("sync_now", "sync", "run_sync", "sync_library"):
        func = getattr(sync, name, None)
        if callable(func):
            return lambda lib: func(lib, Path(folder))
    return None


def run(data_dir: Path, seed: int, steps: int, max_papers: int = 1500) -> None:
    from index.library import Library

    rng = random.Random(seed)
    sync = _sync_function()
    lib = Library.open(data_dir)
    keys = lib.store.filtered_keys()
    records(1, 0)  # build the synthetic word pool now, not inside the first timed step
    _emit("READY", {})
    batch = 0
    for step in range(steps):
        roll = rng.random()
        if not keys or (roll < 0.12 and len(keys) < max_papers):
            size = rng.choice((1, 5, 20, 60))
            recs = records(size, seed * 1000 + batch)
            batch += 1
            op = {"op": "import", "keys": [r.key for r in recs], "seed": seed * 1000 + batch - 1}
            _emit("DO", op)
            lib.add(recs)
            keys = lib.store.filtered_keys()
        elif roll < 0.32:
            op = {"op": "star", "key": rng.choice(keys), "value": rng.random() < 0.6}
            _emit("DO", op)
            lib.set_star(op["key"], op["value"])
        elif roll < 0.52:
            op = {"op": "tag", "key": rng.choice(keys), "tag": f"t{rng.randrange(8)}",
                  "value": rng.random() < 0.7}
            _emit("DO", op)
            (lib.add_tag if op["value"] else lib.remove_tag)(op["key"], op["tag"])
        elif roll < 0.68:
            op = {"op": "status", "key": rng.choice(keys),
                  "value": rng.choice(("unread", "reading", "read"))}
            _emit("DO", op)
            lib.set_status(op["key"], op["value"])
        elif roll < 0.84:
            text = f"note {seed}-{step} " + "x" * rng.randrange(0, 3000)
            op = {"op": "note", "key": rng.choice(keys), "value": text}
            _emit("DO", op)
            lib.set_note(op["key"], text)
        elif sync is not None and roll < 0.9:
            op = {"op": "sync"}
            _emit("DO", op)
            sync(lib)
        else:
            op = {"op": "flush"}
            _emit("DO", op)
            lib.flush_index()
        _emit("OK", op)
    lib.close()
    _emit("DONE", {})


if __name__ == "__main__":
    run(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 400,
        int(sys.argv[4]) if len(sys.argv) > 4 else 1500)
