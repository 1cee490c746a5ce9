""""Did you mean": spelling corrections for the plain words of a query, from the engine's
vocabulary of unstemmed title and abstract words. Only words are rewritten; the caller keeps
every filter and the rest of the query as typed."""

from __future__ import annotations

import re

from index.query import Word
from index.search.engine import Engine, edit_distance

_SPELL_WORD = re.compile(r"[^\W\d_]{3,30}", re.UNICODE)


def corrections(engine: Engine, words: list[Word]) -> list[tuple[tuple[int, int], str]]:
    """(span, corrected word) for each word that is not in the vocabulary but close to one
    that is."""
    out = []
    for word in words:
        low = word.text.lower()
        if not _SPELL_WORD.fullmatch(low) or engine.has_word(low):
            continue
        best = best_correction(engine, low)
        if best and best != low:
            out.append((word.span, best))
    return out


def best_correction(engine: Engine, word: str) -> str | None:
    """The closest vocabulary word with the same first letter (<= 1 edit for short words,
    <= 2 otherwise), the most common first."""
    maxdist = 1 if len(word) <= 4 else 2
    candidates = engine.spelling_candidates(word, maxdist)
    if not candidates:
        return None
    frequency = engine.doc_frequencies(candidates)
    return min(candidates, key=lambda c: (edit_distance(word, c), -frequency.get(c, 0), c))
