"""How the Whoosh engine turns text into index terms (lean analysis) and writes big batches
(the bulk writer). Part of the Whoosh engine, with whoosh.py (opens, searches and commits),
whoosh_build.py, whoosh_query.py and whoosh_sets.py; no module outside these imports Whoosh.

Why it is hand-made (measured on 10k papers while the engine was written):
- Whoosh's analyzers build a Token object per word through four chained generators; the lean
  field below goes straight from text to term dictionaries, with stems cached: -9..12% CPU.
- The stock writer sends every posting through a sorting pool; the bulk writer keeps the
  postings of each term in arrays and writes them through Whoosh's own W3 postings writer, as
  standard segment files: -67% build CPU.
- Edge n-grams of 3-5 letters plus the whole word answer as-you-type: 3-12 letter n-grams
  cost 21% more build time for the same hits.
Classes here are pickled into the index's table of contents by reference: keep their names
and module stable, or bump whoosh_build.SCHEMA_VERSION.
"""

from __future__ import annotations

import pickle
import sys
from array import array
from functools import lru_cache
from itertools import chain
from operator import itemgetter, sub

from whoosh import columns, fields, formats
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.codec import whoosh3 as w3
from whoosh.lang.porter import stem as porter_stem
from whoosh.support.charset import accent_map
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from index.query import STOP_WORDS, WORD_PIECES

NGRAM_MIN, NGRAM_MAX = 3, 5  # as-you-type: word starts of 3-5 letters, and whole words
# zlib level of posting blocks (Whoosh's is 3: level 1 writes a 10k build ~0.15 s sooner, 1%
# larger). The taste field's ids-only blocks are left uncompressed: 0.07 s less to write and
# none to decompress when "for you" reads them, for ~4% more disk.
BLOCK_COMPRESSION = 1
TASTE_BLOCK = 1024  # postings a block of the taste field (ids only) holds in a bulk build
_FOLD = dict(accent_map)
_STEMS: dict[str, str] = {}
_BIG_ENDIAN = sys.byteorder == "big"
_FREQ: dict[int, bytes] = {}
_POSENC: dict[tuple, bytes] = {}


def _dumps_protocol_4(obj, protocol=None):
    return pickle.dumps(obj, 4)


# Whoosh pickles its posting blocks with protocol 2, which has no opcode for bytes: each
# posting's positions are read back through a codecs.encode call, ~0.3 µs apiece, most of a
# common phrase's time. Protocol 4 reads a block of positions 6x faster and is ~38% smaller
# (measured on 'model' at 100k: 784 blocks, 33 -> 5.5 ms). pickle.loads reads any protocol.
w3.dumps = _dumps_protocol_4


def fold(text: str) -> str:
    """Lowercased and accent-folded (Müller -> muller), as every field is indexed."""
    text = text.lower()
    return text if text.isascii() else text.translate(_FOLD)


def stem(word: str) -> str:
    s = _STEMS.get(word)
    if s is None:
        if len(_STEMS) > 500_000:
            _STEMS.clear()
        s = _STEMS[word] = porter_stem(word)
    return s


@lru_cache(maxsize=16)
def pieces(value: str) -> tuple[str, ...]:
    """The folded words of `value`; kept for the last few values, since a title is read for
    its own field, its word starts and the spelling words of one paper in a row."""
    return tuple(WORD_PIECES.findall(fold(value)))


def spelling_words(value: str) -> set[str]:
    """Words of 3-30 letters (what "did you mean" may offer)."""
    return {w for w in pieces(value) if w.isalpha() and 3 <= len(w) <= 30}


