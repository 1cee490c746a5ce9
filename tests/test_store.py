"""The SQLite store: dedupe by key, sources, ops with clocks, transactions, schema versions."""

from __future__ import annotations

import os
import sqlite3

import pytest

from index.clock import HybridClock, Timestamp
from index.model import PaperRecord, paper_key
from index.store import SCHEMA_VERSION, Store, StoreError


def rec(title, **kw):
    kw.setdefault("source", "test:one.txt")
    return PaperRecord(title=title, abstract=kw.pop("abstract", f"About {title}."), **kw)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "data")
    yield s
    s.close()


def test_second_listing_adds_a_source_not_a_duplicate(store):
    store.add_records([rec("Sparse Mixtures of Tiny Experts")])
    report = store.add_records([rec("Sparse  mixtures of tiny experts!", source="test:two.txt")])
    assert report.merged and not report.added
    (paper,) = store.get_many(store.filtered_keys())
    assert paper.sources == ["test:one.txt", "test:two.txt"]
    assert paper.title == "Sparse Mixtures of Tiny Experts"


def test_reimport_writes_no_operations(store):
    records = [rec("Paper A"), rec("Paper B", arxiv_id="2401.00001")]
    store.add_records(records)
    before = store.ops_since(store.device, 0)
    report = store.add_records(records)
    assert report.unchanged == [r.key for r in records] and not report.added
    assert store.ops_since(store.device, 0) == before


def test_dry_run_reports_but_writes_nothing(store):
    report = store.add_records([rec("Paper A")], dry_run=True)
    assert len(report.added) == 1
    assert store.count() == 0 and store.ops_since(store.device, 0) == []


def test_later_listing_fills_missing_fields(store):
    store.add_records([rec("Graph Nets", abstract="")])
    store.add_records([rec("Graph Nets", abstract="Now with an abstract.", source="test:b")])
    assert store.get(paper_key(title="Graph Nets")).abstract == "Now with an abstract."


def test_arxiv_id_merges_paper_first_seen_by_title(store):
    store.add_records([rec("Warm Starts for Tiny Models")])
    old_key = paper_key(title="Warm Starts for Tiny Models")
    store.set_field(old_key, "starred", True)
    store.set_tags(old_key, ["to-read"], True)
    report = store.add_records([rec("Warm starts for tiny models", arxiv_id="2405.12345v3")])
    assert report.merged == ["arxiv:2405.12345"]
    paper = store.get("arxiv:2405.12345")
    assert paper.starred and paper.tags == ["to-read"]
    assert store.get(old_key).key == "arxiv:2405.12345"  # the old key is an alias
    assert store.count() == 1
    assert any(op.type == "paper.merge" for op in store.ops_since(store.device, 0))


def test_citekeys_assigned_once_and_unique(store):
    store.add_records([rec("Deep Learning", authors=["Ada Lovelace"], year=2020),
                       rec("Deep Learning Again", authors=["Ada Lovelace"], year=2020)])
    keys = sorted(p.citekey for p in store.iter_papers())
    assert keys == ["lovelace2020deep", "lovelace2020deepa"]
    store.add_records([rec("Deep Learning", authors=["Ada Lovelace"], year=2020, source="test:z")])
    assert sorted(p.citekey for p in store.iter_papers()) == keys


def test_citekey_rename_refuses_a_taken_key(store):
    store.add_records([rec("One", authors=["A B"], year=2021), rec("Two", authors=["C D"], year=2021)])
    one, two = sorted(store.iter_papers(), key=lambda p: p.title)
    with pytest.raises(StoreError, match="already used"):
        store.set_field(two.key, "citekey", one.citekey)


def test_every_change_is_an_op_with_increasing_clock(store):
    store.add_records([rec("Paper")])
    key = store.filtered_keys()[0]
    store.set_field(key, "starred", True)
    store.set_field(key, "status", "reading")
    store.set_tags(key, ["ml"], True)
    store.set_field(key, "note", "first")
    store.set_field(key, "note", "second")
    ops = store.ops_since(store.device, 0)
    assert [op.seq for op in ops] == list(range(1, len(ops) + 1))
    assert [op.hlc for op in ops] == sorted(op.hlc for op in ops)
    notes = [op for op in ops if op.field == "note"]
    assert notes[1].value == {"text": "second", "parent": notes[0].op_id}


def test_unchanged_value_writes_no_op(store):
    store.add_records([rec("Paper")])
    key = store.filtered_keys()[0]
    n = len(store.ops_since(store.device, 0))
    assert store.set_field(key, "starred", False) is False
    assert store.set_tags(key, ["x"], False) is False
    assert len(store.ops_since(store.device, 0)) == n


def test_filters_from_sqlite(store):
    store.add_records([rec(f"Paper {i}") for i in range(5)])
    keys = store.filtered_keys()
    store.set_field(keys[0], "starred", True)
    store.set_field(keys[1], "status", "reading")
    store.set_tags(keys[2], ["ml"], True)
    store.set_tags(keys[0], ["ml"], True)
    assert store.filtered_keys(starred=True) == [keys[0]]
    assert store.filtered_keys(statuses=["reading"]) == [keys[1]]
    assert set(store.filtered_keys(tags=["ml"])) == {keys[0], keys[2]}
    assert store.filtered_keys(starred=True, tags=["ml"]) == [keys[0]]


