"""The search engines' contract: every test runs on both engines (Whoosh, the default, and
SQLite FTS5) through index.search.SearchIndex: the query language, filters, phrases and
prefixes, accents, exact totals, did-you-mean, similar papers. Writing the index, damage and
locking are in test_search_writes.py; engine-specific checks in test_search_fts5.py and
test_search_whoosh.py."""

from __future__ import annotations


import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.query import parse
from index.search import SearchIndex
from search_support import PAPERS, engine, ix, keys, library, paper  # noqa: F401 - fixtures


# -- the user-state filters (answered by the library, never the engine) -----------------------


def test_parse_pulls_user_state_out():
    q = parse('diffusion is:starred tag:"Robot Learning" is:unread title:policy')
    assert q.filters.starred is True
    assert q.filters.statuses == {"unread"}
    assert q.filters.tags == {"robot-learning"}
    assert [(w.text, w.field) for w, _ in q.words()] == [("diffusion", None), ("policy", "title")]
    assert q.error is None


def test_parse_negated_star_and_several_statuses():
    q = parse("-is:starred is:read IS:Reading tag:NLP tag:nlp")
    assert q.filters.starred is False
    assert q.filters.statuses == {"read", "reading"}
    assert q.filters.tags == {"nlp"}
    assert not q.has_text


def test_parse_unknown_is_value_is_an_error_not_an_exception():
    q = parse("model is:favourite")
    assert q.error and "is:favourite" in q.error
    assert parse("tag:").error
    assert parse("is:").error


def test_parse_leaves_quoted_text_alone():
    q = parse('"is:starred in a phrase" diffusion')
    assert q.filters.starred is None
    assert [w.text for w, _ in q.words()] == ["is:starred in a phrase", "diffusion"]


# -- basic search ------------------------------------------------------------------------------


def test_word_search_over_title_abstract_authors_tags_notes(ix):
    assert "p:diffusion" in keys(ix.search("probabilistic"))
    assert keys(ix.search("dosovitskiy")) == ["p:transformer"]
    assert keys(ix.search("robotics")) == ["p:policy"]  # tag
    assert keys(ix.search("classic")) == ["p:llm"]  # note


def test_stemming_and_accent_folding(ix):
    assert "p:diffusion" in keys(ix.search("model"))  # "Models"
    assert keys(ix.search("muller")) == ["p:policy"]
    assert keys(ix.search("Müller")) == ["p:policy"]
    assert keys(ix.search("nunez")) == ["p:notadj"]


def test_all_words_must_match(ix):
    assert keys(ix.search("diffusion robot")) == ["p:policy"]
    assert ix.search("diffusion zebra").total == 0


def test_title_outranks_abstract(ix):
    # "transformer" is in p:transformer's title, only in p:abstract-only's abstract
    result = ix.search("transformers")
    assert result.keys[0] == "p:transformer"
    assert "p:abstract-only" in result.keys


def test_phrase_requires_adjacent_words(ix):
    result = ix.search('"large language"')
    assert "p:llm" in result.keys
    assert "p:notadj" not in result.keys
    assert {"large", "language"} <= result.terms


def test_longer_phrases_and_stop_words_inside_them(ix, engine):
    ix.upsert([paper("p:three", "Order matters for abstractive summaries",
                     "We learn in order to abstractive summaries write, then sparse attention "
                     "heads follow the attention sparse pattern."),
               paper("p:reversed", "Summaries abstractive", "Attention heads sparse, never "
                     "in the order asked.")])
    assert keys(ix.search('"sparse attention heads"')) == ["p:three"]
    assert keys(ix.search('"heads sparse attention"')) == []  # the words, in another order
    assert keys(ix.search('"order to abstractive"')) == ["p:three"]  # "to" still has a place
    assert keys(ix.search('"abstractive summaries"')) == ["p:three"]
    assert set(keys(ix.search('"summaries abstractive"'))) == {"p:reversed"}


