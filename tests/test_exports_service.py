"""Library.exports: one rule for which papers a selection means, and counts that agree with it."""

from __future__ import annotations

import pytest

from index.model import ExportOptions, PaperRecord, PapershelfError, Selection


def _add(lib, n: int) -> list[str]:
    words = ["amber", "basalt", "cobalt", "dolomite", "emerald", "feldspar"]
    records = [PaperRecord(title=f"Sparse routing for tiny {words[i]} experts",
                           abstract=f"We study routing number {i} in mixtures.",
                           authors=[f"Ada Lovelace{i}"], year=2020 + i % 4,
                           arxiv_id=f"2401.{10000 + i}") for i in range(n)]
    lib.add(records)
    return [p.key for p in lib.list_papers()]


@pytest.fixture
def library(lib):
    keys = _add(lib, 6)
    lib.set_star(keys[0])
    lib.set_star(keys[1])
    lib.add_tag(keys[2], "Reading Group")
    lib.add_tag(keys[3], "reading group")
    lib.add_tag(keys[4], "other")
    return lib, keys


@pytest.mark.parametrize("selection", [
    Selection(), Selection(starred=True), Selection(tag="Reading Group"),
    Selection(query="dolomite OR cobalt"), Selection(keys=("k",)),
])
def test_count_agrees_with_the_papers_it_counts(library, selection):
    lib, keys = library
    if selection.keys is not None:
        selection = Selection(keys=(keys[5], keys[2], keys[5]))
    papers = lib.exports.papers(selection)
    assert lib.exports.count(selection) == len(papers) > 0


def test_each_selection_means_what_it_says(library):
    lib, keys = library
    exports = lib.exports
    assert {p.key for p in exports.papers(Selection(starred=True))} == set(keys[:2])
    assert {p.key for p in exports.papers(Selection(tag="reading group"))} == set(keys[2:4])
    assert [p.key for p in exports.papers(Selection(keys=(keys[5], keys[2])))] == \
        [keys[5], keys[2]]  # the order given
    assert len(exports.papers(Selection())) == 6
    assert [p.title for p in exports.papers(Selection(query="emerald"))] == \
        ["Sparse routing for tiny emerald experts"]


def test_a_bad_query_is_an_error_not_an_empty_export(library):
    lib, _ = library
    with pytest.raises(PapershelfError, match="bad query"):
        lib.exports.papers(Selection(query="is:bogus"))


def test_clipboard_text_for_each_kind(library):
    lib, keys = library
    papers = lib.get_many(keys[:2])
    text = lib.exports.clipboard_text(papers, "key")
    assert text == ", ".join(p.citekey for p in papers)
    bib = lib.exports.clipboard_text(papers, "bibtex")
    assert bib.count("@") == 2 and all(p.citekey in bib for p in papers)
    links = lib.exports.clipboard_text(papers, "markdown").splitlines()
    assert len(links) == 2 and links[0].startswith("[Sparse routing")
    with pytest.raises(PapershelfError):
        lib.exports.clipboard_text(papers, "pdf")


def test_write_and_render_give_the_same_text(library, tmp_path):
    lib, _ = library
    papers = lib.exports.papers(Selection(starred=True))
    options = ExportOptions(group_by="none")
    summary = lib.exports.write(papers, "markdown", tmp_path / "list.md", options)
    assert summary.startswith("wrote 2 papers as markdown")
    assert (tmp_path / "list.md").read_text(encoding="utf-8") == \
        lib.exports.render(papers, "markdown", options)