def words(value: str, mode: str) -> list[str | None]:
    """Index terms of `value` in order, None where a stop word or a one-letter word was dropped
    (so positions stay those of the text). mode: "stem" (titles, abstracts, notes) or "names"
    (authors: unstemmed, no stop words)."""
    out: list[str | None] = []
    append = out.append
    if mode == "stem":
        stems = _STEMS  # looked up here: one call less a word (1.5 million in a 10k build)
        for word in pieces(value):
            if len(word) < 2 or word in STOP_WORDS:
                append(None)
            else:
                found = stems.get(word)
                append(found if found is not None else stem(word))
    else:
        for word in pieces(value):
            append(None if len(word) < 2 else word)
    return out


def query_terms(value: str, mode: str) -> list[str]:
    return [w for w in words(value, mode) if w is not None]


def starts(value: str) -> list[str]:
    """Word starts of 3-5 letters, and each word longer than that whole."""
    grams: list[str] = []
    seen = set()
    for word in pieces(value):
        if word in STOP_WORDS or word in seen:
            continue
        seen.add(word)
        grams.extend(word[:k] for k in range(NGRAM_MIN, min(len(word), NGRAM_MAX) + 1))
        if len(word) > NGRAM_MAX:
            grams.append(word)
    return grams


def _posenc(positions: list[int]) -> bytes:
    if len(positions) == 1 and positions[0] < 4096:
        return _POS1[positions[0]]
    key = tuple(positions)
    encoded = _POSENC.get(key)
    if encoded is None:
        encoded = encode_positions(positions)
        if len(_POSENC) < 200_000:  # the same few position lists recur across papers
            _POSENC[key] = encoded
    return encoded


WIDE_POSITIONS = 255  # first byte of a posting's positions when one is past 254


def encode_positions(positions: list[int]) -> bytes:
    """A posting's word positions (ascending). Up to position 254 (titles, most abstracts),
    one byte each and nothing else: a phrase search reads them as they are, a set of small
    ints with no decoding (whoosh_query.py). Past that, WIDE_POSITIONS, a type code and a
    little-endian array ("H", or "I" past 65,535). Whoosh's own Positions format pickles a
    list of gaps, a pickle.loads a posting to read back; Whoosh itself never decodes ours: it
    scores from the weights and copies values as bytes when it merges segments."""
    if positions[-1] < WIDE_POSITIONS:
        return bytes(positions)
    code = "H" if positions[-1] < 65536 else "I"
    values = array(code, positions)
    if _BIG_ENDIAN:
        values.byteswap()
    return bytes((WIDE_POSITIONS, ord(code))) + values.tobytes()


def decode_positions(value: bytes):
    """The positions encode_positions wrote (bytes iterate as small ints)."""
    if value[0] != WIDE_POSITIONS:
        return value
    values = array(chr(value[1]), value[2:])
    if _BIG_ENDIAN:
        values.byteswap()
    return values


_POS1 = [encode_positions([i]) for i in range(4096)]


def _freqenc(f: int) -> bytes:
    v = _FREQ.get(f)
    if v is None:
        v = _FREQ[f] = pack_uint(f)
    return v


