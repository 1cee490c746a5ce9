""""For you" kept between rankings, so that a new ranking only does what changed.

A ranking from scratch at 100k papers reads ~2.7 million postings (the profile's 150 words)
and sums them: over a second in Python. But a paper's score is linear in the profile's word
units (index.foryou.Profile), so `RankingState` keeps, for every paper of the index:

- `sums`: the units of the profile words it uses, summed; `applied` says which units of which
  word are in those sums. A new profile adds (new units - applied units) over the postings of
  just the words that differ: after a star, that paper's profile words (~45 of the 150 at
  100k synthetic papers);
- the postings of those words, their document frequencies, the papers' lengths;
- the liked papers' word and tag counts (a star adds one paper's words) and the unread
  papers' list (a star removes one).

The units are whole numbers, so sums updated word by word are the sums a fresh ranking makes
(tests/test_foryou_state.py compares them). The work is done one word at a time with a
progress call in between that may raise to stop it: the sums stay consistent at every word,
and the next ranking goes on from there.

Everything here belongs to one index: postings name papers by the engine's document
numbers. A tag, a note or an import rewrites papers' documents or adds some: an old number goes
dead and the paper comes back at the end (and Whoosh may merge the small segments there, which
numbers their papers anew). `follow_index` follows that, reading only the papers from the first
number that moved. When the engine answers with other papers behind the numbers it kept (a
rebuild), or too many moved, `IndexMoved` is raised and the caller starts again from
`forget_index()`.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from itertools import compress
from operator import itemgetter, truediv

from index.foryou import (
    Profile,
    Ranking,
    Scores,
    UNIT,
    TermStats,
    profile_of,
    tag_count,
    unscaled,
    words_of,
)

Progress = Callable[[int, int], None]
# Between two progress calls (where a ranking ahead stops for a key), at most ~20-30 ms at 100k
# papers, where a common word has ~20,000 postings:
WORDS_PER_READ = 3  # words whose postings one engine call reads (~8 ms a word)
SUMS_PER_STEP = 5  # words whose postings are summed (~1.5 ms a word)
FREQUENCIES_PER_READ = 200  # words whose document frequency one engine call gives (~0.1 ms)
MOVED_AT_MOST = 5000  # papers renumbered at the end that follow_index reads; more: from scratch


class IndexMoved(Exception):
    """The engine's document numbers no longer mean the papers they meant."""


