"""Set arithmetic over the Whoosh index: which documents a query matches, and which document
holds which key, read a posting block at a time.

Whoosh answers both one document at a time through Python matchers: counting 30,000 matches
of one word took ~0.2 s at 100,000 papers, and mapping every key to its document ~0.25 s. Read
as whole blocks into Python sets they take a few ms. Part of the Whoosh engine (whoosh.py); it
relies on whoosh3's W3LeafMatcher block attributes, which the exact pin in pyproject.toml
keeps.
"""

from __future__ import annotations

import sys
import threading
from bisect import bisect_left
from array import array
from collections import OrderedDict
from itertools import accumulate
from operator import add

from whoosh import query as Q

from index.search.whoosh_fields import WIDE_POSITIONS


def leaf_blocks(matcher):
    """(ids, values) of each posting block of a term matcher (values read only on demand)."""
    m = getattr(matcher, "child", matcher)  # a deletions filter around it: see match_set
    while m.is_active():
        if m._ids is None:  # as m._read_ids() does, with the deltas summed in C
            if m._data is None:
                m._read_data()
            ids = m._data[0]
            m._ids = ids if m._byteids else tuple(accumulate(ids))
        yield m
        m._next_block()


_WIDE_BYTE = bytes((WIDE_POSITIONS,))  # never in a narrow value, whose bytes are positions

# Decoded postings (ids, weights) of recently used terms, by segment: a segment's postings never
# change (deletions are kept apart), so they stay valid across searchers. As-you-type asks for
# the same terms keystroke after keystroke, and decoding a common word's blocks (zlib and
# pickle, positions included) costs ~0.5 us a posting. Bounded by postings held (~8 bytes
# each).
POSTINGS_CACHED_AT_MOST = 4_000_000
_postings: OrderedDict = OrderedDict()
_postings_held = 0
_postings_lock = threading.Lock()


def postings(reader, fieldname: str, text) -> tuple[array, array]:
    """(document ids, weights) of one term in one segment, deleted documents included."""
    key = (segment_id(reader), fieldname, text)
    with _postings_lock:
        found = _postings.get(key)
        if found is not None:
            _postings.move_to_end(key)
            return found
    ids, weights = array("I"), array("f")
    if (fieldname, text) in reader:
        for block in leaf_blocks(reader.postings(fieldname, text)):
            ids.extend(block._ids)
            if block._weights is None:
                block._read_weights()
            weights.extend(block._weights)
    _remember(key, ids, weights)
    return ids, weights


def _remember(key, ids: array, weights: array) -> None:
    global _postings_held
    with _postings_lock:
        if key not in _postings:
            _postings[key] = (ids, weights)
            _postings_held += len(ids)
            while _postings_held > POSTINGS_CACHED_AT_MOST and len(_postings) > 1:
                _postings_held -= len(_postings.popitem(last=False)[1][0])


def term_docs(reader, fieldname: str, text) -> set[int]:
    return set(postings(reader, fieldname, text)[0])


def live_docs(reader, fieldname: str, text, offset: int = 0) -> array:
    """The live documents of one segment with the term, in order, each plus `offset` (the
    segment's first number in the whole index). The ids are summed from each block's deltas
    starting at `offset`, in C: adding the offset afterwards cost ~40 ns a posting."""
    found = array("I")
    if (fieldname, text) not in reader:
        return found
    m = _leaf_postings(reader, fieldname, text)
    while m.is_active():
        if m._data is None:
            m._read_data()
        deltas = m._data[0]  # the first is the block's first id itself (w3 delta_encode)
        if m._byteids:
            found.extend(map(offset.__add__, deltas))
        else:
            ids = accumulate(deltas, initial=offset)
            next(ids)  # the offset itself
            found.extend(ids)
        m._next_block()
    if found and reader.has_deletions():
        return _without(found, deleted(reader), offset)
    return found


def _leaf_postings(reader, fieldname: str, text):
    """The segment's own postings reader for the term, without the deletions filter that
    `reader.postings()` puts around it in a segment with deletions: that filter reads the
    first block's ids at once, through Whoosh's delta decoding in Python (~35 ms of a
    ranking from scratch at 100k papers), and live_docs takes the deletions itself."""
    return reader._terms.matcher(fieldname, reader._text_to_bytes(fieldname, text),
                                 reader.schema[fieldname].format)


def _without(found: array, gone: frozenset[int], offset: int) -> array:
    """`found` (ascending) less the documents `gone` (segment numbers, plus `offset`). A few
    (a segment where some papers were edited since it was written) are each found by bisection
    and cut out of the array (a move in C); many, in one pass over the postings (~40 ns a
    posting: ~1 ms a common word's segment)."""
    if len(gone) * 256 < len(found):
        for doc in sorted(gone, reverse=True):
            at = bisect_left(found, doc + offset)
            if at < len(found) and found[at] == doc + offset:
                del found[at]
        return found
    shifted = {d + offset for d in gone}
    return array("I", [d for d in found if d not in shifted])


