"""Whole-process timings of the command line at 10,000 papers (issue 2's targets).

    .venv/bin/python benchmarks/bench_cli.py [--papers 10000] [--runs 3]
    .venv/bin/python benchmarks/bench_cli.py --import-only --scale 100000   # issue 13

Generates a synthetic Daily Papers page (80-character titles, ~1,200-character abstracts),
then times, as separate processes exactly as a person runs them:
  * `papershelf import page.txt` into an empty data dir (store + full-text index), --runs times;
  * `papershelf search WORD` for several queries, 10 runs each.
Prints medians. Targets: import <= 8 s, search <= 0.25 s.
`--scale N` then imports an N-paper page the same way, --runs times, and prints its median
over the first one's (a Daily Papers page is title-only: issue 13's target is 100k <= 12x 10k).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic import make_page_text, make_pages  # noqa: E402

PAPERSHELF = [sys.executable, "-m", "tui.cli"]
# As on a real install, where pip byte-compiles the package: some sandboxes set
# PYTHONDONTWRITEBYTECODE, which would recompile every module on every run (~70 ms).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
QUERIES = ["transformer", "diffusion models", '"language model"', "reasoning agents",
           "sparse*", "is:unread retrieval"]


CPU: list[float] = []  # child CPU seconds of the last timed() call, for a loaded machine


def timed(argv: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, env=ENV)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU[:] = [after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime]
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scale", type=int, default=0, metavar="N",
                        help="also import an N-paper page; print the ratio of the medians")
    parser.add_argument("--import-only", action="store_true", help="skip the searches")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="papershelf-bench-"))
    try:
        page = work / "page.txt"
        page.write_text(make_page_text(args.papers, seed=1), encoding="utf-8")
        imports, cpus = [], []
        for run in range(args.runs):
            data = work / f"data{run}"
            imports.append(timed([*PAPERSHELF, "--data-dir", str(data), "import", str(page)]))
            cpus.append(CPU[0])
        print(f"load average before: {os.getloadavg()[0]:.1f}")
        print(f"import {args.papers} papers: median {statistics.median(imports):.2f} s wall, "
              f"{statistics.median(cpus):.2f} s CPU (runs: {', '.join(f'{t:.2f}' for t in imports)})")
        if args.scale:
            pages = []  # one command over several files: a file may have at most 32 MiB
            for n, text in enumerate(make_pages(args.scale, seed=1)):
                pages.append(work / f"big{n}.txt")
                pages[-1].write_text(text, encoding="utf-8")
            bigs, big_cpus = [], []
            for run in range(args.runs):
                bigs.append(timed([*PAPERSHELF, "--data-dir", str(work / f"big{run}"), "import",
                                   *map(str, pages)]))
                big_cpus.append(CPU[0])
                shutil.rmtree(work / f"big{run}", ignore_errors=True)
            print(f"import {args.scale} papers: median {statistics.median(bigs):.2f} s wall, "
                  f"{statistics.median(big_cpus):.2f} s CPU (runs: "
                  f"{', '.join(f'{t:.2f}' for t in bigs)}); "
                  f"{statistics.median(bigs) / statistics.median(imports):.1f}x the "
                  f"{args.papers} time ({statistics.median(big_cpus) / statistics.median(cpus):.1f}x "
                  "in CPU)")
        if args.import_only:
            return

        data = work / "data0"
        timed([*PAPERSHELF, "--data-dir", str(data), "search", "warmup"])
        rows = []
        for query in QUERIES:
            times, cpus = [], []
            for _ in range(10):
                times.append(timed([*PAPERSHELF, "--data-dir", str(data), "search", query]))
                cpus.append(CPU[0])
            rows.append((query, statistics.median(times), max(times), statistics.median(cpus)))
        baseline = [timed([sys.executable, "-c", "pass"]) for _ in range(10)]
        print(f"bare python startup: median {statistics.median(baseline) * 1000:.0f} ms")
        for query, median, worst, cpu in rows:
            print(f"search {query!r:26} median {median * 1000:5.0f} ms   max {worst * 1000:5.0f} ms"
                  f"   CPU {cpu * 1000:4.0f} ms")
        print(f"search overall median: {statistics.median(r[1] for r in rows) * 1000:.0f} ms wall, "
              f"{statistics.median(r[3] for r in rows) * 1000:.0f} ms CPU")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