class LeanText(fields.TEXT):
    """A TEXT field indexed without Token objects. mode: "stem", "names", "starts" or
    "taste"."""

    def __init__(self, mode: str = "stem", phrase: bool = False, **kw):
        super().__init__(analyzer=SpaceSeparatedTokenizer(), phrase=phrase, **kw)
        self.mode = mode

    def terms(self, value) -> dict[str, list[int] | int]:
        """term -> positions (fields with positions) or frequency."""
        if self.mode == "taste":  # words already split, once each (index.foryou): a set
            return dict.fromkeys(value, 1)
        if self.mode == "starts":
            out: dict = {}
            for g in starts(value):
                out[g] = out.get(g, 0) + 1
            return out
        found: dict = {}
        get = found.get
        if isinstance(self.format, formats.Positions):
            for i, w in enumerate(words(value, self.mode)):
                if w is not None:
                    at = get(w)
                    if at is None:
                        found[w] = [i]
                    else:
                        at.append(i)
        else:
            for w in words(value, self.mode):
                if w is not None:
                    found[w] = get(w, 0) + 1
        return found

    def add_to(self, value, docnum: int, postings: dict) -> int:
        """Append this value's postings straight into the bulk writer's per-field dict
        {term: [ids, weights, values]}; returns the field length. (The hot loop of a rebuild:
        no tuples per term, no encoding until the segment is written.)"""
        get = postings.get
        if self.mode == "taste":  # ids only (weight 1, no value): half the work a term
            for term in value:
                entry = get(term)
                if entry is None:
                    postings[term] = [array("I", (docnum,)), None, None]
                else:
                    entry[0].append(docnum)
            return 0
        boost = self.format.field_boost
        length = 0
        pos1 = _POS1
        for term, found in self.terms(value).items():
            if found.__class__ is list:
                freq = len(found)
                vb = pos1[found[0]] if freq == 1 and found[0] < 4096 else _posenc(found)
            else:
                freq = found
                vb = _FREQ.get(freq) or _freqenc(freq)
            length += freq
            entry = get(term)
            if entry is None:
                postings[term] = [array("I", (docnum,)), array("f", (freq * boost,)), [vb]]
            else:
                entry[0].append(docnum)
                entry[1].append(freq * boost)
                entry[2].append(vb)
        return length

    def index(self, value, **kwargs):
        """(term bytes, frequency, weight, value bytes) per term, as Whoosh's writer wants."""
        boost = self.format.field_boost
        out = []
        if isinstance(self.format, formats.Existence):
            return [(term.encode("utf-8"), 1, boost, b"") for term in self.terms(value)]
        for term, found in self.terms(value).items():
            if isinstance(found, list):
                out.append((term.encode("utf-8"), len(found), len(found) * boost, _posenc(found)))
            else:
                out.append((term.encode("utf-8"), found, found * boost, _freqenc(found)))
        return out


def schema():
    """The index layout. Only the key is stored (as a column): titles and abstracts are read
    from the library, never from the index."""
    spell = fields.TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=False)
    spell.format = formats.Existence()
    spell.scorable = False
    # "For you" reads which papers use which words off these postings (ids only: cheap to
    # read, where the title and abstract postings carry positions), with exact lengths.
    taste = LeanText("taste", phrase=False)
    taste.format = formats.Existence()
    taste.scorable = False
    return fields.Schema(
        key=fields.ID(unique=True, sortable=True),
        title=LeanText("stem", phrase=True, field_boost=3.0),
        abstract=LeanText("stem", phrase=True),
        notes=LeanText("stem"),
        authors=LeanText("names"),
        tags=fields.KEYWORD(lowercase=True, commas=True, scorable=True),
        tstarts=LeanText("starts"),  # title word starts, for the word being typed
        astarts=LeanText("starts"),  # author name starts
        year=fields.ID,
        source=fields.KEYWORD(lowercase=True, commas=True),
        # Spelling words live in a few dictionary documents, not in every paper's postings.
        spell=spell,
        dictionary=fields.ID,
        taste=taste,  # title and abstract words as index.foryou splits them, unstemmed
        wordcount=fields.COLUMN(columns.NumericColumn("I")),  # title + abstract, in words
    )


# ---------------------------------------------------------------------------------------------
# The bulk writer


def _mini_ids(self):
    ids = self._ids
    if not self._byteids:  # deltas, by C-level map: the postings of a rebuild pass here
        return tuple(map(sub, ids, chain((0,), ids)))
    return tuple(ids)


def _mini_weights(self):
    w = self._weights
    n = len(w)
    if w.count(1.0) == n:
        return None
    if w.count(w[0]) == n:
        return w[0]
    return tuple(w)


