"""The query tree (index.query's Node) in Whoosh's terms: words, phrases, prefixes and field
filters as Whoosh queries, and the phrase filter that checks word positions block by block.
Part of the Whoosh engine (whoosh.py runs what is compiled here)."""

from __future__ import annotations

from whoosh import query as Q

from index.highlight import crude_stem
from index.model import normalise_tag
from index.query import PARTIAL_MIN, PHRASE_FIELDS, SEARCH_FIELDS, STOP_WORDS, Node, Word
from index.search import whoosh_sets
from index.search.whoosh_fields import (
    NGRAM_MAX,
    WIDE_POSITIONS,
    decode_positions,
    fold,
    query_terms,
)

POSITIONS = ("title", "abstract")  # fields with word positions: phrases elsewhere are ANDs


class QueryCompiler:
    """The query tree (index.query) as a Whoosh query over a searcher's index."""

    def __init__(self, searcher):
        self.searcher = searcher
        self.used_every = False
        self.has_phrase = False

    def build(self, node: Node):
        if node.op == "word":
            return self.word(node.word)
        if node.op == "not":
            inner = self.build(node.children[0])
            return None if inner is None else Q.Not(inner)
        parts = [p for p in map(self.build, node.children) if p is not None]
        if not parts:
            return None
        if node.op == "or":
            positives = [p for p in parts if not isinstance(p, Q.Not)]
            return _or(positives)  # "a OR NOT b" would match nearly everything
        positives = [p for p in parts if not isinstance(p, Q.Not)]
        negatives = [p.query for p in parts if isinstance(p, Q.Not)]
        if not positives:
            self.used_every = True
            base = Q.Every()
        else:
            base = _and(positives)
        return Q.AndNot(base, _or(negatives)) if negatives else base

    def word(self, word: Word):
        if word.field == "year":
            lo, hi = word.years
            return Q.TermRange("year", f"{max(lo, 0):04d}", f"{min(hi, 9999):04d}")
        if word.field == "source":
            value = word.text.strip().lower().replace(",", ";")
            if not value:
                return None
            return _or([Q.Term("source", f"format:{value}"), Q.Term("source", value)])
        fields = (word.field,) if word.field else SEARCH_FIELDS
        pieces = word.pieces
        if not pieces:
            return None
        if word.phrase:
            return self.phrase(word.text, [f for f in fields if f in PHRASE_FIELDS] or ["title"])
        if word.prefix or word.partial:
            last = pieces[-1].lower()
            head = [self.whole(p, fields) for p in pieces[:-1]]
            return _and([q for q in head + [self.starts(last, word, fields)] if q is not None])
        if len(pieces) > 1:
            # A compound like "to-read" or "state-of-the-art" is a phrase, and may be a tag
            query = self.phrase(" ".join(pieces), [f for f in fields if f in PHRASE_FIELDS])
            if "tags" in fields:
                tag = Q.Term("tags", normalise_tag(word.text), boost=10.0)
                query = tag if query is None else Q.Or([query, tag])
            return query
        return self.whole(pieces[0], fields, word.boost)

    def whole(self, piece: str, fields, boost: float = 1.0):
        if (piece.lower() in STOP_WORDS or len(piece) < 2) and len(fields) > 1:
            return None  # dropped at index time: requiring them would match nothing
        subs = []
        for f in fields:
            if f == "tags":
                subs.append(Q.Term("tags", normalise_tag(piece), boost=boost))
            else:
                subs.extend(Q.Term(f, t, boost=boost) for t in query_terms(piece, _mode(f)))
        return _or(subs)

    def phrase(self, text: str, fields):
        subs = []
        for f in fields:
            terms = query_terms(text, _mode(f))
            if len(terms) > 1 and f in POSITIONS:
                # dropped stop words still take a position ("order to abstractive")
                dropped = len(fold(text).split()) - len(terms)
                self.has_phrase = True
                subs.append(Q.And([Q.Term(f, t) for t in terms]
                                  + [_PhraseFilter(f, terms, 1 + max(dropped, 0))]))
            elif len(terms) > 1:
                subs.append(Q.And([Q.Term(f, t) for t in terms]))  # no positions kept
            elif terms:
                subs.append(Q.Term(f, terms[0]))
        return _or(subs)

    def starts(self, last: str, word: Word, fields):
        """A word start (typed with '*' or being typed): title and author word starts."""
        last = fold(last)
        subs = []
        if word.field in (None, "title") and len(last) >= PARTIAL_MIN:
            subs.append(_start("tstarts", last))
            variant = crude_stem(last)
            if variant != last and len(variant) >= PARTIAL_MIN:
                subs.append(_start("tstarts", variant))  # "models" also finds "Model"
        if word.field in (None, "authors") and len(last) >= 2:
            subs.append(_start("astarts", last) if len(last) >= PARTIAL_MIN
                        else Q.Term("authors", last))
        if word.partial and word.field is None and len(last) >= 2 and last not in STOP_WORDS:
            subs.append(Q.Term("tags", last))
        if word.field not in (None, "title", "authors"):
            # a prefix on abstracts or notes (typed as abstract:word*): stemmed prefix
            subs.extend(Q.Prefix(f, last) for f in fields)
        return _or(subs)


def split_typed(tree: Node) -> tuple[Node | None, Node | None]:
    """(the word being typed, the rest) when the query's top level is an AND holding one;
    (None, None) otherwise."""
    parts = _conjuncts(tree)
    typed = [p for p in parts if p.op == "word" and p.word.partial]
    if len(typed) != 1 or len(parts) < 2:
        return None, None
    rest = [p for p in parts if p is not typed[0]]
    return typed[0], rest[0] if len(rest) == 1 else Node("and", rest)


