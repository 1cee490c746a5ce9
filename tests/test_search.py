"""The search engines' contract: every test runs on both engines (Whoosh, the default, and
SQLite FTS5) through index.search.SearchIndex: the query language, filters, phrases and
prefixes, accents, exact totals, did-you-mean, similar papers, updates, damage, locking.
Engine-specific checks are in test_search_fts5.py and test_search_whoosh.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.bench_index_busy import HOLD_WRITER
from index.model import Paper
from index.query import parse
from index.search import ENGINES, IndexBusy, IndexUnavailable, SearchIndex

ROOT = Path(__file__).resolve().parents[1]


def paper(key, title, abstract="", authors=(), **kw):
    return Paper(key=key, title=title, abstract=abstract, authors=list(authors), **kw)


PAPERS = [
    paper("p:transformer", "Transformers for Image Recognition at Scale",
          "We apply a pure transformer to sequences of image patches.",
          ["Alexey Dosovitskiy", "Lucas Beyer"], year=2020, sources=["dailypapers:hf-2020.txt"],
          added=100.0),
    paper("p:diffusion", "Denoising Diffusion Probabilistic Models",
          "High quality image synthesis using diffusion probabilistic models.",
          ["Jonathan Ho", "Pieter Abbeel"], year=2020, sources=["bibtex:refs.bib"], added=200.0),
    paper("p:policy", "Diffusion Policy: Visuomotor Policy Learning via Action Diffusion",
          "A robot learns visuomotor policy with a conditional denoising process.",
          ["Cheng Chi", "Jürgen Müller"], year=2023, sources=["dailypapers:hf-2023.txt"],
          tags=["robotics"], added=300.0),
    paper("p:llm", "Large Language Models are Few-Shot Learners",
          "Scaling up language models greatly improves few-shot performance; large models.",
          ["Tom Brown"], year=2020, sources=["arxiv:2005.14165"], added=400.0,
          note="classic scaling paper"),
    paper("p:notadj", "Language Large: A Word Order Study",
          "We study large corpora of language but never the phrase in order.",
          ["Ana Núñez"], year=2021, sources=["bibtex:refs.bib"], added=500.0),
    paper("p:abstract-only", "A Survey of Sequence Models",
          "Transformers dominate; we survey attention and recurrent models for sequences.",
          ["Emily Stone"], year=2022, sources=["bibtex:other.bib"], added=600.0),
    paper("p:markup", "[@click=app.quit] Escaping [/] markup in titles",
          "Titles can carry [bold]markup[/bold] that must never run.",
          ["Mallory Evil"], year=2024, sources=["dailypapers:hf-2024.txt"], added=700.0),
]


@pytest.fixture(params=sorted(ENGINES))
def engine(request):
    return request.param


@pytest.fixture
def ix(tmp_path, engine):
    index = SearchIndex(tmp_path / "index", engine, writer_timeout=0.5)
    index.rebuild(PAPERS, total=len(PAPERS))
    yield index
    index.close()


def keys(result):
    return result.keys


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


def test_no_suggestion_when_query_has_hits(ix):
    assert ix.search("diffusion").suggestion is None
    assert ix.search("zzzzqqq").suggestion is None


# -- writes ------------------------------------------------------------------------------------


def test_update_then_search_finds_document_exactly_once(ix):
    """An updated paper is found exactly once, with its new text only."""
    assert ix.search("visuomotor").keys == ["p:policy"]  # open a searcher before the update
    changed = paper("p:policy", "Diffusion Policy Revisited", "visuomotor control, again",
                    ["Cheng Chi"], added=300.0)
    ix.upsert([changed])
    result = ix.search("visuomotor")
    assert result.keys == ["p:policy"]
    assert result.total == 1
    assert ix.search("revisited").keys == ["p:policy"]
    assert ix.search("title:learning visuomotor").total == 0  # old title gone
    ix.upsert([changed])  # again: still one copy
    assert ix.search("visuomotor").total == 1
    assert ix.doc_count() == len(PAPERS)


def test_upsert_adds_and_updates_in_one_call(ix):
    new = paper("p:new", "Graph Neural Networks", "message passing", ["Ann Lee"], added=800.0)
    old = paper("p:llm", "Large Language Models are Few-Shot Learners", "updated abstract text",
                ["Tom Brown"], added=400.0)
    ix.upsert([new, old])
    assert ix.doc_count() == len(PAPERS) + 1
    assert ix.search("message passing").keys == ["p:new"]
    assert ix.search("updated").keys == ["p:llm"]
    assert ix.search("greatly").total == 0
    # new words join the spelling dictionary
    assert ix.search("mesage").suggestion == "message"


def test_upsert_into_empty_index_with_duplicate_keys(tmp_path, engine):
    index = SearchIndex(tmp_path / "ix", engine)
    index.rebuild([])
    assert index.doc_count() == 0
    index.upsert([paper("k", "first version"), paper("k", "second version")])
    assert index.doc_count() == 1
    assert index.search("version").total == 1
    assert index.search("second").keys == ["k"]


def test_delete(ix):
    ix.delete(["p:diffusion", "not:there"])
    assert "p:diffusion" not in ix.search("diffusion").keys
    assert ix.doc_count() == len(PAPERS) - 1


def test_large_batches_in_chunks_and_overlapping_upserts(tmp_path, engine):
    from benchmarks.synthetic import make_records

    recs = make_records(1300, seed=3)
    papers = [paper(r.key, r.title, r.abstract, r.authors, added=float(i)) for i, r in enumerate(recs)]
    index = SearchIndex(tmp_path / "ix", engine)
    index.rebuild(papers[:1100])  # several insert chunks
    index.upsert(papers[1000:])  # overlapping: updates and adds
    assert index.doc_count() == 1300
    assert sorted(index.all_keys()) == sorted(r.key for r in recs)
    title_word = recs[1200].title.split()[-1]
    assert recs[1200].key in index.search(f'title:"{title_word}"', limit=None).keys
    # every indexed abstract word of an updated paper is still known to the spelling check
    word = max(recs[1050].abstract.split(), key=len).strip(".,;:").lower()
    assert index.search(word).suggestion is None
    index.close()


def test_rebuild_replaces_everything_and_reports_progress(ix, tmp_path):
    seen = []
    fresh = [paper(f"k{i}", f"Fresh paper number {i}", "fresh words", added=float(i)) for i in range(600)]
    ix.rebuild(iter(fresh), progress=lambda done, total: seen.append((done, total)))
    assert ix.doc_count() == 600
    assert ix.search("diffusion").total == 0
    assert seen and seen[-1] == (600, 600)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    # no temp or old directories left next to the index
    assert sorted(p.name for p in ix.directory.parent.iterdir()) == ["index"]
    other = SearchIndex(ix.directory, ix.name)
    other.open()
    assert other.doc_count() == 600
    other.close()


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


# -- opening, versions, damage -----------------------------------------------------------------


def test_open_missing_index_raises_unavailable(tmp_path, engine):
    with pytest.raises(IndexUnavailable):
        SearchIndex(tmp_path / "nothing", engine).open()
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexUnavailable):
        SearchIndex(tmp_path / "empty", engine).open()


def _index_files(directory: Path):
    return [p for p in directory.iterdir() if p.is_file()]


def _damage_all(directory, how):
    for path in _index_files(directory):
        data = path.read_bytes()
        if how == "truncate":
            path.write_bytes(data[: len(data) // 3])
        elif how == "scramble":
            path.write_bytes(bytes((b * 7 + 13) % 256 for b in data))
        elif how == "delete":
            path.unlink()


@pytest.mark.parametrize("how", ["truncate", "scramble", "delete"])
def test_damaged_index_raises_unavailable(ix, how):
    ix.close()
    _damage_all(ix.directory, how)
    with pytest.raises(IndexUnavailable):
        other = SearchIndex(ix.directory, ix.name)
        other.open()
        for word in ("model", "visuomotor", "diff*", '"large language"'):
            other.search(word)
        raise IndexUnavailable("not detected by reads either")


def test_caller_can_rebuild_after_damage(ix):
    ix.close()
    _damage_all(ix.directory, "truncate")
    with pytest.raises(IndexUnavailable):
        ix.open()
    ix.rebuild(PAPERS)
    assert ix.search("visuomotor").keys == ["p:policy"]


# -- concurrency -------------------------------------------------------------------------------

def test_writer_lock_held_by_another_process_raises_busy(ix):
    code = HOLD_WRITER[ix.name] + "print('locked', flush=True)\ntime.sleep(30)\n"
    holder = subprocess.Popen([sys.executable, "-c", code, str(ix.directory)],
                              stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "locked"
        # it gives up after the index's own timeout (how long that takes: bench_index_busy.py)
        with pytest.raises(IndexBusy, match=r"another papershelf process \(waited 0\.5 s\)"):
            ix.upsert([paper("x", "blocked")])
        with pytest.raises(IndexBusy):
            ix.delete(["p:llm"])
        with pytest.raises(IndexBusy):
            ix.rebuild(PAPERS)
        # reading is not blocked by a writer, and nothing was half-written
        assert ix.search("visuomotor").keys == ["p:policy"]
        assert ix.search("blocked").total == 0
    finally:
        holder.kill()
        holder.wait()
    # SIGKILL frees the lock
    ix.upsert([paper("x", "unblocked")])
    assert ix.search("unblocked").keys == ["x"]



def test_searches_run_while_another_thread_writes(ix):
    import threading

    batch = [paper(f"t{i}", f"Threaded paper {i}", "concurrent words", added=float(i)) for i in range(300)]
    errors, counts = [], []

    def writer():
        try:
            ix.upsert(batch)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    t = threading.Thread(target=writer)
    t.start()
    while t.is_alive():
        r = ix.search("visuomotor OR threaded", limit=5)
        counts.append(r.total)
    t.join()
    assert not errors
    assert counts and all(c in (1, 301) for c in counts)
    assert ix.search("visuomotor OR threaded").total == 301


def test_index_rebuilt_by_another_process_is_picked_up(ix):
    assert ix.search("visuomotor").keys == ["p:policy"]
    other = SearchIndex(ix.directory, ix.name)
    other.rebuild([paper("z", "Zebra stripes", "camouflage")])
    other.close()
    assert ix.search("zebra").keys == ["z"]
    assert ix.search("visuomotor").total == 0


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


@pytest.fixture
def library(tmp_path, engine):
    from index.library import Library
    from index.model import PaperRecord

    lib = Library.open(tmp_path / "lib", engine=engine)
    lib.add([PaperRecord(title=p.title, abstract=p.abstract, authors=p.authors, year=p.year,
                         source=(p.sources or ["bibtex:x.bib"])[0]) for p in PAPERS])
    yield lib
    lib.close()


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


@pytest.mark.parametrize("damage", ["missing", "damaged", "older"])
def test_library_rebuilds_a_missing_damaged_or_older_index(library, damage):
    import shutil

    from index.search import engine_dir

    directory = engine_dir(library.data_dir, library.engine_name)
    assert library.search("visuomotor").total == 1
    library.index.close()
    library._index = None
    if damage == "missing":
        shutil.rmtree(directory)
    elif damage == "damaged":
        for path in directory.iterdir():
            if path.is_file():
                path.write_bytes(b"\x00garbage" * 10)
    elif library.engine_name == "whoosh":
        (directory / "papershelf-index.json").write_text('{"format": "papershelf-whoosh", "schema": 0}')
    else:
        import sqlite3

        db = sqlite3.connect(directory / "search.sqlite")
        with db:
            db.execute("UPDATE meta SET value = '0' WHERE name = 'schema'")
        db.close()
    assert library.search("visuomotor").total == 1
    assert library.index.doc_count() == len(PAPERS)


_KILL_WORKER = r"""
import sys, time
from index.library import Library
from index.model import PaperRecord
from benchmarks.synthetic import make_records

