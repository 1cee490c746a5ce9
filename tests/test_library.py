"""The Library facade: import across files, key resolution, state changes and the index in step."""

from __future__ import annotations

import pytest

from index.model import AmbiguousKey, KeyNotFound, PaperRecord, PapershelfError
from samples import dense_page, make_papers


def test_offline_id_list_is_rejected_alone(lib, tmp_path):
    ids = tmp_path / "ids.txt"
    ids.write_text("2401.00001\n2401.00002\n")
    page = tmp_path / "page.txt"
    page.write_text(dense_page(make_papers(3)))
    report = lib.import_files([ids, page])  # the conftest points arXiv at a closed port
    assert len(report.added) == 3
    assert [str(p.path) for p in report.rejected] == [str(ids)]
    assert "arXiv" in report.rejected[0].message


def test_placeholder_records_are_never_stored(lib):
    placeholder = PaperRecord(title="arXiv:2401.00009", arxiv_id="2401.00009",
                              extra={"needs_fetch": True}, source="arxiv-ids:x.txt", line=4)
    report = lib.add([placeholder])
    assert not report.added and "not fetched" in report.rejected[0].message
    assert report.rejected[0].line == 4 and lib.stats()["papers"] == 0


def test_resolve_by_prefix_citekey_and_arxiv_id(lib):
    lib.add([PaperRecord(title="Alpha Paper", arxiv_id="2401.11111", authors=["Ann Lee"], year=2024),
             PaperRecord(title="Beta Paper", arxiv_id="2401.11112")])
    assert lib.resolve("arxiv:2401.11111") == "arxiv:2401.11111"
    assert lib.resolve("lee2024alpha") == "arxiv:2401.11111"
    assert lib.resolve("2401.11112") == "arxiv:2401.11112"
    with pytest.raises(AmbiguousKey):
        lib.resolve("2401.1111")
    with pytest.raises(KeyNotFound):
        lib.resolve("nothing-like-it")


def test_tags_and_notes_become_searchable_and_stars_never_touch_the_index(lib):
    lib.add([PaperRecord(title="Gamma Paper", abstract="Plain words only.")])
    key = lib.resolve("title:")
    lib.set_star(key, True)
    assert not lib.store.dirty_keys()  # a star is answered from SQLite: no index work
    lib.add_tags(key, ["Thesis Chapter", "ml"])
    lib.set_note(key, "remember the ablation table")
    assert set(lib.store.dirty_keys()) == {key}
    assert lib.search("ablation").keys == [key]  # search catches up pending changes first
    assert lib.search("tag:thesis-chapter").keys == [key]
    assert lib.search("is:starred").keys == [key]
    assert not lib.store.dirty_keys()


def test_several_tags_are_all_or_nothing(lib):
    lib.add([PaperRecord(title="Delta Paper")])
    key = lib.resolve("title:")
    with pytest.raises(PapershelfError):
        lib.add_tags(key, ["fine", "   "])
    assert lib.get(key).tags == []


def test_cycle_status_and_set_star(lib):
    lib.add([PaperRecord(title="Epsilon Paper")])
    key = lib.resolve("title:")
    assert [lib.cycle_status(key) for _ in range(3)] == ["reading", "read", "unread"]
    assert lib.set_star(key) is True and lib.get(key).starred
    assert lib.set_star(key) is False  # already starred: nothing written
    assert lib.set_star(key, False) is True and not lib.get(key).starred


def test_deleted_paper_leaves_search(lib):
    lib.add([PaperRecord(title="Zeta Paper About Kernels")])
    key = lib.resolve("title:")
    assert lib.search("kernels").keys == [key]
    lib.delete(key)
    assert lib.search("kernels").keys == [] and lib.get(key) is None