def test_newest_first(store):
    store.add_records([rec("Older")])
    store.add_records([rec("Newer")])
    titles = [p.title for p in store.get_many(store.filtered_keys())]
    assert titles == ["Newer", "Older"]


def test_failed_transaction_leaves_nothing(store):
    store.add_records([rec("Keep me")])
    with pytest.raises(RuntimeError):
        with store.transaction() as db:
            db.execute("UPDATE papers SET title = 'broken'")
            raise RuntimeError("boom")
    assert [p.title for p in store.iter_papers()] == ["Keep me"]


def test_newer_schema_is_refused_untouched(tmp_path):
    Store(tmp_path).close()
    db = sqlite3.connect(tmp_path / "library.sqlite3")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    db.close()
    before = (tmp_path / "library.sqlite3").read_bytes()
    with pytest.raises(StoreError, match="newer papershelf"):
        Store(tmp_path)
    assert (tmp_path / "library.sqlite3").read_bytes() == before


def test_not_a_database_is_a_clear_error(tmp_path):
    (tmp_path / "library.sqlite3").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a papershelf library or damaged"):
        Store(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_data_dir_is_a_clear_error(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(StoreError, match="read-only"):
            Store(tmp_path)
    finally:
        tmp_path.chmod(0o700)


def test_device_id_is_stable(tmp_path):
    first = Store(tmp_path).device
    assert Store(tmp_path).device == first and len(first) == 12


def test_clock_survives_wall_clock_going_backwards():
    times = iter([1000, 2000, 1500, 1500, 3000])
    clock = HybridClock("dev", wall_ms=lambda: next(times))
    stamps = [clock.tick() for _ in range(5)]
    assert stamps == sorted(stamps)
    assert len({s.encode() for s in stamps}) == 5
    assert [s.encode() for s in stamps] == sorted(s.encode() for s in stamps)


def test_clock_moves_past_remote_time():
    clock = HybridClock("a", wall_ms=lambda: 10)
    clock.observe(Timestamp(500, 3, "b"))
    assert clock.tick() > Timestamp(500, 3, "b")
    assert Timestamp.decode(clock.tick().encode()).device == "a"


def test_read_only_data_dir_refused_before_any_write(tmp_path, monkeypatch):
    """Same check as above, but also under root (as in CI): the store asks os.access first."""
    Store(tmp_path).close()
    before = (tmp_path / "library.sqlite3").read_bytes()
    monkeypatch.setattr(os, "access", lambda path, mode: mode == os.R_OK)
    store = Store(tmp_path)  # reading an existing library works
    with pytest.raises(StoreError, match="read-only|could not save|busy"):
        store.add_records([rec("Paper")])
    store.close()
    assert (tmp_path / "library.sqlite3").read_bytes() == before


def test_repeats_and_merges_within_one_batch(store):
    report = store.add_records([
        rec("Same Paper Twice"),
        rec("Same paper twice", source="test:other.txt"),
        rec("Title Then Id"),
        rec("Title then id", arxiv_id="2402.00002"),
    ])
    assert len(report.added) == 2 and len(report.merged) == 2
    papers = {p.key: p for p in store.iter_papers()}
    assert set(papers) == {paper_key(title="Same Paper Twice"), "arxiv:2402.00002"}
    assert papers[paper_key(title="Same Paper Twice")].sources == ["test:one.txt", "test:other.txt"]
    ops = store.ops_since(store.device, 0)
    assert [op.seq for op in ops] == list(range(1, len(ops) + 1))


def test_arxiv_record_with_known_doi_merges_the_doi_paper(store):
    store.add_records([rec("Kernel Tricks", doi="10.1000/XYZ.1", source="bibtex:refs.bib")])
    store.set_field("doi:10.1000/xyz.1", "status", "read")
    report = store.add_records([rec("Kernel tricks (extended)", arxiv_id="2403.00003",
                                    doi="10.1000/xyz.1", source="arxiv:api")])
    assert report.merged == ["arxiv:2403.00003"] and store.count() == 1
    paper = store.get("arxiv:2403.00003")
    assert paper.status == "read" and paper.sources == ["bibtex:refs.bib", "arxiv:api"]


def test_citekey_clash_ignores_case_like_bibtex(store):
    store.add_records([rec("One", authors=["A Smith"], year=2021), rec("Two", authors=["C D"], year=2021)])
    one, two = sorted(store.iter_papers(), key=lambda p: p.title)
    with pytest.raises(StoreError, match="already used"):
        store.set_field(two.key, "citekey", one.citekey.upper())
    assert store.key_for_citekey(one.citekey.upper()) == one.key


def test_count_agrees_with_the_keys_each_filter_gives(store):
    store.add_records([rec(f"Paper {i}", tags=["ml"] if i % 2 else []) for i in range(6)])
    keys = store.filtered_keys()
    store.set_field(keys[0], "starred", True)
    store.set_field(keys[1], "status", "read")
    store.delete(keys[2])
    filters = [{}, {"starred": True}, {"starred": False}, {"statuses": ["read"]},
               {"statuses": ["unread", "read"]}, {"tags": ["ml"]},
               {"tags": ["ml"], "starred": False}, {"tags": ["none"]}]
    counts = [store.count(**f) for f in filters]
    assert counts == [len(store.filtered_keys(**f)) for f in filters]
    assert counts[:3] == [5, 1, 4]
