""""For you": rank unread papers by their likeness to what the reader starred or read.

The model is a tf-idf profile, as arxiv-sanity does it but without a trained classifier:

- the liked papers (starred, or marked read) give each word a weight: the share of liked papers
  that use it, times its idf over the whole library (from the search engine's `TermStats`),
  so "diffusion" in half of what you starred counts and "model" in every paper does not; the
  strongest PROFILE_WORDS words make the profile. The idf is rounded to 1/IDF_STEPS: a paper
  more or less in the library (a tag rewrites its document, which Whoosh counts twice until its
  segment is merged) then seldom moves a common word's weight, which would mean summing its
  ~40,000 postings again at 100k papers;
- the liked papers' tags give each tag the share of liked papers carrying it;
- an unread paper scores the weights of the profile words it uses (title and abstract, each
  word once), divided by the square root of its length in words plus 10 (a long abstract does
  not win by length), plus TAG_WEIGHT times the weights of the tags it shares.

Weights are kept as whole numbers of 1/UNIT (`Profile.units`), unscaled by the number of
liked papers, and a score is divided by that number last: the sums are exact, so a ranking
updated word by word after a star (index/foryou_state.py) is the one made from scratch.

The ranking reads which papers use which profile words, and their lengths, off the search
engine's posting lists (`TermStats.docs_with`), so no abstract is split while ranking. Both
engines give the scores `score()` gives from a paper's own text: Whoosh indexes each paper's
words as `indexed_words` splits them; FTS5 reads its unstemmed `spell` table, which splits the
same way on text of letters (it also counts numbers as words, and reads LaTeX decoded).

The reasons shown for a paper are the words and tags it shares with the profile, strongest
first, from its own text (`score`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from index.search.engine import WordDocs

# Weights are whole numbers of 1/UNIT, so sums of them are exact, even as floats: 150 words of
# idf <= 13 liked by up to ~250,000 papers stay below 2**53.
UNIT = 2 ** 24
PROFILE_WORDS = 150  # the profile's strongest words; more add noise, not taste
CANDIDATE_WORDS = 1000  # liked words whose document frequency is asked for (the most used;
# FTS5 answers ~20 us a word, and rarer words seldom weigh enough to make the profile)
TAG_WEIGHT = 2.0  # a shared tag counts as much as a strong shared word or two
IDF_STEPS = 64  # idf in 1/64 steps (idf spans ~0-12): a power of two, so weights stay whole
REASON_WORDS = 5
# Words every abstract uses: the idf would weigh them down anyway, but a profile from a handful
# of papers has too little evidence for that.
STOP_WORDS = frozenset(
    "about above after again against also among and any are based been before being between "
    "both but can could does doing done during each either else even every few for from "
    "further given had has have having here how however into its itself just less like made "
    "make makes many may more most much must new not now off often once one only other our "
    "ours out over own paper per propose proposed rather same several should show shows since "
    "some such than that the their them then there these they this those through thus too "
    "two under until upon use used uses using very via was way well were what when where "
    "whether which while who whose why will with within without would yet you your".split())

_WORD = re.compile(r"[^\W\d_]{3,30}")
_COMBINING_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Candidates are matched as bytes: on ASCII text one bytes.translate lowercases letters and
# turns everything else into spaces, and split() gives the words (the regex's words, short
# ones included, which never match a profile word): ~14 us a paper against ~50 us with the
# regex. Text with other characters takes the regex path.
_ASCII_LETTERS = bytes(c + 32 if 65 <= c <= 90 else c if 97 <= c <= 122 else 32
                       for c in range(256))


class TermStats(Protocol):
    """Term statistics of the library's full-text index (provided by the search engine).

    Words are lowercased, accent-folded, unstemmed title/abstract words."""

    def doc_count(self) -> int:
        """The number of papers in the index."""
        ...

    def doc_frequencies(self, words: Iterable[str]) -> dict[str, int]:
        """For each word, the number of papers whose title or abstract contains it (words
        the index does not know may be left out)."""
        ...

    def docs_with(self, words: Iterable[str], first_doc: int = 0) -> WordDocs:
        """For each word, the papers whose title or abstract contains it (from the id
        `first_doc` on), with every paper's length and key (index.search.engine.WordDocs)."""
        ...