def test_boolean_operators(ix):
    assert set(keys(ix.search("robot OR dosovitskiy"))) == {"p:policy", "p:transformer"}
    assert "p:policy" not in keys(ix.search("diffusion NOT robot"))
    assert "p:policy" not in keys(ix.search("diffusion -robot"))
    assert "p:diffusion" in keys(ix.search("diffusion -robot"))
    assert set(keys(ix.search("(robot OR dosovitskiy) AND 2020 OR visuomotor"))) >= {"p:policy"}
    assert set(keys(ix.search("(robot OR scaling) language"))) == {"p:llm"}


def test_pure_negative_query_lists_the_rest(ix):
    result = ix.search("NOT diffusion")
    assert "p:diffusion" not in result.keys and "p:policy" not in result.keys
    assert "p:llm" in result.keys


def test_lowercase_operators_are_plain_words(ix):
    for q in ("diffusion and robot", "diffusion or robot", "not", "and", "or and not"):
        result = ix.search(q)
        assert result.error is None
    assert keys(ix.search("diffusion and robot")) == ["p:policy"]


def test_field_filters(ix):
    assert keys(ix.search("title:policy")) == ["p:policy"]
    assert "p:policy" not in keys(ix.search("title:robot"))  # robot is only in the abstract
    assert keys(ix.search("author:ho")) == ["p:diffusion"]
    assert keys(ix.search("authors:chi")) == ["p:policy"]
    assert keys(ix.search('author:"tom brown"')) == ["p:llm"]
    assert set(keys(ix.search("year:2020"))) == {"p:transformer", "p:diffusion", "p:llm"}
    assert set(keys(ix.search("year:2021..2022"))) == {"p:notadj", "p:abstract-only"}
    assert set(keys(ix.search("year:>=2023"))) == {"p:policy", "p:markup"}
    assert set(keys(ix.search("source:bibtex"))) == {"p:diffusion", "p:notadj", "p:abstract-only"}
    assert set(keys(ix.search("source:bibtex:refs.bib"))) == {"p:diffusion", "p:notadj"}
    assert keys(ix.search("abstract:visuomotor")) == ["p:policy"]
    assert keys(ix.search("notes:classic")) == ["p:llm"]
    assert keys(ix.search("diffusion year:2023")) == ["p:policy"]


def test_source_format_filter_is_exact(tmp_path, engine):
    index = SearchIndex(tmp_path / "ix", engine)
    index.rebuild([
        paper("page", "Herons", sources=["dailypapers:hf-2024.txt"]),
        paper("json", "Herons", sources=["dailypapers-json:daily.json"]),
        paper("atom", "Herons", sources=["arxiv:feed.xml"]),
        paper("ids", "Herons", sources=["arxiv-ids:list.txt"]),
    ])
    assert index.search("source:dailypapers").keys == ["page"]
    assert index.search("source:dailypapers-json").keys == ["json"]
    assert index.search("source:arxiv").keys == ["atom"]
    assert index.search("source:arxiv-ids herons").keys == ["ids"]
    assert index.search("source:daily.json").keys == ["json"]  # a file name
    assert index.search("source:dailypapers-json:daily.json").keys == ["json"]
    index.close()


def test_prefix_matches_title_and_authors_not_abstract(ix):
    result = ix.search("transform*")
    assert "p:transformer" in result.keys  # title
    assert "p:abstract-only" not in result.keys  # only the abstract has it: by design
    assert "transform" in result.terms
    assert keys(ix.search("dosov*")) == ["p:transformer"]  # author prefix
    assert keys(ix.search("title:visuo*")) == ["p:policy"]


def test_a_query_without_words_finds_nothing_in_the_engine(ix):
    # listing the library (newest first) is the store's job: see test_library
    assert ix.search("").keys == [] and ix.search("").total == 0
    assert ix.search("the").total == 0  # only a stop word: nothing to look for


def test_limit_and_total(ix):
    result = ix.search("model", limit=1)
    assert len(result.keys) == 1
    assert result.total >= 3
    assert len(ix.search("model", limit=None).keys) == result.total


