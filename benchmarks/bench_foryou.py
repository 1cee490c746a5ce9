""""For you" ranking (issue 15's targets).

    .venv/bin/python benchmarks/bench_foryou.py cli [--unread 10000] [--starred 500] [--runs 10]
    .venv/bin/python benchmarks/bench_foryou.py app [--papers 100000] [--starred 500] [--runs 5]

cli: a synthetic library of `--unread` unread papers plus `--starred` starred ones (built once
in a temporary directory), then `papershelf list --for-you --limit 20` timed as a whole
process, `--runs` times, with the in-process split (profile / ranking). Target <= 0.5 s.

app: the 100k library of benchmarks/bench_tui.py (built once under benchmarks/_work/), copied,
with `--starred` papers starred; the app runs headless (120x36) and switches between the
"all" filter and "for you" (`1`, `5`). Each switch is timed from before the key to the first
results row painted from the for-you list. The first switch ranks (cold); later ones find
the ranking cached (the library has not changed). Then a paper is starred (`s` in the for-you
list) and the switch timed again: the profile changed, so it ranks again. Target <= 150 ms.
The library is left with those papers starred.
"""

from __future__ import annotations

import argparse
import asyncio
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

PAPERSHELF = [sys.executable, "-m", "tui.cli"]
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
WORK = ROOT / "benchmarks" / "_work"


def star_spread(lib, count: int) -> None:
    """Star `count` papers spread over the library (every k-th, newest first)."""
    keys = lib.store.filtered_keys()
    step = max(len(keys) // max(count, 1), 1)
    lib.set_star_many(keys[::step][:count], True)


def build_cli_library(directory: Path, unread: int, starred: int) -> None:
    from benchmarks.synthetic import make_records
    from index.library import Library

    with Library.open(directory) as lib:
        lib.add(make_records(unread + starred, seed=3))
        star_spread(lib, starred)


def run_cli(args) -> None:
    from index.library import Library

    work = Path(tempfile.mkdtemp(prefix="papershelf-foryou-"))
    try:
        data = work / "data"
        build_cli_library(data, args.unread, args.starred)
        argv = [*PAPERSHELF, "--data-dir", str(data), "list", "--for-you", "--limit", "20"]
        subprocess.run(argv, cwd=ROOT, env=ENV, capture_output=True, check=True)  # warm caches
        walls, cpus = [], []
        for _ in range(args.runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(argv, cwd=ROOT, env=ENV, capture_output=True, check=True)
            walls.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        with Library.open(data) as lib:
            start = time.perf_counter()
            ranking = lib.for_you(limit=20)
            whole = time.perf_counter() - start
            lib._for_you = None  # the ranking again, over the cached profile
            start = time.perf_counter()
            lib.for_you(limit=20)
            ranked = time.perf_counter() - start
        print(f"load average before: {os.getloadavg()[0]:.1f}")
        print(f"`papershelf list --for-you --limit 20`, {ranking.unread:,} unread ranked "
              f"against {ranking.liked:,} starred:")
        print(f"  process: median {statistics.median(walls) * 1000:.0f} ms wall, "
              f"{statistics.median(cpus) * 1000:.0f} ms CPU   (target <= 500 ms; runs: "
              + ", ".join(f"{t * 1000:.0f}" for t in walls) + ")")
        print(f"  in process: Library.for_you {whole * 1000:.0f} ms, of which ranking the "
              f"unread papers {ranked * 1000:.0f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def app_library(papers: int, starred: int) -> Path:
    """A copy of bench_tui's library with papers starred (bench_tui's own stays as it is)."""
    from benchmarks.bench_tui import ensure_library
    from index.library import Library

    target = WORK / f"foryou-{papers}-{starred}"
    if (target / "READY").exists():
        return target
    source = ensure_library(papers, 7)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    with Library.open(target) as lib:
        star_spread(lib, starred)
    return target


async def measure_app(directory: Path, runs: int) -> dict:
    from benchmarks.bench_tui import Paints
    from index.config import load_config
    from index.library import Library
    from tui.app import PapershelfApp

    config_dir = Path(tempfile.mkdtemp(prefix="papershelf-bench-config-"))
    os.environ["PAPERSHELF_CONFIG_DIR"] = str(config_dir)
    paints = Paints()
    lib = Library.open(directory)
    app = PapershelfApp(lib, load_config(config_dir))
    switches: list[float] = []
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        await settled(screen, "all")
        app.index_ready.wait()
        for _ in range(runs + 1):
            start = time.perf_counter()
            await pilot.press("5")
            await settled(screen, "foryou")
            first = screen.results.keys[0]
            title = screen.results.paper(first).title[:30]
            painted = await paints.wait(screen.applied_at, lambda i, text: title in text)
            switches.append(painted - start)
            await pilot.press("1")
            await settled(screen, "all")
        # A star changes the profile: the next switch ranks again.
        after_star: list[float] = []
        for _ in range(2):
            await pilot.press("5")
            await settled(screen, "foryou")
            changed = screen.changed_at
            await pilot.press("s")
            while screen.changed_at == changed:
                await asyncio.sleep(0.001)
            await pilot.press("1")
            await settled(screen, "all")
            start = time.perf_counter()
            await pilot.press("5")
            await settled(screen, "foryou")
            title = screen.results.paper(screen.results.keys[0]).title[:30]
            painted = await paints.wait(screen.applied_at, lambda i, text: title in text)
            after_star.append(painted - start)
            await pilot.press("1")
            await settled(screen, "all")
        ranking = app.with_index(lambda lib: lib.for_you())
    lib.close()
    return {"cold": switches[0], "warm": switches[1:], "after star": after_star,
            "unread": ranking.unread,
            "liked": ranking.liked,
            "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


async def settled(screen, filter_name: str, timeout: float = 120.0) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if screen.filter == filter_name and screen.applied_query == screen.full_query() \
                and screen.search.idle \
                and screen.results.keys:
            return
        await asyncio.sleep(0.0005)
    raise TimeoutError(f"filter {filter_name} not applied")


def run_app(args) -> None:
    directory = app_library(args.papers, args.starred)
    out = asyncio.run(measure_app(directory, args.runs))
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print(f"app, {args.papers:,} papers ({out['unread']:,} unread ranked against "
          f"{out['liked']:,} starred), headless 120x36:")
    print(f"  switch to \"for you\", first (ranks):   {out['cold'] * 1000:7.0f} ms")
    print(f"  switch to \"for you\", cached, median:  {statistics.median(out['warm']) * 1000:7.0f}"
          f" ms   (target <= 150 ms; runs: "
          + ", ".join(f"{t * 1000:.0f}" for t in out["warm"]) + ")")
    print("  switch to \"for you\" after a star (ranks again): "
          + ", ".join(f"{t * 1000:.0f}" for t in out["after star"]) + " ms")
    print(f"  peak RSS: {out['rss']:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="what", required=True)
    cli = sub.add_parser("cli")
    cli.add_argument("--unread", type=int, default=10_000)
    cli.add_argument("--starred", type=int, default=500)
    cli.add_argument("--runs", type=int, default=10)
    app = sub.add_parser("app")
    app.add_argument("--papers", type=int, default=100_000)
    app.add_argument("--starred", type=int, default=500)
    app.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    run_cli(args) if args.what == "cli" else run_app(args)


if __name__ == "__main__":
    main()
