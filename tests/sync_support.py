"""What the sync tests share: libraries standing in for devices, a sync folder, papers to
sync, and ways to compare what each device holds (a test module imports what it uses)."""

from __future__ import annotations

from pathlib import Path

import pytest

from index import sync
from index.library import Library
from index.model import PaperRecord
from samples import make_papers


def _fast_index(lib: Library) -> Library:
    """Tests of merging need no search index: pending index updates are simply dropped."""
    lib.flush_index = lambda: lib.store.clear_dirty(lib.store.dirty_keys())
    return lib


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "Sync"
    path.mkdir()
    return path


@pytest.fixture
def devices(tmp_path):
    opened = []

    def make(name: str) -> Library:
        lib = _fast_index(Library.open(tmp_path / name))
        opened.append(lib)
        return lib

    yield make
    for lib in opened:
        lib.close()


def records(n: int = 3) -> list[PaperRecord]:
    return [PaperRecord(title=t, abstract=a, authors=[f"Ada Author{i}"], year=2024,
                        arxiv_id=f"2401.{i:05d}", source="test:one")
            for i, (t, a) in enumerate(make_papers(n))]


def state(lib: Library) -> dict:
    """Everything a person can see, plus tombstones and pending conflicts."""
    db = lib.store.db
    papers = {}
    for row in db.execute("SELECT * FROM papers ORDER BY key"):
        papers[row["key"]] = (row["title"], row["abstract"], row["authors"], row["year"],
                              row["citekey"], bool(row["starred"]), row["status"], row["note"],
                              bool(row["deleted"]), row["sources"])
    tags = sorted(tuple(r) for r in db.execute("SELECT key, tag FROM tags"))
    conflicts = []
    if lib.store.has_sync_tables():
        conflicts = sorted((r[0], r[1]) for r in db.execute("SELECT key, heads FROM sync_conflicts"))
    return {"papers": papers, "tags": tags, "conflicts": conflicts}


def exchange(folder, *libs, rounds: int = 2):
    for _ in range(rounds):
        for lib in libs:
            sync.sync_now(lib, folder)


def own_log(folder, lib) -> Path:
    return folder / "papershelf" / "devices" / lib.store.device / "ops-000001.jsonl"
