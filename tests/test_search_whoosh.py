"""What only the Whoosh engine does: its metadata file, separate segment files, segments flushed during big builds, and the bulk writer agreeing
with Whoosh's own writer."""

from __future__ import annotations

import json

import pytest

import index.search.whoosh as whoosh_mod
import index.search.whoosh_build as whoosh_build
from index.search import IndexUnavailable, SearchIndex
from search_support import PAPERS, paper


@pytest.fixture
def ix(tmp_path):
    index = SearchIndex(tmp_path / "index", "whoosh", writer_timeout=0.5)
    index.rebuild(PAPERS, total=len(PAPERS))
    yield index
    index.close()


def _synthetic(n, seed=7):
    from benchmarks.synthetic import make_records

    return [paper(r.key, r.title, r.abstract, r.authors, year=r.year, added=float(i))
            for i, r in enumerate(make_records(n, seed=seed))]


def test_older_schema_or_other_format_raises_unavailable(ix):
    meta = ix.directory / whoosh_build.META_FILE
    meta.write_text(json.dumps({"format": whoosh_build.FORMAT, "schema": whoosh_build.SCHEMA_VERSION - 1}))
    with pytest.raises(IndexUnavailable, match="schema"):
        SearchIndex(ix.directory, "whoosh").open()
    meta.write_text(json.dumps({"format": "papershelf-fts5", "schema": whoosh_build.SCHEMA_VERSION}))
    with pytest.raises(IndexUnavailable):
        SearchIndex(ix.directory, "whoosh").open()
    ix.rebuild(PAPERS)
    assert ix.search("visuomotor").keys == ["p:policy"]


def test_segments_are_separate_files_not_compound(ix):
    names = [p.name for p in ix.directory.iterdir()]
    assert not [n for n in names if n.endswith(".seg")], names  # compound files are copied into memory
    assert any(n.endswith(".trm") for n in names)


def test_a_big_build_writes_several_segments_and_loses_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(whoosh_build, "SEGMENT_PAPERS", 150)
    papers = _synthetic(400)
    index = SearchIndex(tmp_path / "ix", "whoosh")
    index.rebuild(papers)
    segments = {p.name.split(".")[0] for p in index.directory.glob("*.trm")}
    assert len(segments) >= 3
    assert index.doc_count() == 400
    assert sorted(index.all_keys()) == sorted(p.key for p in papers)
    word = max(papers[390].title.split(), key=len)
    assert papers[390].key in index.search(f"title:{word}", limit=None).keys
    index.close()


def _segment_sizes(index) -> list[tuple[int, int]]:
    """(papers, dictionary documents) of each segment."""
    index.search("heron")
    return [(sub.doc_count_all() - sub.doc_frequency("dictionary", "y"),
             sub.doc_frequency("dictionary", "y"))
            for sub, _ in index.engine._searcher.leaf_searchers()]


@pytest.mark.parametrize("count", [300, 310, 430])
def test_the_spelling_dictionary_rides_in_a_big_last_segment(tmp_path, monkeypatch, count):
    # A segment of the dictionary's documents alone (a library of exactly 2 segments' worth)
    # is among the small ones that edits' segments merge with, every few edits: Whoosh merges
    # its ~70,000 words at 100k papers term by term (~3 s). The last segment keeps at least
    # half a segment's papers with the dictionary.
    monkeypatch.setattr(whoosh_build, "SEGMENT_PAPERS", 150)
    papers = _synthetic(count)
    index = SearchIndex(tmp_path / "ix", "whoosh")
    index.rebuild(papers, total=count)
    sizes = _segment_sizes(index)
    assert sum(p for p, _ in sizes) == count
    with_dictionary = [p for p, d in sizes if d]
    assert with_dictionary and min(with_dictionary) >= 75, sizes
    assert max(p for p, _ in sizes) < 225, sizes  # a segment's memory stays bounded
    for i in range(6):  # edits: their small segments merge without the dictionary
        index.upsert([paper(f"p:edit{i}", f"Heron edit {i}", f"egrets wade {i}")])
    assert any(p >= 75 and d for p, d in _segment_sizes(index)), _segment_sizes(index)
    index.close()


