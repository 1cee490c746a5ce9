"""BibTeX source: values decoded, keys kept, bad entries reported with lines, good ones kept."""

from __future__ import annotations

import logging

from index.sources import bibtex, detect_format, parse_file
from index.sources.bibtex_latex import latex_to_text
from index.sources.bibtex_values import split_authors

BIB = r"""@string{neurips = "Advances in Neural Information Processing Systems"}
@string{conf = "Proceedings of the "}

@comment{ this entry is commented out: @article{ghost, title={Ghost}} }
% a line comment in the file

@inproceedings{vaswani2017,
  title     = {Attention {Is} All You Need: 50% Fewer Ops & More Speed},
  author    = {Vaswani, Ashish and Noam Shazeer and M{\"u}ller, J{\"o}rg and others},
  booktitle = neurips,
  year      = 2017,
  keywords  = {nlp; transformers, {Attention}},
  abstract  = {We propose the {Transformer},
               based solely on attention.},
}

@article{devlin2019,
  title = "{BERT}: Pre-training of Deep {Bidirectional} Transformers",
  author = "Devlin, Jacob and Chang, Ming-Wei",
  journal = conf # "NAACL",
  year = "2019",
  doi = {https://doi.org/10.18653/v1/N19-1423},
  eprint = {1810.04805v2},
  archivePrefix = {arXiv},
  url = {https://aclanthology.org/N19-1423},
  pages = {4171--4186},
}

@misc{scholar2020,
  title={Na{\"\i}ve {$\epsilon$}-greedy Exploration with \mone},
  author={{\L}ukasz Kaiser and Zo{\'e} Dupont},
  journal={arXiv preprint arXiv:2006.01234},
  year={2020}
}

@inproceedings{child2021,
  title = {A Child Paper},
  author = {Doe, Jane},
  crossref = {proc2021},
}

@proceedings{proc2021,
  title = {Proceedings of the Crossref Conference},
  year = {2021},
  publisher = {ACM},
}
"""


def test_fields_decoded_and_mapped():
    result = bibtex.parse(BIB, "/tmp/refs.bib")
    assert result.problems == []
    by_key = {r.citekey: r for r in result.records}
    assert set(by_key) == {"vaswani2017", "devlin2019", "scholar2020", "child2021"}

    v = by_key["vaswani2017"]
    # the whole title, % and & included (papis used to cut at the %)
    assert v.title == "Attention Is All You Need: 50% Fewer Ops & More Speed"
    assert v.authors == ["Ashish Vaswani", "Noam Shazeer", "Jörg Müller"]
    assert v.extra["authors_et_al"] is True
    assert v.venue == "Advances in Neural Information Processing Systems"  # @string macro
    assert v.year == 2017
    assert v.tags == ["nlp", "transformers", "Attention"]
    assert v.abstract == "We propose the Transformer, based solely on attention."
    assert v.line == 7
    assert v.source == "bibtex:refs.bib"

    d = by_key["devlin2019"]
    assert d.title == "BERT: Pre-training of Deep Bidirectional Transformers"
    assert d.authors == ["Jacob Devlin", "Ming-Wei Chang"]
    assert d.venue == "Proceedings of the NAACL"  # '#' concatenation with a macro
    assert d.doi == "10.18653/v1/N19-1423"
    assert d.arxiv_id == "1810.04805" and d.extra["arxiv_version"] == "v2"
    assert d.key == "arxiv:1810.04805"
    assert d.url == "https://aclanthology.org/N19-1423"
    assert d.extra["bibtex_fields"]["pages"] == "4171--4186"
    assert d.extra["bibtex_type"] == "article"

    s = by_key["scholar2020"]
    assert s.title == "Naïve ϵ-greedy Exploration with \\mone"  # unknown macro stays visible
    assert s.authors == ["Łukasz Kaiser", "Zoé Dupont"]
    assert s.arxiv_id == "2006.01234"  # Google Scholar's journal = {arXiv preprint arXiv:...}
    assert s.venue is None

    c = by_key["child2021"]
    assert c.venue == "Proceedings of the Crossref Conference"  # inherited via crossref
    assert c.year == 2021


