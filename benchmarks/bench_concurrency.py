"""Two papershelf processes at once, timed (the timings tests/test_concurrency.py leaves out):
how long `papershelf star` takes while another process holds the search index's writer lock
(it should not wait for it), and how long an import waits before it gives up on the held index
with the default writer timeout (5 s) and with a short injected one.

    .venv/bin/python benchmarks/bench_concurrency.py [--runs 3] [--papers 10]

Every command is a real `python -m tui.cli` subprocess (start-up included). Prints medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic import make_page_text, make_records  # noqa: E402
from index.library import WRITER_TIMEOUT, Library  # noqa: E402

_ENV = dict(os.environ, PYTHONPATH=str(ROOT))
_CLI_WITH_WRITER_TIMEOUT = ("import sys; import index.library as library; "
                            "library.WRITER_TIMEOUT = float(sys.argv[1]); "
                            "from tui.cli import main; sys.exit(main(sys.argv[2:]))")
_HOLDER = (
    "import sys; from index.library import Library; from whoosh import index\n"
    "lib = Library.open(sys.argv[1])\n"
    "w = index.open_dir(str(lib.index.directory), indexname='papers').writer()\n"
    "print('HOLDING', flush=True); sys.stdin.readline(); w.cancel()"
)


def timed(command: list[str]) -> tuple[float, int, str]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=_ENV)
    return time.perf_counter() - started, done.returncode, done.stderr


def cli(data: Path, *args: str, writer_timeout: float | None = None) -> list[str]:
    head = ([sys.executable, "-m", "tui.cli"] if writer_timeout is None else
            [sys.executable, "-c", _CLI_WITH_WRITER_TIMEOUT, str(writer_timeout)])
    return [*head, "--data-dir", str(data), *args]


def one_run(work: Path, papers: int, run: int) -> dict[str, float]:
    data = work / f"lib{run}"
    with Library.open(data) as lib:
        if lib.engine_name != "whoosh":
            raise SystemExit("this benchmark holds the Whoosh writer lock: use the whoosh engine")
        lib.add(make_records(papers, run))
        key = lib.store.filtered_keys()[0]
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(data)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=ROOT, env=_ENV)
    assert holder.stdout.readline().strip() == "HOLDING"
    result = {}
    try:
        result["star, index writer held"], code, err = timed(cli(data, "star", key))
        assert code == 0, err
        for n, timeout in enumerate((WRITER_TIMEOUT, 0.2)):
            page = work / f"page{run}-{n}.txt"
            page.write_text(make_page_text(20, 100 * run + n), encoding="utf-8")
            label = f"import, index writer held, writer timeout {timeout:g} s"
            result[label], code, err = timed(cli(data, "import", str(page), writer_timeout=timeout))
            assert code == 0 and "busy" in err, err
    finally:
        holder.communicate("release\n", timeout=30)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--papers", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = [one_run(Path(tmp), args.papers, run) for run in range(args.runs)]
    for label in runs[0]:
        print(f"{label:55s} {statistics.median(r[label] for r in runs):6.2f} s (median of "
              f"{args.runs})")


if __name__ == "__main__":
    main()
