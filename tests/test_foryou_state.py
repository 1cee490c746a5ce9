""""For you" kept between rankings (index/foryou_state.py): a ranking brought up to date star
by star must be the ranking made from scratch, exactly, on both engines; and a star reads only
the words it moved.

The library is made here (test_foryou's three topics)."""

from __future__ import annotations

import pytest

from index.library import Library
from index.model import PaperRecord
from test_foryou import keys_on, topic_records


def fresh(lib: Library):
    """The ranking a new process makes from scratch, and the unread papers in the order
    that breaks ties. It reads the index as `lib` left it: when `lib` ranked before its
    pending tags and notes were written to the index (they change no paper's words), this
    one does not write them either (Whoosh counts a rewritten paper twice until a merge, so
    writing them can move a word's idf)."""
    with Library.open(lib.data_dir, engine=lib.engine_name) as other:
        if lib.store.has_dirty():
            other.try_flush_index = lambda: None
        return other.for_you(saved=False), other._for_you.candidate_keys


def assert_same_as_fresh(lib: Library, *, index_written: bool | None = None) -> None:
    """The kept ranking is the fresh one; `index_written`: and it did (True) or did not
    (False) write the pending edits to the index first."""
    kept = lib.for_you()
    if index_written is not None:
        assert lib.store.has_dirty() is not index_written
    made, unread = fresh(lib)
    assert lib._for_you.candidate_keys == unread
    assert kept.keys == made.keys and len(kept.keys) > 20
    assert dict(kept.scores) == dict(made.scores)
    assert kept.profile.units == made.profile.units and kept.liked == made.liked
    assert kept.unread == made.unread


@pytest.fixture(params=["whoosh", "sqlite"])
def library(tmp_path, request):
    with Library.open(tmp_path / "lib", engine=request.param) as lib:
        lib.add(topic_records())
        lib.set_star_many(keys_on(lib, "astro")[:4], True)
        yield lib


@pytest.fixture
def whole_reads(library, monkeypatch) -> list[int]:
    """How many words each read of postings from the first paper on asked for (a ranking
    that follows the index reads only from the first paper that moved)."""
    index = library.index
    original = index.docs_with
    reads: list[int] = []

    def docs_with(words, first_doc=0):
        words = list(words)
        if first_doc == 0 and words:
            reads.append(len(words))
        return original(words, first_doc)

    monkeypatch.setattr(index, "docs_with", docs_with)
    return reads


def test_stars_and_status_changes_update_the_ranking_to_the_fresh_one(library):
    astro, protein, speech = (keys_on(library, t) for t in ("astro", "protein", "speech"))
    library.for_you()
    library.set_star(protein[0])
    assert_same_as_fresh(library)
    library.set_status(speech[1], "read")
    library.set_star(astro[5])
    assert_same_as_fresh(library)
    library.set_star(astro[0], False)  # back among the unread, where the newest-first order has it
    assert_same_as_fresh(library)
    library.set_status(speech[1], "unread")
    library.set_star_many(protein[1:6], True)
    assert_same_as_fresh(library)


def test_a_star_reads_only_the_words_it_moved(library, monkeypatch):
    asked: list[str] = []
    index = library.index
    original = index.docs_with
    monkeypatch.setattr(index, "docs_with", lambda words, first_doc=0:
                        asked.extend(words) or original(words, first_doc))
    first = library.for_you()
    assert len(asked) >= len(first.profile.units)
    asked.clear()
    library.set_star(keys_on(library, "astro")[6])
    second = library.for_you()
    assert second.profile.units != first.profile.units
    assert len(asked) < len(second.profile.units) // 2  # at most the words new to the profile


def test_a_change_made_by_another_process_is_followed(library):
    library.for_you()
    with Library.open(library.data_dir, engine=library.engine_name) as other:
        other.set_star(keys_on(other, "speech")[2])
        other.set_status(keys_on(other, "protein")[3], "read")
    ranking = library.for_you()
    assert keys_on(library, "speech")[2] not in ranking.keys
    assert_same_as_fresh(library)


def test_a_new_citation_key_changes_nothing_the_ranking_reads(library, monkeypatch):
    first = library.for_you()
    asked: list[str] = []
    index = library.index
    original = index.docs_with
    monkeypatch.setattr(index, "docs_with", lambda words, first_doc=0:
                        asked.extend(words) or original(words, first_doc))
    library.set_citekey(first.keys[0], "renamedForTheTalk2026")
    library.set_star(keys_on(library, "astro")[7])  # a star with it: still only its words
    second = library.for_you()
    assert len(asked) < len(second.profile.units) // 2  # not ranked again from the postings
    assert_same_as_fresh(library)


