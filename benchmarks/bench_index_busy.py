"""How long a write to the search index waits when another process holds its writer lock.

    .venv/bin/python benchmarks/bench_index_busy.py [--timeout 0.5] [--runs 5]

For each engine: a second process takes the index's writer lock (as a busy papershelf would),
then this process calls `upsert` with `writer_timeout=--timeout` and times how long it takes
to raise IndexBusy. It should give up after about the timeout, never hang (the tests check
that it raises and names the timeout; the figure is measured here).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.model import Paper  # noqa: E402
from index.search import ENGINES, IndexBusy, SearchIndex  # noqa: E402

HOLD_WRITER = {
    "sqlite": ("import sqlite3, sys, time\n"
               "db = sqlite3.connect(sys.argv[1] + '/search.sqlite', isolation_level=None)\n"
               "db.execute('BEGIN IMMEDIATE')\n"),
    "whoosh": ("import sys, time\n"
               "from whoosh import index\n"
               "w = index.open_dir(sys.argv[1], indexname='papers').writer()\n"),
}


def time_busy(engine: str, directory: Path, timeout: float) -> float:
    ix = SearchIndex(directory, engine, writer_timeout=timeout)
    ix.rebuild([Paper(key="a", title="a paper")], total=1)
    code = HOLD_WRITER[engine] + "print('locked', flush=True)\ntime.sleep(60)\n"
    holder = subprocess.Popen([sys.executable, "-c", code, str(directory)],
                              stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        if holder.stdout.readline().strip() != "locked":
            raise SystemExit(f"{engine}: the lock holder did not start")
        start = time.perf_counter()
        try:
            ix.upsert([Paper(key="b", title="blocked")])
        except IndexBusy:
            return time.perf_counter() - start
        raise SystemExit(f"{engine}: the write went through although the lock was held")
    finally:
        holder.kill()
        holder.wait()
        ix.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=0.5)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    for engine in ENGINES:
        waits = []
        for run in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="papershelf-busy-") as work:
                waits.append(time_busy(engine, Path(work) / "index", args.timeout))
        print(f"{engine}: IndexBusy after median {statistics.median(waits):.3f} s "
              f"(runs: {', '.join(f'{t:.3f}' for t in waits)}) with writer_timeout "
              f"{args.timeout:g} s")


if __name__ == "__main__":
    main()
