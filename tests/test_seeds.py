"""The real Hugging Face Daily Papers pages in ../shared/seeds through index.sources.dailypapers.

Skips where the seeds are absent (a clone of this repository alone does not have them). Set
PAPERSHELF_SEEDS_DIR to point at another folder of saved pages. Nothing from the pages is copied
here: the checks compare the parser's output with the file's own lines.

The same pages through the Library facade (import all, re-import changes nothing) are checked
in tests/test_seeds_library.py, owned by the Library's engineer.
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import pytest

from index.sources import dailypapers as dp
from index.sources import detect_format

SEEDS = Path(
    os.environ.get("PAPERSHELF_SEEDS_DIR")
    or Path(__file__).resolve().parents[2] / "shared" / "seeds"
)
SEED_FILES = sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else []

pytestmark = pytest.mark.skipif(not SEED_FILES, reason=f"no seed pages in {SEEDS}")

_LOOKS_LIKE_BANNER = re.compile(
    r"^(?:Subscribe(?:[A-Z0-9\W]|$)|Get trending papers|Daily Papers$|byAK\b|new$)"
)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _content_lines(text: str) -> list[tuple[int, str]]:
    """Non-blank lines that are not page chrome, computed without the parser's help."""
    out = []
    for number, line in enumerate(text.split("\n"), 1):
        line = line.strip()
        if not line or line in dp.BANNER_LINES or dp.DATE_LINE.fullmatch(line):
            continue
        out.append((number, line))
    return out


@pytest.fixture(scope="module")
def parsed():
    return {path: dp.parse(_read(path), str(path)) for path in SEED_FILES}


@pytest.mark.parametrize("path", SEED_FILES, ids=[p.name for p in SEED_FILES])
def test_seed_page_parses_cleanly(path, parsed):
    text = _read(path)
    result = parsed[path]
    assert dp.sniff(text) >= 0.9
    assert detect_format(text) == "dailypapers"
    assert result.problems == []
    assert result.records

    content = _content_lines(text)
    # Every content line is used exactly once: as a title or as the abstract right after it.
    assert len(content) == 2 * len(result.records)
    line_text = dict(content)
    next_line = {content[i][0]: content[i + 1][1] for i in range(len(content) - 1)}
    for record in result.records:
        assert record.title and record.abstract
        assert record.title == record.title.strip() and record.abstract == record.abstract.strip()
        assert not _LOOKS_LIKE_BANNER.match(record.title), record.title
        assert record.title not in dp.BANNER_LINES
        assert not dp.DATE_LINE.fullmatch(record.title)
        assert line_text[record.line].endswith(record.title)  # first one has "Subscribe" glued
        assert next_line[record.line] == record.abstract
        assert record.year is None
        assert record.source == f"dailypapers:{path.name}"
        for link in record.links:
            assert link.startswith(("http://", "https://")) and link in record.abstract
            assert link[-1] not in ".,;:'\""

    # A listing date, when the page prints one, is a line of the page and holds for all records.
    dates = {r.listing_date for r in result.records}
    assert len(dates) == 1
    (date,) = dates
    if date is not None:
        assert date in {line.strip() for line in text.split("\n")}
    if "\n\n" in text:  # the spaced shape prints the listing date
        assert date is not None


def _printed_titles(text: str) -> list[str]:
    """The title lines of a page, read off its own lines: every other content line, the first
    one without the "Subscribe" a dense page glues to it."""
    titles = [line for _, line in _content_lines(text)[::2]]
    if titles and titles[0].startswith("Subscribe") and titles[0] not in dp.BANNER_LINES:
        titles[0] = titles[0].removeprefix("Subscribe")
    return titles


def test_records_and_distinct_papers_are_the_titles_the_pages_print(parsed):
    """Per page and over all pages: one record per printed title, in order, and as many
    distinct papers as distinct printed titles (a title on two pages is one paper)."""
    printed: list[str] = []
    for path, result in parsed.items():
        titles = _printed_titles(_read(path))
        assert [r.title for r in result.records] == titles, path.name
        assert len({r.key for r in result.records}) == len(set(titles)), path.name
        printed += titles
    union = set().union(*({r.key for r in result.records} for result in parsed.values()))
    assert len(union) == len(set(printed))


def test_reparsing_gives_the_same_records(parsed):
    """The parser has no hidden state."""
    for path, result in parsed.items():
        again = dp.parse(_read(path), str(path))
        assert again.records == result.records


@pytest.mark.parametrize("path", SEED_FILES, ids=[p.name for p in SEED_FILES])
def test_damaged_seed_page_keeps_every_intact_pair_and_points_at_the_rest(path, parsed):
    """Lose a few lines (not next to each other) and cut some abstracts short: every pair that
    is still whole imports unchanged, and each orphan is reported at its own line."""
    text = _read(path)
    lines = text.split("\n")
    content = _content_lines(text)
    index = {number: i for i, (number, _) in enumerate(content)}
    titles = {r.line: r.title for r in parsed[path].records}
    abstract_line = {t: content[index[t] + 1][0] for t in titles}
    rng = random.Random(path.name)
    for _ in range(40):
        lost: set[int] = set()
        wanted = rng.randint(1, 5)
        while len(lost) < wanted:
            k = rng.randrange(len(content))
            if all(abs(k - index[other]) > 2 for other in lost):
                lost.add(content[k][0])
        page = list(lines)
        for a in rng.sample(sorted(abstract_line.values()), 6):
            keep = rng.randint(min(200, len(page[a - 1])), len(page[a - 1]))
            page[a - 1] = page[a - 1][:keep]
        for number in lost:
            page[number - 1] = ""
        result = dp.parse("\n".join(page), str(path))

        expected = {
            (t, title, page[abstract_line[t] - 1].strip())
            for t, title in titles.items()
            if t not in lost and abstract_line[t] not in lost
        }
        assert {(r.line, r.title, r.abstract) for r in result.records} == expected
        orphans = {abstract_line[n] if n in titles else content[index[n] - 1][0] for n in lost}
        assert {p.line for p in result.problems} == orphans


# LIBRARY CHECK: importing all seed pages through index.library.Library, and re-importing them
# changing nothing, lives in tests/test_seeds_library.py (owned by the Library's engineer).