def test_markup_in_titles_is_searchable_as_words(ix):
    result = ix.search("[@click=app.quit]")
    assert result.error is None
    assert result.keys == ["p:markup"]
    assert ix.search("[/]").error is None


# -- malformed queries never raise -------------------------------------------------------------

MALFORMED = [
    '"unbalanced quote', 'diffusion "', '"', '""', "(", ")", "((diffusion", "diffusion)) OR",
    "title:", "author:", "year:", "source:", "*", "**", " * ", "[/]", "[@click=app.quit]",
    "AND", "OR OR", "NOT", "diffusion AND", "OR diffusion", "- -", "-", "!", "title:*",
    "year:abc", "year:20", 'title:"', "\\", "\x00", "é*", "a*", "x:y:z", ":", "title::",
    "year:2020..", "year:..2021", "year:>2021", "tag:", "is:", "\u200b", "🙂 diffusion",
]


@pytest.mark.parametrize("query", MALFORMED)
@pytest.mark.parametrize("as_you_type", [False, True])
def test_malformed_queries_do_not_raise(ix, query, as_you_type):
    result = ix.search(query, typing=as_you_type)
    assert isinstance(result.keys, list)
    if result.error is not None:
        assert "\n" not in result.error and result.error.strip()
        assert "Traceback" not in result.error


def test_clear_errors_for_empty_filters(ix):
    assert "title:" in ix.search("title:").error
    assert ix.search("*").error
    assert "year" in ix.search("year:abc").error
    # unbalanced quotes and parentheses fall back to plain words
    assert keys(ix.search('"diffusion policy')) == ["p:policy"]
    assert keys(ix.search("(visuomotor")) == ["p:policy"]
    assert keys(ix.search("visuomotor)")) == ["p:policy"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from(list('ab *"():-![]/@=.tilyer ANDORNOT2019é')), max_size=30),
       st.booleans())
def test_fuzzed_queries_never_raise(ix, query, as_you_type):
    result = ix.search(query, typing=as_you_type)
    assert result.total >= len(result.keys)


# -- allowed (user-state filters resolved by the caller) ---------------------------------------


def test_allowed_restricts_results(ix):
    allowed = {"p:diffusion", "p:llm"}
    result = ix.search("model", allowed=allowed)
    assert set(result.keys) == {"p:diffusion", "p:llm"}
    assert result.total == 2
    # unknown keys are ignored; the same set again (kept between calls) gives the same answer
    for _ in range(2):
        result = ix.search("model", allowed=allowed | {"missing:key"})
        assert set(result.keys) == {"p:diffusion", "p:llm"}
        assert result.total == 2
    # a different set is not answered from the previous one
    assert ix.search("model", allowed={"p:llm"}).keys == ["p:llm"]
    assert ix.search("diffusion vis", allowed={"p:diffusion"}, typing=True).total == 0


def test_allowed_empty_set_means_nothing(ix):
    result = ix.search("model", allowed=set())
    assert result.keys == [] and result.total == 0


# -- as you type -------------------------------------------------------------------------------


def test_as_you_type_treats_last_word_as_prefix(ix):
    assert ix.search("diffusion vis").total == 0
    result = ix.search("diffusion vis", typing=True)
    assert result.keys == ["p:policy"]
    assert "vis" in result.terms
    # the word being typed matches title (prefix), authors and tags, not the abstract...
    assert ix.search("diffusion robot", typing=True).total == 0
    assert ix.search("diffusion robotics", typing=True).keys == ["p:policy"]  # tag
    # ...and anywhere once a space ends it
    assert ix.search("robot diffusion", typing=True).keys == ["p:policy"]
    assert ix.search("diffusion robot ", typing=True).keys == ["p:policy"]
    # trailing space: the last word is complete
    assert ix.search("diffusion vis ", typing=True).total == 0


def test_as_you_type_short_and_odd_inputs(ix):
    for q in ("d", "di", "dif", '"dif', "title:dif", "-dif", "(dif", "dif*", "diffusion O"):
        result = ix.search(q, typing=True)
        assert result.error is None, q
    assert "p:diffusion" in ix.search("denoi", typing=True).keys


