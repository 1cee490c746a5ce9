"""LaTeX shown as text: `show`, `list`, `search` and the app display decoded titles and
abstracts, search finds them by their decoded words, and the BibTeX export keeps the source."""

from __future__ import annotations

import pytest

from index.latex_text import plain_text, search_text
from index.library import Library
from samples import dense_page
from tui.cli import main

# Written for these tests in the shapes Daily Papers pages carry.
LATEX_PAIRS = [
    ("Calibrated {\\epsilon}-Differential Privacy for Streaming Counters",
     "We release counters under {\\epsilon}-differential privacy with a na\\\"{\\i}ve baseline "
     "for comparison~(NB) and report the cost of \\carboneq{} in our setting."),
    ("PATIENT-{\\Psi}: Simulated Patients for Training Counsellors",
     "A role-play framework where PATIENT-{\\Psi} answers trainees as a real client would."),
    ("SOTOPIA-{\\pi}: Interactive Learning of Socially Intelligent Agents",
     "Agents improve social skills with SOTOPIA-{\\pi} through behaviour cloning and {\\ewtune}."),
]


@pytest.mark.parametrize("source, shown", [
    ("{\\epsilon}-differential privacy", "ε-differential privacy"),
    ("na\\\"{\\i}ve", "naïve"),
    ("PATIENT-{\\Psi}", "PATIENT-Ψ"),
    ("Text-to-Speech~(TTS)", "Text-to-Speech (TTS)"),
    ("the cost of \\carboneq{} and {\\ewtune} here", "the cost of \\carboneq and \\ewtune here"),
    ("T\\\"ULU 3 and 50\\% of \\{x\\}", "TÜLU 3 and 50% of {x}"),
    ("plain title, no LaTeX", "plain title, no LaTeX"),
])
def test_plain_text_decodes_what_it_understands(source, shown):
    assert plain_text(source) == shown


def test_search_text_names_greek_letters():
    assert search_text("PATIENT-{\\Psi}") == "PATIENT-Ψ psi"
    assert search_text("SOTOPIA-π and π again") == "SOTOPIA-π and π again pi"
    assert search_text("no letters") == "no letters"


@pytest.fixture
def run(tmp_path, capsys):
    data = tmp_path / "data"

    def run(*argv):
        code = main(["--data-dir", str(data), *map(str, argv)])
        out, err = capsys.readouterr()
        assert code == 0, err
        return out
    page = tmp_path / "latex.txt"
    page.write_text(dense_page(LATEX_PAIRS), encoding="utf-8")
    run("import", page)
    run.data = data
    return run


def test_show_list_and_search_print_decoded_text(run):
    listed = run("list")
    assert "Calibrated ε-Differential Privacy for Streaming Counters" in listed
    assert "PATIENT-Ψ: Simulated Patients" in listed
    assert "\\" not in listed and "{" not in listed
    shown = run("show", run("list", "--json").split('"key": "')[1].split('"')[0])
    assert "\\epsilon" not in shown
    found = run("search", "naive")
    assert "Calibrated ε-Differential Privacy" in found
    assert "naïve baseline for comparison (NB)" in found  # the snippet, decoded
    assert "\\carboneq and" in found or "\\carboneq" in run("search", "carboneq")


@pytest.mark.parametrize("query, title", [
    ("naive", "Calibrated"), ("epsilon", "Calibrated"),
    ("Ψ", "PATIENT"), ("psi", "PATIENT"), ("π", "SOTOPIA"), ("pi", "SOTOPIA"),
])
def test_search_finds_decoded_words_and_greek_names(run, query, title):
    with Library.open(run.data) as lib:
        hits = lib.search(query)
        titles = [p.display_title for p in lib.get_many(hits.keys)]
    assert [t for t in titles if t.startswith(title)], (query, titles)
    assert len(titles) == 1, (query, titles)


def test_stored_title_and_bibtex_export_keep_the_source(run, tmp_path):
    with Library.open(run.data) as lib:
        stored = {p.title for p in lib.all_papers()}
    assert LATEX_PAIRS[0][0] in stored  # the store keeps what the page said
    out = tmp_path / "all.bib"
    run("export", "-o", out)
    bib = out.read_text(encoding="utf-8")
    assert "\\Psi" in bib and "Ψ" not in bib


async def test_app_shows_decoded_title_and_abstract(tmp_path):
    from index.model import PaperRecord
    from test_tui_support import make_app, rows, settle

    records = [PaperRecord(title=t, abstract=a, source="dailypapers:latex.txt")
               for t, a in LATEX_PAIRS]
    app, lib = make_app(tmp_path, records)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        shown = "\n".join(rows(app.screen))
        assert "PATIENT-Ψ: Simulated Patients" in shown and "{\\Psi}" not in shown
        await pilot.press("down")
        await settle(pilot)
        detail = app.screen.detail.text()
        assert "PATIENT-Ψ: Simulated Patients" in detail
        assert "PATIENT-Ψ answers trainees" in detail and "{\\Psi}" not in detail
    lib.close()
