"""Helpers the crash and failure tests share (`dump`, `records`), importable as `crash_worker`.

(The crash harness itself, benchmarks/crash_trials.py, now kills real `papershelf` commands.)
"""

from __future__ import annotations

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