def test_bulk_and_stock_writers_index_the_same(tmp_path, monkeypatch):
    papers = _synthetic(300, seed=11)
    bulk = SearchIndex(tmp_path / "bulk", "whoosh")
    bulk.rebuild(papers)  # bulk writer
    stock = SearchIndex(tmp_path / "stock", "whoosh")
    stock.rebuild([])
    monkeypatch.setattr(whoosh_mod, "BULK_AT_LEAST", 10**9)
    stock.upsert(papers)  # Whoosh's own writer, through the same lean fields
    queries = ["model", "learning data", '"language model"', "trans*", "year:2020..2022",
               "model OR graph", "-model", "learn"]
    for q in queries:
        a, b = bulk.search(q, limit=None), stock.search(q, limit=None)
        assert a.total == b.total, q
        assert set(a.keys) == set(b.keys), q
    bulk.close()
    stock.close()


def test_typing_after_finished_words_finds_what_the_general_path_finds(tmp_path, monkeypatch):
    """Finished words plus a word being typed are answered from a kept ranking of the finished
    words, filtered by the typed word: the same papers, and the same total, as scoring every
    match (only the order may differ until the word is finished)."""
    index = SearchIndex(tmp_path / "ix", "whoosh")
    index.rebuild(_synthetic(800, seed=5))
    queries = ["model lea", "learning dat", "data mod", '"language model" tra', "graph net"]
    kept = [index.search(q, limit=None, typing=True) for q in queries]
    monkeypatch.setattr(whoosh_mod, "split_typed", lambda tree: (None, None))
    for q, got in zip(queries, kept):
        want = index.search(q, limit=None, typing=True)
        assert (set(got.keys), got.total) == (set(want.keys), want.total), q
    assert any(r.total for r in kept)
    monkeypatch.undo()
    # the kept ranking goes with the searcher: an update is seen at the next keystroke
    target = kept[0].keys[0]
    index.upsert([paper(target, "Nothing in common", "nothing at all")])
    assert target not in index.search("model lea", limit=None, typing=True).keys
    index.close()


@pytest.mark.parametrize("title, abstract", [
    ("GPT-4 and x_1 beat GPT3.5-turbo", "We use 3.5.1 layers, 2x faster; LLaMA2-7B (v1.2.3) __init__ a"),
    ("The of we an", "It is by us"),
    ("Pneumonoultramicroscopicsilicovolcanoconiosis " + "a" * 31, "b" * 30 + " cc ddd"),
    ("Müller's naïve café", "Über-fast résumé parsing"),
    (r"The \alpha-divergence of $\mathcal{O}(n^2)$ proofs", r"Schr\"odinger bridges {\'e}t\'e"),
    ("", ""),
    ("1234 5678", "_ __ 9_9"),
])
def test_one_split_gives_the_spelling_and_for_you_words_the_two_splits_give(title, abstract):
    from index.foryou import indexed_words
    from index.search.engine import indexed
    from index.search.whoosh_fields import spelling_words

    p = paper("p:x", title, abstract)
    doc = indexed(p)
    spelling, taste, length = whoosh_build.paper_words(doc, p)
    assert whoosh_build.spellable(spelling) == \
        spelling_words(doc.title) | spelling_words(doc.abstract)
    assert (taste, length) == indexed_words(title, abstract)


def test_a_first_filtered_search_reads_its_matches_keys_and_finds_what_the_key_index_finds(
        tmp_path):
    """A one-off command's filtered search (is:unread ...) reads only its matches' keys; later
    searches on the same searcher use the key index. Both find the same papers, and an updated
    paper (whose old copy is deleted, under the same key) once."""
    index = SearchIndex(tmp_path / "index", "whoosh", writer_timeout=0.5)
    papers = _synthetic(300)
    index.rebuild(papers, total=len(papers))
    index.upsert([paper(papers[0].key, papers[0].title + " revised", papers[0].abstract,
                        papers[0].authors, added=0.0)])
    allowed = {p.key for p in papers[::2]}
    word = next(w for w in papers[0].title.lower().split() if len(w) > 4)
    engine = index.engine
    first = index.search(word, limit=None, allowed=allowed)
    assert engine._docnums is None  # answered from the matches' own keys
    second = index.search(word, limit=None, allowed=allowed)
    assert engine._docnums is not None  # the key index, built once for this searcher
    assert first.total == second.total == len(first.keys) > 0
    assert first.keys == second.keys and len(set(first.keys)) == len(first.keys)
    assert set(first.keys) <= allowed and papers[0].key in first.keys
    everything = index.search(word, limit=None)
    assert set(first.keys) == {k for k in everything.keys if k in allowed}
    index.close()


