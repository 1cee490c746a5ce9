"""The real Daily Papers pages in ../shared/seeds through the whole import path.

Skips where the seeds are absent (a clone of this repository alone does not have them).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from index.library import Library
from index.sources import parse_file

SEEDS = Path(os.environ.get("PAPERSHELF_SEEDS_DIR")
             or Path(__file__).resolve().parents[2] / "shared" / "seeds")
SEED_FILES = sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else []

pytestmark = pytest.mark.skipif(not SEED_FILES, reason=f"no seed pages in {SEEDS}")


def test_seeds_import_exactly_their_distinct_papers_and_reimport_changes_nothing(tmp_path):
    parsed = [parse_file(path) for path in SEED_FILES]
    expected = {}
    for result in parsed:
        assert result.format == "dailypapers"
        for record in result.records:
            expected.setdefault(record.key, record)

    with Library.open(tmp_path) as lib:
        report = lib.import_files(SEED_FILES)
        assert not report.rejected
        assert len(report.added) == len(expected)
        stored = {paper.key: paper for paper in lib.all_papers()}
        assert set(stored) == set(expected)
        for key, record in expected.items():  # every title and abstract intact
            assert stored[key].title == record.title
            assert stored[key].abstract == record.abstract

        ops_before = lib.store.ops_since(lib.store.device, 0)
        again = lib.import_files(SEED_FILES)
        assert not again.added and not again.merged and not again.rejected
        assert lib.store.ops_since(lib.store.device, 0) == ops_before

        some = next(iter(expected.values()))
        hits = lib.search(f'"{some.title}"', limit=5)
        assert some.key in hits.keys
