"""Fuzz every parser owned here: random text and mutated valid inputs never raise.

Each parser must return a ParseResult whose records all have a non-empty title and whose
problems are Problems; sniff() must return a float in 0..1. About 10 s in all.
"""

from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.model import ParseResult, PaperRecord, Problem
from index.sources import arxiv_atom, arxiv_ids, bibtex, dailypapers_json, detect_format

MODULES = [bibtex, arxiv_atom, dailypapers_json, arxiv_ids]

SEEDS = {
    bibtex: r"""@string{conf = "Proc. of "}
@comment{ @article{ghost, title={G}} }
@inproceedings{a2020, title = {Attention {Is} 50% & More: {$\epsilon$}-na\"{\i}ve},
  author = {M{\"u}ller, J{\"o}rg and Ada Lovelace and others}, booktitle = conf # "X",
  year = 2020, keywords = {a, b}, eprint = {2101.01234v2}, archivePrefix = {arXiv},
  crossref = {p}}
@proceedings{p, title = {Parent}, year = {2019}}
@misc{b, title = "Quoted {B}", doi = {10.1/x}, url = {https://arxiv.org/abs/2102.00001}}
""",
    arxiv_atom: """<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">
<entry><id>http://arxiv.org/abs/2101.01234v2</id><published>2021-01-04T00:00:00Z</published>
<title>T &amp; U</title><summary>S https://github.com/a/b.</summary>
<author><name>A B</name></author><arxiv:doi>10.1/x</arxiv:doi>
<link title="pdf" href="http://arxiv.org/pdf/2101.01234v2"/><category term="cs.CL"/>
<arxiv:primary_category term="cs.CL"/><arxiv:comment>c</arxiv:comment></entry>
<entry><id>http://arxiv.org/api/errors#x</id><title>Error</title><summary>bad</summary></entry>
</feed>""",
    dailypapers_json: json.dumps([
        {"paper": {"id": "2408.10188", "title": "T", "summary": "S", "authors": [{"name": "A"}],
                   "publishedAt": "2024-08-19T00:00:00Z", "upvotes": 3, "ai_keywords": ["k"],
                   "githubRepo": "https://github.com/a/b"},
         "submittedOnDailyAt": "2024-08-20T00:00:00Z", "numComments": 1},
        {"id": "2401.00001v2", "title": "Flat", "authors": ["B"]},
    ], indent=1),
    arxiv_ids: "# list\n2101.01234v2\nhttps://arxiv.org/abs/2309.00001 # c\n"
               "https://huggingface.co/papers/2408.10188\nhep-th/9901001\n",
}

FAST = settings(max_examples=int(os.environ.get("PAPERSHELF_FUZZ_EXAMPLES", "150")), deadline=None,
                derandomize=not os.environ.get("PAPERSHELF_FUZZ_EXAMPLES"),
                suppress_health_check=[HealthCheck.too_slow])

INSERTS = st.sampled_from(["{", "}", '"', "'", "@", "%", "&", "#", "\\", "<", ">", "[", "]",
                           ",", "=", "\n", "\x00", "<!ENTITY x 'y'>", "@article{", "&amp;",
                           "\\\"{", "$", "~", "\ufeff", "\u202e", "null", "{{{{{{{{"])


def check(module, text: str) -> None:
    score = module.sniff(text)
    assert isinstance(score, float) and 0.0 <= score <= 1.0
    result = module.parse(text, "fuzz.txt")
    assert isinstance(result, ParseResult)
    for record in result.records:
        assert isinstance(record, PaperRecord)
        assert isinstance(record.title, str) and record.title.strip()
        assert record.year is None or isinstance(record.year, int)
        assert all(isinstance(a, str) for a in record.authors)
        record.key  # noqa: B018 - computing the key must work too
        json.dumps(record.to_dict())  # and the record must be storable
    for problem in result.problems + result.notices:
        assert isinstance(problem, Problem) and problem.message
        assert problem.line is None or (isinstance(problem.line, int) and problem.line >= 1)


@st.composite
def mutated(draw, seed: str):
    text = seed
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["cut", "flip", "insert", "delete", "dup"]))
        pos = draw(st.integers(0, max(0, len(text) - 1)))
        if op == "cut":
            text = text[:pos]
        elif op == "flip" and text:
            text = text[:pos] + chr(draw(st.integers(0, 0x2FF))) + text[pos + 1:]
        elif op == "insert":
            text = text[:pos] + draw(INSERTS) + text[pos:]
        elif op == "delete":
            end = pos + draw(st.integers(1, 20))
            text = text[:pos] + text[end:]
        elif op == "dup":
            end = pos + draw(st.integers(1, 80))
            text = text[:end] + text[pos:end] + text[end:]
    return text


@FAST
@given(st.text(max_size=400))
def test_random_text_all_parsers(text):
    for module in MODULES:
        check(module, text)
    detect_format(text)


@FAST
@given(st.data())
def test_mutated_bibtex(data):
    check(bibtex, data.draw(mutated(SEEDS[bibtex])))


@FAST
@given(st.data())
def test_mutated_atom(data):
    check(arxiv_atom, data.draw(mutated(SEEDS[arxiv_atom])))


@FAST
@given(st.data())
def test_mutated_dailypapers_json(data):
    check(dailypapers_json, data.draw(mutated(SEEDS[dailypapers_json])))


@FAST
@given(st.data())
def test_mutated_arxiv_ids(data):
    check(arxiv_ids, data.draw(mutated(SEEDS[arxiv_ids])))


@FAST
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["paper", "id", "title", "summary", "authors", "name",
                                       "publishedAt", "submittedOnDailyAt", "upvotes",
                                       "githubRepo", "projectPage", "ai_keywords", "papers"]),
                      children, max_size=6),
    max_leaves=25,
))
def test_json_of_any_shape(value):
    check(dailypapers_json, json.dumps(value))


def test_seeds_parse_cleanly():
    for module, seed in SEEDS.items():
        result = module.parse(seed, "seed")
        assert result.records, module.FORMAT
        assert module.sniff(seed) >= 0.5
    deep = "[" * 100000 + "]" * 100000
    check(dailypapers_json, deep)
    check(bibtex, "@article{x, title={" + "{" * 100000 + "}")
    check(arxiv_atom, "<feed xmlns='http://www.w3.org/2005/Atom'>" + "<a>" * 50000)