def test_positions_of_every_width_find_phrases(tmp_path):
    # word positions are stored one byte each up to 254, else as arrays of 2 or 4 bytes each
    filler = "lorem " * 70_000
    papers = [paper("p:long", "A very long abstract", filler + "quiet heron fishing"),
              paper("p:mid", "A longer abstract", "lorem " * 300 + "heron fishing, then "
                    "fishing heron"),
              paper("p:edge", "At the edge", "lorem " * 253 + "heron fishing"),
              # one word's positions a byte each, the next one's an array
              paper("p:straddle", "Across the line", "lorem " * 254 + "heron fishing"),
              paper("p:short", "Quiet heron fishing at dawn", "Herons fish quietly.")]
    index = SearchIndex(tmp_path / "ix", "whoosh")
    index.rebuild(papers)
    assert set(index.search('"heron fishing"').keys) == {"p:long", "p:mid", "p:edge",
                                                          "p:straddle", "p:short"}
    assert index.search('"fishing lorem"').keys == []  # in every abstract, never in order
    assert index.search('"fishing heron"').keys == ["p:mid"]
    index.delete(["p:mid", "p:edge", "p:straddle"])
    assert index.search('"fishing heron"').keys == []
    index.upsert([paper("p:long", "A very long abstract", filler + "heron quiet fishing")])
    assert index.search('"heron fishing"').keys == ["p:short"]
    assert index.search('"heron quiet"').keys == ["p:long"]
    index.close()


def _block_protocols(index, fieldname: str, text: str) -> set[int]:
    """The pickle protocol of every stored block of one term's postings."""
    import zlib

    from index.search.whoosh_sets import leaf_blocks

    protocols = set()
    for sub, _ in index.engine._searcher.leaf_searchers():
        reader = sub.reader()
        if (fieldname, text) not in reader:
            continue
        for block in leaf_blocks(reader.postings(fieldname, text)):
            data = block._postfile.get(block._dataoffset, block._nextoffset - block._dataoffset)
            if block._compression:
                data = zlib.decompress(data)
            assert data[0] == 0x80  # a pickle's PROTO opcode, then its protocol
            protocols.add(data[1])
    return protocols


def test_posting_blocks_are_written_with_pickle_protocol_4(tmp_path):
    # protocol 2 (Whoosh's own) unpickles each posting's positions through a function call:
    # bulk builds, the stock writer of small updates and merges all write protocol 4
    papers = [paper(f"p:{i}", f"Heron study {i}", "herons wade " * (i % 5 + 1)) for i in range(300)]
    index = SearchIndex(tmp_path / "ix", "whoosh")
    index.rebuild(papers)
    index.upsert([paper("p:new", "A new heron", "herons again")])
    index.search("heron")
    assert len(index.engine._searcher.leaf_searchers()) >= 2  # the bulk segment and the update's
    assert _block_protocols(index, "abstract", "heron") == {4}
    assert _block_protocols(index, "title", "heron") == {4}
    index.close()