def fold(text: str) -> str:
    """Lowercase and strip accents, as the index's tokenizer does ("Müller" -> "muller")."""
    text = text.lower()
    if text.isascii():
        return text
    return _COMBINING_MARKS.sub("", unicodedata.normalize("NFKD", text))


def words_of(title: str, abstract: str) -> set[str]:
    """The distinct words of a paper that can carry taste (3+ letters, not stop words)."""
    return indexed_words(title, abstract)[0]


def indexed_words(title: str, abstract: str) -> tuple[set[str], int]:
    """What a search engine keeps of a paper for "for you" (the Whoosh engine's `taste` field):
    the distinct words a profile word can be (3-30 letters, no stop words), split as `score`
    splits them, and the paper's length in words as `score` counts it."""
    text = f"{title} {abstract}"
    if text.isascii():  # _candidate_tokens' split, as str
        tokens = text.encode("ascii").translate(_ASCII_LETTERS).decode("ascii").split()
    else:
        tokens = _WORD.findall(fold(text))
    words = {word for word in set(tokens) if 2 < len(word) < 31}
    words -= STOP_WORDS
    return words, len(tokens)


def _candidate_tokens(title: str, abstract: str) -> list[bytes]:
    """The words of a paper as UTF-8 bytes, repeats and short words included: fast, for
    matching against a profile (Profile.match)."""
    text = f"{title} {abstract}"
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_LETTERS).split()
    return [word.encode() for word in _WORD.findall(fold(text))]


@dataclass(frozen=True)
class PaperText:
    """What the ranking reads of a paper: a liked one (starred or read) or a candidate."""

    key: str
    title: str
    abstract: str
    tags: Sequence[str] = ()


@dataclass
class Profile:
    """The reader's taste. Kept as whole numbers, unscaled by the number of liked papers:
    `units` (a word's liked-paper count times its idf, in 1/UNIT steps) and `tag_counts`, so
    scores are exact integer sums that a change of a few words can update without rounding
    drift (index.foryou_state), and a new liked paper does not rescale every word. A score is
    divided by `liked` at the end, which leaves the order as it is."""

    units: dict[str, int] = field(default_factory=dict)  # word -> weight in 1/UNIT steps
    tag_counts: dict[str, int] = field(default_factory=dict)  # tag -> liked papers with it
    liked: int = 0

    def __post_init__(self) -> None:
        self.match = {word.encode(): units for word, units in self.units.items()}

    @property
    def words(self) -> dict[str, float]:
        """word -> weight: the share of liked papers using it times its idf."""
        n = max(self.liked, 1)
        return {word: units / UNIT / n for word, units in self.units.items()}

    @property
    def tags(self) -> dict[str, float]:
        """tag -> the share of liked papers carrying it."""
        n = max(self.liked, 1)
        return {tag: count / n for tag, count in self.tag_counts.items()}

    def __bool__(self) -> bool:
        return bool(self.units or self.tag_counts)


@dataclass(frozen=True)
class Reason:
    """Why a paper ranks where it does: the profile words and tags it shares."""

    score: float
    words: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def text(self) -> str:
        parts = []
        if self.words:
            parts.append("words " + ", ".join(self.words))
        if self.tags:
            parts.append("tags " + ", ".join(self.tags))
        return "; ".join(parts) or "nothing in common"


class Scores(Mapping[str, float]):
    """A ranking's key -> score, as a dict made when first read: the app never reads it, and
    100k entries cost ~15 ms to make."""

    def __init__(self, keys: Sequence[str], values: Callable[[], Iterable[float]]) -> None:
        self._keys, self._values, self._dict = keys, values, None

    def _made(self) -> dict[str, float]:
        if self._dict is None:
            self._dict = dict(zip(self._keys, self._values()))
        return self._dict

    def in_order(self, keys: Sequence[str]) -> list[float]:
        """The scores of `keys`, in order: straight from the ranking when they are its keys,
        else from the dict (a lookup through the Mapping is ~1.5 us)."""
        if keys is self._keys and self._dict is None:
            return list(self._values())
        table = self._made()
        return [table.get(key, 0.0) for key in keys]

    def __getitem__(self, key: str) -> float:
        return self._made()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._made())

    def __len__(self) -> int:
        return len(self._keys)


