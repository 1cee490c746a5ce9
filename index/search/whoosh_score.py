"""Scores of a known set of matches, read off whole posting blocks: Whoosh's BM25F, as its own
matchers compute it, without walking them one document at a time.

Once set arithmetic (whoosh_sets.py) has found exactly which documents a query matches, Whoosh
would still find them again through its Python matcher tree to score them: ~40 us a match, so
0.1-0.4 s for a common word or a two-word query at 100,000 papers. Here each term's postings
are read whole (decoded once, then cached: whoosh_sets.postings) and scored in one loop, with the
length normalisation looked up from a table of the 256 possible stored lengths: a few hundred
ns a posting. The scores equal Whoosh's up to the order floats are added in (a test checks it).

Part of the Whoosh engine (whoosh.py); like whoosh_sets.py it relies on whoosh3's posting block
attributes, which the exact pin in pyproject.toml keeps.
"""

from __future__ import annotations

from itertools import compress

from whoosh import query as Q
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.util.numeric import byte_to_length

from index.search.whoosh_sets import match_set, postings, segment_id


def best(searcher, q, found: dict, limit: int | None) -> list[tuple[float, int]]:
    """(score, global document number) of the best `limit` of `found` ({segment id: local
    documents}, all of which `q` matches), best first; ties in document order. Every document of
    `found` is ranked, those that score nothing last."""
    segments = []  # (offset, {local document: score})
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        docs = found.get(segment_id(reader))
        if docs:
            scores = _SegmentScores(searcher, reader, set(docs)).of(q)
            if len(scores) < len(docs):
                scores = {**dict.fromkeys(docs, 0.0), **scores}
            segments.append((offset, scores))
    count = sum(len(scores) for _, scores in segments)
    if limit is not None and limit < count:
        # the limit-th best score, found among the bare floats (sorted in C), lets only the
        # documents that reach it become (score, document) pairs
        values = [v for _, scores in segments for v in scores.values()]
        values.sort(reverse=True)
        floor = values[limit - 1] if limit > 0 else float("inf")
        ranked = [(v, d + offset) for offset, scores in segments
                  for d, v in scores.items() if v >= floor]
    else:
        ranked = [(v, d + offset) for offset, scores in segments for d, v in scores.items()]
    ranked.sort(key=_best_first)
    return ranked if limit is None else ranked[:limit]


def _best_first(item: tuple[float, int]):
    return -item[0], item[1]


class _SegmentScores:
    """Scores within one segment, for the documents of `wanted` only."""

    def __init__(self, searcher, reader, wanted: set[int]):
        self.searcher = searcher  # the top searcher: idf and average lengths are global
        self.reader = reader
        self.wanted = wanted
        self._lengths: dict[str, tuple[list[float], bytes]] = {}
        weighting = searcher.weighting  # the searcher's default, BM25F with one B for all
        self.k1, self.b = weighting.K1, weighting.B

    def of(self, q) -> dict[int, float]:
        """{document: score} of the wanted documents `q` matches."""
        if isinstance(q, Q.Term):
            return self.term(q.fieldname, q.text, q.boost)
        if isinstance(q, Q.MultiTerm):  # Prefix, TermRange: their terms ORed (Whoosh scores
            # each term even with constantscore: its searcher falls back to BM25F)
            return _summed([self.term(q.fieldname, t, q.boost) for t in q._btexts(self.reader)])
        if isinstance(q, Q.And):
            return _intersected([self.of(c) for c in q.subqueries])
        if isinstance(q, Q.Or):
            return _summed([self.of(c) for c in q.subqueries])
        if isinstance(q, Q.AndNot):
            scores = self.of(q.a)
            excluded = match_set(q.b, self.reader)
            return {d: s for d, s in scores.items() if d not in excluded}
        if isinstance(q, Q.Every):
            return dict.fromkeys(self.wanted, float(q.boost))
        if hasattr(q, "leaf_docs"):  # the engine's phrase filter: it scores nothing
            return dict.fromkeys(self.wanted.intersection(match_set(q, self.reader)), 0.0)
        raise TypeError(f"no score for {type(q).__name__}")  # as whoosh_sets has no set

    def term(self, fieldname: str, text, boost: float) -> dict[int, float]:
        reader, wanted = self.reader, self.wanted
        ids, weights = postings(reader, fieldname, text)
        # the wanted postings, picked in C: a phrase's words are in most papers, its matches
        # in few
        picked = compress(zip(ids, weights), map(wanted.__contains__, ids))
        if not self.searcher.schema[fieldname].scorable:  # Whoosh's WeightScorer: the weight
            return {d: w * boost for d, w in picked}
        # bm25(idf, tf, fl, avgfl, B, K1) of whoosh.scoring, the length part from a table
        idf = self.searcher.idf(fieldname, text)
        k1_plus_1 = self.k1 + 1
        norm, lengths = self._lengths_of(fieldname)
        out = {d: idf * ((w * k1_plus_1) / (w + norm[lengths[d]])) for d, w in picked}
        if boost != 1.0:
            out = {d: s * boost for d, s in out.items()}
        return out

    def _lengths_of(self, fieldname: str) -> tuple[list[float], bytes]:
        found = self._lengths.get(fieldname)
        if found is None:
            found = self._lengths[fieldname] = (self._length_norms(fieldname),
                                                self._length_bytes(fieldname))
        return found

    def _length_norms(self, fieldname: str) -> list[float]:
        """K1 * ((1 - B) + B * fl / avgfl) for each of the 256 stored length bytes."""
        k1, b = self.k1, self.b
        avgfl = self.searcher.avg_field_length(fieldname) or 1
        # byte 0 means "no length": Whoosh's default for a missing length is 1
        return [k1 * ((1 - b) + b * (byte_to_length(i) if i else 1) / avgfl) for i in range(256)]

    def _length_bytes(self, fieldname: str) -> bytes:
        """Every document's stored length byte for the field, read whole."""
        count = self.reader.doc_count_all()
        perdoc = getattr(self.reader, "_perdoc", None)
        column = None if perdoc is None else perdoc._cached_reader(_lenfield(fieldname),
                                                                    LENGTHS_COLUMN)
        if column is None:
            return bytes(count)
        if not hasattr(column, "_basepos"):
            return bytes(column[d] for d in range(count))
        data = column._dbfile.get(column._basepos, column._count * column._fixedlen)
        return bytes(data) + bytes(max(count - len(data), 0))


def _summed(parts: list[dict[int, float]]) -> dict[int, float]:
    parts = [p for p in parts if p]
    if not parts:
        return {}
    parts.sort(key=len, reverse=True)
    out = dict(parts[0])
    get = out.get
    for part in parts[1:]:
        for d, s in part.items():
            out[d] = get(d, 0.0) + s
    return out


def _intersected(parts: list[dict[int, float]]) -> dict[int, float]:
    if not parts or not all(parts):
        return {}
    common = list(set(min(parts, key=len)).intersection(*parts))
    # each part's scores of the common documents, summed a document at a time (in C)
    return dict(zip(common, map(sum, zip(*(map(p.__getitem__, common) for p in parts)))))