def _conjuncts(node: Node) -> list[Node]:
    if node.op != "and":
        return [node]
    return [part for child in node.children for part in _conjuncts(child)]


def _start(field: str, prefix: str):
    return Q.Term(field, prefix) if len(prefix) <= NGRAM_MAX else Q.Prefix(field, prefix)


def _mode(field: str) -> str:
    return "names" if field == "authors" else "stem"


def _or(subs):
    subs = [s for s in subs if s is not None]
    if not subs:
        return None
    return subs[0] if len(subs) == 1 else Q.Or(subs)


def _and(subs):
    subs = [s for s in subs if s is not None]
    if not subs:
        return None
    return subs[0] if len(subs) == 1 else Q.And(subs)


_PHRASE_DOCS: dict[tuple, list[int]] = {}


class _PhraseFilter(Q.Query):
    """The papers where `words` stand next to each other (at most `slop` positions apart),
    as a list of documents that scores nothing: ANDed with the words' terms, which score.

    Whoosh's own Phrase query walks every document that has all the words through its span
    machinery (~0.5 s for a common two-word phrase at 100k papers). This intersects the words'
    (cached) document ids first and decodes positions, an array each (whoosh_fields.py), only
    where all the words are."""

    def __init__(self, fieldname: str, words: list[str], slop: int = 1):
        self.fieldname = fieldname
        self.words = list(words)
        self.slop = slop
        self.boost = 1.0

    def __repr__(self):
        return f"_PhraseFilter({self.fieldname!r}, {self.words!r}, {self.slop})"

    def __eq__(self, other):
        return type(other) is type(self) and (self.fieldname, self.words, self.slop) == \
            (other.fieldname, other.words, other.slop)

    def __hash__(self):
        return hash((self.fieldname, tuple(self.words), self.slop))

    def is_leaf(self):
        return True

    def terms(self, phrases=False):
        return iter(())  # the ANDed terms carry the words

    def normalize(self):
        return self

    def estimate_size(self, ixreader):
        return min(ixreader.doc_frequency(self.fieldname, w) for w in self.words)

    def estimate_min_size(self, ixreader):
        return 0

    def leaf_docs(self, reader) -> list[int]:
        # Whoosh copies queries as it runs them: cache by what the answer depends on (a
        # segment never changes but for its deletions), for the search and its count.
        key = (getattr(reader, "_segid", id(reader)), reader.doc_count(), self.fieldname,
               tuple(self.words), self.slop)
        ids = _PHRASE_DOCS.get(key)
        if ids is None:
            if len(_PHRASE_DOCS) > 64:
                _PHRASE_DOCS.clear()
            ids = _PHRASE_DOCS[key] = _phrase_docs(reader, self.fieldname, self.words, self.slop)
        return ids

    def matcher(self, searcher, context=None):
        from whoosh.matching import ListMatcher, NullMatcher

        ids = self.leaf_docs(searcher.reader())
        return ListMatcher(ids, all_weights=0.0) if ids else NullMatcher


def _phrase_docs(reader, fieldname: str, words: list[str], slop: int) -> list[int]:
    if any((fieldname, w) not in reader for w in words):
        return []
    # positions of the rarest word first; of each other word only where all before it are
    values: dict[str, dict[int, bytes]] = {}
    wide: set[int] = set()
    candidates = None
    for word in sorted(set(words), key=lambda w: reader.doc_frequency(fieldname, w)):
        values[word] = whoosh_sets.term_values(reader, fieldname, word, candidates, wide)
        candidates = set(values[word]) if candidates is None else \
            candidates.intersection(values[word])
        if not candidates:
            return []
    candidates -= whoosh_sets.deleted(reader)
    positions = [values[w] for w in words]
    if len(words) == 2 and slop == 1:  # the common case, two words side by side
        return _side_by_side(candidates, wide, *positions)
    return sorted(d for d in candidates
                  if _adjacent([decode_positions(p[d]) for p in positions], slop))


# each single-byte position minus one; position 0, which follows nothing, becomes the wide
# marker, which no single-byte value holds
_ONE_BEFORE = bytes((WIDE_POSITIONS, *range(WIDE_POSITIONS)))


def _side_by_side(candidates: set[int], wide: set[int], first: dict, second: dict) -> list[int]:
    """The candidates where some position of the second word follows one of the first. Most
    values are single-byte positions (whoosh_fields.encode_positions), compared in C: the
    first word's positions less those one before the second's are fewer when one matches."""
    before = _ONE_BEFORE
    narrow = candidates - wide if wide else candidates
    found = [d for d in narrow
             if len(first[d].translate(None, second[d].translate(before))) != len(first[d])]
    for d in candidates & wide:
        after = {p + 1 for p in decode_positions(first[d])}
        if not after.isdisjoint(decode_positions(second[d])):
            found.append(d)
    found.sort()
    return found


def _adjacent(positions: list, slop: int) -> bool:
    """True when some position of the first word starts a chain through the others, each at
    most `slop` after the one before."""
    rest = [set(p) for p in positions[1:]]
    for start in positions[0]:
        at = start
        for allowed in rest:
            step = next((at + d for d in range(1, slop + 1) if at + d in allowed), None)
            if step is None:
                break
            at = step
        else:
            return True
    return False