@dataclass
class Ranking:
    keys: list[str] = field(default_factory=list)  # best first
    scores: Mapping[str, float] = field(default_factory=dict)
    profile: Profile = field(default_factory=Profile)
    unread: int = 0  # papers that were ranked (every unread paper)
    message: str = ""  # why there is no ranking, when there is none

    @property
    def liked(self) -> int:
        return self.profile.liked

    def score_list(self) -> list[float]:
        """The scores of `keys`, in order (~20 ms for 100k; ~150 ms a lookup at a time
        through the Mapping)."""
        if isinstance(self.scores, Scores):
            return self.scores.in_order(self.keys)
        return [self.scores.get(key, 0.0) for key in self.keys]

    def reason(self, paper) -> Reason | None:
        """Why this paper (a PaperText, or any object with title, abstract and tags, such as
        index.model.Paper) ranks where it does; computed when asked, as a 100k ranking keeps
        only scores."""
        return score(self.profile, paper)


NOTHING_LIKED = ("nothing to rank by yet: star papers or mark them read, and "
                 "\"for you\" ranks your unread papers by what they share with those")


def profile_of(counts: Counter[str], tag_counts: Counter[str], liked: int, total: int,
               doc_frequencies: Callable[[list[str]], dict[str, int]]) -> Profile:
    """The profile of `liked` papers whose words and tags were counted in `counts` and
    `tag_counts`, in a library of `total` papers. A function of those counts alone (ties are
    broken by the word), so a profile kept up to date star by star is the one built afresh."""
    if not liked:
        return Profile()
    common = sorted((-count, word) for word, count in counts.items() if count > 0)
    common = common[:CANDIDATE_WORDS]
    total = max(total, 1)
    frequencies = doc_frequencies([word for _, word in common])
    units = {}
    for negative_count, word in common:
        count = -negative_count
        idf = round(math.log((1 + total) / (1 + frequencies.get(word, 0))) * IDF_STEPS)
        if idf > 0:  # a word in (nearly) every paper says nothing about taste
            units[word] = count * idf * (UNIT // IDF_STEPS)
    strongest = sorted(units.items(), key=lambda item: (-item[1], item[0]))[:PROFILE_WORDS]
    tags = {tag: count for tag, count in tag_counts.items() if count > 0}
    return Profile(dict(strongest), tags, liked)


def score(profile: Profile, candidate) -> Reason | None:
    """The candidate's score and reasons, or None when it shares nothing with the profile."""
    value, shared = _value(profile, candidate.title, candidate.abstract, candidate.tags)
    if value is None:
        return None
    words = [word.decode() for word in shared]
    top = sorted(words, key=lambda w: (-profile.units[w], w))[:REASON_WORDS]
    shared_tags = profile.tag_counts.keys() & set(candidate.tags)
    return Reason(value, tuple(top), tuple(sorted(shared_tags)))


def _value(profile: Profile, title: str, abstract: str, tags) -> tuple[float | None, set[bytes]]:
    tokens = _candidate_tokens(title, abstract)
    shared = profile.match.keys() & tokens  # each word once, however often the paper uses it
    tags_shared = tag_count(profile, tags)
    if not shared and not tags_shared:
        return None, shared
    units = sum(profile.match[word] for word in shared)  # whole numbers: any order is exact
    return unscaled(units, math.sqrt(len(tokens) + 10), tags_shared) / profile.liked, shared


def unscaled(units: int, length_norm: float, tags_shared: int) -> float:
    """A paper's score times the number of liked papers (what rankings sort by), from its
    shared words' units, sqrt(its length + 10) and the liked papers' counts of its tags:
    every ranking computes it here, so equal inputs give equal floats."""
    return units / UNIT / length_norm + TAG_WEIGHT * tags_shared


def tag_count(profile: Profile, tags) -> int:
    """How many liked papers carry each of these tags, summed."""
    return sum(profile.tag_counts.get(t, 0) for t in tags) if tags and profile.tag_counts else 0