def deleted(reader) -> frozenset[int]:
    """The deleted documents of one segment, read once per reader: a set difference costs
    far less than asking is_deleted of each of 100,000 matches (~20 ms)."""
    return reader.deleted_docs_set if reader.has_deletions() else frozenset()


def column_numbers(reader, fieldname: str) -> array:
    """A numeric column of one segment, every document's value (0 when it has none), read
    whole: one lookup per document took ~0.1 s at 100k papers."""
    if not reader.has_column(fieldname):  # a segment of dictionary documents only
        return array("I", bytes(4 * reader.doc_count_all()))
    column = reader.column_reader(fieldname, translate=False)
    values = array(column._typecode, column._dbfile.get(column._basepos,
                                                        column._count * column._fixedlen))
    if sys.byteorder == "little":
        values.byteswap()  # stored big-endian
    values.extend([0] * (reader.doc_count_all() - len(values)))
    return values


def column_strings(reader, fieldname: str) -> list[str]:
    """A text column of one segment, every document's value ('' when it has none), read
    whole and cut in C: Whoosh reads it a value at a time, ~0.1 s for 100,000 keys."""
    raw = reader.column_reader(fieldname, translate=False) \
        if reader.has_column(fieldname) else None
    if not hasattr(raw, "_offsets"):  # no such column, or not variable-length bytes
        return list(reader.column_reader(fieldname))
    offsets, lengths = raw._offsets, raw._lengths
    size = offsets[-1] + lengths[-1] if len(offsets) else 0
    data = bytes(raw._dbfile.get(raw._basepos, size))
    cuts = map(slice, offsets, map(add, offsets, lengths))
    return list(map(bytes.decode, map(data.__getitem__, cuts)))


def term_values(reader, fieldname: str, text, docs: set[int] | None = None,
                wide: set[int] | None = None) -> dict[int, bytes]:
    """{document: encoded value (positions)} of one term, for (at least) the documents of
    `docs` (all when None). Blocks are decoded once: their ids and weights go to the postings
    cache when it lacks them; when it has them, blocks holding none of `docs` are skipped
    undecoded. Documents whose value is wide (whoosh_fields.encode_positions) are added to
    `wide`."""
    key = (segment_id(reader), fieldname, text)
    with _postings_lock:
        known = key in _postings
    out: dict[int, bytes] = {}
    if (fieldname, text) not in reader:
        return out
    wanted = None if docs is None else sorted(docs)
    ids_all, weights_all = array("I"), array("f")
    m = reader.postings(fieldname, text)
    m = getattr(m, "child", m)  # a deletions filter around it
    low = 0  # the lowest id the current block may hold
    while m.is_active():
        if known and wanted is not None:
            at = bisect_left(wanted, low)
            if at == len(wanted):
                break  # no wanted document past here
            if wanted[at] > m._maxid:
                low = m._maxid + 1
                m._next_block()
                continue  # none in this block: never decoded
        block = next(leaf_blocks(m))
        low = m._maxid + 1
        if block._values is None:
            block._read_values()
        ids, values = block._ids, block._values
        out.update(zip(ids, values))  # all of the block (in C): the caller intersects
        if wide is not None and _WIDE_BYTE in b"".join(values):  # rare: a long abstract
            wide.update(d for d, v in zip(ids, values) if v[0] == WIDE_POSITIONS)
        if not known:
            if block._weights is None:
                block._read_weights()
            ids_all.extend(ids)
            weights_all.extend(block._weights)
        m._next_block()
    if not known:
        _remember(key, ids_all, weights_all)
    return out


def match_set(q, reader) -> set[int]:
    """The documents of one segment that `q` matches (deleted ones left out)."""
    found = _match(q, reader)
    return found - deleted(reader) if reader.has_deletions() else found


def _match(q, reader) -> set[int]:
    if isinstance(q, Q.Term):
        return term_docs(reader, q.fieldname, q.text)
    if isinstance(q, Q.MultiTerm):  # Prefix, TermRange: every term they expand to
        out: set[int] = set()
        for text in q._btexts(reader):
            out |= term_docs(reader, q.fieldname, text)
        return out
    if isinstance(q, Q.AndNot):
        return _match(q.a, reader) - _match(q.b, reader)
    if isinstance(q, Q.And):
        # a phrase filter first: it reads its words' postings once, positions and all, and
        # leaves their ids cached for the words' own terms after it
        found: set[int] | None = None
        for child in sorted(q.subqueries, key=lambda c: not hasattr(c, "leaf_docs")):
            part = _match(child, reader)
            found = part if found is None else found.intersection(part)
            if not found:
                return set()
        return found or set()
    if isinstance(q, Q.Or):
        return set().union(*(_match(c, reader) for c in q.subqueries))
    if isinstance(q, Q.Every):
        return set(range(reader.doc_count_all()))
    if hasattr(q, "leaf_docs"):  # the engine's own phrase filter
        return set(q.leaf_docs(reader))
    raise TypeError(f"no set form for {type(q).__name__}")


