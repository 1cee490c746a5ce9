"""Highlight spans and snippets (pure Python)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from index.highlight import crude_stem, highlight_spans, snippet


def marked(text, terms):
    return [text[a:b] for a, b in highlight_spans(text, terms)]


def test_whole_words_case_insensitive():
    assert marked("Diffusion models; DIFFUSION! diffusion", {"diffusion"}) == [
        "Diffusion", "DIFFUSION", "diffusion"]


def test_prefixes_and_simple_stemming():
    text = "Models, modelling, MODEL; remodel. Trained trains training."
    assert marked(text, {"model"}) == ["Models", "modelling", "MODEL"]  # not "remodel"
    assert marked(text, {"training"}) == ["Trained", "trains", "training"]
    assert marked(text, {"models"}) == ["Models", "modelling", "MODEL"]
    assert marked("Transformers transform", {"trans"}) == ["Transformers", "transform"]
    assert marked("studies of a study", {"studies"}) == ["studies", "study"]


def test_no_match_inside_words_or_for_unrelated_terms():
    assert marked("premodel supermodel", {"model"}) == []
    assert highlight_spans("anything", set()) == []
    assert highlight_spans("", {"x"}) == []
    assert marked("a b ab", {"a"}) == ["a"]  # one letter: whole word only


def test_spans_sorted_and_non_overlapping():
    text = "transformer transformers trans transit"
    spans = highlight_spans(text, {"trans", "transformer", "transformers", "t"})
    assert spans == sorted(spans)
    assert all(b <= a2 for (_, b), (a2, _) in zip(spans, spans[1:]))
    assert [text[a:b] for a, b in spans] == ["transformer", "transformers", "trans", "transit"]


def test_unicode_and_regex_metacharacters():
    assert marked("Jürgen Müller and MÜLLER", {"müller"}) == ["Müller", "MÜLLER"]
    assert marked("c++ and [/] and a.b*", {"[/]", "a.b*", "(", "c++"}) == ["c", "a", "b"]
    assert highlight_spans("[@click=app.quit]", {"click"}) == [(2, 7)]


def test_crude_stem():
    assert crude_stem("models") == "model"
    assert crude_stem("training") == "train"
    assert crude_stem("running") == "run"
    assert crude_stem("studies") == "study"
    assert crude_stem("is") == "is"


LONG = ("Intro words here. " * 20) + "Diffusion policy learns visuomotor policy. " + ("Tail text. " * 20)


def test_snippet_centres_on_the_densest_matches():
    text, spans = snippet(LONG, {"policy", "visuomotor"}, width=80)
    assert len(text) <= 82
    assert text.startswith("…") and text.endswith("…")
    assert [text[a:b] for a, b in spans] == ["policy", "visuomotor", "policy"]
    assert "Diffusion policy learns visuomotor policy." in text


def test_snippet_without_matches_is_the_start():
    text, spans = snippet(LONG, {"zebra"}, width=50)
    assert spans == []
    assert text.startswith("Intro words") and text.endswith("…")
    assert len(text) <= 51


def test_snippet_short_text_is_whole_and_flattened():
    text, spans = snippet("A short\n\ntext about  models", {"model"})
    assert text == "A short text about models"
    assert [text[a:b] for a, b in spans] == ["models"]


def test_snippet_match_at_the_end():
    body = "word " * 100 + "final diffusion"
    text, spans = snippet(body, {"diffusion"}, width=40)
    assert text.endswith("final diffusion")
    assert [text[a:b] for a, b in spans] == ["diffusion"]


@given(st.text(max_size=400), st.sets(st.text(min_size=1, max_size=6), max_size=4),
       st.integers(min_value=1, max_value=200))
def test_snippet_spans_always_inside_and_ordered(text, terms, width):
    out, spans = snippet(text, terms, width)
    for a, b in spans:
        assert 0 <= a < b <= len(out)
    assert spans == sorted(spans)
    assert len(out) <= width + 2


@given(st.text(max_size=300), st.sets(st.text(min_size=1, max_size=8), max_size=5))
def test_highlight_never_raises_and_spans_are_words(text, terms):
    spans = highlight_spans(text, terms)
    for (a, b), nxt in zip(spans, spans[1:] + [(len(text) + 1, 0)]):
        assert 0 <= a < b <= len(text) and b <= nxt[0]