class RankingState:
    """What "for you" keeps for the next ranking (see the module docstring)."""

    def __init__(self) -> None:
        self.mark: int | None = None  # the store change mark `liked` and `candidates` are at
        self.liked: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {}  # key -> words, tags
        self.counts: Counter[str] = Counter()  # word -> liked papers using it
        self.tag_counts: Counter[str] = Counter()
        self.candidate_keys: list[str] = []  # the unread papers, newest first
        self.candidate_tags: list[Sequence[str]] = []  # ... their tags
        self.candidate_added: list[float] = []  # ... when they were added
        self._candidate_docs: list[int] | None = None  # ... their slots in `sums`
        self.ranking: Ranking | None = None
        self.ranking_mark: int | None = None  # the mark `ranking` was made at
        self.index_rewrote = False  # the index rewrote or added papers: follow_index first
        self.forget_index()

    # ---- the index ---------------------------------------------------------------------------

    def forget_index(self) -> None:
        self.keys: Sequence[str | None] | None = None  # by document number
        self.segments: tuple = ()  # the engine's segment layout the numbers are of
        self.length_norm: list[float] = []  # by slot: sqrt(length + 10) * UNIT
        self.docnums: dict[str, int] = {}  # key -> slot (its document number, mostly)
        self.postings: dict[str, Sequence[int]] = {}
        self.frequencies: dict[str, int] = {}
        self.total = 0  # papers in the index
        self.sums: list[float] = []  # by slot: document numbers, then papers not indexed
        self.applied: dict[str, int] = {}  # word -> units of it included in `sums`
        self._candidate_docs = None
        self.ranking = None

    def _doc_frequencies(self, stats: TermStats, progress: Progress | None
                         ) -> Callable[[list[str]], dict[str, int]]:
        def known(words: list[str]) -> dict[str, int]:
            missing = [w for w in words if w not in self.frequencies]
            for start in range(0, len(missing), FREQUENCIES_PER_READ):
                if progress is not None:
                    progress(0, 1)
                batch = missing[start:start + FREQUENCIES_PER_READ]
                found = stats.doc_frequencies(batch)
                self.frequencies.update({w: found.get(w, 0) for w in batch})
            return {w: self.frequencies[w] for w in words}
        return known

    def _read_postings(self, stats: TermStats, words: list[str]) -> None:
        found = stats.docs_with(words)
        if self.keys is None:
            self.keys, self.segments = found.keys, found.segments
            # times UNIT, a power of two: units / (UNIT * norm) == units / UNIT / norm exactly
            self.length_norm = [math.sqrt(n + 10) * UNIT for n in found.lengths]
            self.docnums = {key: doc for doc, key in enumerate(found.keys) if key is not None}
            self.sums = [0.0] * len(found.keys)  # floats: whole numbers, exact (UNIT)
            self._candidate_docs = None
        elif found.keys is not self.keys and list(found.keys) != list(self.keys):
            raise IndexMoved
        for word in words:
            self.postings[word] = found.docs.get(word, ())

    def follow_index(self, stats: TermStats) -> None:
        """Bring what is kept to the index as it is now, after papers were rewritten, added or
        deleted: the old numbers of rewritten ones are dead, and the papers from the first
        number that moved are read again. Raises IndexMoved when the index is not the kept
        one so changed (a rebuild, or more than MOVED_AT_MOST papers)."""
        self.index_rewrote = False
        if self.keys is None:
            return  # nothing kept: the next ranking reads it all
        found = stats.docs_with([])
        old, new = self.keys, found.keys
        self.total = 0  # papers deleted or added: read again
        if new is old or list(new) == list(old):  # deletions alone (Whoosh keeps their keys)
            self.keys, self.segments = new, found.segments
            return
        if len(self.sums) != len(old):  # slots of papers not in the index: start again
            raise IndexMoved
        first_moved, dead = self._first_moved(found)
        if len(new) < first_moved or len(old) - first_moved > MOVED_AT_MOST \
                or len(new) - first_moved > MOVED_AT_MOST:
            raise IndexMoved
        for doc in dead + list(range(first_moved, len(old))):
            if self.docnums.get(old[doc]) == doc:
                del self.docnums[old[doc]]
        del self.sums[first_moved:], self.length_norm[first_moved:]  # a dead one's stays, unread
        for word, docs in self.postings.items():
            if docs and docs[-1] >= first_moved:  # ascending (TermStats.docs_with)
                del docs[bisect_left(docs, first_moved):]
        moved = list(new[first_moved:])
        self.sums.extend([0.0] * len(moved))
        self.length_norm.extend(math.sqrt(n + 10) * UNIT for n in found.lengths[first_moved:])
        for doc, key in enumerate(moved, first_moved):
            if key is not None:
                self.docnums[key] = doc
        if moved and self.postings:
            appended = stats.docs_with(list(self.postings), first_moved)
            sums = self.sums
            for word, docs in appended.docs.items():
                kept = self.postings[word]
                if not isinstance(kept, array):
                    kept = self.postings[word] = array("I", kept)
                kept.extend(docs)
                if units := self.applied.get(word):
                    for doc in docs:
                        sums[doc] += float(units)
        self.keys, self.segments = new, found.segments
        if self._candidate_docs is not None:  # the moved candidates' slots (~25 ms to redo all)
            back = set(moved)  # a dead document's paper is usually among the moved ones
            self._move_candidates(moved, {d for d in dead if old[d] not in back}
                                  .union(range(first_moved, len(old))))
        # Document frequencies may have moved: a dead document still counts in Whoosh until
        # its segment is merged, and a merge drops those of papers rewritten before. Read
        # again (the engines keep what an unchanged segment answered: ~20 ms).
        self.frequencies.clear()

    def _first_moved(self, found) -> tuple[int, list[int]]:
        """(the first document number that may hold another paper than it did, the dead
        documents before it whose key is gone)."""
        old, new = self.keys, found.keys
        if found.segments or self.segments:
            # Whoosh: a dead document keeps its key, and a merge renumbers the documents of
            # the segments it merges, so a key in the same place may be another version of
            # the paper: everything from the first segment not kept as it was is read again
            # (the papers of dead documents before it are among them: rewrites come later).
            return _first_changed_segment(self.segments, found.segments, len(old)), []
        dead = []  # FTS5: ids never move; a dead one has no key
        for doc in _differing(old, new):
            if new[doc] is not None:
                return doc, dead
            dead.append(doc)
        return len(old), dead

    def _move_candidates(self, moved: list[str | None], again: set[int]) -> None:
        """Give the candidates among the `moved` keys, and those in the slots `again`, their
        slots now. A few moved papers (an edit) are looked up by key, in C; more, in one pass."""
        slots, keys = self._candidate_docs, self.candidate_keys
        if len(moved) <= 32 and not again:
            for key in moved:
                try:
                    at = keys.index(key)  # a list: ~0.3 ms at 100k papers, in C
                except ValueError:
                    continue  # not unread
                slots[at] = self._slot(key)
            return
        moved_keys = set(moved)
        for at, key in enumerate(keys):
            if slots[at] in again or key in moved_keys:
                slots[at] = self._slot(key)

    # ---- the liked and the unread papers -----------------------------------------------------

    def start_over(self, mark: int) -> None:
        """Forget everything; the caller then sets the liked papers and candidates at `mark`."""
        self.forget_index()
        self.liked.clear()
        self.counts.clear()
        self.tag_counts.clear()
        self.mark = mark

    def set_liked(self, key: str, paper) -> None:
        """`paper` (a PaperText) is liked now, or None: no longer (or never was)."""
        old = self.liked.pop(key, None)
        if old is not None:
            self.counts.subtract(old[0])
            self.tag_counts.subtract(old[1])
        if paper is not None:
            entry = (frozenset(words_of(paper.title, paper.abstract)), tuple(set(paper.tags)))
            self.liked[key] = entry
            self.counts.update(entry[0])
            self.tag_counts.update(entry[1])

    def set_candidates(self, candidates: list[tuple[str, Sequence[str], float]]) -> None:
        """The unread papers, newest first, as (key, tags, added)."""
        self.candidate_keys = [key for key, _, _ in candidates]
        self.candidate_tags = [tags for _, tags, _ in candidates]
        self.candidate_added = [added for _, _, added in candidates]
        self._candidate_docs = None

    def drop_candidates(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        if len(keys) > 8:  # an import: one pass, where a search for each takes ~0.5 ms
            gone = set(keys)
            kept = [at for at, key in enumerate(self.candidate_keys) if key not in gone]
            if len(kept) < len(self.candidate_keys):
                self.candidate_keys = list(_picked(self.candidate_keys, kept))
                self.candidate_tags = list(_picked(self.candidate_tags, kept))
                self.candidate_added = list(_picked(self.candidate_added, kept))
                if self._candidate_docs is not None:
                    self._candidate_docs = list(_picked(self._candidate_docs, kept))
            return
        for key in keys:
            if key in self.candidate_keys:
                at = self.candidate_keys.index(key)
                del self.candidate_keys[at], self.candidate_tags[at], self.candidate_added[at]
                if self._candidate_docs is not None:
                    del self._candidate_docs[at]

    def add_candidates(self, candidates: list[tuple[str, Sequence[str], float]]) -> None:
        """Papers unread again, each put where the newest-first order has it."""
        present = set(self.candidate_keys) if len(candidates) > 8 else self.candidate_keys
        for key, tags, added in candidates:
            if key in present:  # (a set for many: each search of the list takes ~0.5 ms)
                continue
            low, high = 0, len(self.candidate_keys)
            while low < high:  # the first paper that comes after it: older, or as old and
                middle = (low + high) // 2  # a later key
                if (-self.candidate_added[middle], self.candidate_keys[middle]) < (-added, key):
                    low = middle + 1
                else:
                    high = middle
            self.candidate_keys.insert(low, key)
            self.candidate_tags.insert(low, tags)
            self.candidate_added.insert(low, added)
            if self._candidate_docs is not None:
                if key in self.docnums or self.keys is None:
                    self._candidate_docs.insert(low, self._slot(key))
                else:  # a new paper: its slot once the index is followed (ranked() gives it)
                    self._candidate_docs = None

    # ---- ranking -----------------------------------------------------------------------------

    def profile(self, stats: TermStats, progress: Progress | None = None) -> Profile:
        """The liked papers' profile; `progress` comes between reads of document
        frequencies (new words only) and may raise."""
        if not self.total:
            self.total = stats.doc_count()
        return profile_of(self.counts, self.tag_counts, len(self.liked), self.total,
                          self._doc_frequencies(stats, progress))

    def apply(self, profile: Profile, stats: TermStats, progress: Progress | None) -> None:
        """Bring `sums` to `profile`'s units, reading only the words whose units changed.
        `progress(done, total)` comes between words and may raise: what is applied stays so."""
        changed = [w for w in profile.units.keys() | self.applied.keys()
                   if profile.units.get(w, 0) != self.applied.get(w, 0)]
        changed.sort()  # the same order every time (sets of str are not)
        unread = [w for w in changed if w not in self.postings]
        total = len(unread) + len(changed)
        if self.keys is None:
            if progress is not None:
                progress(0, total)
            self._read_postings(stats, [])  # the keys and lengths first: a step of its own
        for start in range(0, len(unread), WORDS_PER_READ):
            if progress is not None:
                progress(start, total)
            self._read_postings(stats, unread[start:start + WORDS_PER_READ])
        sums = self.sums
        for done, word in enumerate(changed):
            if progress is not None and done % SUMS_PER_STEP == 0:
                progress(len(unread) + done, total)
            delta = float(profile.units.get(word, 0) - self.applied.get(word, 0))
            for doc in self.postings[word]:
                sums[doc] += delta
            if profile.units.get(word):
                self.applied[word] = profile.units[word]
            else:
                self.applied.pop(word, None)
        if progress is not None:
            progress(total, total)  # a last chance to stop before the ranking is sorted

    def _slot(self, key: str) -> int:
        """Where `sums` keeps a candidate: its document number, or (a paper not in the index
        yet, which can share tags only) a slot of its own after them."""
        doc = self.docnums.get(key)
        if doc is None:
            doc = self.docnums[key] = len(self.sums)
            self.sums.append(0.0)
            self.length_norm.append(1.0)
        return doc

    def _slots_of_candidates(self) -> list[int]:
        """Every candidate's slot: looked up in C (~5 ms at 100k papers, where a call of
        _slot() a candidate took ~60), then a slot of its own for each not in the index."""
        slots = list(map(self.docnums.get, self.candidate_keys))
        at = -1
        while True:
            try:
                at = slots.index(None, at + 1)
            except ValueError:
                return slots
            slots[at] = self._slot(self.candidate_keys[at])

    def ranked(self, profile: Profile) -> Ranking:
        """The unread papers that share something with `profile`, best first (ties: newest
        first), from `sums` (apply() first)."""
        if self._candidate_docs is None:
            self._candidate_docs = self._slots_of_candidates()
        docs, sums, norm, liked = self._candidate_docs, self.sums, self.length_norm, profile.liked
        # By slot, every paper of the index at C speed: unscaled(units, norm, 0) (adding 0.0
        # changes no float). Sorted by these; the scores shown are these divided by `liked`
        # (equal scores from unequal values keep this order, as a fresh ranking does).
        values = list(map(truediv, sums, norm))
        if profile.tag_counts:
            for i in compress(range(len(docs)), self.candidate_tags):
                if shared := tag_count(profile, self.candidate_tags[i]):
                    values[docs[i]] = unscaled(sums[docs[i]], norm[docs[i]] / UNIT, shared)
        by_candidate = _picked(values, docs)
        shared = list(compress(by_candidate, by_candidate))  # sharing nothing: 0, left out
        # The keys themselves are sorted, each by its value: sort() calls the key function
        # once an item, in the list's order, so next() over the values in that order gives
        # each its own, in C. (Sorting slots, then picking their keys in ranked order, took
        # ~15 ms more at 100k: a cache miss on every key.) Stable: ties stay newest first.
        keys = sorted(compress(self.candidate_keys, by_candidate),
                      key=partial(next, iter(shared)), reverse=True)
        return Ranking(keys, Scores(keys, lambda: (v / liked for v in sorted(shared, reverse=True))),
                       profile, len(docs))


def _first_changed_segment(old: Sequence[tuple[str, int]], new: Sequence[tuple[str, int]],
                           end: int) -> int:
    """The first document number of the first segment that is not where it was (merged
    away, or new), or `end` when the layouts are the same."""
    for was, now in zip(old, new):
        if was != now:
            return min(was[1], now[1])
    if len(old) > len(new):
        return old[len(new)][1]
    if len(new) > len(old):
        return new[len(old)][1]
    return end


def _differing(old: Sequence, new: Sequence, chunk: int = 4096) -> Iterable[int]:
    """The positions where `old` and `new` differ (over the shorter length), in order: equal
    stretches are passed over a chunk at a time by a list comparison in C."""
    old, new = list(old), list(new)
    for start in range(0, min(len(old), len(new)), chunk):
        if old[start:start + chunk] != new[start:start + chunk]:
            for doc in range(start, min(start + chunk, len(old), len(new))):
                if old[doc] != new[doc]:
                    yield doc


def _picked(items: Sequence, indexes: Sequence[int]) -> Sequence:
    """items[i] for each i of `indexes`, in order: through one itemgetter, which takes 100k
    items in C at about half the time of a map over items.__getitem__."""
    if len(indexes) > 1:
        return itemgetter(*indexes)(items)
    return [items[i] for i in indexes]  # itemgetter of one index gives the item itself