def matches(searcher, q, allowed: set[int] | None, mask: set[int] | None) -> dict:
    """{segment id: sorted documents of that segment matching `q`}, within `allowed` (global
    document numbers) and outside `mask`: the exact set of matches, whose size is the exact
    total (Whoosh's own count undercounts OR queries under a limit)."""
    out = {}
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        found = match_set(q, reader)
        if allowed is not None:
            found = {d for d in found if d + offset in allowed}
        if mask:
            found = {d for d in found if d + offset not in mask}
        if found:
            out[segment_id(reader)] = sorted(found)
    return out


def within(searcher, found: dict, docs: set[int], keep: bool = True) -> dict:
    """`found` ({segment id: sorted local documents}) cut to the global documents `docs`
    (`keep`), or with them taken out (not `keep`)."""
    out = {}
    for sub, offset in searcher.leaf_searchers():
        here = found.get(segment_id(sub.reader()))
        if here and (kept := [d for d in here if (d + offset in docs) == keep]):
            out[segment_id(sub.reader())] = kept
    return out


def docs_of_keys(searcher, keys: set[str]) -> set[int]:
    """The global documents of `keys`, each looked up in the key field's terms."""
    out: set[int] = set()
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        for key in keys:
            if ("key", key) in reader:
                out.update(d + offset for d in reader.postings("key", key).all_ids())
    return out


def with_keys_in(searcher, found: dict, keys: set[str]) -> dict:
    """`found` cut to the documents whose paper key is in `keys`, reading each match's key."""
    out = {}
    for sub, _ in searcher.leaf_searchers():
        reader = sub.reader()
        docs = found.get(segment_id(reader))
        if docs:
            column = reader.column_reader("key")
            if kept := [d for d in docs if column[d] in keys]:
                out[segment_id(reader)] = kept
    return out


def segment_id(reader):
    return getattr(reader, "_segid", id(reader))


def key_index(searcher) -> tuple[list, dict[str, int]]:
    """(key of each document number, document number of each live key). A segment's keys
    never change (deletions are kept apart), so they are read once per segment: after an
    edit's commit, only the new small segments are read (~50 ms for 100,000 keys)."""
    keys: list = []
    docnums: dict[str, int] = {}
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        if not reader.doc_count_all():
            continue
        leaf = _segment_keys(reader)
        gone = deleted(reader)
        part = dict(zip(leaf, range(offset, offset + len(leaf))))  # in C; a key's last wins
        for i in gone:
            if part.get(leaf[i]) == i + offset:  # a dead document was its last: by the rule
                part = {key: i + offset for i, key in enumerate(leaf) if i not in gone}
                break
        part.pop("", None)  # documents without a key
        docnums.update(part)
        keys.extend(leaf)
    return keys, docnums


def segment_layout(searcher) -> tuple[tuple[str, int], ...]:
    """(segment id, first document number) of each segment: a segment keeps its documents'
    numbers until a merge replaces it (deletions are kept apart)."""
    layout = []
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        segment = reader.segment() if hasattr(reader, "segment") else None
        layout.append((segment.segment_id() if segment is not None else "", offset))
    return tuple(layout)


_segment_counts_held: OrderedDict = OrderedDict()  # segment id -> {stem: (title, abstract)}
_SEGMENT_COUNTS_HELD_AT_MOST = 64


def segment_counts(reader) -> dict:
    """The document counts of terms kept for one segment (stem -> (title, abstract)), which
    the caller fills: a segment's counts never change. A reader without a segment (an empty
    index) gets a fresh dict."""
    segment = reader.segment() if hasattr(reader, "segment") else None
    if segment is None:
        return {}
    name = segment.segment_id()
    with _postings_lock:
        counts = _segment_counts_held.get(name)
        if counts is None or len(counts) > 200_000:  # bounded: a fresh one now and then
            counts = _segment_counts_held[name] = {}
        _segment_counts_held.move_to_end(name)
        while len(_segment_counts_held) > _SEGMENT_COUNTS_HELD_AT_MOST:
            _segment_counts_held.popitem(last=False)
        return counts


_segment_keys_held: OrderedDict = OrderedDict()  # segment id -> its key column
_SEGMENT_KEYS_HELD_AT_MOST = 64


def _segment_keys(reader) -> list[str]:
    segment = reader.segment() if hasattr(reader, "segment") else None
    if segment is None:
        return column_strings(reader, "key")
    name = segment.segment_id()
    with _postings_lock:
        leaf = _segment_keys_held.get(name)
        if leaf is not None:
            _segment_keys_held.move_to_end(name)
            return leaf
    leaf = column_strings(reader, "key")
    with _postings_lock:
        _segment_keys_held[name] = leaf
        while len(_segment_keys_held) > _SEGMENT_KEYS_HELD_AT_MOST:
            _segment_keys_held.popitem(last=False)
    return leaf
