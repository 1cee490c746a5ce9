"""BibTeX export: every hard case parses back to the same text, and compiles for real."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata

import bibtexparser
import pytest

from index.export.bibtex import export_bibtex, listing_note
from index.export.latex import decode_latex, encode_latex, latex_to_text
from index.model import Paper


def normalise_text(text: str) -> str:
    """For comparing text: NFC, whitespace (including no-break spaces) collapsed, trimmed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text).replace("\u00a0", " ")).strip()


def _paper(key, title, **kw):
    return Paper(key=key, title=title, **kw)


# (paper, the text its title should show), the second written out by hand, not computed.
HARD = [
    (_paper("t:pi", "The π of Ü and Ψ-Networks", authors=["Jörg Müller"], year=2023,
            citekey="muller2023pi"), "The π of Ü and Ψ-Networks"),
    (_paper("t:eps", r"Robust {\epsilon}-greedy Search", authors=["Ann Lee"], year=2022,
            citekey="lee2022robust"), "Robust ϵ-greedy Search"),
    (_paper("t:naive", r'An apparently na\"{\i}ve Ensemble for T\"ULU', authors=["Bo Li"],
            year=2021, citekey="li2021apparently"), "An apparently naïve Ensemble for TÜLU"),
    (_paper("t:open", "Unbalanced {foo braces", authors=["C D"], year=2020,
            citekey="d2020unbalanced"), "Unbalanced {foo braces"),
    (_paper("t:close", "A stray } brace and {balanced} ones", authors=["E F"], year=2020,
            citekey="f2020stray"), "A stray } brace and {balanced} ones"),
    (_paper("t:specials", "100% of R&D #1 uses snake_case for $5 ~ x^2", authors=["G H"],
            year=2019, citekey="h2019specials"), "100% of R&D #1 uses snake_case for $5 ~ x^2"),
    (_paper("t:backslash", r"Paths like C:\data\mone and \ModelName end in \\", authors=["I J"],
            year=2019, citekey="j2019paths"), r"Paths like C:\data\mone and \ModelName end in \\"),
    (_paper("t:escaped", r"Knights \& Knaves at 72\% cost \$250M", authors=["K L"], year=2025,
            citekey="l2025knights"), "Knights & Knaves at 72% cost $250M"),
    (_paper("t:caps", "BERT: Pre-training of Deep Bidirectional Transformers for NLP and GPT-4o",
            authors=["Jacob Devlin", "Ming-Wei Chang"], year=2019, citekey="devlin2019bert"),
     "BERT: Pre-training of Deep Bidirectional Transformers for NLP and GPT-4o"),
    (_paper("t:noauthor", "Nobody Wrote This <really> | maybe", year=2018,
            citekey="2018nobody"), "Nobody Wrote This <really> | maybe"),
    (_paper("t:noyear", "A Paper Without a Year", authors=["M N"], citekey="nwithout"),
     "A Paper Without a Year"),
    (_paper("t:daily", "Listed on Daily Papers", authors=["O P"], sources=["dailypapers:p.txt"],
            listing_date="Aug 20", citekey="plisted",
            abstract=r"We use {\em deterministic} {raise.17ex\scriptstyle\sim}4 sum_{i=1}^{N} "
                     r"and e.g.\ DQN with 8{255} and 50% {broken"),
     "Listed on Daily Papers"),
    (_paper("doi:10.1/x", "A Journal Article", authors=["Q R", "S T"], year=2017,
            doi="10.1000/j.x_1{2}", venue="Journal of Hard Cases", citekey="r2017journal"),
     "A Journal Article"),
    (_paper("arxiv:2401.01234", "An arXiv Preprint", authors=["Research and Development Team"],
            year=2024, arxiv_id="2401.01234", extra={"primary_category": "cs.LG"},
            tags=["rl", "c++_tricks", "50%"], note="my {own} note with % and \\",
            citekey="team2024arxiv"), "An arXiv Preprint"),
    (_paper("t:conf", "Attention in a Conference", authors=["U V"], year=2017,
            venue="Proceedings of NeurIPS", citekey="v2017attention"),
     "Attention in a Conference"),
    (_paper("t:nokey", "A paper whose key was never assigned", authors=["Wu, Xi"], year=2016),
     "A paper whose key was never assigned"),
]
PAPERS = [p for p, _ in HARD]


def _parse(text: str) -> bibtexparser.Library:
    lib = bibtexparser.parse_string(text)
    assert not lib.failed_blocks, [b.error for b in lib.failed_blocks]
    return lib


