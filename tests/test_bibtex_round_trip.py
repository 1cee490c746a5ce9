"""Exported BibTeX imports back unchanged: `export -o all.bib` then `import all.bib` adds no
paper and changes no title, abstract, author, year or citation key."""

from __future__ import annotations

import sqlite3

import pytest
from test_export_bibtex import HARD

from index.library import Library
from index.model import PaperRecord
from tui.cli import main

FIELDS = ("key", "title", "abstract", "authors", "year", "arxiv_id", "doi", "citekey", "venue",
          "starred", "tags", "status", "note")
# Written for this test: the two shapes that came back as new papers (`^` read back as U+02C6).
CARETS = [
    PaperRecord(title="MedS^3: Small Medical Models that Think Slowly",
                abstract="We train MedS^3 with x^2 rewards and ~13 points of gain.",
                source="dailypapers:caret.txt"),
    PaperRecord(title="$BT^2$: Compatible Training with a Basis Change",
                abstract="BT^2 adds dimensions; {\\em naive} growth does not work.",
                source="dailypapers:caret.txt"),
]


def _records():
    for paper, _ in HARD:
        yield PaperRecord(title=paper.title, abstract=paper.abstract, authors=paper.authors,
                          year=paper.year, arxiv_id=paper.arxiv_id, doi=paper.doi,
                          venue=paper.venue, citekey=paper.citekey, tags=paper.tags,
                          listing_date=paper.listing_date, source="dailypapers:hard.txt")
    yield from CARETS


def _snapshot(data):
    with Library.open(data) as lib:
        return {p.key: tuple(getattr(p, f) for f in FIELDS) for p in lib.all_papers()}


@pytest.mark.parametrize("with_notes", [False, True])
def test_export_then_import_changes_nothing(tmp_path, capsys, with_notes):
    data = tmp_path / "data"
    with Library.open(data) as lib:
        report = lib.add(list(_records()))
        assert not report.rejected
        lib.set_star(report.added[0])
        lib.add_tag(report.added[1], "keep")
        lib.set_note(report.added[2], "my note")
    before = _snapshot(data)
    assert len(before) == len(HARD) + len(CARETS)
    out = tmp_path / "all.bib"
    argv = ["--data-dir", str(data), "export", "-o", str(out)]
    assert main(argv + (["--with-notes"] if with_notes else [])) == 0
    assert main(["--data-dir", str(data), "import", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"added 0, merged {len(before)}" in printed  # the .bib is a new source, nothing else
    assert _snapshot(data) == before
    # and a second round changes nothing at all
    assert main(["--data-dir", str(data), "import", str(out)]) == 0
    assert f"added 0, merged 0, unchanged {len(before)}" in capsys.readouterr().out


def test_a_title_stored_under_its_pre_latex_key_is_still_found(tmp_path):
    """Libraries made before titles were read as LaTeX keep their keys: re-importing the same
    listing merges into them instead of adding a second copy."""
    import hashlib

    title = 'An apparently na\\"{\\i}ve Ensemble for T\\"ULU'
    record = PaperRecord(title=title, abstract="x", source="dailypapers:old.txt")
    # the key 0.2 gave it: the source text normalised, `na i ve` for naïve
    old_norm = "an apparently na i ve ensemble for t ulu"
    old_key = "title:" + hashlib.sha1(old_norm.encode()).hexdigest()[:12]
    assert old_key != record.key
    data = tmp_path / "data"
    with Library.open(data) as lib:
        lib.add([record])
    db = sqlite3.connect(data / "library.sqlite3")
    with db:
        db.execute("UPDATE papers SET key = ? WHERE key = ?", (old_key, record.key))
        db.execute("DELETE FROM meta WHERE k = 'title_keys'")  # as an older version left it
    db.close()
    with Library.open(data) as lib:  # opening moves it to today's key; the old one is an alias
        assert lib.get(old_key).key == record.key
        report = lib.add([PaperRecord(title=title, abstract="x", source="dailypapers:old.txt")])
        assert report.unchanged == [record.key] and not report.added
        again = lib.add([PaperRecord(title="An apparently naïve Ensemble for TÜLU",
                                     source="bibtex:all.bib")])
        assert again.merged == [record.key] and not again.added
        assert lib.store.count() == 1
