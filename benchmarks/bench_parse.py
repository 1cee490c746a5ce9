"""Reading a Daily Papers page of 10,000 papers, in both shapes the site saves.

    .venv/bin/python benchmarks/bench_parse.py [--papers 10000] [--runs 3]

Builds the dense page from benchmarks/synthetic.py's records and a spaced one from the same
records (banner, listing date, blank lines between all lines), then times
`index.sources.dailypapers.parse` on each, `--runs` times. Prints the best CPU time (steadier
than wall time on a shared machine) and the median wall time; target: well under a second
(0.75 s CPU).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic import make_records, page_text  # noqa: E402
from index.sources import dailypapers as dp  # noqa: E402

TARGET_S = 0.75
SPACED_BANNER = ["new", "Get trending papers in your email inbox!", "Subscribe", "Daily Papers",
                 "byAK and the research community", "Aug 20"]


def spaced_page_text(records) -> str:
    lines = list(SPACED_BANNER)
    for record in records:
        lines += [record.title, record.abstract]
    return "\n\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    records = make_records(args.papers, seed=1)
    for shape, page in (("dense", page_text(records)), ("spaced", spaced_page_text(records))):
        walls, cpus = [], []
        for _ in range(args.runs):
            wall, cpu = time.perf_counter(), time.process_time()
            result = dp.parse(page, "bench.txt")
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        if len(result.records) != args.papers or result.problems:
            raise SystemExit(f"{shape}: {len(result.records)} records, {len(result.problems)} "
                             "problems: the benchmark page is not what it should be")
        print(f"{shape} page, {args.papers} papers: best {min(cpus):.3f} s CPU, median "
              f"{statistics.median(walls):.3f} s wall ({len(page) / 1e6:.1f} MB); "
              f"target <= {TARGET_S:g} s CPU")


if __name__ == "__main__":
    main()
