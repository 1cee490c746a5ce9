"""The Textual app at 100,000 papers, headless (issue 3's targets).

    .venv/bin/python benchmarks/bench_tui.py [--papers 100000] [--seed 7] [--cadence-ms 150]
                                             [--engine whoosh|sqlite] [--drop-caches] [--each]

--engine picks the search engine as a user does (`[search] engine` in config.toml); each engine
gets its own library folder. --drop-caches empties the kernel's page cache before the launch
(needs root), so the index is read from disk as after a reboot. --each prints every keystroke
(the text typed so far, keystroke to results, time in Library.search).

Builds (once; reused afterwards) a synthetic library under benchmarks/_work/ in a separate
process, so this process's peak RSS is the app's alone. Then runs the app with
`App.run_test(size=(120, 36))` and measures:

  * launch to first painted results: from before `Library.open` to the first time the
    compositor asks the results list for a row that holds a paper;
  * keystroke to results updated: queries typed letter by letter (every prefix is a search,
    as-you-type), from just before the key is sent to the first row painted from the new
    results. Keys are sent `--cadence-ms` apart (a quick typist), or as soon as the previous
    results are painted when that takes longer;
  * star toggle to visible: from before `s` to the cursor row painted with the star changed
    (the row shows the change at once; the write follows in a worker), and to the row
    redrawn from the store after the write;
  * peak RSS of this process (resource.getrusage).

Targets: first paint <= 1.0 s, keystroke p95 <= 100 ms, star <= 50 ms, RSS <= 400 MB.
"""

from __future__ import annotations

import argparse
import bisect
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORK = ROOT / "benchmarks" / "_work"
QUERIES = ["transformer", "diffusion models", "reasoning agents", "graph neural",
           "quantization", "speculative decoding", "retrieval augmented", "robot manipulation"]
TARGETS = {"first paint": 1.0, "keystroke p95": 0.100, "star visible": 0.050}


ENGINE = "whoosh"


def library_dir(papers: int, seed: int) -> Path:
    return WORK / f"tui-{papers}-{seed}-{ENGINE}"


def use_engine(engine: str) -> None:
    """Point PAPERSHELF_CONFIG_DIR at a config.toml that names `engine`."""
    global ENGINE
    ENGINE = engine
    config_dir = Path(tempfile.mkdtemp(prefix="papershelf-bench-config-"))
    (config_dir / "config.toml").write_text(f'[search]\nengine = "{engine}"\n')
    os.environ["PAPERSHELF_CONFIG_DIR"] = str(config_dir)


def build(directory: Path, papers: int, seed: int) -> None:
    """Run in a child process: the synthetic records never count towards the app's RSS."""
    from benchmarks.synthetic import make_records
    from index.library import Library

    started = time.perf_counter()
    records = make_records(papers, seed)
    with Library.open(directory) as lib:
        for start in range(0, papers, 20_000):
            lib.add(records[start:start + 20_000])
            print(f"  added {min(start + 20_000, papers):,} papers "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)
    (directory / "READY").write_text(f"{papers} {seed}\n")


def ensure_library(papers: int, seed: int) -> Path:
    directory = library_dir(papers, seed)
    if (directory / "READY").exists():
        return directory
    print(f"building a {papers:,}-paper library in {directory} (once) ...", flush=True)
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, __file__, "--build", str(directory), "--papers", str(papers),
                    "--seed", str(seed), "--engine", ENGINE], check=True)
    return directory