class BulkWriter(SegmentWriter):
    """Postings kept per (field, term) in arrays and written term by term, a block at a time,
    through Whoosh's W3 postings writer. Commit with merge=False: merging existing segments
    goes through the stock pool, which this writer does not fill."""

    def __init__(self, ix, **kw):
        super().__init__(ix, **kw)
        self._post: dict[str, dict] = {}
        self._lens: dict[str, array] = {}

    def add_document(self, **values):
        self._check_state()
        pdw = self.perdocwriter
        schema_ = self.schema
        local = self.docnum - self.docbase
        names = sorted(n for n in values if not n.startswith("_"))
        self._check_fields(schema_, names)
        pdw.start_doc(self.docnum)
        for name in names:
            value = values[name]
            if value is None:
                continue
            field = schema_[name]
            length = 0
            if field.indexed:
                terms = self._post.setdefault(name, {})
                lean = isinstance(field, LeanText)
                if lean:  # str keys, encoded when the segment is written
                    length = field.add_to(value, local, terms)
                for tb, freq, weight, vb in () if lean else field.index(value):
                    if field.scorable:
                        length += freq
                    entry = terms.get(tb)
                    if entry is None:
                        terms[tb] = [array("I", (local,)), array("f", (weight,)), [vb] if vb else []]
                    else:
                        entry[0].append(local)
                        entry[1].append(weight)
                        if vb:
                            entry[2].append(vb)
                if field.scorable:
                    lens = self._lens.setdefault(name, array("I"))
                    if len(lens) < local:
                        lens.extend([0] * (local - len(lens)))
                    lens.append(byte_to_length(length_to_byte(length)) if length else 0)
            pdw.add_field(name, field, value if field.stored else None, length)
            if field.column_type:
                pdw.add_column_value(name, field.column_type, field.to_column_value(value))
        pdw.finish_doc()
        self._added = True
        self.docnum += 1

    def _flush_segment(self):
        self.perdocwriter.close()
        fw = self.fieldwriter
        base, count = self.docbase, self.docnum - self.docbase
        saved = w3.W3PostingsWriter._mini_ids, w3.W3PostingsWriter._mini_weights
        w3.W3PostingsWriter._mini_ids, w3.W3PostingsWriter._mini_weights = _mini_ids, _mini_weights
        try:
            for name in sorted(self._post):
                terms = self._post[name]
                fw.start_field(name, self.schema[name])
                pw = fw._postwriter
                pw._compression = 0 if name == "taste" else BLOCK_COMPRESSION
                # ids-only blocks are small: bigger ones are quicker to write and to read
                block = TASTE_BLOCK if name == "taste" else pw._blocklimit
                lens = self._lens.get(name)
                if lens is not None and len(lens) < count:
                    lens.extend([0] * (count - len(lens)))
                lean = isinstance(self.schema[name], LeanText)
                ordered = sorted((t.encode("utf-8"), t) for t in terms) if lean else \
                    [(t, t) for t in sorted(terms)]
                for tb, term in ordered:
                    ids, weights, vals = terms[term]
                    local = ids
                    if base:
                        ids = array("I", (d + base for d in ids))
                    fw.start_term(tb)
                    n = len(ids)
                    for s in range(0, n, block):
                        e = s + block
                        chunk = ids[s:e]
                        pw._ids = chunk
                        if weights is None:  # the taste field: every weight 1
                            pw._weights, pw._maxweight = array("f", (1.0,)) * len(chunk), 1.0
                        else:
                            pw._weights = ws = weights[s:e]
                            pw._maxweight = max(ws)
                        pw._values = vals[s:e] if vals else []
                        if lens is not None:
                            ls = [lens[local[s]]] if len(chunk) == 1 else \
                                itemgetter(*local[s:e])(lens)
                            pw._minlength, pw._maxlength = (min(ls) or None), max(ls)
                        else:
                            pw._minlength, pw._maxlength = None, 0
                        if e < n:
                            pw._write_block()
                    fw.finish_term()
                fw.finish_field()
                terms.clear()
        finally:
            w3.W3PostingsWriter._mini_ids, w3.W3PostingsWriter._mini_weights = saved
        fw.close()