def test_round_trip_titles_keys_and_text():
    text = export_bibtex(PAPERS, with_notes=True)
    lib = _parse(text)
    assert len(lib.entries) == len(PAPERS)
    for entry, (paper, shown) in zip(lib.entries, HARD):
        if paper.citekey:
            assert entry.key == paper.citekey
        title = normalise_text(latex_to_text(entry["title"]))
        assert title == normalise_text(shown), entry.key
        assert title == normalise_text(decode_latex(paper.title))
        if paper.abstract:
            assert normalise_text(latex_to_text(entry["abstract"])) == normalise_text(
                decode_latex(paper.abstract)
            )
    assert lib.entries[-1].key == "wu2016paper"  # derived when the store gave none


def test_fields_and_entry_types():
    lib = _parse(export_bibtex(PAPERS, with_notes=True))
    by_key = {e.key: e for e in lib.entries}
    arxiv = by_key["team2024arxiv"]
    assert arxiv.entry_type == "misc"
    assert arxiv["eprint"] == "2401.01234"
    assert arxiv["archivePrefix"] == "arXiv"
    assert arxiv["primaryClass"] == "cs.LG"
    assert arxiv["url"] == "https://arxiv.org/abs/2401.01234"
    assert arxiv["author"] == "{Research and Development Team}"
    assert latex_to_text(arxiv["keywords"]) == "rl, c++_tricks, 50%"
    assert latex_to_text(arxiv["annote"]) == "my {own} note with % and \\"
    journal = by_key["r2017journal"]
    assert journal.entry_type == "article"
    assert journal["journal"] == "Journal of Hard Cases"
    assert journal["doi"] == "10.1000/j.x_1%7B2%7D"  # braces percent-encoded, rest verbatim
    assert by_key["v2017attention"].entry_type == "inproceedings"
    assert by_key["v2017attention"]["booktitle"] == "Proceedings of NeurIPS"
    daily = by_key["plisted"]
    assert daily["note"] == "Listed in Hugging Face Daily Papers, Aug 20 (year not given)"
    assert "year" not in daily.fields_dict  # never invented
    assert "key" in by_key["2018nobody"].fields_dict  # plain sorts by it when no author
    assert "annote" not in _parse(export_bibtex(PAPERS)).entries_dict["team2024arxiv"].fields_dict


def test_capitalised_words_are_protected():
    entry = _parse(export_bibtex([HARD[8][0]])).entries[0]
    title = entry["title"]
    assert title.startswith("{BERT: Pre-training} of ")
    assert "{Deep Bidirectional Transformers}" in title
    assert "{NLP}" in title and "{GPT-4o}" in title
    assert " for " in title  # lower-case words are left to the style


def test_listing_note_with_year_never_says_year_missing():
    paper = _paper("t:x", "X", year=2024, sources=["dailypapers:a"], listing_date="Aug 20")
    assert listing_note(paper) == "Listed in Hugging Face Daily Papers, Aug 20"
    assert listing_note(_paper("t:y", "Y", sources=["bibtex:refs.bib"])) == ""


def test_duplicate_and_missing_keys_are_made_unique():
    a = _paper("t:a", "Same Title", authors=["Ann Lee"], year=2020)
    b = _paper("t:b", "Same Title Again", authors=["Ann Lee"], year=2020)
    c = _paper("t:c", "Other", citekey="bad key with spaces{")
    keys = [e.key for e in _parse(export_bibtex([a, b, c])).entries]
    assert keys == ["lee2020same", "lee2020samea", "badkeywithspaces"]


def test_empty_export_is_empty():
    assert export_bibtex([]) == ""


def test_plain_ascii_takes_the_fast_path():
    plain = "A plain ASCII abstract, with (parentheses) and 'quotes'."
    assert encode_latex(plain) is plain or encode_latex(plain) == plain


