"""Benchmark the search index (index/search.py) on synthetic papers.

    .venv/bin/python -m benchmarks.bench_search_index --sizes 10000 100000

For each size: build time (index.search.SearchIndex.rebuild, wall and CPU), index size, cold
open + first search, word-query p50/p95, as-you-type p50/p95 (real vocabulary words typed
letter by letter), the cost of restricting to `allowed` key sets of 10 and of 50,000 keys (or
half the library), a one-paper upsert (one commit), and `import index.search` in a fresh
interpreter. Prints a table; --json writes the figures too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.synthetic import make_records, vocabulary  # noqa: E402
from index.model import Paper  # noqa: E402
from index.search import SearchIndex  # noqa: E402


def papers_for(n: int, seed: int = 0) -> list[Paper]:
    out = []
    for i, r in enumerate(make_records(n, seed)):
        out.append(
            Paper(key=r.key, title=r.title, abstract=r.abstract, authors=r.authors, year=r.year,
                  listing_date=r.listing_date, arxiv_id=r.arxiv_id, url=r.url, links=r.links,
                  sources=[r.source], added=1_700_000_000.0 + i)
        )
    return out


def cpu_seconds() -> float:
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return (time.perf_counter() - t0) * 1000, out


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def word_queries(rng: random.Random, count: int) -> list[str]:
    vocab = vocabulary()
    head = vocab[:400]  # common words: many hits
    tail = vocab[400:]  # rarer words
    out = []
    for i in range(count):
        kind = i % 4
        if kind == 0:
            out.append(rng.choice(head))
        elif kind == 1:
            out.append(rng.choice(tail))
        elif kind == 2:
            out.append(f"{rng.choice(head)} {rng.choice(tail)}")
        else:
            out.append(f"{rng.choice(head)} {rng.choice(head)}")
    return out


def typing_sessions(rng: random.Random, count: int) -> list[list[str]]:
    """Each session: the keystroke-by-keystroke texts of typing one or two real words."""
    vocab = vocabulary()
    sessions = []
    for _ in range(count):
        words = [rng.choice(vocab[: 1500]) for _ in range(rng.choice((1, 2)))]
        text = " ".join(words)
        sessions.append([text[:i] for i in range(1, len(text) + 1)])
    return sessions


def cold_process(directory: Path, query: str) -> float:
    """A fresh interpreter: import, open, search (what `papershelf search` does), in ms."""
    code = (
        "import time, sys; t0 = time.perf_counter()\n"
        "from pathlib import Path\n"
        "from index.search import SearchIndex\n"
        "ix = SearchIndex(Path(sys.argv[1])); ix.open(); r = ix.search(sys.argv[2])\n"
        "print((time.perf_counter() - t0) * 1000)\n"
    )
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, str(directory), query], cwd=ROOT,
                         capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    total = (time.perf_counter() - t0) * 1000
    if out.returncode:
        raise RuntimeError(out.stderr)
    return total


def import_ms() -> float:
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import index.search"], cwd=ROOT, check=True,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
        runs.append((time.perf_counter() - t0) * 1000)
    base = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        base.append((time.perf_counter() - t0) * 1000)
    return min(runs) - min(base)


def bench(n: int, workdir: Path, queries: int, sessions: int, keep: Path | None) -> dict:
    rng = random.Random(n)
    res: dict = {"n": n}
    directory = (keep / f"ix-{n}") if keep else (workdir / f"ix-{n}")
    ix = SearchIndex(directory)
    papers = None
    if keep and ix.path.exists():
        ix.open()
        res["build_s"] = res["build_cpu_s"] = float("nan")
    else:
        papers = papers_for(n)
        c0, t0 = cpu_seconds(), time.perf_counter()
        ix.rebuild(papers, total=n)
        res["build_s"] = time.perf_counter() - t0
        res["build_cpu_s"] = cpu_seconds() - c0
    res["docs"] = ix.doc_count()
    res["size_mb"] = dir_size(directory) / 1e6
    ix.close()

    res["cold_process_ms"] = statistics.median(cold_process(directory, "diffusion policy") for _ in range(3))
    ix = SearchIndex(directory)
    res["open_ms"], _ = timed(ix.open)
    res["first_search_ms"], _ = timed(ix.search, "language model")

    times, hits = [], []
    for q in word_queries(rng, queries):
        ms, r = timed(ix.search, q)
        times.append(ms)
        hits.append(r.total)
    res["word_p50_ms"], res["word_p95_ms"] = pct(times, 50), pct(times, 95)
    res["word_hits_median"] = statistics.median(hits)

    times = []
    for session in typing_sessions(rng, sessions):
        for text in session:
            ms, _ = timed(ix.search, text, as_you_type=True)
            times.append(ms)
    res["ayt_p50_ms"], res["ayt_p95_ms"], res["ayt_max_ms"] = pct(times, 50), pct(times, 95), max(times)

    all_keys = [k for k in ix.search("", limit=None).keys]
    small = set(rng.sample(all_keys, 10))
    large = set(rng.sample(all_keys, min(50_000, len(all_keys) // 2)))
    res["allowed_large_size"] = len(large)
    qs = word_queries(rng, max(20, queries // 4))
    for label, allowed in (("allowed10", small), ("allowedL", large)):
        first, _ = timed(ix.search, qs[0], allowed=allowed)
        times = [timed(ix.search, q, allowed=allowed)[0] for q in qs]
        res[f"{label}_first_ms"] = first
        res[f"{label}_p50_ms"], res[f"{label}_p95_ms"] = pct(times, 50), pct(times, 95)
        res[f"{label}_empty_query_ms"] = timed(ix.search, "", allowed=allowed)[0]
    res["empty_query_newest_ms"] = timed(ix.search, "")[0]

    one = papers_for(1, seed=999)[0]
    res["upsert1_ms"], _ = timed(ix.upsert, [one])
    res["search_after_commit_ms"], _ = timed(ix.search, "language model")
    if papers is None:
        papers = papers_for(min(n, 2000), seed=7)
    batch = papers[:100]
    res["upsert100_ms"], _ = timed(ix.upsert, batch)
    ix.close()
    if not keep:
        shutil.rmtree(directory, ignore_errors=True)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--sessions", type=int, default=30, help="typing sessions (as-you-type)")
    ap.add_argument("--keep", type=Path, help="keep (and reuse) built indexes in this directory")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    load = os.getloadavg()[0]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, load {load:.1f} at start")
    print(f"import index.search: {import_ms():.0f} ms (over a bare interpreter)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            row = bench(n, Path(tmp), args.queries, args.sessions, args.keep)
            rows.append(row)
            print(json.dumps({k: (round(v, 2) if isinstance(v, float) else v) for k, v in row.items()}))
    cols = [
        ("papers", "n", "{:,}"), ("build s", "build_s", "{:.1f}"), ("cpu s", "build_cpu_s", "{:.1f}"),
        ("MB", "size_mb", "{:.0f}"), ("cold proc ms", "cold_process_ms", "{:.0f}"),
        ("word p50", "word_p50_ms", "{:.1f}"), ("word p95", "word_p95_ms", "{:.1f}"),
        ("type p50", "ayt_p50_ms", "{:.1f}"), ("type p95", "ayt_p95_ms", "{:.1f}"),
        ("allow10 p50", "allowed10_p50_ms", "{:.1f}"), ("allowL p50", "allowedL_p50_ms", "{:.1f}"),
        ("allowL 1st", "allowedL_first_ms", "{:.0f}"), ("upsert1 ms", "upsert1_ms", "{:.0f}"),
    ]
    print()
    print(" | ".join(c[0] for c in cols))
    for row in rows:
        print(" | ".join(fmt.format(row[key]) for _, key, fmt in cols))
    print(f"(times in ms unless marked; load {os.getloadavg()[0]:.1f} at end)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
