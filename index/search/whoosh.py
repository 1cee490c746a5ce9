"""The Whoosh engine (the default, as papershelf was specified): a pure-Python index in its
own folder of the data dir, derived from the library and never synced.

What makes it fast enough (measured in benchmarks/RESULTS.md):
- segments as separate files (`compound=False`): Whoosh copies a compound segment into the
  heap when it opens it (455 MB at 100k papers); separate files are mapped, 27 MB;
- the lean fields and the bulk writer of whoosh_fields.py, with the garbage collector frozen
  while a rebuild or a big batch is indexed, and a segment written every `SEGMENT_PAPERS`
  papers so a big build stays within its memory budget (whoosh_build.py);
- a fresh searcher after each commit: whoosh3's `refresh()` returns both the old and the new
  copy of an updated paper;
- totals counted exactly by set arithmetic over whole posting blocks (whoosh_sets.py):
  `len(results)` undercounts OR queries under a limit.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from array import array
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from pathlib import Path

from whoosh import query as Q
from whoosh.filedb.filestore import FileStorage
from whoosh.util.filelock import try_for
from whoosh.writing import SegmentWriter

from index.model import Paper
from index.query import Node
from index.search import whoosh_score, whoosh_sets
from index.search.engine import (
    Hits,
    IndexUnavailable,
    Progress,
    WordDocs,
    busy,
    edit_distance,
)
from index.search.whoosh_build import (
    FORMAT,
    INDEX_NAME,
    META_FILE,
    SCHEMA_VERSION,
    add_papers,
    build_index,
    bulk_garbage_collection,
    cancel_quietly,
    open_checked,
    remove_abandoned_builds,
)
from index.search.whoosh_fields import BulkWriter, fold, stem
from index.search.whoosh_merge import merge_small_keeping_order
from index.search.whoosh_query import QueryCompiler, split_typed

BULK_AT_LEAST = 2000  # batches this big go through the bulk writer
# The first filtered search (is:unread ...) on a searcher applies the allowed keys by reading
# its matches' keys (~3 us each) while they are at most this share of the library: a one-off
# command never reads the whole key column (~0.3 s at 100k papers). Later searches on the same
# searcher (the app's) build the key index once and filter by document number.
KEYS_OF_MATCHES_SHARE = 0.5
# A few excluded keys (`is:unread` when most papers are unread) are found as terms; more than
# this many through the key index.
EXCLUDED_BY_TERM_AT_MOST = 3000
DICTIONARY = Q.Term("dictionary", "y")


class WhooshEngine:
    """Thread-safe: one lock for the searcher, one for writing (Whoosh locks across
    processes with its own lock file)."""

    name = "whoosh"

    def __init__(self, directory: Path, *, writer_timeout: float = 5.0):
        self.directory = Path(directory)
        self.writer_timeout = writer_timeout
        self._ix = None
        self._searcher = None
        self._keys = None  # the key column of the current searcher
        self._key_column = None  # a reader of it, for a page of results
        self._docnums: dict[str, int] | None = None
        self._word_counts: array | None = None  # the wordcount column of the current searcher
        self._filtered_searches = 0  # searches with allowed keys on the current searcher
        self._identity = None
        self._lock = threading.RLock()
        self._write_lock = threading.Lock()

    # -- opening --------------------------------------------------------------------------

    def open(self) -> None:
        with self._lock:
            self.close()
            self._identity = self._dir_identity()
            self._ix, self._searcher = open_checked(self.directory)

    def close(self) -> None:
        with self._lock:
            self._drop_searcher()
            if self._ix is not None:
                try:
                    self._ix.close()
                except Exception:  # noqa: BLE001 - closing a damaged index
                    pass
            self._ix = None

    def _dir_identity(self):
        try:
            st = os.stat(self.directory)
            return (st.st_dev, st.st_ino)
        except OSError:
            return None

    def _drop_searcher(self) -> None:
        if self._searcher is not None:
            try:
                self._searcher.close()
            except Exception:  # noqa: BLE001
                pass
        self._searcher, self._keys, self._docnums = None, None, None
        self._key_column = self._word_counts = None
        self._filtered_searches = 0

    def _get_searcher(self):
        """The current searcher: a fresh one after any commit, and the whole index reopened
        when another process rebuilt it (swapped the folder)."""
        if self._ix is not None and self._dir_identity() != self._identity:
            self.close()
        if self._ix is None:
            self.open()
        s = self._searcher
        if s is not None:
            try:
                if s.up_to_date():
                    return s
            except Exception:  # noqa: BLE001 - files of an old generation went away
                pass
            self._drop_searcher()
        try:
            self._searcher = self._ix.searcher()
        except Exception:  # noqa: BLE001
            self.close()
            self.open()
        return self._searcher

    def _reading(self, read):
        """Run `read(searcher)`; storage errors (Whoosh raises them lazily) mean damage."""
        with self._lock:
            try:
                return read(self._get_searcher())
            except IndexUnavailable:
                raise
            except Exception as exc:  # noqa: BLE001
                self._drop_searcher()
                raise IndexUnavailable(
                    f"search index is damaged ({type(exc).__name__}: {exc})") from None

    # -- writing --------------------------------------------------------------------------

    def rebuild(self, papers: Iterable[Paper], total: int | None = None,
                progress: Progress | None = None) -> None:
        """Build a new index in a temporary folder, then swap it in: other processes keep
        the old one until the new one is complete."""
        parent = self.directory.parent
        parent.mkdir(parents=True, exist_ok=True)
        remove_abandoned_builds(parent, self.directory.name)
        tmp = Path(tempfile.mkdtemp(prefix=f".{self.directory.name}.build-{os.getpid()}-",
                                    dir=parent))
        try:
            done = build_index(tmp, papers, total, progress)
            (tmp / META_FILE).write_text(json.dumps({"format": FORMAT, "schema": SCHEMA_VERSION}))
            open_checked(tmp)[0].close()  # what goes live must open
            with self._lock:
                lock = self._lock_live_index()
                try:
                    self.close()
                    old = None
                    if self.directory.exists():
                        old = parent / f".{self.directory.name}.old-{os.getpid()}-{threading.get_ident()}"
                        os.replace(self.directory, old)
                    os.replace(tmp, self.directory)
                finally:
                    if lock is not None:
                        lock.release()
                if old is not None:
                    shutil.rmtree(old, ignore_errors=True)
                self.open()
            if progress is not None:
                progress(done, max(total or 0, done))
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    def _lock_live_index(self):
        """The live index's writer lock, held while a rebuild swaps folders, so the swap never
        happens under another process that is writing."""
        if not (self.directory / META_FILE).exists():
            return None  # missing or half-made: nobody can be writing it
        lock = FileStorage(str(self.directory)).lock(f"{INDEX_NAME}_WRITELOCK")
        try:
            acquired = try_for(lock.acquire, timeout=self.writer_timeout, delay=0.1)
        except OSError:
            return None  # a damaged folder that cannot hold a lock file
        if not acquired:
            raise busy(self.writer_timeout, "the rebuild again")
        return lock

    def upsert(self, papers: Sequence[Paper]) -> None:
        papers = list({p.key: p for p in papers}.values())  # one copy per key, the last wins
        if papers:
            self._commit(lambda w, empty: add_papers(w, papers, replace=not empty), len(papers))

    def delete(self, keys: Sequence[str]) -> None:
        keys = list(keys)
        if keys:
            self._commit(lambda w, empty: [w.delete_by_term("key", k) for k in keys], 0)

    def _commit(self, change, batch: int) -> None:
        """One commit. The writer lock is taken here rather than by the writer: a writer
        that fails while it starts (a full disk) would otherwise keep the lock for the rest of
        this process's life."""
        with self._write_lock:
            with self._lock:
                if self._ix is None or self._dir_identity() != self._identity:
                    self.open()
                ix = self._ix
            lock = ix.lock("WRITELOCK")
            if not try_for(lock.acquire, timeout=self.writer_timeout, delay=0.1):
                raise busy(self.writer_timeout)
            try:
                bulk = batch >= BULK_AT_LEAST
                writer = (BulkWriter if bulk else SegmentWriter)(ix, _lk=False, compound=False)
                try:
                    with writer.reader() as reader:
                        empty = reader.doc_count_all() == 0
                    with bulk_garbage_collection() if bulk else nullcontext():
                        change(writer, empty)
                        if bulk:
                            writer.commit(merge=False)
                        else:  # the segments it does not merge keep their numbers
                            writer.commit(mergetype=merge_small_keeping_order)
                except BaseException:
                    cancel_quietly(writer)
                    raise
            finally:
                lock.release()
                with self._lock:
                    self._drop_searcher()

    # -- reading --------------------------------------------------------------------------

    def doc_count(self) -> int:
        return self._reading(lambda s: s.doc_count() - s.doc_frequency("dictionary", "y"))

    def all_keys(self) -> list[str]:
        def read(s):
            keys, docnums = self._key_index(s)
            live = sorted(docnums.values())
            if len(live) != s.doc_count():  # a document that lost its key shows as None
                live = list(s.reader().all_doc_ids())
            # (dictionary documents are not papers)
            return [keys[d] or None for d in live if not (keys[d] or "").startswith("\x00")]
        return self._reading(read)

    def search(self, tree: Node, *, limit: int | None, allowed: set[str] | None = None,
               excluded: set[str] | None = None) -> Hits:
        def read(s):
            typed, rest = split_typed(tree)
            if typed is not None:
                hits = self._search_typing(s, typed, rest, limit, allowed, excluded)
                if hits is not None:
                    return hits
            return self._search_all(s, tree, limit, allowed, excluded)
        return self._reading(read)

    def _search_all(self, s, tree: Node, limit, allowed, excluded) -> Hits:
        builder = QueryCompiler(s)
        q = builder.build(tree)
        if q is None or (allowed is not None and not allowed) or not s.doc_count():
            return Hits()
        mask = self._dictionary(s) if builder.used_every else None
        found = whoosh_sets.matches(s, q, None, mask)
        if allowed is not None:
            self._filtered_searches += 1
            if self._docnums is None and self._filtered_searches == 1 and \
                    sum(map(len, found.values())) <= KEYS_OF_MATCHES_SHARE * s.doc_count():
                found = whoosh_sets.with_keys_in(s, found, allowed)
            else:
                found = whoosh_sets.within(s, found, self._allowed_docs(s, allowed))
        if excluded:
            found = whoosh_sets.within(s, found, self._excluded_docs(s, excluded), keep=False)
        total = sum(map(len, found.values()))
        if not total:
            return Hits()
        top = whoosh_score.best(s, q, found, limit)
        return Hits(keys=self._keys_of(s, [d for _, d in top]),
                    scores=[score for score, _ in top], total=total)

    def _search_typing(self, s, typed: Node, rest: Node, limit, allowed,
                       excluded) -> Hits | None:
        """Finished words and a word being typed ("diffusion mod"): the papers matching both,
        ranked by the finished words alone (the typed word's own score is left out until the
        word is finished: as a prefix it would favour whichever word it happens to start)."""
        builder = QueryCompiler(s)
        q_rest, q_typed = builder.build(rest), builder.build(typed)
        if q_rest is None or builder.used_every or builder.has_phrase \
                or not s.doc_count() or (allowed is not None and not allowed):
            return None  # the general path knows these
        allowed_docs = self._allowed_docs(s, allowed)
        excluded_docs = self._excluded_docs(s, excluded) if excluded else set()
        both = q_rest if q_typed is None else Q.And([q_rest, q_typed])
        found = whoosh_sets.matches(s, both, allowed_docs, excluded_docs)
        top = whoosh_score.best(s, q_rest, found, limit)
        return Hits(keys=self._keys_of(s, [d for _, d in top]),
                    total=sum(map(len, found.values())))

    def _allowed_docs(self, s, allowed: set[str] | None) -> set[int] | None:
        if allowed is None:
            return None
        docnums = self._key_index(s)[1]
        return {docnums[k] for k in allowed if k in docnums}

    def _excluded_docs(self, s, excluded: set[str]) -> set[int]:
        """The documents of a few keys, looked up as terms (~20 us a key), unless the key
        index is built already or would be quicker to build (~0.1 s at 100k papers)."""
        if self._docnums is not None or len(excluded) > EXCLUDED_BY_TERM_AT_MOST:
            docnums = self._key_index(s)[1]
            return {docnums[k] for k in excluded if k in docnums}
        return whoosh_sets.docs_of_keys(s, excluded)

    def _keys_of(self, s, docnums: list[int]) -> list[str]:
        """Keys of a page of results: from the key index when it is built (filters need it),
        else read from the key column (building the index costs ~0.1 s at 100k papers, paid
        once per searcher, so a search after each commit would pay it again)."""
        if self._keys is not None:
            return [self._keys[d] for d in docnums]
        if self._key_column is None:  # opening it reads its offsets: ~3 ms a segment
            self._key_column = s.reader().column_reader("key")
        return [self._key_column[d] for d in docnums]

    def _key_index(self, s):
        """(key by document number, document number by key), kept for the searcher."""
        if self._keys is None or self._docnums is None:
            self._keys, self._docnums = whoosh_sets.key_index(s)
        return self._keys, self._docnums

    @staticmethod
    def _dictionary(s) -> set[int]:
        return set(s.docs_for_query(DICTIONARY))

    # -- term statistics ------------------------------------------------------------------

    def spelling_candidates(self, word: str, maxdist: int) -> list[str]:
        def read(s):
            found = s.reader().terms_within("spell", word, maxdist, prefix=1)
            return [w for w in found if edit_distance(word, w) <= maxdist]
        return self._reading(read)

    def has_word(self, word: str) -> bool:
        return self._reading(lambda s: ("spell", fold(word)) in s.reader())

    def doc_frequencies(self, words: Iterable[str]) -> dict[str, int]:
        """Papers with the word (by its stem, as indexed) in the title or the abstract: the
        larger of the two counts. (Exact when a word in a title is also in that paper's
        abstract, as it nearly always is; counting the union exactly cost ~1 s for the
        thousand words a "for you" profile asks about at 10k papers.) Each segment's counts
        are kept by segment id (a segment's counts never change): after an edit's commit,
        only its new small segment is asked (~100 ms for the thousand words otherwise)."""
        def read(s):
            stems = {w: stem(fold(w)) for w in set(words)}
            titles = dict.fromkeys(stems, 0)
            abstracts = dict.fromkeys(stems, 0)
            for sub, _ in s.leaf_searchers():
                reader = sub.reader()
                known = whoosh_sets.segment_counts(reader)
                for w, t in stems.items():
                    counts = known.get(t)
                    if counts is None:
                        counts = known[t] = (reader.doc_frequency("title", t),
                                             reader.doc_frequency("abstract", t))
                    titles[w] += counts[0]
                    abstracts[w] += counts[1]
            return {w: df for w in stems if (df := max(titles[w], abstracts[w]))}
        return self._reading(read)

    def docs_with(self, words: Iterable[str], first_doc: int = 0) -> WordDocs:
        """From the `taste` field (the words as index.foryou splits them) and the `wordcount`
        column, both written for this. Segments wholly before `first_doc` are not read."""
        def read(s):
            keys = self._key_index(s)[0]
            # arrays: 4 bytes a posting where a list of ints takes ~36 (2.7M postings at 100k)
            found: dict[str, array] = {word: array("I") for word in set(words)}
            for sub, offset in s.leaf_searchers():
                reader = sub.reader()
                if offset + reader.doc_count_all() <= first_doc:
                    continue
                for word, docs in found.items():
                    segment = whoosh_sets.live_docs(reader, "taste", word, offset)
                    if offset < first_doc:  # a segment that straddles it
                        segment = array("I", [d for d in segment if d >= first_doc])
                    docs.extend(segment)
            return WordDocs({w: docs for w, docs in found.items() if docs},
                            self._lengths(s), keys, whoosh_sets.segment_layout(s))
        return self._reading(read)

    def _lengths(self, s) -> array:
        """Every paper's length in words (the wordcount column), kept for the searcher: a
        ranking reads postings a few words a call, ~50 calls at 100k papers."""
        if self._word_counts is None:
            counts = array("I")
            for sub, _ in s.leaf_searchers():
                counts.extend(whoosh_sets.column_numbers(sub.reader(), "wordcount"))
            self._word_counts = counts
        return self._word_counts

    def prefix_doc_frequency(self, prefix: str) -> int:
        def read(s):
            reader = s.reader()
            start = stem(fold(prefix))  # the index holds Porter stems ("diffus")
            return max(sum(reader.doc_frequency(f, t) for t in reader.expand_prefix(f, start))
                       for f in ("title", "abstract"))
        return self._reading(read)
