"""The Whoosh engine scores a known set of matches off whole posting blocks (whoosh_score.py)
instead of walking Whoosh's matchers: the scores must be Whoosh's own, paper for paper, and the
ranking (and the cache of decoded postings it reads) must follow updates and deletions."""

from __future__ import annotations

import pytest
from whoosh import query as Q

import index.search.whoosh_sets as whoosh_sets
from index.query import parse
from index.search import SearchIndex
from index.search.whoosh_query import QueryCompiler, _PhraseFilter
from index.search.whoosh_score import best
from search_support import paper

# Several segments (a rebuild, then small commits), deletions, tags, notes, years, authors.
FIRST = [
    paper(f"p:{i}", title, abstract, authors, year=2020 + i % 5, added=float(i),
          tags=tags, note=notes)
    for i, (title, abstract, authors, tags, notes) in enumerate([
        ("Sparse attention for long documents", "We make attention sparse and long inputs cheap.",
         ["Ada Lovelace"], ["attention"], ""),
        ("Diffusion models for protein design", "A diffusion model designs proteins; diffusion "
         "steps are few.", ["Grace Hopper"], [], "read the diffusion part twice"),
        ("Retrieval augmented generation at scale", "Retrieval helps generation; we retrieve "
         "passages for a language model.", ["Alan Turing", "Ada Lovelace"], ["rag"], ""),
        ("Language model agents that reason", "Agents built on a language model reason in "
         "steps about tools and retrieval.", ["Barbara Liskov"], ["agents"], "good survey"),
        ("Robot manipulation from video", "Robots learn manipulation from video of people; "
         "no language model is used.", ["Ken Thompson"], [], ""),
        ("Quantization of diffusion transformers", "Low-bit quantization keeps diffusion "
         "transformers accurate.", ["Edsger Dijkstra"], ["quantization"], ""),
    ])
]
LATER = [
    paper("p:later1", "Sparse retrieval with learned weights", "Sparse retrieval models weigh "
          "terms for retrieval.", ["Ada Lovelace"], year=2025, added=10.0),
    paper("p:later2", "A language model for diffusion", "Diffusion meets the language model.",
          ["Grace Hopper"], year=2025, added=11.0, tags=["attention"]),
]
QUERIES = ["diffusion", "language model", "retrieval OR robot", "diffusion -protein",
           "sparse*", "rag", "year:2025 diffusion", "author:lovelace",
           "notes:diffusion", "attention", "(sparse OR quantization) diffusion"]


@pytest.fixture
def ix(tmp_path):
    index = SearchIndex(tmp_path / "index", "whoosh")
    index.rebuild(FIRST)
    index.upsert(LATER[:1])
    index.upsert(LATER[1:])
    index.upsert([paper("p:0", "Sparse attention for very long documents",
                        "Attention made sparse.", ["Ada Lovelace"], added=0.0)])
    index.delete(["p:4"])
    yield index
    index.close()


def _whoosh_scores(searcher, q) -> dict[int, float]:
    """Whoosh's own scores for every match (no limit, so no block skipping)."""
    return {d: score for score, d in searcher.search(q, limit=None).top_n}


@pytest.mark.parametrize("text", QUERIES)
def test_scores_equal_whooshs_own(ix, text):
    engine = ix.engine
    s = engine._get_searcher()
    assert len(list(s.leaf_searchers())) > 1  # the fixture spans segments
    q = QueryCompiler(s).build(parse(text).tree)
    found = whoosh_sets.matches(s, q, None, None)
    mine = best(s, q, found, None)
    theirs = _whoosh_scores(s, q)
    assert theirs, text
    assert {d for _, d in mine} == set(theirs)
    for score, d in mine:
        assert score == pytest.approx(theirs[d], rel=1e-9), (text, d)
    assert [score for score, _ in mine] == sorted((score for score, _ in mine), reverse=True)


def test_a_limit_keeps_the_best_and_breaks_ties_by_document(ix):
    s = ix.engine._get_searcher()
    q = QueryCompiler(s).build(parse("diffusion OR retrieval OR attention").tree)
    found = whoosh_sets.matches(s, q, None, None)
    every = best(s, q, found, None)
    assert len(every) >= 5
    for limit in (1, 2, 3, len(every), len(every) + 5):
        assert best(s, q, found, limit) == every[:limit]
    ordered = sorted(every, key=lambda item: (-item[0], item[1]))
    assert every == ordered


def test_matches_that_score_nothing_are_ranked_last(ix):
    s = ix.engine._get_searcher()
    # the phrase filter alone scores nothing: every match is there, in document order
    phrase = _PhraseFilter("abstract", ["diffus", "step"])
    found = whoosh_sets.matches(s, phrase, None, None)
    assert found
    ranked = best(s, Q.Or([phrase]), found, None)
    every = sorted(d + offset for sub, offset in s.leaf_searchers()
                   for d in found.get(whoosh_sets.segment_id(sub.reader()), ()))
    assert [d for _, d in ranked] == every
    assert {score for score, _ in ranked} == {0.0}


def test_search_results_follow_updates_with_postings_cached(ix):
    assert ix.search("diffusion", limit=None).keys[:1]  # reads (and caches) the postings
    before = set(ix.search("diffusion", limit=None).keys)
    ix.upsert([paper("p:1", "Protein design without noise", "No such steps here.",
                     ["Grace Hopper"], added=1.0)])
    after = ix.search("diffusion", limit=None)
    assert "p:1" not in after.keys and set(after.keys) == before - {"p:1"}
    assert after.total == len(after.keys)
    ix.upsert([paper("p:new", "Diffusion for everything", "Diffusion again.", added=20.0)])
    again = ix.search("diffusion", limit=None)
    assert again.keys.count("p:new") == 1 and again.total == len(before)


def test_the_postings_cache_stays_within_its_bound(ix, monkeypatch):
    monkeypatch.setattr(whoosh_sets, "POSTINGS_CACHED_AT_MOST", 3)
    monkeypatch.setattr(whoosh_sets, "_postings", type(whoosh_sets._postings)())
    monkeypatch.setattr(whoosh_sets, "_postings_held", 0)
    for text in QUERIES:
        ix.search(text, limit=None)
    held = sum(len(ids) for ids, _ in whoosh_sets._postings.values())
    assert held == whoosh_sets._postings_held
    assert held <= 3 or len(whoosh_sets._postings) == 1
    assert set(ix.search("diffusion", limit=None).keys) == {"p:1", "p:5", "p:later2"}
