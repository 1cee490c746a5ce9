"""Whole-process timings of the command line at 10,000 papers (issues 2 and 11).

    .venv/bin/python benchmarks/bench_cli.py [--papers 10000] [--runs 3] [--engines whoosh sqlite]
    .venv/bin/python benchmarks/bench_cli.py --import-only --scale 100000   # issue 13

Each engine is chosen the way a user does, with `[search] engine` in a config.toml of its own.

Generates a synthetic Daily Papers page (80-character titles, ~1,200-character abstracts),
then times, as separate processes exactly as a person runs them:
  * `papershelf import page.txt` into an empty data dir (store + full-text index), --runs times;
  * `papershelf search WORD` for several queries, 10 runs each.
`--scale N` then imports an N-paper page the same way (in 20k-paper files: a file may have at
most 32 MiB), --runs times, prints its median over the first one's (a Daily Papers page is
title-only: issue 13's target is 100k <= 12x 10k), and runs the searches on it too.
Prints medians and each import's peak RSS. Targets (Whoosh, the default): import 10k <= 8 s,
search at 10k <= 0.25 s; import 100k <= 120 s within 500 MB; search at 100k with a state filter
<= 0.3 s.
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


def timed(argv: list[str], env: dict | None = None) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, env=env or ENV)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU[:] = [after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime]
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{result.stderr}")
    return elapsed


# Runs `papershelf ARGS` and writes its peak RSS (VmHWM) to a file at exit. (ru_maxrss from
# wait4 would include this benchmark's own memory: the child is forked from it before exec.)
PEAK_WRAPPER = (
    "import atexit, runpy, sys\n"
    "out = sys.argv.pop(1)\n"
    "def peak():\n"
    "    with open('/proc/self/status') as status, open(out, 'w') as f:\n"
    "        f.write(next(l for l in status if l.startswith('VmHWM')).split()[1])\n"
    "atexit.register(peak)\n"
    "sys.argv[0] = 'papershelf'\n"
    "runpy.run_module('tui.cli', run_name='__main__')\n"
)


def peak_rss_mb(argv: list[str], env: dict) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one `papershelf` process; argv as for PAPERSHELF."""
    with tempfile.NamedTemporaryFile("r", suffix=".peak") as peak:
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-c", PEAK_WRAPPER, peak.name,
                                 *argv[len(PAPERSHELF):]], cwd=ROOT, capture_output=True,
                                text=True, env=env)
        elapsed = time.perf_counter() - start
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {result.stderr}")
        return elapsed, int(peak.read() or 0) / 1024


def engine_env(work: Path, engine: str) -> dict:
    config = work / f"config-{engine}"
    config.mkdir(exist_ok=True)
    (config / "config.toml").write_text(f'[search]\nengine = "{engine}"\n')
    return dict(ENV, PAPERSHELF_CONFIG_DIR=str(config))


def import_runs(label: str, files: list[Path], work: Path, runs: int, env: dict,
                keep: bool) -> tuple[float, Path]:
    """Median seconds of `runs` imports of `files` into fresh data dirs; the first is kept."""
    imports, rss = [], []
    for run in range(runs):
        data = work / f"{label}-data{run}"
        seconds, peak = peak_rss_mb([*PAPERSHELF, "--data-dir", str(data), "import",
                                     *map(str, files)], env)
        imports.append(seconds)
        rss.append(peak)
        if run or not keep:
            shutil.rmtree(data, ignore_errors=True)
    print(f"[{label}] import: median {statistics.median(imports):.2f} s wall, peak RSS "
          f"{max(rss):.0f} MB (runs: {', '.join(f'{t:.2f}' for t in imports)})", flush=True)
    return statistics.median(imports), work / f"{label}-data0"


def searches(label: str, data: Path, env: dict) -> None:
    timed([*PAPERSHELF, "--data-dir", str(data), "search", "warmup"], env)
    rows = []
    for query in QUERIES:
        times, cpus = [], []
        for _ in range(10):
            times.append(timed([*PAPERSHELF, "--data-dir", str(data), "search", query], env))
            cpus.append(CPU[0])
        rows.append((query, statistics.median(times), max(times), statistics.median(cpus)))
    for query, median, worst, cpu in rows:
        print(f"[{label}] search {query!r:26} median {median * 1000:5.0f} ms   max "
              f"{worst * 1000:5.0f} ms   CPU {cpu * 1000:4.0f} ms")
    print(f"[{label}] search overall median: {statistics.median(r[1] for r in rows) * 1000:.0f} ms "
          f"wall, {statistics.median(r[3] for r in rows) * 1000:.0f} ms CPU", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engines", nargs="+", default=["whoosh", "sqlite"],
                        choices=["whoosh", "sqlite"])
    parser.add_argument("--scale", type=int, default=0, metavar="N",
                        help="also import an N-paper page; print the ratio of the medians")
    parser.add_argument("--import-only", action="store_true", help="skip the searches")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="papershelf-bench-"))
    try:
        page = work / "page.txt"
        page.write_text(make_page_text(args.papers, seed=1), encoding="utf-8")
        pages = []
        for n, text in enumerate(make_pages(args.scale, seed=1) if args.scale else ()):
            pages.append(work / f"big{n}.txt")
            pages[-1].write_text(text, encoding="utf-8")
        print(f"load average before: {os.getloadavg()[0]:.1f}")
        for engine in args.engines:
            env = engine_env(work, engine)
            small, data = import_runs(f"{engine} {args.papers}", [page], work, args.runs, env,
                                      keep=not args.import_only)
            if not args.import_only:
                searches(f"{engine} {args.papers}", data, env)
            if args.scale:
                big, data = import_runs(f"{engine} {args.scale}", pages, work, args.runs, env,
                                        keep=not args.import_only)
                print(f"[{engine}] {args.scale} papers took {big / small:.1f}x the {args.papers} time")
                if not args.import_only:
                    searches(f"{engine} {args.scale}", data, env)
        baseline = [timed([sys.executable, "-c", "pass"]) for _ in range(10)]
        print(f"bare python startup: median {statistics.median(baseline) * 1000:.0f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
