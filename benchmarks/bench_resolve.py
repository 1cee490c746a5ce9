"""`resolve` for 1,000 title-only papers against a local arXiv stand-in (issue 13's target).

    .venv/bin/python benchmarks/bench_resolve.py [--papers 1000] [--delay 3] [--work 0]

A library of title-only papers (a Daily Papers import: no authors, year or id), half of whose
titles the local server (tests/arxiv_server.py) has as arXiv entries. Times the whole
`Library.find_on_arxiv` call and splits it into
  * server time: what the server spent answering (plus --work seconds per request, standing in
    for the real service's own search time),
  * rate limit: the sleeps between requests (--delay, 3 s as arXiv asks),
  * client overhead: the rest (building queries, HTTP, parsing Atom, matching, merging into
    the store and the search index).
Target: client overhead <= 10% of server time + rate limit.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from arxiv_server import ArxivServer  # noqa: E402
from benchmarks.synthetic import make_records  # noqa: E402
from index.library import Library  # noqa: E402
from index.model import PaperRecord  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=3.0)
    parser.add_argument("--work", type=float, default=0.0)
    args = parser.parse_args()

    records = make_records(args.papers, seed=13)
    catalogue = {f"2501.{n:05d}": (r.title, r.authors, "2025-01-15")
                 for n, r in enumerate(records) if n % 2 == 0}
    work = Path(tempfile.mkdtemp(prefix="papershelf-bench-resolve-"))
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    try:
        with Library.open(work / "data") as lib, \
                ArxivServer(catalogue, work=args.work) as server:
            lib.add([PaperRecord(title=r.title, abstract=r.abstract, source="dailypapers:b.txt")
                     for r in records])
            print(f"load average before: {os.getloadavg()[0]:.1f}")
            cpu = time.process_time()
            start = time.perf_counter()
            report = lib.find_on_arxiv(base_url=server.url, delay=args.delay, sleep=sleep)
            wall = time.perf_counter() - start
            cpu = time.process_time() - cpu
            server_s, limit_s = server.server_seconds, sum(slept)
        overhead = wall - server_s - limit_s
        print(f"resolve {args.papers} title-only papers, delay {args.delay:g} s, "
              f"server work {args.work:g} s/request")
        print(f"  {report.requests} requests, resolved {len(report.resolved)}, "
              f"not on arXiv {len(report.unmatched)}")
        print(f"  wall {wall:.2f} s = server {server_s:.2f} s + rate limit {limit_s:.2f} s "
              f"+ client {overhead:.2f} s (process CPU {cpu:.2f} s, "
              f"{overhead / max(report.requests, 1) * 1000:.0f} ms per request)")
        base = server_s + limit_s
        print(f"  client overhead: {overhead / base * 100:.1f}% of server time + rate limit "
              f"(target <= 10%)" if base else "  (no server time or rate limit to compare)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