# -- suggestions -------------------------------------------------------------------------------


def test_did_you_mean(ix):
    result = ix.search("difusion")
    assert result.total == 0
    assert result.suggestion == "difusion".replace("fu", "ffu")
    result = ix.search("robot visuomoter")
    assert result.suggestion == "robot visuomotor"


def test_a_word_left_unfinished_is_offered_as_a_prefix_when_that_finds_more(ix):
    # "tra" is one letter from "tea" (a word of the library), but "image tea" finds nothing
    ix.upsert([paper("p:tea", "Green Tea Leaves", "Tea grown on hills.", ["Ann Lee"])])
    assert ix.search("image tra").suggestion == "image tra*"
    assert ix.search("image tra*").keys == ["p:transformer"]
    assert ix.search("gren tea").suggestion == "green tea"  # a correction still wins


def test_no_suggestion_when_query_has_hits(ix):
    assert ix.search("diffusion").suggestion is None
    assert ix.search("zzzzqqq").suggestion is None


def test_similar(ix):
    text = "Denoising Diffusion Probabilistic Models. High quality image synthesis using diffusion."
    result = ix.similar("p:diffusion", text=text)
    assert "p:diffusion" not in result
    assert "p:policy" in result[:2]
    assert "p:notadj" not in result  # shares no key term
    assert ix.similar("no:such") == []


def test_similar_finds_other_forms_of_the_distinctive_words(tmp_path, engine):
    index = SearchIndex(tmp_path / "ix", engine)
    index.rebuild([
        paper("a", "Herons Nesting in Colonies", "Herons nest in large colonies by lakes."),
        paper("b", "A Heron Colony Census", "We count one heron colony each spring."),
        paper("c", "Sparrow Songs at Dawn", "Sparrows sing before sunrise in cities."),
    ])
    result = index.similar("a", text="Herons Nesting in Colonies. Herons nest in colonies.")
    assert result == ["b"]
    index.close()


# -- exact totals, accents, highlights --------------------------------------------------------


def _synthetic(n, seed=7):
    from benchmarks.synthetic import make_records

    return [paper(r.key, r.title, r.abstract, r.authors, year=r.year, added=float(i))
            for i, r in enumerate(make_records(n, seed=seed))]


def test_totals_are_exact_for_or_queries_under_a_limit(tmp_path, engine):
    """Whoosh's own count undercounts OR queries under a limit: the engine must count."""
    index = SearchIndex(tmp_path / "ix", engine)
    index.rebuild(_synthetic(1500))
    for q in ("model OR learning OR data", "model OR NOT graph", "learning", '"language model" OR data'):
        everything = index.search(q, limit=None)
        limited = index.search(q, limit=10)
        assert limited.total == everything.total == len(everything.keys), q
        assert len(limited.keys) == min(10, everything.total)
        assert set(limited.keys) <= set(everything.keys), q  # (ties may order either way)
    index.close()


def test_unicode_and_accents_fold_both_ways(tmp_path, engine):
    index = SearchIndex(tmp_path / "ix", engine)
    index.rebuild([
        paper("a", "Über die Zuverlässigkeit neuronaler Netze", "Eine Studie über Netze.",
              ["Jürgen Groß"]),
        paper("b", "Café culture and naïve models", "Crème brûlée as a benchmark."),
        paper("c", "日本語の論文 with mixed script", "Tokyo 東京"),
    ])
    assert index.search("uber").keys == ["a"]
    assert index.search("Über").keys == ["a"]
    assert index.search("zuverlassigkeit").keys == ["a"]
    assert index.search("author:jurgen").keys == ["a"]
    assert index.search("naive cafe").keys == ["b"]
    assert index.search('"creme brulee"').keys == ["b"]
    assert index.search("brûl", typing=True).total == 0  # abstract words are not typed prefixes
    assert index.search("caf", typing=True).keys == ["b"]
    assert index.search("mixed script").keys == ["c"]
    index.close()