lib = Library.open(sys.argv[1], engine=sys.argv[2])
what = sys.argv[3]
records = make_records(6000, seed=int(sys.argv[4]))
print("start", flush=True)
if what == "rebuild":
    while True:
        lib.reindex(progress=lambda done, total: print("at", done, flush=True))
else:
    for start in range(0, len(records), 500):
        lib.add(records[start:start + 500])
        print("at", start + 500, flush=True)
print("done", flush=True)
"""


@pytest.mark.parametrize("what", ["rebuild", "update"])
def test_a_kill_during_an_index_write_leaves_an_index_that_agrees(tmp_path, engine, what):
    import os
    import signal

    from index.library import Library
    from benchmarks.synthetic import make_records

    data = tmp_path / "lib"
    with Library.open(data, engine=engine) as lib:
        lib.add(make_records(800, seed=2))
    proc = subprocess.Popen([sys.executable, "-c", _KILL_WORKER, str(data), engine, what, "5"],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout.readline().strip() == "start"
    # Kill once the writes are under way: half-way through a rebuild (it reports every 500
    # papers of 800), or while the second of twelve batches is written.
    wanted = "at 500"
    while (line := proc.stdout.readline().strip()) != wanted:
        assert line.startswith("at "), f"the writes ended before the kill: {line!r}"
    os.kill(proc.pid, signal.SIGKILL)
    rest = proc.communicate()[0]
    assert "done" not in rest  # the kill came while it was writing
    with Library.open(data, engine=engine) as lib:
        stored = set(lib.store.filtered_keys())
        assert lib.search("model OR learning OR data", limit=None).total <= len(stored)
        lib.flush_index()
        assert sorted(lib.index.all_keys()) == sorted(stored)
        some = lib.get(sorted(stored)[0])
        word = max(some.title.split(), key=len)
        assert some.key in lib.search(f'title:"{word}"', limit=None).keys


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
