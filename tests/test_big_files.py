"""Big input files: read piece by piece in bounded memory, limits on single lines and entries
rather than on whole files; line numbers stay those of the whole file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from index.sources import parse_text
from index.sources.stream import MAX_LINE_BYTES, STREAM_FROM, pieces
from samples import dense_page, make_papers

ROOT = Path(__file__).resolve().parent.parent


def bib_entry(i: int) -> str:
    return (f"@article{{e{i},\n  title = {{Entry Number {i}}},\n  journal = jn,\n"
            f"  year = {{2020}}\n}}\n")


def test_bibtex_pieces_keep_strings_and_line_numbers(tmp_path):
    path = tmp_path / "refs.bib"
    path.write_text("@string{jn = {Journal of Small Pieces}}\n"
                    + "".join(bib_entry(i) for i in range(300))
                    + "@article{broken,\n  title = {Never Closed\n", encoding="utf-8")
    got = list(pieces(path, "bibtex", piece_bytes=2000))
    assert len(got) > 5
    records, problems = [], []
    for piece in got:
        result = parse_text(piece.text, str(path), "bibtex")
        records += [(r.title, r.venue, r.line + piece.first_line - 1) for r in result.records]
        problems += [p.line + piece.first_line - 1 for p in result.problems if p.line]
    assert [t for t, _, _ in records] == [f"Entry Number {i}" for i in range(300)]
    assert {v for _, v, _ in records} == {"Journal of Small Pieces"}  # @string crossed pieces
    assert [line for _, _, line in records] == [2 + 5 * i for i in range(300)]
    assert problems == [1502]  # the unclosed entry, at its line in the whole file


def test_page_pieces_cut_between_papers_and_keep_the_date(tmp_path):
    papers = make_papers(400, seed=11)
    path = tmp_path / "page.txt"
    path.write_text("Aug 20\n" + dense_page(papers, banner=False), encoding="utf-8")
    got = list(pieces(path, "dailypapers", piece_bytes=20_000))
    assert len(got) > 5
    found = []
    for piece in got:
        result = parse_text(piece.text, str(path), "dailypapers")
        assert not result.problems, result.problems[:3]
        found += [(r.title, r.listing_date) for r in result.records]
    assert [t for t, _ in found] == [t for t, _ in papers]
    assert {d for _, d in found} == {"Aug 20"}


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak memory from /proc")
def test_a_page_bigger_than_the_old_limit_imports_in_bounded_memory(tmp_path):
    """A 200 MB page (padding lines around real papers, and one line of 2 MiB) imports; the
    process's peak memory stays far below the file's size (see benchmarks/RESULTS.md)."""
    path = tmp_path / "big.txt"
    padding = (" " * 1023 + "\n") * 1024  # 1 MiB of blank lines: chrome a page may carry
    papers = make_papers(60, seed=4)
    with open(path, "w", encoding="utf-8") as out:
        out.write(dense_page(papers[:30]))
        for _ in range(100):
            out.write(padding)
        out.write("x" * (2 * MAX_LINE_BYTES) + "\n")
        for _ in range(100):
            out.write(padding)
        out.write(dense_page(papers[30:], banner=False))
    size = path.stat().st_size
    assert size > 6 * STREAM_FROM
    # VmHWM: the peak RSS of this process image (ru_maxrss would include the forked parent's)
    script = ("import sys; from tui.cli import main; code = main(sys.argv[1:]); "
              "peak = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')]; "
              "print('PEAK', peak[0], file=sys.stderr); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", script, "--data-dir", str(tmp_path / "data"),
                           "import", str(path)], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    assert "added 60" in done.stdout
    long_line = [line for line in done.stderr.splitlines() if "longer than" in line]
    assert len(long_line) == 1 and "big.txt:" in long_line[0]
    peak_kib = int(done.stderr.split("PEAK ")[1].split()[0])
    # read whole, the file would be held twice (its bytes and its text): 2x its size
    assert peak_kib * 1024 < 0.3 * size, f"peak {peak_kib} KiB for a {size} byte file"
    listed = subprocess.run([sys.executable, "-m", "tui.cli", "--data-dir",
                             str(tmp_path / "data"), "list", "--json"], capture_output=True,
                            text=True, cwd=ROOT, timeout=120,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert len(json.loads(listed.stdout)) == 60