def test_highlight_terms_come_from_the_query(ix):
    result = ix.search('diffusion "large language" -robot vis*')
    assert {"diffusion", "large", "language", "vis"} <= result.terms
    assert "robot" not in result.terms  # a word left out is not marked


# -- through the library: filters, suggestions, rebuilding -------------------------------------


def _key_of(lib, title_word):
    return lib.search(f"title:{title_word}").keys[0]


def test_did_you_mean_keeps_filters_and_the_rest_of_the_query(library):
    policy = _key_of(library, "visuomotor")
    library.set_star(policy)
    result = library.search('is:starred visuomoter year:2023 -"image patches"')
    assert result.total == 0
    assert result.suggestion == 'is:starred visuomotor year:2023 -"image patches"'
    assert library.search(result.suggestion).keys == [policy]
    # a correction that would find only unstarred papers is not offered
    assert library.search("is:starred transformr").suggestion is None


def test_empty_query_lists_the_library_newest_first(library):
    listed = library.search("")
    assert listed.total == len(PAPERS)
    assert library.search("", limit=2).keys == listed.keys[:2]
    assert library.search("tr", typing=True).total == len(PAPERS)  # too short to narrow yet


def test_an_empty_index_answers_with_nothing(tmp_path, engine):
    """A library whose first import was killed before any paper was saved has an empty index:
    every read must answer, not fail (found by the crash test)."""
    index = SearchIndex(tmp_path / "ix", engine)
    index.rebuild([])
    assert index.all_keys() == [] and index.doc_count() == 0
    assert index.search("model").total == 0 and index.search("-model").total == 0
    assert index.similar("x", text="herons nesting") == []
    index.upsert([paper("a", "Herons")])
    assert index.search("-model").keys == ["a"]


def test_docs_with_names_each_paper_holding_each_word_across_updates(tmp_path, engine):
    # "for you" reads which papers use which words off the engine's postings: after a build,
    # updates in later segments and deletions, each word's papers are exactly those whose
    # title or abstract uses it, and each paper's length is its own
    from index.foryou import indexed_words

    papers = [paper(f"p:{i}", "Heron study", ("herons wade " if i % 3 else "egrets fly ")
                    + "marsh " * (i % 4)) for i in range(60)]
    index = SearchIndex(tmp_path / "ix", engine)
    index.rebuild(papers)
    index.delete(["p:4", "p:9"])
    later = [paper("p:70", "Egrets and herons", "marsh birds"), paper("p:5", "Now about egrets", ""),
             paper("p:71", "Herons again", "marsh egrets")]
    index.upsert(later)
    index.delete(["p:71"])  # a deletion in a later segment
    live = {p.key: p for p in papers if p.key not in ("p:4", "p:9")} | \
        {p.key: p for p in later if p.key != "p:71"}
    found = index.docs_with(["heron", "egrets", "marsh"])  # words as split, unstemmed
    for word in ("heron", "egrets", "marsh"):
        expected = {k for k, p in live.items() if word in indexed_words(p.title, p.abstract)[0]}
        assert {found.keys[d] for d in found.docs[word]} == expected, word
        assert len(found.docs[word]) == len(expected)
    at = {key: d for d, key in enumerate(found.keys) if key in live}
    for key in ("p:0", "p:70", "p:5", "p:59"):
        p = live[key]
        assert found.lengths[at[key]] == indexed_words(p.title, p.abstract)[1], key
    # in ascending id order; and from an id on, only the papers from there
    for word in ("heron", "egrets", "marsh"):
        assert list(found.docs[word]) == sorted(found.docs[word]), word
    first = at["p:70"]
    tail = index.docs_with(["heron", "egrets", "marsh"], first_doc=first)
    assert list(tail.keys) == list(found.keys) and list(tail.lengths) == list(found.lengths)
    for word in ("heron", "egrets", "marsh"):
        assert list(tail.docs.get(word, ())) == [d for d in found.docs[word] if d >= first]
    assert "p:5" in {tail.keys[d] for d in tail.docs["egrets"]}  # rewritten: after p:70
    index.close()
