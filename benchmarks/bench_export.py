"""Export timings at 10,000 papers (issue 4's target: BibTeX <= 1.5 s; pubs 1.5 s, papis 38 s).

    .venv/bin/python benchmarks/bench_export.py [--papers 10000] [--runs 5] [--cli]

Builds Paper objects from benchmarks/synthetic.py's records (citation keys assigned as the store
does, a tag on every third paper, and LaTeX / Unicode hard cases in every tenth title and
abstract, so the pylatexenc path is exercised, not only the ASCII fast path), then times
`export_bibtex` (and the Markdown reading list) in this process, --runs times, and prints
medians. The first run is reported separately: it includes pylatexenc's one-time set-up.

--cli also imports the synthetic page into a temporary library and times the whole
`papershelf export -o out.bib` process (start-up + reading 10k papers from SQLite + writing).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic import make_page_text, make_records  # noqa: E402
from index.citekey import CitekeyAllocator, citekey_base  # noqa: E402
from index.model import Paper  # noqa: E402

HARD_TITLES = [
    r" with {\epsilon}-Greedy Na\"{\i}ve Priors", " for Ünïcode π and Ψ", " at 100% & $5 {x",
]
HARD_ABSTRACT = r" We use T\"ULU and 72\% of {\em all} data; costs \$250M; see sum_{i=1}^{N} \mone."


def make_papers(n: int, seed: int = 1) -> list[Paper]:
    citekeys = CitekeyAllocator()  # as the store gives keys on import
    papers = []
    for i, rec in enumerate(make_records(n, seed)):
        title, abstract = rec.title, rec.abstract
        if i % 10 == 0:
            title += HARD_TITLES[(i // 10) % len(HARD_TITLES)]
            abstract += HARD_ABSTRACT
        key = citekeys.allocate(citekey_base(rec.authors, rec.year, title))
        papers.append(Paper(
            key=rec.key, title=title, abstract=abstract, authors=rec.authors, year=rec.year,
            listing_date=rec.listing_date, arxiv_id=rec.arxiv_id, url=rec.url, links=rec.links,
            sources=["dailypapers:bench.txt"], citekey=key,
            tags=["benchmark", "ml"] if i % 3 == 0 else [], note="A note." if i % 7 == 0 else "",
        ))
    return papers


def timed(func) -> tuple[float, object]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def cpu_timed(func) -> tuple[float, float]:
    """(wall, CPU) seconds: on a shared, busy machine the CPU time is the steadier figure."""
    wall, cpu = time.perf_counter(), time.process_time()
    func()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cli", action="store_true", help="also time the whole CLI process")
    args = parser.parse_args()

    from index.export.bibtex import export_bibtex
    from index.export.markdown import export_markdown

    papers = make_papers(args.papers)
    first, text = timed(lambda: export_bibtex(papers))
    runs = [cpu_timed(lambda: export_bibtex(papers)) for _ in range(args.runs)]
    walls, cpus = [w for w, _ in runs], [c for _, c in runs]
    print(f"bibtex, {args.papers} papers: median {statistics.median(walls):.3f} s wall, "
          f"{statistics.median(cpus):.3f} s CPU (first run {first:.3f} s wall; runs: "
          f"{', '.join(f'{t:.3f}' for t in walls)}); {len(text) / 1e6:.1f} MB, target <= 1.5 s")
    md_runs = [cpu_timed(lambda: export_markdown(papers)) for _ in range(args.runs)]
    md_wall = statistics.median(w for w, _ in md_runs)
    md_cpu = statistics.median(c for _, c in md_runs)
    print(f"markdown, {args.papers} papers: median {md_wall:.3f} s wall, {md_cpu:.3f} s CPU")

    if args.cli:
        work = Path(tempfile.mkdtemp(prefix="papershelf-bench-export-"))
        try:
            page = work / "page.txt"
            page.write_text(make_page_text(args.papers, seed=1), encoding="utf-8")
            cli = [sys.executable, "-m", "tui.cli", "--data-dir", str(work / "data")]
            subprocess.run([*cli, "import", str(page)], cwd=ROOT, check=True, capture_output=True)
            whole = []
            for _ in range(args.runs):
                elapsed, _ = timed(lambda: subprocess.run(
                    [*cli, "export", "-o", str(work / "out.bib")], cwd=ROOT, check=True,
                    capture_output=True))
                whole.append(elapsed)
            print(f"`papershelf export -o out.bib`, {args.papers} papers, whole process: "
                  f"median {statistics.median(whole):.3f} s "
                  f"(runs: {', '.join(f'{t:.3f}' for t in whole)})")
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