def test_tags_and_notes_are_followed_without_reading_the_postings_again(library, whole_reads):
    # A tag or a note rewrites the paper's document (the same words, a new number at the
    # end; Whoosh merges the small segments every few edits): the kept ranking follows,
    # reading postings only from the first number that moved, and stays the fresh one.
    astro, protein, speech = (keys_on(library, t) for t in ("astro", "protein", "speech"))
    first = library.for_you()
    assert sum(whole_reads) >= len(first.profile.units)
    whole_reads.clear()
    library.add_tag(astro[0], "field-trip")  # a liked paper: the tag counts move
    library.add_tag(protein[3], "field-trip")  # an unread one that now shares that tag
    assert_same_as_fresh(library, index_written=False)  # the tags come from the store
    now = library.for_you().keys
    assert now.index(protein[3]) < first.keys.index(protein[3])  # the shared tag lifts it
    for i in range(9):  # enough flushes for Whoosh to merge its small segments
        library.add_tag(speech[i], f"batch-{i}")
        library.set_note(protein[i + 4], f"read on the train, part {i}")
        library.flush_index()
        if i % 3 == 2:
            assert_same_as_fresh(library)
    library.remove_tag(astro[0], "field-trip")
    library.set_star(speech[12])
    assert_same_as_fresh(library)
    # only words new to the profile are read whole: never the whole profile again
    assert sum(whole_reads) < len(first.profile.units) // 2, whole_reads


def test_tags_rank_before_the_index_is_written_and_are_followed_after(library, whole_reads):
    # `5` right after a tag does not wait for the index commit (the paper's words are the
    # same; its tags come from the store). Once the app writes the index, the kept ranking
    # follows it at once, so the next star does not either.
    astro, protein, speech = (keys_on(library, t) for t in ("astro", "protein", "speech"))
    library.for_you()
    whole_reads.clear()
    for i in range(6):  # Whoosh merges its small segments on the way
        library.add_tag(astro[i % 3], f"survey-{i}")
        library.add_tag(protein[i], f"survey-{i}")
        library.set_note(speech[i], f"compare with the survey, part {i}")
        assert_same_as_fresh(library, index_written=False)
        library.flush_index()
        library.follow_written_index()
        assert not library._for_you.index_rewrote
        library.set_star(astro[6 + i])
        assert_same_as_fresh(library, index_written=True)
    assert not whole_reads, whole_reads  # followed: never read from the first paper again


def test_merges_after_an_import_are_followed_from_the_merged_papers_only(library, whole_reads):
    # An import's segment sits after the library's; later edits' small segments merge every
    # few commits. Whoosh's own merge policy would then move the import's segment (50 papers,
    # too many to merge with one-paper segments) in front of the library's 60 (it sorts the
    # segments it leaves by size), renumbering every paper: the postings read again whole.
    speech = keys_on(library, "speech")
    library.add([PaperRecord(title=f"Acoustic survey of prosody {i}",
                             abstract="speech phoneme waveform vocoder " * (i % 3 + 1),
                             arxiv_id=f"2611.4{i:04d}", source="test:import") for i in range(50)])
    library.flush_index()
    library.for_you()
    whole_reads.clear()
    for i in range(10):
        library.add_tag(speech[i], f"merge-{i}")
        library.flush_index()
        library.follow_written_index()
        assert_same_as_fresh(library)
    assert not whole_reads, whole_reads  # (a star would read the words new to the profile)


def test_a_tag_waits_for_no_index_another_process_wrote_meanwhile(library):
    # The kept numbers are of the index as it was ranked: when another process wrote it
    # since, this one writes its own edits too and follows both.
    protein, speech = keys_on(library, "protein"), keys_on(library, "speech")
    library.for_you()
    with Library.open(library.data_dir, engine=library.engine_name) as other:
        other.add_tag(speech[0], "elsewhere")
        other.flush_index()
    library.add_tag(protein[0], "here")
    assert_same_as_fresh(library, index_written=True)
    library.add_tag(protein[1], "here")  # nothing else since: this one may wait
    assert_same_as_fresh(library, index_written=False)


def test_rewrites_made_before_the_ranking_then_merged_are_followed_exactly(library):
    # Dead documents made before the ranking (never in its postings), then merged away by
    # later edits' commits: in Whoosh a paper can come back at a number that held another
    # version of it, so the ranking reads again from the first segment that changed.
    speech, protein = keys_on(library, "speech"), keys_on(library, "protein")
    for i in range(3):
        library.add_tag(speech[0], f"early-{i}")
        library.add_tag(speech[1], f"early-{i}")
        library.flush_index()
    library.for_you()
    for i in range(10):
        library.add_tag(protein[i], "later")
        library.add_tag(speech[0], f"later-{i}")
        library.flush_index()
        assert_same_as_fresh(library)