class Paints:
    """Records when the compositor asks ResultsList for rows (and what they showed)."""

    def __init__(self) -> None:
        from tui.widgets.results_list import ResultsList

        self.calls: list[tuple[float, int, str]] = []
        original = ResultsList.render_line
        paints = self

        def render_line(widget, y):
            strip = original(widget, y)
            index = widget.scroll_offset.y + y
            if index < len(widget.keys) and strip.text.strip() != "…":  # not a placeholder
                paints.calls.append((time.perf_counter(), index, strip.text))
            return strip

        ResultsList.render_line = render_line

    def first_after(self, t0: float, predicate=lambda index, text: True) -> float | None:
        # the calls are in time order: start at t0 (a scan from the first call, polled every
        # millisecond on the app's own thread, grew to thousands of calls and slowed the app)
        start = bisect.bisect_left(self.calls, (t0,))
        for when, index, text in self.calls[start:]:
            if predicate(index, text):
                return when
        return None

    async def wait(self, t0: float, predicate=lambda index, text: True,
                   timeout: float = 30.0) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            when = self.first_after(t0, predicate)
            if when is not None:
                return when
            await asyncio.sleep(0.001)
        raise TimeoutError("no paint")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def measure(directory: Path, cadence: float) -> dict:
    config_dir = Path(os.environ["PAPERSHELF_CONFIG_DIR"])
    paints = Paints()
    from index.config import load_config
    from index.library import Library
    from tui.app import PapershelfApp

    t_launch = time.perf_counter()
    lib = Library.open(directory)
    app = PapershelfApp(lib, load_config(config_dir))
    out: dict = {}
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        first = await paints.wait(t_launch)
        out["first paint"] = first - t_launch
        await wait_results(screen, "")
        out["full list"] = screen.applied_at - t_launch
        out["papers"] = len(screen.results.keys)

        # Warm the search index (the first text search opens the index).
        warm = time.perf_counter()
        app.with_index(lambda lib: lib.search("warmup", limit=10, typing=True))
        out["index open (first search)"] = time.perf_counter() - warm

        latencies: list[float] = []
        empty: list[str] = []
        engine: list[float] = []  # time inside Library.search, in the worker
        per_query: list[tuple[str, float, float]] = []
        each: list[tuple[str, float, float]] = []  # typed text, latency, engine time
        search_bar = screen.query_one("#search")
        for query in QUERIES:
            search_bar.value = ""
            await wait_results(screen, "")
            await pilot.pause(0.05)
            search_bar.focus()
            typed = ""
            mine: list[float] = []
            for char in query:
                typed += char
                t0 = time.perf_counter()
                await pilot.press("space" if char == " " else char)
                await wait_results(screen, typed)
                applied = screen.applied_at
                if screen.results.keys:
                    try:
                        painted = await paints.wait(max(applied, t0), timeout=10)
                    except TimeoutError:
                        raise SystemExit(f"no repaint after typing {typed!r}: "
                                         f"{screen.status.text()}") from None
                else:  # no hits: the status line is what changes
                    await pilot.pause()
                    painted = time.perf_counter()
                    empty.append(typed)
                mine.append(painted - t0)
                engine.append(screen.last_search_seconds)
                each.append((typed, painted - t0, screen.last_search_seconds))
                rest = cadence - (time.perf_counter() - t0)
                if rest > 0:
                    await asyncio.sleep(rest)
            latencies += mine
            per_query.append((query, statistics.median(mine), max(mine)))
        out["keystrokes"] = len(latencies)
        out["keystroke p50"] = statistics.median(latencies)
        out["keystroke p95"] = pct(latencies, 95)
        out["keystroke max"] = max(latencies)
        out["per query"] = per_query
        out["engine p50"] = statistics.median(engine)
        out["engine p95"] = pct(engine, 95)
        out["no hits"] = empty
        out["each"] = each

        search_bar.value = ""
        await wait_results(screen, "")
        screen.results.focus()
        await pilot.pause(0.1)
        stars: list[float] = []
        saved: list[float] = []
        for i in range(20):
            results = screen.results
            row = results.cursor
            before = results.paper(results.current_key).starred
            glyph = " " if before else "★"
            t0 = time.perf_counter()
            await pilot.press("s")
            painted = await paints.wait(t0, lambda index, text, r=row, g=glyph:
                                        index == r and len(text) > 2 and text[2] == g)
            stars.append(painted - t0)
            while screen.changed_at < t0:  # and until the store has it and the row is redrawn
                await asyncio.sleep(0.001)
            saved.append(screen.changed_at - t0)
            await pilot.pause(0.1)  # the detail pane follows the cursor after 60 ms
            if i % 2:
                await pilot.press("j")
                await pilot.pause(0.1)
        out["star visible p50"] = statistics.median(stars)
        out["star visible"] = max(stars)
        out["star samples"] = stars
        out["star saved p50"] = statistics.median(saved)
        out["star saved max"] = max(saved)
        await pilot.press("q")
    lib.close()
    out["peak RSS MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


async def wait_results(screen, query: str, timeout: float = 60.0) -> None:
    """Until the screen has applied the results of exactly `query` (typed text)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if screen.query_text == query and screen.applied_query == screen.full_query() \
                and screen.search.idle:
            return
        await asyncio.sleep(0.0005)
    raise TimeoutError(f"no results for {query!r}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cadence-ms", type=int, default=150)
    parser.add_argument("--engine", choices=("whoosh", "sqlite"), default="whoosh")
    parser.add_argument("--drop-caches", action="store_true")
    parser.add_argument("--each", action="store_true",
                        help="print every keystroke's latency and engine time")
    parser.add_argument("--build", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    use_engine(args.engine)
    if args.build:
        build(Path(args.build), args.papers, args.seed)
        return
    directory = ensure_library(args.papers, args.seed)
    if args.drop_caches:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    out = asyncio.run(measure(directory, args.cadence_ms / 1000))
    print(f"\npapershelf TUI, {args.engine} engine, {out['papers']:,} papers, headless 120x36, "
          f"typing cadence {args.cadence_ms} ms, {os.cpu_count()} CPUs"
          + (", page cache dropped first" if args.drop_caches else ""))
    print(f"{'measure':34} {'value':>10} {'target':>10}")
    print(f"(load average at start: {os.getloadavg()[0]:.1f})")
    rows = [
        ("launch to first painted results", out["first paint"], "first paint"),
        ("first text search (index open)", out["index open (first search)"], None),
        ("whole list counted (all keys)", out["full list"], None),
        (f"keystroke to results p50 (n={out['keystrokes']})", out["keystroke p50"], None),
        ("keystroke to results p95", out["keystroke p95"], "keystroke p95"),
        ("keystroke to results max", out["keystroke max"], None),
        ("  of which Library.search p50", out["engine p50"], None),
        ("  of which Library.search p95", out["engine p95"], None),
        ("star toggle to visible p50", out["star visible p50"], None),
        ("star toggle to visible max (n=20)", out["star visible"], "star visible"),
        ("star toggle to saved + redrawn p50", out["star saved p50"], None),
        ("star toggle to saved + redrawn max", out["star saved max"], None),
    ]
    for label, value, target in rows:
        goal = f"<= {TARGETS[target] * 1000:.0f} ms" if target else ""
        print(f"{label:34} {value * 1000:8.1f} ms {goal:>10}")
    print(f"{'peak RSS':34} {out['peak RSS MB']:8.1f} MB {'<= 400 MB':>10}")
    print("star toggles, ms: " + " ".join(f"{t * 1000:.0f}" for t in out["star samples"]))
    if out["no hits"]:
        print(f"prefixes with no hits (timed to the status line): {out['no hits']}")
    print("\nper query (typed letter by letter): median / max ms")
    for query, median, worst in out["per query"]:
        print(f"  {query!r:26} {median * 1000:7.1f} {worst * 1000:7.1f}")
    if args.each:
        print("\nevery keystroke: typed / to results ms / Library.search ms")
        for typed, latency, engine in out["each"]:
            print(f"  {typed!r:26} {latency * 1000:7.1f} {engine * 1000:7.1f}")


if __name__ == "__main__":
    main()
