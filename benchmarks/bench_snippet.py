"""What a results row's snippet costs: `index.highlight.snippet` on a long abstract.

    .venv/bin/python benchmarks/bench_snippet.py [--rows 500] [--runs 5]

The app builds one snippet per visible row, so a screenful of 40 rows at the target of 2 ms a
row stays under 80 ms. Times `--rows` snippets of a 1,300-character abstract with four query
terms, `--runs` times, and prints the median cost per row (wall and CPU).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.highlight import snippet  # noqa: E402

ABSTRACT = "Large language models are trained with reinforcement learning. " * 20
TERMS = {"model", "train", "reinforce", "learning"}
TARGET_MS = 2.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    walls, cpus = [], []
    for _ in range(args.runs):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.rows):
            snippet(ABSTRACT, TERMS)
        walls.append((time.perf_counter() - wall) / args.rows * 1000)
        cpus.append((time.process_time() - cpu) / args.rows * 1000)
    print(f"snippet per row ({args.rows} rows, {args.runs} runs): median "
          f"{statistics.median(walls):.3f} ms wall, {statistics.median(cpus):.3f} ms CPU "
          f"(runs: {', '.join(f'{t:.3f}' for t in walls)}); target <= {TARGET_MS:g} ms")


if __name__ == "__main__":
    main()