def test_progress_is_reported():
    calls = []
    export_bibtex(PAPERS * 1, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (len(PAPERS), len(PAPERS))


def test_ten_thousand_papers_make_ten_thousand_entries():
    # How long this takes is measured by benchmarks/bench_export.py.
    papers = [
        _paper(f"t:{i}", f"Scaling Laws for Things number {i}", authors=["A B", "C D"],
               year=2020 + i % 5, citekey=f"b{i}scaling", abstract="plain words " * 60,
               tags=["scaling"])
        for i in range(10_000)
    ]
    text = export_bibtex(papers)
    assert text.count("\n@misc{") == 9_999


_TOOLS = shutil.which("pdflatex") and shutil.which("bibtex")


@pytest.mark.latex
@pytest.mark.skipif(not _TOOLS, reason="pdflatex and bibtex are not on PATH")
def test_compiles_with_bibtex_and_pdflatex(tmp_path):
    papers = PAPERS + _random_papers(40)
    (tmp_path / "refs.bib").write_text(export_bibtex(papers, with_notes=True), encoding="utf-8")
    (tmp_path / "doc.tex").write_text(
        "\\documentclass{article}\n\\begin{document}\nEverything.\n\\nocite{*}\n"
        "\\bibliographystyle{plain}\n\\bibliography{refs}\n\\end{document}\n",
        encoding="utf-8",
    )

    def run(*cmd):
        result = subprocess.run(
            cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120,
            stdin=subprocess.DEVNULL, errors="replace",
        )
        assert result.returncode == 0, f"{cmd[0]} failed:\n{result.stdout[-3000:]}"
        return result

    latex = ("pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex")
    run(*latex)
    run("bibtex", "doc")
    run(*latex)
    run(*latex)
    blg = (tmp_path / "doc.blg").read_text(errors="replace")
    assert not [line for line in blg.splitlines() if line.startswith("Warning--")], blg
    assert "error message" not in blg
    log = (tmp_path / "doc.log").read_text(errors="replace")
    assert not re.search(r"^! ", log, re.MULTILINE), log[-3000:]
    assert "Citation" not in log or "undefined" not in log
    bbl = (tmp_path / "doc.bbl").read_text(errors="replace")
    assert bbl.count("\\bibitem") == len(papers)


def _random_papers(n: int) -> list[Paper]:
    """Seeded soup of every awkward piece (no CJK: pdflatex cannot print it)."""
    import random

    rng = random.Random(4)
    pieces = ["π", "Ü", "Ψ", "é", "ß", "—", "’", "\u00a0", "{", "}", "\\", "$", "~", "^", "_", "#",
              "%", "&", "--", "''", "``", "?`", "<", ">", "|", r"{\epsilon}", r'na\"{\i}ve', r"\%",
              r"\mone", r"{\em x}", r"\'e", r"\c{c}", "\x1b[31m", "word", "Word", "BERT", " ", "\n"]
    return [
        Paper(key=f"t:r{i}", title="".join(rng.choices(pieces, k=12)) + " end",
              abstract="".join(rng.choices(pieces, k=40)), citekey=f"rand{i}",
              authors=["".join(rng.choices(pieces, k=3)) + " Lastname"], year=2000 + i,
              note="".join(rng.choices(pieces, k=20)), tags=["".join(rng.choices(pieces, k=2))])
        for i in range(n)
    ]


# ---- property: any text survives the trip through BibTeX ---------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


_PIECES = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=6),
    st.sampled_from(["π", "Ü", "Ψ", "é", "ß", "ñ", "漢", "—", "’", "\u00a0", "\n", "\t", "\x1b"]),
    st.sampled_from([r"{\epsilon}", r'na\"{\i}ve', r"\%", r"\&", r"\mone", "{", "}", "\\",
                     r"{\em x}", r"\'e", r"\c{c}", "$", "~", "^", "_", "#", "%", "&"]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_any_text_round_trips(text):
    paper = Paper(key="t:x", title=text or "x", abstract=text, citekey="k")
    entry = _parse(export_bibtex([paper])).entries[0]
    expected = normalise_text(decode_latex(text).replace("\x1b", ""))
    if expected:
        assert normalise_text(latex_to_text(entry["abstract"])) == expected
    else:
        assert "abstract" not in entry.fields_dict  # nothing printable: no empty field
    if "title" in entry.fields_dict:
        assert normalise_text(latex_to_text(entry["title"])) == normalise_text(
            decode_latex(text or "x").replace("\x1b", ""))


def test_listing_note_by_source_format():
    json_paper = _paper("t:j", "J", sources=["dailypapers-json:daily.json"],
                        listing_date="2024-08-20")
    assert listing_note(json_paper) == "Listed in Hugging Face Daily Papers, 2024-08-20"
    both = _paper("t:b", "B", sources=["arxiv:feed.xml", "dailypapers:p.txt", "bibtex:refs.bib"])
    assert listing_note(both) == "Listed in an arXiv listing and Hugging Face Daily Papers"
    assert listing_note(_paper("t:i", "I", sources=["arxiv-ids:ids.txt"])) == ""
