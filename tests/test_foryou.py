""""For you": unread papers ranked by what the reader starred, read and tagged.

The library is made here: papers on three topics with their own words, over a shared stock of
generic words. Starring papers of one topic must bring that topic to the top."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from dataclasses import replace

import pytest

from index.foryou import NOTHING_LIKED, PaperText, words_of
from index.library import Library
from index.model import PaperRecord
from tui.cli import main

TOPICS = {
    "astro": "exoplanet transit stellar photometry telescope orbital atmosphere spectra "
             "planetary luminosity".split(),
    "protein": "protein folding residue binding enzyme molecular docking ligand peptide "
               "conformation".split(),
    "speech": "speech acoustic phoneme speaker waveform vocoder prosody utterance "
              "transcription audio".split(),
}
GENERIC = ("method results approach evaluate dataset framework analysis accuracy performance "
           "study baseline measure signal estimate careful practical simple robust").split()
PER_TOPIC = 20


def topic_records(seed: int = 7) -> list[PaperRecord]:
    rng = random.Random(seed)
    records = []
    for n in range(PER_TOPIC):
        for topic, words in TOPICS.items():
            title = " ".join(rng.sample(words, 3) + rng.sample(GENERIC, 2)).capitalize()
            abstract = " ".join(rng.choice(words) if i % 3 == 0 else rng.choice(GENERIC)
                                for i in range(30)) + "."
            records.append(PaperRecord(title=f"{title} {n}", abstract=abstract,
                                       arxiv_id=f"2611.{len(records) + 10000:05d}",
                                       source=f"test:{topic}", extra={"topic": topic}))
    return records


def topic_of(lib: Library, key: str) -> str:
    """The topic a paper was written on (kept in its source, not in its words)."""
    return lib.get(key).sources[0].split(":")[-1]


@pytest.fixture
def topical(tmp_path):
    library = Library.open(tmp_path / "lib")
    library.add(topic_records())
    yield library
    library.close()


def keys_on(lib: Library, topic: str) -> list[str]:
    return [p.key for p in lib.all_papers() if p.sources[0].split(":")[-1] == topic]


def test_starring_one_topic_brings_that_topic_to_the_top(topical):
    starred = keys_on(topical, "astro")[:5]
    topical.set_star_many(starred, True)
    ranking = topical.for_you()
    assert ranking.liked == 5 and ranking.message == ""
    assert ranking.unread == 3 * PER_TOPIC - 5  # every unread paper, the starred ones left out
    assert not set(starred) & set(ranking.keys)
    top = [topic_of(topical, key) for key in ranking.keys[:PER_TOPIC - 5]]
    assert top == ["astro"] * (PER_TOPIC - 5)
    first = topical.get(ranking.keys[0])
    reason = ranking.reason(first)  # any object with title, abstract and tags
    assert reason.words and set(reason.words) <= set(TOPICS["astro"])


def test_papers_marked_read_count_like_starred_ones(topical):
    for key in keys_on(topical, "speech")[:4]:
        topical.set_status(key, "read")
    ranking = topical.for_you(limit=10)
    assert len(ranking.keys) == 10
    assert {topic_of(topical, key) for key in ranking.keys} == {"speech"}


def test_a_shared_tag_lifts_a_paper_and_is_named_as_the_reason(topical):
    astro, protein = keys_on(topical, "astro"), keys_on(topical, "protein")
    for key in astro[:5]:
        topical.set_star(key)
        topical.add_tag(key, "observing-run")
    topical.add_tag(protein[0], "observing-run")  # off-topic words, but the reader's tag
    ranking = topical.for_you()
    assert ranking.keys.index(protein[0]) < ranking.keys.index(protein[1])
    paper = topical.get(protein[0])
    reason = ranking.reason(PaperText(paper.key, paper.title, paper.abstract, paper.tags))
    assert reason.tags == ("observing-run",)


def test_the_ranking_follows_new_stars(topical):
    topical.set_star_many(keys_on(topical, "astro")[:3], True)
    assert topic_of(topical, topical.for_you(limit=1).keys[0]) == "astro"
    topical.set_star_many(keys_on(topical, "astro")[:3], False)
    topical.set_star_many(keys_on(topical, "protein")[:3], True)
    assert topic_of(topical, topical.for_you(limit=1).keys[0]) == "protein"


def test_nothing_starred_or_read_says_so_instead_of_ranking(topical):
    ranking = topical.for_you()
    assert ranking.keys == [] and ranking.message == NOTHING_LIKED


@pytest.mark.parametrize("engine", ["whoosh", "sqlite"])
def test_term_stats_count_papers_per_word(topical, engine):
    topical.add([PaperRecord(title="Photometry of Müller's Ünusual Stars",
                             abstract="Photometry again, photometry.", source="test:x")])
    topical.flush_index()
    with Library.open(topical.data_dir, engine=engine) as lib:
        stats = lib.term_stats()
        papers = list(lib.all_papers())
        anywhere = sum("photometry" in words_of(p.title, p.abstract) for p in papers)
        in_abstracts = sum("photometry" in words_of("", p.abstract) for p in papers)
        in_titles = sum("photometry" in words_of(p.title, "") for p in papers)
        assert stats.doc_count() == 3 * PER_TOPIC + 1
        found = stats.doc_frequencies(["photometry", "muller", "unusual", "nosuchword"])
        # FTS5 counts exactly; Whoosh takes the larger of its title and abstract counts
        expected = anywhere if engine == "sqlite" else max(in_abstracts, in_titles)
        assert found["photometry"] == expected and expected > 1
        assert found["muller"] == 1 and found["unusual"] == 1  # accent-folded
        assert "nosuchword" not in found
        # a word "for you" leaves out ("again": a stop word there) is still counted, for
        # spelling suggestions
        assert "again" not in words_of("", "Photometry again") and \
            stats.doc_frequencies(["again"]).get("again", 0) >= 1


def test_words_of_folds_case_and_accents_and_skips_short_and_stop_words():
    assert words_of("Ünusual Stars of the Ω-Type", "We use a MÜLLER 3d setup") == {
        "unusual", "stars", "type", "muller", "setup"}


# ---- the command line ------------------------------------------------------------------------

def run(data, capsys, *argv, expect=0):
    code = main(["--data-dir", str(data), *argv])
    out, err = capsys.readouterr()
    assert code == expect, err
    return out, err


def lib_key(data, line: str) -> str:
    """The paper key of a `list` line (it shows the citation key)."""
    with Library.open(data) as lib:
        return lib.resolve(line.split()[0])


def test_cli_lists_the_ranking_with_its_reasons(tmp_path, capsys):
    data = tmp_path / "data"
    with Library.open(data) as lib:
        lib.add(topic_records())
        lib.set_star_many(keys_on(lib, "protein")[:5], True)
        expected = lib.for_you(limit=3).keys
    out, err = run(data, capsys, "list", "--for-you", "--limit", "3")
    lines = out.splitlines()
    assert len(lines) == 6 and all(line.startswith("      shares words ") for line in lines[1::2])
    assert [lib_key(data, line) for line in lines[::2]] == expected
    assert "3 of " in err and "the 5 you starred or read" in err
    out, _ = run(data, capsys, "list", "--for-you", "--limit", "3", "--json")
    data_json = json.loads(out)
    assert [r["key"] for r in data_json["results"]] == expected
    assert data_json["liked"] == 5 and data_json["unread"] == 3 * PER_TOPIC - 5
    assert set(data_json["results"][0]["shared_words"]) <= set(TOPICS["protein"])
    scores = [r["score"] for r in data_json["results"]]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0


def test_cli_with_nothing_liked_says_so(tmp_path, capsys):
    data = tmp_path / "data"
    with Library.open(data) as lib:
        lib.add(topic_records()[:6])
    out, err = run(data, capsys, "list", "--for-you")
    assert out == "" and err.strip() == NOTHING_LIKED
    out, _ = run(data, capsys, "list", "--for-you", "--json")
    assert json.loads(out)["results"] == [] and json.loads(out)["message"] == NOTHING_LIKED
    _, err = run(data, capsys, "list", "--for-you", "--starred", expect=2)
    assert "does not combine" in err


def test_cli_for_you_in_a_real_process(tmp_path):
    data = tmp_path / "data"
    with Library.open(data) as lib:
        lib.add(topic_records())
        lib.set_star_many(keys_on(lib, "speech")[:5], True)
    result = subprocess.run([sys.executable, "-m", "tui.cli", "--data-dir", str(data), "list",
                             "--for-you", "--limit", "5", "--json"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    sources = [r["sources"] for r in json.loads(result.stdout)["results"]]
    assert sources == [["test:speech"]] * 5


def test_ranking_reports_progress_and_stops_when_asked(topical, monkeypatch):
    import index.foryou_state

    monkeypatch.setattr(index.foryou_state, "WORDS_PER_READ", 10)
    topical.set_star_many(keys_on(topical, "astro")[:5], True)
    seen = []
    ranking = topical.for_you(progress=lambda done, total: seen.append((done, total)))
    assert len(seen) > 5 and all(done <= total for done, total in seen)
    words = [done for done, total in seen if total == seen[-1][1]]  # the steps over the words
    assert words == sorted(words) and seen[-1][0] == seen[-1][1] > 10
    assert ranking.unread == 55

    class Stop(Exception):
        pass

    def stop(done, total):
        raise Stop

    topical.set_star(keys_on(topical, "astro")[5])  # a change: the next call ranks again
    with pytest.raises(Stop):
        topical.for_you(progress=stop)
    again = topical.for_you()
    assert again.unread == 54  # nothing half-made was kept
    with Library.open(topical.data_dir) as fresh:
        assert again.scores == fresh.for_you().scores


def test_the_ranking_follows_a_change_to_a_papers_text(topical):
    topical.set_star_many(keys_on(topical, "astro")[:5], True)
    # a paper listed first without an abstract gains one: the ranking sees its new words
    late = PaperRecord(title="Untitled draft notes", abstract="", arxiv_id="2611.09999",
                       source="test:late")
    topical.add([late])
    assert "arxiv:2611.09999" not in topical.for_you().keys
    topical.add([PaperRecord(title="Untitled draft notes", arxiv_id="2611.09999",
                             abstract="exoplanet transit photometry telescope spectra",
                             source="test:late2")])
    assert "arxiv:2611.09999" in topical.for_you().keys
    # a paper starred is no longer ranked
    topical.set_star("arxiv:2611.09999")
    assert "arxiv:2611.09999" not in topical.for_you().keys


# ---- the ranking read off the engine's posting lists -------------------------------------------

def letters_only(records: list[PaperRecord]) -> list[PaperRecord]:
    """The topic library without numbers in its titles (FTS5 counts a number as a word where
    the text-splitting score() does not), and with what an engine's own analysis would drop
    or merge in its abstracts: stop words, one-letter words, plurals of the topic words."""
    rng = random.Random(3)
    out = []
    for r in records:
        plurals = [w + "s" for w in rng.sample(TOPICS[r.extra["topic"]], 2)]
        extra = " ".join(plurals + ["of", "the", "a", "b"] * rng.randint(0, 3))
        out.append(replace(r, title=" ".join(w for w in r.title.split() if w.isalpha()),
                           abstract=f"{r.abstract} {extra}"))
    return out


@pytest.mark.parametrize("engine", ["whoosh", "sqlite"])
def test_the_postings_ranking_scores_each_paper_as_its_text_does(tmp_path, engine, monkeypatch):
    import index.search.whoosh_build
    from index.foryou import score

    # Whoosh: a segment every 20 papers, and the spelling words' documents in one of their own
    monkeypatch.setattr(index.search.whoosh_build, "SEGMENT_PAPERS", 20)
    with Library.open(tmp_path / "lib", engine=engine) as lib:
        lib.add(letters_only(topic_records()))
        lib.reindex()
        astro = keys_on(lib, "astro")
        lib.set_star_many(astro[:4], True)
        lib.set_status(keys_on(lib, "speech")[0], "read")
        lib.add_tag(astro[0], "observing-run")
        # a paper tagged after the index was written: Whoosh deletes its old document and
        # writes the new one in a new segment
        lib.add_tag(keys_on(lib, "protein")[0], "observing-run")
        ranking = lib.for_you()
        unread = [p for p in lib.all_papers() if not p.starred and p.status != "read"]
        profile = ranking.profile
        expected = {p.key: r.score for p in unread if (r := score(profile, p)) is not None}
        assert ranking.unread == len(unread) == 3 * PER_TOPIC - 5
        assert ranking.scores == expected and len(expected) > 40
        assert ranking.keys == sorted(expected, key=lambda k: (-expected[k], ranking.keys.index(k)))
        assert [topic_of(lib, k) for k in ranking.keys[:PER_TOPIC - 4]] == ["astro"] * 16
