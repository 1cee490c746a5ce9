"""Highlight search terms in text: pure Python, independent of the index engine.

`SearchResult.terms` holds the words and prefixes the user typed (lowercased, unstemmed). A word
in the text matches a term when it starts with the term or with the term's crude stem, ignoring
case: term "model" marks "Model", "models", "modelling"; term "training" marks "trained" and
"trains"; term "trans" (a typed prefix) marks "Transformer". One-letter terms only match the
whole word. This is deliberately simpler than the index's Porter stemmer: it only has to look
right, and it must be fast enough to run on every visible row.
"""

from __future__ import annotations

import re
from functools import lru_cache

_SUFFIXES = ("ations", "ation", "ings", "ing", "ers", "er", "ies", "es", "ed", "ly", "s")
_WORD = re.compile(r"\w+", re.UNICODE)


def crude_stem(word: str) -> str:
    """Strip one common English suffix, keeping at least 3 letters."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            if suffix == "ies":
                stem += "y"
            elif suffix in ("ing", "ed", "er", "ers", "ings") and len(stem) > 3 and stem[-1] == stem[-2]:
                stem = stem[:-1]  # "running" -> "run", "planned" -> "plan"
            return stem
    return word


@lru_cache(maxsize=256)
def _pattern(terms: frozenset[str]) -> re.Pattern[str] | None:
    prefixes: set[str] = set()
    exact: set[str] = set()
    for term in terms:
        for piece in _WORD.findall(term.casefold()):
            if len(piece) < 2:
                exact.add(piece)
                continue
            prefixes.add(piece)
            stem = crude_stem(piece)
            if stem != piece:
                prefixes.add(stem)
                if stem.endswith("y"):
                    prefixes.add(stem[:-1] + "i")  # "study" -> "studies"
    if not prefixes and not exact:
        return None
    parts = []
    if prefixes:
        alts = "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
        parts.append(rf"(?:{alts})\w*")
    if exact:
        alts = "|".join(re.escape(p) for p in sorted(exact))
        parts.append(rf"(?:{alts})(?!\w)")
    return re.compile(rf"(?<!\w)(?:{'|'.join(parts)})", re.IGNORECASE | re.UNICODE)


def highlight_spans(text: str, terms: set[str] | frozenset[str]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping (start, end) spans of the words in `text` that match a term."""
    if not text or not terms:
        return []
    pattern = _pattern(frozenset(terms))
    if pattern is None:
        return []
    return [m.span() for m in pattern.finditer(text)]


def snippet(
    text: str, terms: set[str] | frozenset[str], width: int = 160
) -> tuple[str, list[tuple[int, int]]]:
    """A window of about `width` characters of `text` around its densest cluster of matches,
    and the match spans relative to that window. Whitespace runs (newlines too) become single
    spaces; "…" marks a cut at either end (and is counted in the spans' offsets)."""
    flat = " ".join(text.split())
    if width <= 0:
        return "", []
    spans = highlight_spans(flat, terms)
    if len(flat) <= width:
        return flat, spans
    if not spans:
        start = 0
    else:
        # The window [s, s + width) that covers the most whole spans, anchored at a span start.
        best_i, best_count = 0, 0
        j = 0
        for i, (s, _) in enumerate(spans):
            if j < i:
                j = i
            while j + 1 < len(spans) and spans[j + 1][1] <= s + width:
                j += 1
            count = j - i + 1
            if count > best_count:
                best_i, best_count = i, count
        first = spans[best_i][0]
        last_end = spans[best_i + best_count - 1][1]
        # Centre the cluster, with some context before it.
        slack = max(0, width - (last_end - first))
        start = max(0, first - min(slack // 2, 40))
        if start > 0 and flat[start - 1] != " ":
            # begin at a word boundary (never past the first match, which starts a word)
            start = flat.find(" ", start, first) + 1 or first
    end = min(len(flat), start + width)
    if end < len(flat):
        ws = flat.rfind(" ", start, end)
        if ws > start + width // 2:
            end = ws
    if end == len(flat) and end - start < width:
        # near the end: use the whole width
        start = max(0, end - width)
        if start > 0 and flat[start - 1] != " ":
            start = flat.find(" ", start, end) + 1 or start
    body = flat[start:end]
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(flat) else ""
    shift = len(prefix) - start
    out = [
        (max(a, start) + shift, min(b, end) + shift)
        for a, b in spans
        if a < end and b > start
    ]
    return prefix + body + suffix, out