def test_imports_text_changes_and_deletions_are_followed_too(library, whole_reads):
    # New papers (from this process or another), a paper imported again with another
    # abstract and a deleted paper: all followed from the papers the index renumbered,
    # every step the ranking a new process makes from scratch
    first = library.for_you()
    whole_reads.clear()
    library.add([PaperRecord(title=f"Stellar photometry of transit survey {i}",
                             abstract="exoplanet spectra telescope orbital luminosity " * (i + 1),
                             arxiv_id=f"2611.2{i:04d}", source="test:new") for i in range(12)])
    assert_same_as_fresh(library, index_written=True)
    assert "arxiv:2611.20003" in library.for_you().keys  # the new papers are ranked
    with Library.open(library.data_dir, engine=library.engine_name) as other:
        other.add([PaperRecord(title="Stellar photometry of transit survey 5",
                               abstract="protein folding residue binding enzyme",
                               arxiv_id="2611.20005", source="test:again")])  # a new abstract
        other.flush_index()
    assert_same_as_fresh(library, index_written=True)
    library.delete(keys_on(library, "protein")[2])
    library.delete("arxiv:2611.20007")
    assert_same_as_fresh(library, index_written=True)
    # a paper known by its title, then imported with an arXiv id: it moves to that key
    library.add([PaperRecord(title="Orbital photometry of cool dwarf stars",
                             abstract="telescope spectra of stellar atmosphere", source="test:t")])
    assert_same_as_fresh(library, index_written=True)
    library.add([PaperRecord(title="Orbital photometry of cool dwarf stars",
                             abstract="telescope spectra of stellar atmosphere",
                             arxiv_id="2611.29999", source="test:a")])
    merges = library.store.db.execute("SELECT count(*) FROM ops WHERE type = 'paper.merge'")
    assert merges.fetchone()[0] == 1
    assert "arxiv:2611.29999" in library.for_you().keys
    assert_same_as_fresh(library, index_written=True)
    assert sum(whole_reads) < len(first.profile.units) // 2, whole_reads


def test_changes_to_the_index_start_again_from_the_postings(library):
    library.for_you()
    library.add_tag(keys_on(library, "protein")[0], "observing-run")  # rewrites its document
    library.add_tag(keys_on(library, "astro")[0], "observing-run")
    assert_same_as_fresh(library)
    with Library.open(library.data_dir, engine=library.engine_name) as other:
        other.add([PaperRecord(title="Transit photometry of a stellar atmosphere",
                               abstract="exoplanet spectra telescope orbital luminosity",
                               arxiv_id="2611.19999", source="test:late")])
        other.flush_index()
    ranking = library.for_you()
    assert "arxiv:2611.19999" in ranking.keys[:10]
    assert_same_as_fresh(library)


def test_a_ranking_stopped_halfway_goes_on_to_the_same_result(library):
    class Stop(Exception):
        pass

    def stop_at(call: int):
        calls = 0

        def progress(done, total):
            nonlocal calls
            calls += 1
            if calls == call:
                raise Stop
        return progress

    with pytest.raises(Stop):
        library.for_you(progress=stop_at(6))  # while reading postings
    assert library._for_you.postings and library._for_you.ranking is None  # kept, unfinished
    library.set_star(keys_on(library, "protein")[2])
    with pytest.raises(Stop):
        library.for_you(progress=stop_at(2))
    assert_same_as_fresh(library)


def test_a_paper_not_in_the_index_yet_still_ranks_by_its_tags(library, monkeypatch):
    astro = keys_on(library, "astro")
    library.add_tag(astro[0], "observing-run")
    library.for_you()
    monkeypatch.setattr(library, "try_flush_index", lambda: "the index is busy")
    library.add([PaperRecord(title="Notes from the night shift", abstract="",
                             arxiv_id="2611.19998", source="test:late")])
    library.add_tag("arxiv:2611.19998", "observing-run")
    ranking = library.for_you()
    assert "arxiv:2611.19998" in ranking.keys
    assert ranking.scores["arxiv:2611.19998"] == pytest.approx(2.0 / 4)  # TAG_WEIGHT x 1 of 4


def test_the_unread_papers_listed_from_indexes_are_those_a_row_by_row_test_finds(library):
    astro, protein = keys_on(library, "astro"), keys_on(library, "protein")
    library.set_status(astro[5], "reading")
    library.set_status(astro[6], "read")
    library.set_star(protein[0])
    library.set_star(protein[1])
    library.set_star(protein[1], False)
    library.add_tag(protein[2], "folding")
    library.delete(protein[3])
    listed = library.store.ranking_keys()
    by_rows = [(key, tags) for key, _, _, tags in library.store.ranking_rows(liked=False)]
    assert [(key, tags) for key, tags, _ in listed] == by_rows
    assert protein[1] in dict(by_rows) and dict(by_rows)[protein[2]] == ["folding"]
    assert not {astro[5], astro[6], protein[0], protein[3]} & dict(by_rows).keys()


def test_differing_positions_are_found_across_chunks():
    from index.foryou_state import _differing

    old = [f"k{i}" for i in range(10_000)]
    new = list(old)
    for at in (0, 4095, 4096, 8191, 9_999):
        new[at] = None
    assert list(_differing(old, new)) == [0, 4095, 4096, 8191, 9_999]
    assert list(_differing(old, old + ["extra"])) == []  # over the shorter length
    assert list(_differing(old[:5], new[:3])) == [0]
