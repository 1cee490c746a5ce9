"""What only the FTS5 engine does: its two ranking paths for a word being typed, newest-first
listing of very common prefixes, its file's schema row, and damage inside the SQLite file.
(The writer lock of both engines is tested in test_search.py.)"""

from __future__ import annotations


import pytest

import index.search.fts5_file as fts5_file
import index.search.fts5_run as fts5_run
from index.search import IndexUnavailable, SearchIndex
from tests.test_search import PAPERS, paper


@pytest.fixture
def ix(tmp_path):
    index = SearchIndex(tmp_path / "index", "sqlite", writer_timeout=0.5)
    index.rebuild(PAPERS, total=len(PAPERS))
    yield index
    index.close()


def test_as_you_type_paths_agree(ix, monkeypatch):
    """Words plus a word being typed are ranked either in SQLite (few typed matches) or by
    filtering a kept ranked list (many): both give the same answer, filters included."""
    queries = [("diffusion den", None), ("model lan", None), ("image tra", None),
               ("diffusion pol", {"p:policy", "p:llm"}), ("models lea", {"p:llm"})]
    expected = [ix.search(q, typing=True, allowed=a) for q, a in queries]
    assert [r.keys for r in expected][:2] == [["p:diffusion"], ["p:llm"]]
    monkeypatch.setattr(fts5_run, "INTERSECT_IN_SQL_AT_MOST", 0)
    for (q, a), want in zip(queries, expected):
        got = ix.search(q, typing=True, allowed=a)
        assert (got.keys, got.total) == (want.keys, want.total), q


def test_a_prefix_matching_many_titles_lists_newest_first(ix, monkeypatch):
    ranked = ix.search("diff", typing=True)
    assert set(ranked.keys) == {"p:diffusion", "p:policy"}
    monkeypatch.setattr(fts5_run, "RANK_PREFIX_AT_MOST", 1)
    listed = ix.search("diff", typing=True)
    assert listed.keys == ["p:policy", "p:diffusion"]  # added 300.0, then 200.0
    assert listed.total == 2


def _set_meta(ix, name, value):
    import sqlite3

    ix.close()
    db = sqlite3.connect(ix.engine.path)
    with db:
        db.execute("UPDATE meta SET value = ? WHERE name = ?", (value, name))
    db.close()


def test_older_schema_raises_unavailable(ix):
    _set_meta(ix, "schema", str(fts5_file.SCHEMA_VERSION - 1))
    other = SearchIndex(ix.directory, "sqlite")
    with pytest.raises(IndexUnavailable, match="schema"):
        other.open()
    _set_meta(ix, "format", "papershelf-whoosh")
    with pytest.raises(IndexUnavailable):
        other.open()
    ix.rebuild(PAPERS)  # the caller's answer: build it again, in place
    assert ix.search("visuomotor").keys == ["p:policy"]


@pytest.mark.parametrize("how", ["truncate", "scramble", "zero-tail"])
def test_damage_inside_the_file_is_detected(tmp_path, how):
    """Damage past the header: opening or the first reads say IndexUnavailable (never a raw
    sqlite3 error), so the library can rebuild."""
    from benchmarks.synthetic import make_records

    recs = make_records(400, seed=5)
    index = SearchIndex(tmp_path / "ix", "sqlite")
    index.rebuild([paper(r.key, r.title, r.abstract, r.authors) for r in recs])
    index.close()
    path = index.engine.path
    data = bytearray(path.read_bytes())
    if how == "truncate":
        path.write_bytes(bytes(data[: len(data) // 2]))
    elif how == "scramble":
        for i in range(len(data) // 4, len(data), 7):
            data[i] = (data[i] * 31 + 17) % 256
        path.write_bytes(bytes(data))
    else:
        path.write_bytes(bytes(data[:4096]) + bytes(len(data) - 4096))
    other = SearchIndex(index.directory, "sqlite")
    with pytest.raises(IndexUnavailable):
        other.open()
        for word in ("model", "learning", "data*", "", "year:2020", "modle"):
            other.search(word)
            other.search(word, typing=True)
        other.similar(recs[0].key, text=recs[0].abstract)
        other.upsert([paper(recs[1].key, "changed", "changed")])
        raise IndexUnavailable("not detected by reads either")
