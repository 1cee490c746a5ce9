"""Provisional citation keys: made from three title words when a paper has no author or year,
replaced by lastname+year+word when those arrive, frozen once the key is used."""

from __future__ import annotations

import json

import pytest
from test_tui_support import make_app, settle, wait_for

from index.citekey import CitekeyAllocator, provisional_citekey
from index.library import Library
from index.model import PaperRecord
from samples import dense_page
from tui.cli import main

TITLE = "Learning Temporally Consistent Depth from Handheld Video"
ABSTRACT = "We estimate depth that stays steady across frames of casual phone videos."
OTHER = ("Sparse Lanterns for Efficient Night Vision",
         "We light scenes sparsely and still see at night.")


@pytest.mark.parametrize("title, key", [
    (TITLE, "learningTemporallyConsistent"),
    ("On the Role of Data in a Vision-Language World", "roleDataVision"),
    ('A na\\"{\\i}ve {\\Psi}-Net for {\\epsilon}-Greedy Bandits', "naiveNetGreedy"),
    ("Re", "re"),
    ("The Of And", "paper"),
])
def test_provisional_key_is_three_significant_title_words(title, key):
    assert provisional_citekey(title) == key


def test_allocator_is_unique_ignoring_case_and_resumes_its_suffixes():
    keys = CitekeyAllocator(["VisionLanguageModels"])
    assert keys.allocate("visionLanguageModels") == "visionLanguageModelsa"
    made = [keys.allocate("visionLanguageModels") for _ in range(800)]
    assert made[:2] == ["visionLanguageModelsb", "visionLanguageModelsc"]
    assert made[24] == "visionLanguageModelsz" and made[25] == "visionLanguageModelsaa"
    assert made[-1].startswith("visionLanguageModelsz")  # past zz: z1, z2 ...
    assert len({k.casefold() for k in made}) == 800
    assert keys.allocate("Other") == "Other" and keys.allocate("OTHER") == "OTHERa"


@pytest.fixture
def cli(tmp_path, capsys):
    data = tmp_path / "data"

    def cli(*argv, expect=0):
        code = main(["--data-dir", str(data), *map(str, argv)])
        out, err = capsys.readouterr()
        assert code == expect, err
        return out + err
    cli.data = data
    page = tmp_path / "daily.txt"
    page.write_text(dense_page([(TITLE, ABSTRACT), OTHER]), encoding="utf-8")
    cli("import", page)
    return cli


def _paper(cli, title=TITLE) -> dict:
    return next(p for p in json.loads(cli("list", "--json")) if p["title"] == title)


def _arrives(cli, tmp_path, name="refs.bib"):
    """A BibTeX file with authors and a year for the listed title: an import that fills them."""
    bib = tmp_path / name
    bib.write_text("@article{someoneElsesKey,\n  title = {" + TITLE + "},\n"
                   "  author = {Okafor, Ben and Lind, Cora},\n  year = {2024}\n}\n",
                   encoding="utf-8")
    return cli("import", bib)


def test_show_says_provisional_and_the_key_becomes_regular_when_authors_arrive(cli, tmp_path):
    paper = _paper(cli)
    assert paper["citekey"] == "learningTemporallyConsistent"
    shown = cli("show", paper["key"])
    assert "citekey: learningTemporallyConsistent (provisional" in shown
    assert json.loads(cli("show", paper["key"], "--json"))["citekey_provisional"] is True
    assert "merged 1" in _arrives(cli, tmp_path)
    paper = _paper(cli)
    assert paper["citekey"] == "okafor2024learning"
    assert "provisional" not in cli("show", paper["key"])
    assert json.loads(cli("show", paper["key"], "--json"))["citekey_provisional"] is False
    assert _paper(cli, OTHER[0])["citekey"] == "sparseLanternsEfficient"  # untouched


@pytest.mark.parametrize("use", ["export", "copy", "citekey", "obsidian"])
def test_a_used_key_is_frozen(cli, tmp_path, monkeypatch, use):
    monkeypatch.setattr("index.clipboard.copy_text", lambda text, **kw: "system clipboard")
    key = _paper(cli)["key"]
    if use == "export":
        cli("export", "-o", tmp_path / "refs-out.bib")
    elif use == "obsidian":
        cli("export", "--format", "obsidian", "-o", tmp_path / "vault")
        assert (tmp_path / "vault" / "learningTemporallyConsistent.md").exists()
    elif use == "copy":
        cli("copy", key)
    else:
        cli("citekey", key, "myOwnKey")
    before = _paper(cli)["citekey"]
    assert "provisional" not in cli("show", key)
    _arrives(cli, tmp_path)
    after = _paper(cli)
    assert after["citekey"] == before and after["year"] == 2024  # filled, key kept


def test_a_copied_markdown_link_does_not_use_the_key(cli, tmp_path, monkeypatch):
    monkeypatch.setattr("index.clipboard.copy_text", lambda text, **kw: "system clipboard")
    cli("copy", _paper(cli)["key"], "--as", "markdown")
    _arrives(cli, tmp_path)
    assert _paper(cli)["citekey"] == "okafor2024learning"


def test_an_arxiv_record_replaces_the_key_and_keeps_user_state(tmp_path):
    with Library.open(tmp_path / "data") as lib:
        report = lib.add([PaperRecord(title=TITLE, abstract=ABSTRACT, source="dailypapers:d.txt")])
        key = report.added[0]
        lib.set_star(key)
        lib.add_tag(key, "depth")
        arxiv = PaperRecord(title=TITLE, authors=["Ada Marsh"], year=2023,
                            arxiv_id="2312.01234", source="arxiv:api")
        assert lib.add([arxiv]).merged == ["arxiv:2312.01234"]
        paper = lib.get("arxiv:2312.01234")
        assert paper.citekey == "marsh2023learning" and paper.starred and paper.tags == ["depth"]
        assert not lib.provisional_citekeys([paper.key])
        assert lib.get(key).key == paper.key  # the title key is an alias


def test_unique_ignoring_case_against_a_key_a_source_brought(tmp_path):
    with Library.open(tmp_path / "data") as lib:
        lib.add([PaperRecord(title="Something else", citekey="LearningTemporallyConsistent",
                             source="bibtex:a.bib")])
        report = lib.add([PaperRecord(title=TITLE, source="dailypapers:d.txt")])
        assert lib.get(report.added[0]).citekey == "learningTemporallyConsistenta"


async def test_copying_a_key_in_the_app_freezes_it(tmp_path, monkeypatch):
    monkeypatch.setattr("index.clipboard.copy_text", lambda text, **kw: "system clipboard")
    app, lib = make_app(tmp_path, [PaperRecord(title=TITLE, source="dailypapers:d.txt")])
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        key = app.screen.results.current_key
        assert lib.provisional_citekeys([key]) == {key}
        await pilot.press("y")
        await wait_for(pilot, lambda: "copied citation key" in app.screen.status.text())
        await wait_for(pilot, lambda: not lib.provisional_citekeys([key]))
    lib.close()
