"""Both search engines side by side on the same synthetic papers (issue 11).

    .venv/bin/python -m benchmarks.bench_engines --sizes 10000 100000 [--keep DIR]

For each size and engine, in a child process of its own (so peak RSS is that engine's alone):
  * build: SearchIndex.rebuild of every paper, wall and CPU seconds, peak RSS, size on disk;
  * queries with the index open (one searcher, as the app keeps): one word, two words, a
    two-word phrase, and as-you-type (real words typed letter by letter, `typing=True`),
    p50 and p95 in ms; the same words restricted to an `allowed` set of half the library
    (what `is:unread word` costs the engine);
  * a one-paper upsert and commit, and the next search after it;
  * RSS after opening and running every query.
Prints one table; --json writes the figures too.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ENGINES = ("whoosh", "sqlite")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def rss_mb(field: str) -> float:
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def query_sets(seed: int = 1) -> dict[str, list]:
    from benchmarks.synthetic import make_records, vocabulary

    rng = random.Random(seed)
    vocab = vocabulary()
    head, tail = vocab[:400], vocab[400:]
    word = [rng.choice(head) if i % 2 else rng.choice(tail) for i in range(200)]
    two = [f"{rng.choice(head)} {rng.choice(tail if i % 2 else head)}" for i in range(200)]
    phrase = []
    docs = make_records(2000, seed=0)
    while len(phrase) < 100:
        text = rng.choice(docs).abstract.lower().split()
        words = [w.strip(".,;:()") for w in text]
        i = rng.randrange(len(words) - 1)
        if all(len(w) > 3 and w.isalpha() for w in words[i:i + 2]):
            phrase.append(f'"{words[i]} {words[i + 1]}"')
    typing = []
    for _ in range(30):
        text = " ".join(rng.choice(vocab[:1500]) for _ in range(rng.choice((1, 2))))
        typing.append([text[:i] for i in range(1, len(text) + 1)])
    return {"word": word, "two": two, "phrase": phrase, "typing": typing}


def child(engine: str, n: int, directory: Path, build: bool) -> dict:
    """Everything measured for one engine at one size (runs in its own process)."""
    from benchmarks.synthetic import make_records
    from index.model import Paper
    from index.search import SearchIndex

    out: dict = {"engine": engine, "n": n}
    if build:
        papers = [Paper(key=r.key, title=r.title, abstract=r.abstract, authors=r.authors,
                        year=r.year, sources=[r.source], added=1_700_000_000.0 + i)
                  for i, r in enumerate(make_records(n, 0))]
        before = rss_mb("VmRSS")
        ix = SearchIndex(directory, engine)
        t0, c0 = time.perf_counter(), cpu()
        ix.rebuild(papers, total=n)
        out["build s"] = time.perf_counter() - t0
        out["build CPU s"] = cpu() - c0
        out["build peak RSS MB"] = rss_mb("VmHWM")
        out["RSS before build MB"] = before
        ix.close()
        del papers
        return out
    sets = query_sets()
    out["index MB"] = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file()) / 1e6
    t0 = time.perf_counter()
    ix = SearchIndex(directory, engine)
    ix.open()
    ix.search("model", limit=50)
    out["open + first search ms"] = (time.perf_counter() - t0) * 1000

    def run(texts, **kw):
        times = []
        for text in texts:
            t = time.perf_counter()
            ix.search(text, limit=50, **kw)
            times.append((time.perf_counter() - t) * 1000)
        return times

    for name in ("word", "two", "phrase"):
        times = run(sets[name])
        out[f"{name} p50"], out[f"{name} p95"] = statistics.median(times), pct(times, 95)
    typed = [t for session in sets["typing"] for t in run(session, typing=True)]
    out["typing p50"], out["typing p95"] = statistics.median(typed), pct(typed, 95)
    out["typing max"] = max(typed)
    keys = ix.all_keys()
    half = set(keys[::2])
    times = []
    for text in sets["word"][:100]:
        t = time.perf_counter()
        ix.search(text, limit=50, allowed=half)
        times.append((time.perf_counter() - t) * 1000)
    out["word, half allowed p50"] = statistics.median(times)
    out["word, half allowed p95"] = pct(times, 95)
    from index.model import Paper

    t = time.perf_counter()
    ix.upsert([Paper(key=keys[5], title="An updated title about herons", abstract="herons")])
    out["upsert + commit ms"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    ix.search("herons")
    out["next search ms"] = (time.perf_counter() - t) * 1000
    out["RSS after queries MB"] = rss_mb("VmRSS")
    ix.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    ap.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    ap.add_argument("--keep", type=Path, help="keep (and reuse) built indexes in this directory")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        engine, n, directory, build = args.child
        print(json.dumps(child(engine, int(n), Path(directory), build == "build")))
        return 0
    work = args.keep or Path(tempfile.mkdtemp(prefix="papershelf-engines-"))
    rows = []
    for n in args.sizes:
        for engine in args.engines:
            directory = work / f"{engine}-{n}"
            row: dict = {}
            for phase in ("build", "query"):
                if phase == "build" and args.keep and directory.exists():
                    continue
                proc = subprocess.run(
                    [sys.executable, "-m", "benchmarks.bench_engines", "--child", engine, str(n),
                     str(directory), phase], cwd=ROOT, capture_output=True, text=True)
                if proc.returncode:
                    raise SystemExit(proc.stderr)
                row.update(json.loads(proc.stdout.strip().splitlines()[-1]))
            rows.append(row)
            print(f"done: {engine} {n:,} (load {open('/proc/loadavg').read().split()[0]})",
                  flush=True)
    names = [k for k in rows[0] if k not in ("engine", "n")]
    for row in rows[1:]:
        names += [k for k in row if k not in names and k not in ("engine", "n")]
    header = [f"{r['engine']} {r['n'] // 1000}k" for r in rows]
    print("| metric | " + " | ".join(header) + " |")
    print("|---|" + "---|" * len(rows))
    for name in names:
        cells = []
        for r in rows:
            v = r.get(name)
            cells.append("" if v is None else f"{v:.1f}" if isinstance(v, float) else str(v))
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