def test_detected_and_read_from_file(tmp_path):
    path = tmp_path / "mine.bib"
    path.write_text(BIB, encoding="utf-8")
    assert detect_format(BIB) == "bibtex"
    result = parse_file(path)
    assert result.format == "bibtex"
    assert len(result.records) == 4


def test_missing_brace_in_middle_entry_keeps_neighbours(caplog):
    text = """@article{first,
  title = {First Paper},
  year = {2020},
}

@article{broken,
  title = {Broken Paper,
  year = {2021},
}

@article{last,
  title = {Last Paper},
  year = {2022},
}
"""
    with caplog.at_level(logging.DEBUG):
        result = bibtex.parse(text, "x.bib")
    assert [r.citekey for r in result.records] == ["first", "last"]
    assert [r.title for r in result.records] == ["First Paper", "Last Paper"]
    assert len(result.problems) == 1
    assert result.problems[0].line == 6
    assert "broken" in result.problems[0].message
    # bibtexparser's own warnings are turned into problems, not printed
    assert not [r for r in caplog.records if r.name.startswith("bibtexparser")]


def test_missing_entry_brace_and_unclosed_quote():
    text = """@article{a, title={A}, year={2020}
@article{b, title={B}}
@misc{c, note = "unclosed quote}
@misc{d, title={D}}
"""
    result = bibtex.parse(text, "x.bib")
    assert {r.citekey for r in result.records} == {"b", "d"}
    assert sorted(p.line for p in result.problems) == [1, 3]


def test_duplicates_and_missing_title():
    text = """@article{same, title={One}}
@article{same, title={Two}}
@article{notitle, author={Nobody}}
@article{twice, title={First title}, title={Second title}}
"""
    result = bibtex.parse(text, "x.bib")
    assert [(r.citekey, r.title) for r in result.records] == [("same", "One"), ("twice", "First title")]
    messages = {p.line: p.message for p in result.problems}
    assert "duplicate citation key 'same'" in messages[2]
    assert "no title" in messages[3]
    assert result.notices and result.notices[0].line == 4


def test_author_forms():
    names, et_al = split_authors(
        r"von Neumann, Jr., John and {Barnes and Noble, Inc.} and Ada Lovelace and "
        r"Sch{\"o}lkopf, Bernhard"
    )
    assert names == ["John von Neumann Jr.", "Barnes and Noble, Inc.", "Ada Lovelace",
                     "Bernhard Schölkopf"]
    assert et_al is False


def test_arxiv_from_url_and_eprinttype_and_doi():
    text = r"""@online{a, title={A}, url={https://arxiv.org/abs/2301.00001v3}}
@online{b, title={B}, eprint={2302.00002}, eprinttype={arxiv}}
@article{c, title={C}, doi={10.48550/arXiv.2303.00003}}
@article{d, title={D}, eprint={hep-th/9901001}, archivePrefix={arXiv}, date={1999-01-02}}
@article{e, title={E}, eprint={12345}, archivePrefix={PubMed}}
"""
    result = bibtex.parse(text, "x.bib")
    ids = {r.citekey: r.arxiv_id for r in result.records}
    assert ids == {"a": "2301.00001", "b": "2302.00002", "c": "2303.00003",
                   "d": "hep-th/9901001", "e": None}
    assert {r.citekey: r.year for r in result.records}["d"] == 1999


def test_non_ascii_and_latex_robustness():
    text = "@article{u, title={Ünïcödé: π and Ψ in {\\textbf{bold}} \\\\ and $x^2$ \\unknown{x}}}\n"
    result = bibtex.parse(text, "x.bib")
    assert result.records[0].title.startswith("Ünïcödé: π and Ψ in bold")
    # a value pylatexenc cannot digest never loses the record
    assert "unbalanced" in latex_to_text("\\begin{x} {{{ unbalanced")
    assert latex_to_text("{" * 5000 + r"\'e deep").endswith("deep")
    assert latex_to_text("plain {Braces}") == "plain Braces"


def test_sniff():
    assert bibtex.sniff(BIB) >= 0.9
    assert bibtex.sniff("Just some text with an @ sign in it.") == 0.0
    assert bibtex.sniff('{"title": "x"}') == 0.0