def test_keys_read_whole_from_the_column_match_each_paper(tmp_path):
    # the key column of each segment is read in one piece and cut by its offsets: keys of
    # every length, non-ASCII ones, deleted papers and several segments must come out right
    papers = [paper(f"p:{i}" + "x" * (i % 7), f"Title {i}", "words") for i in range(40)]
    papers += [paper("Müller2024", "Über Reiher", "Reiher"), paper("李2023", "Herons", "herons")]
    index = SearchIndex(tmp_path / "ix", "whoosh")
    index.rebuild(papers)
    index.delete(["p:3xxx", "Müller2024"])
    index.upsert([paper("Ångström2025", "Light herons", "herons"), paper("p:5xxxxx", "New", "x")])
    expected = {p.key for p in papers} - {"p:3xxx", "Müller2024"} | {"Ångström2025"}
    assert sorted(index.all_keys()) == sorted(expected)
    assert sorted(index.search("herons", allowed=expected).keys) == ["Ångström2025", "李2023"]
    index.close()


def test_document_counts_kept_by_segment_match_the_index_after_edits(tmp_path):
    # Each segment's counts are kept by segment id: after updates, deletions and merges, the
    # counts must be those the index gives now, read afresh
    from index.search.whoosh_fields import fold, stem

    papers = [paper(f"p:{i}", f"Heron survey {i}", ("herons wade marsh " if i % 2 else
                                                    "egrets fly over the marsh ") * (1 + i % 3))
              for i in range(120)]
    index = SearchIndex(tmp_path / "ix", "whoosh")
    index.rebuild(papers)
    words = ["heron", "herons", "egrets", "marsh", "survey", "nothing"]

    def afresh() -> dict[str, int]:
        def read(s):
            reader = s.reader()
            counts = {w: max(reader.doc_frequency("title", stem(fold(w))),
                             reader.doc_frequency("abstract", stem(fold(w)))) for w in words}
            return {w: c for w, c in counts.items() if c}
        return index.engine._reading(read)

    assert index.doc_frequencies(words) == afresh() and afresh()["marsh"] == 120
    for i in range(8):  # small segments, merged every few commits
        index.upsert([paper(f"p:new{i}", "Egrets at dawn", "egrets and more egrets")])
        index.upsert([paper(f"p:{i}", f"Heron survey {i}", "only herons now")])
        index.delete([f"p:{50 + i}"])
        assert index.doc_frequencies(words) == afresh(), i
    index.close()


@pytest.mark.parametrize("deleted_count", [0, 1, 3, 40, 400, 5000])
def test_deleted_documents_are_cut_from_postings_however_many_there_are(deleted_count):
    # A few deleted documents are cut out one by one, many in one pass: either way exactly
    # the live postings stay, in order, including a deleted first and last posting.
    import random
    from array import array

    from index.search.whoosh_sets import _without

    rng = random.Random(deleted_count)
    offset = 25_000
    segment_docs = sorted(rng.sample(range(20_000), 12_000))
    gone = set(rng.sample(range(20_000), deleted_count))
    if deleted_count:
        gone |= {segment_docs[0], segment_docs[-1]}
    found = array("I", [d + offset for d in segment_docs])
    kept = _without(found, frozenset(gone), offset)
    assert list(kept) == [d + offset for d in segment_docs if d not in gone]


def test_small_commits_merge_without_moving_the_segments_they_leave(tmp_path, monkeypatch):
    # Whoosh's own policy returns the segments it does not merge sorted by size, which puts
    # an import's small segment before the big ones and renumbers every paper behind it
    # ("for you" then ranks from scratch). The segments left keep their place; merges happen.
    monkeypatch.setattr(whoosh_build, "SEGMENT_PAPERS", 150)
    index = SearchIndex(tmp_path / "ix", "whoosh")
    index.rebuild(_synthetic(300), total=300)
    built = index.docs_with([]).segments
    index.upsert(_synthetic(100, seed=8))  # an import: a smaller segment after the built ones
    imported = index.docs_with([]).segments
    assert len(imported) == len(built) + 1
    sizes = []
    for i in range(12):  # edits, one paper a commit: their small segments merge every few
        index.upsert([paper(f"p:edit{i}", f"Heron edit {i}", f"egrets wade {i}")])
        layout = index.docs_with([]).segments
        assert layout[:len(imported)] == imported, layout  # all in place, the import's too
        sizes.append(len(layout))
    assert any(now < before for before, now in zip(sizes, sizes[1:]))  # merged...
    assert max(sizes) < len(imported) + 6  # ...every few commits
    assert index.doc_count() == 412
    index.close()
