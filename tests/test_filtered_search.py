"""A search with state filters (is:unread, is:starred, tag:) hands the index whichever list is
shorter: the papers the filters let through, or the few they leave out. Both ways must find the
same papers, on both engines, through deletions, typing and "did you mean"."""

from __future__ import annotations

import pytest

import index.library as library_mod
from index.library import Library
from index.model import PaperRecord

TOPICS = ["sparse retrieval", "diffusion sampling", "robot grasping", "graph learning"]


@pytest.fixture(params=["whoosh", "sqlite"])
def lib(tmp_path, request):
    lib = Library.open(tmp_path / "lib", engine=request.param)
    lib.add([PaperRecord(title=f"{TOPICS[i % 4].title()} study {i}",
                         abstract=f"We look at {TOPICS[i % 4]} from angle {i}.",
                         authors=[f"Author {i}"], year=2020 + i % 5, source="bibtex:x.bib")
             for i in range(40)])
    keys = lib.store.filtered_keys()
    for key in keys[:6]:
        lib.set_status(key, "read")
    lib.set_status(keys[6], "reading")
    for key in keys[3:12]:
        lib.set_star(key, True)
    lib.add_tags(keys[1], ["survey"])
    lib.add_tags(keys[8], ["survey"])
    lib.delete(keys[20])
    yield lib
    lib.close()


QUERIES = ["is:unread retrieval", "is:unread sampling", "is:read retrieval OR robot",
           "is:starred learning", "tag:survey", "tag:survey retrieval", "tag:survey graph",
           "is:unread is:starred grasping", "is:reading sparse", "is:unread study"]


def _both_ways(lib, monkeypatch, text, **kw):
    monkeypatch.setattr(library_mod, "EXCLUDED_AT_MOST", 10_000)
    short = lib.search(text, limit=None, **kw)
    monkeypatch.setattr(library_mod, "EXCLUDED_AT_MOST", 0)
    listed = lib.search(text, limit=None, **kw)
    return short, listed


@pytest.mark.parametrize("text", QUERIES)
def test_the_left_out_papers_find_what_the_let_through_ones_find(lib, monkeypatch, text):
    short, listed = _both_ways(lib, monkeypatch, text)
    assert short.error is None and listed.error is None
    assert short.keys == listed.keys and short.total == listed.total
    # and both are what the filters and the words say, paper by paper
    words = lib.search(text.split()[-1], limit=None).keys
    for key in short.keys:
        assert key in words or " OR " in text


def test_unread_search_leaves_out_read_deleted_and_reading_papers(lib, monkeypatch):
    short, _ = _both_ways(lib, monkeypatch, "is:unread study")
    everything = lib.search("study", limit=None).keys
    read = set(lib.store.filtered_keys(statuses=["read", "reading"]))
    assert len(read) == 7
    assert set(short.keys) == set(everything) - read
    assert short.total == 39 - 7  # 40 papers, one deleted


def test_typing_with_a_filter_finds_the_same_both_ways(lib, monkeypatch):
    for typed in ("is:unread spa", "is:unread sparse ret", "is:starred rob"):
        short, listed = _both_ways(lib, monkeypatch, typed, typing=True)
        assert short.keys == listed.keys and short.total == listed.total, typed
    assert short.total > 0


def test_the_left_out_list_is_read_only_when_short(lib):
    store = lib.store
    failing = store.keys_failing(statuses=["unread"], at_most=100)
    assert failing is not None
    passing = set(store.filtered_keys(statuses=["unread"]))
    every_row = {r[0] for r in store.db.execute("SELECT key FROM papers")}
    assert set(failing) == every_row - passing  # the deleted paper included
    assert store.keys_failing(statuses=["unread"], at_most=3) is None
    starred = store.keys_failing(starred=True, at_most=100)
    assert set(starred) == every_row - set(store.filtered_keys(starred=True))
    tagged = store.keys_failing(tags=["survey"], at_most=100)
    assert set(tagged) == every_row - set(store.filtered_keys(tags=["survey"]))


def test_a_status_this_version_does_not_know_falls_back_to_the_full_list(lib, monkeypatch):
    key = lib.store.filtered_keys(statuses=["unread"])[0]
    with lib.store.db:
        lib.store.db.execute("UPDATE papers SET status = 'skimmed' WHERE key = ?", (key,))
    assert lib.store.keys_failing(statuses=["unread"], at_most=100) is None
    short, listed = _both_ways(lib, monkeypatch, "is:unread study")
    assert key not in short.keys and short.keys == listed.keys
