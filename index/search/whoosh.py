"""The Whoosh engine (the default, as papershelf was specified): a pure-Python index in its
own folder of the data dir, derived from the library and never synced.

What makes it fast enough (research/whoosh-study, benchmarks/RESULTS.md):
- segments as separate files (`compound=False`): Whoosh copies a compound segment into the
  heap when it opens it (455 MB at 100k papers); separate files are mapped, 27 MB;
- the lean fields and the bulk writer of whoosh_fields.py, with the garbage collector frozen
  while a rebuild runs, and a segment written every `SEGMENT_PAPERS` papers so a big build
  stays within its memory budget;
- a fresh searcher after each commit: whoosh3's `refresh()` returns both the old and the new
  copy of an updated paper;
- totals counted exactly by set arithmetic over whole posting blocks (whoosh_sets.py):
  `len(results)` undercounts OR queries under a limit.
"""

from __future__ import annotations

import gc
import json
import os
import pickle
import shutil
import tempfile
import threading
from collections.abc import Iterable, Sequence
from itertools import accumulate
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh.filedb.filestore import FileStorage
from whoosh.util.filelock import try_for
from whoosh.writing import SegmentWriter

from index.highlight import crude_stem
from index.model import Paper, normalise_tag
from index.query import PARTIAL_MIN, PHRASE_FIELDS, SEARCH_FIELDS, STOP_WORDS, Node, Word
from index.search import whoosh_sets
from index.search.engine import (
    Hits,
    IndexUnavailable,
    Progress,
    WordDocs,
    busy,
    edit_distance,
    indexed,
)
from index.search.whoosh_fields import (
    NGRAM_MAX,
    BulkWriter,
    fold,
    query_terms,
    schema,
    spelling_words,
    stem,
)

SCHEMA_VERSION = 2  # 2: titles and abstracts indexed as decoded text
FORMAT = "papershelf-whoosh"
META_FILE = "papershelf-index.json"
INDEX_NAME = "papers"
BULK_AT_LEAST = 2000  # batches this big go through the bulk writer
SEGMENT_PAPERS = 25_000  # a rebuild writes a segment this often (bounds its memory)
# Up to this many matches, Whoosh scores exactly the matching documents (found by set
# arithmetic); above it, its own matchers with block skipping find the best ones faster.
SCORE_SET_AT_MOST = 5_000
POSITIONS = ("title", "abstract")  # fields with word positions: phrases elsewhere are ANDs
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
        self._docnums: dict[str, int] | None = None
        self._ranked: dict = {}  # finished words' ranked matches, kept while typing (per searcher)
        self._identity = None
        self._lock = threading.RLock()
        self._write_lock = threading.Lock()

    # -- opening --------------------------------------------------------------------------

    def open(self) -> None:
        with self._lock:
            self.close()
            self._identity = self._dir_identity()
            self._ix, self._searcher = _open_checked(self.directory)

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
        self._ranked = {}

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
        _remove_abandoned_builds(parent, self.directory.name)
        tmp = Path(tempfile.mkdtemp(prefix=f".{self.directory.name}.build-{os.getpid()}-",
                                    dir=parent))
        try:
            done = _build(tmp, papers, total, progress)
            (tmp / META_FILE).write_text(json.dumps({"format": FORMAT, "schema": SCHEMA_VERSION}))
            _open_checked(tmp)[0].close()  # what goes live must open
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
            self._commit(lambda w, empty: _add(w, papers, replace=not empty), len(papers))

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
                    change(writer, empty)
                    writer.commit(merge=not bulk)
                except BaseException:
                    _cancel_quietly(writer)
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

    def search(self, tree: Node, *, limit: int | None, allowed: set[str] | None = None) -> Hits:
        def read(s):
            typed, rest = _split_typed(tree)
            if typed is not None:
                hits = self._search_typing(s, typed, rest, limit, allowed)
                if hits is not None:
                    return hits
            return self._search_all(s, tree, limit, allowed)
        return self._reading(read)

    def _search_all(self, s, tree: Node, limit, allowed) -> Hits:
        builder = _Compiler(s)
        q = builder.build(tree)
        if q is None or (allowed is not None and not allowed) or not s.doc_count():
            return Hits()
        allowed_docs = self._allowed_docs(s, allowed)
        mask = self._dictionary(s) if builder.used_every else None
        found = whoosh_sets.matches(s, q, allowed_docs, mask)
        total = sum(map(len, found.values()))
        if not total:
            return Hits()
        if total <= SCORE_SET_AT_MOST:
            # few matches (two words, a phrase): score just them
            results = s.search(Q.And([q, whoosh_sets.DocSet(found)]), limit=limit)
        else:
            results = s.search(q, limit=limit, filter=allowed_docs, mask=mask)
        top = results.top_n
        return Hits(keys=self._keys_of(s, [d for _, d in top]),
                    scores=[score for score, _ in top], total=total)

    def _search_typing(self, s, typed: Node, rest: Node, limit, allowed) -> Hits | None:
        """Finished words and a word being typed ("diffusion mod"): the finished words'
        matches are ranked once and kept; each keystroke only filters that list by the
        typed word's matches (set arithmetic), instead of scoring thousands of papers per key.
        (The typed word's own score is left out until the word is finished.)"""
        builder = _Compiler(s)
        q_rest, q_typed = builder.build(rest), builder.build(typed)
        if q_rest is None or q_typed is None or builder.used_every or builder.has_phrase \
                or not s.doc_count() or (allowed is not None and not allowed):
            return None  # the general path knows these
        allowed_docs = self._allowed_docs(s, allowed)
        key = (repr(q_rest), None if allowed is None else frozenset(allowed_docs))
        ranked = self._ranked.get(key)
        if ranked is None:
            results = s.search(q_rest, limit=None, filter=allowed_docs)
            ranked = [d for _, d in results.top_n]
            if len(self._ranked) >= 4:
                self._ranked.pop(next(iter(self._ranked)))
            self._ranked[key] = ranked
        matching = set()
        for sub, offset in s.leaf_searchers():
            matching.update(d + offset for d in whoosh_sets.match_set(q_typed, sub.reader()))
        ids = [d for d in ranked if d in matching]
        shown = ids if limit is None else ids[:limit]
        return Hits(keys=self._keys_of(s, shown), total=len(ids))

    def _allowed_docs(self, s, allowed: set[str] | None) -> set[int] | None:
        if allowed is None:
            return None
        docnums = self._key_index(s)[1]
        return {docnums[k] for k in allowed if k in docnums}

    def _keys_of(self, s, docnums: list[int]) -> list[str]:
        """Keys of a page of results: from the key index when it is built (filters need it),
        else read from the key column (building the index costs ~0.1 s at 100k papers, paid
        once per searcher, so a search after each commit would pay it again)."""
        if self._keys is not None:
            return [self._keys[d] for d in docnums]
        column = s.reader().column_reader("key")
        return [column[d] for d in docnums]

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
        thousand words a "for you" profile asks about at 10k papers.)"""
        def read(s):
            reader = s.reader()
            out = {}
            for w in set(words):
                t = stem(fold(w))
                df = max(reader.doc_frequency("title", t), reader.doc_frequency("abstract", t))
                if df:
                    out[w] = df
            return out
        return self._reading(read)

    def docs_with(self, words: Iterable[str]) -> WordDocs:
        """The index holds stems: a word stands for its family here ("models" also finds
        "model"), and a length counts the title and abstract terms (stop words and one-letter
        words left out) at Whoosh's one-byte precision (exact up to 8, within ~6% above)."""
        def read(s):
            keys = self._key_index(s)[0]
            stems = {word: stem(fold(word)) for word in set(words)}
            found: dict[str, set[int]] = {term: set() for term in stems.values()}
            lengths: list[int] = []
            for sub, offset in s.leaf_searchers():
                reader = sub.reader()
                for term, docs in found.items():
                    here = whoosh_sets.live_docs(reader, ("title", "abstract"), term)
                    docs.update(map(offset.__add__, here) if offset else here)
                lengths.extend(whoosh_sets.text_lengths(reader, ("title", "abstract")))
            return WordDocs({w: found[t] for w, t in stems.items() if found[t]}, lengths, keys)
        return self._reading(read)

    def prefix_doc_frequency(self, prefix: str) -> int:
        def read(s):
            reader = s.reader()
            start = stem(fold(prefix))  # the index holds Porter stems ("diffus")
            return max(sum(reader.doc_frequency(f, t) for t in reader.expand_prefix(f, start))
                       for f in ("title", "abstract"))
        return self._reading(read)


# ---------------------------------------------------------------------------------------------
# Building and opening


def _build(directory: Path, papers: Iterable[Paper], total, progress) -> int:
    """Write `papers` into a new index at `directory` with the bulk writer, a segment every
    SEGMENT_PAPERS papers. Returns how many were written."""
    ix = whoosh_index.create_in(str(directory), schema(), indexname=INDEX_NAME)
    done = 0
    vocabulary: set[str] = set()
    threshold = gc.get_threshold()
    gc.freeze()  # the papers already in memory are not garbage: don't scan them over and over
    gc.set_threshold(100_000, 50, 1000)
    try:
        writer = BulkWriter(ix, compound=False)
        in_segment = 0
        try:
            for paper in papers:
                _add_one(writer, paper, vocabulary)
                done += 1
                in_segment += 1
                if in_segment >= SEGMENT_PAPERS:
                    writer.commit(merge=False)
                    writer, in_segment = BulkWriter(ix, compound=False), 0
                if progress is not None and done % 500 == 0:
                    progress(done, max(total or 0, done))
            for doc in _dictionary_docs(vocabulary, "0"):
                writer.add_document(**doc)
            writer.commit(merge=False)
        except BaseException:
            _cancel_quietly(writer)
            raise
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
        ix.close()
    return done


def _open_checked(directory: Path):
    """(index, searcher), checked: every segment opened and read a little."""
    if not directory.is_dir():
        raise IndexUnavailable(f"no search index at {directory}")
    try:
        meta = json.loads((directory / META_FILE).read_text("utf-8"))
    except FileNotFoundError:
        raise IndexUnavailable(f"no search index at {directory}") from None
    except (OSError, ValueError) as exc:
        raise IndexUnavailable(f"search index metadata unreadable: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT \
            or meta.get("schema") != SCHEMA_VERSION:
        found = meta.get("schema", "?") if isinstance(meta, dict) else "?"
        raise IndexUnavailable(
            f"search index has schema {found}, this version needs {SCHEMA_VERSION}")
    try:
        ix = whoosh_index.open_dir(str(directory), indexname=INDEX_NAME)
        if set(ix.schema.names()) != set(schema().names()):
            ix.close()
            raise IndexUnavailable("search index schema does not match")
        s = ix.searcher()
        try:
            reader = s.reader()
            n = reader.doc_count_all()
            if n:
                keys = reader.column_reader("key")
                keys[0], keys[n - 1]
            reader.doc_frequency("abstract", "model")
            for sub, _ in s.leaf_searchers():  # each segment's postings open and decode
                leaf = sub.reader()
                for field in ("title", "abstract"):
                    term = next(iter(leaf.lexicon(field)), None)
                    if term is not None:
                        postings = leaf.postings(field, term)
                        if postings.is_active():  # (all its papers may be deleted)
                            postings.id()
        except BaseException:
            s.close()
            ix.close()
            raise
    except IndexUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - truncated, scrambled or missing files
        raise IndexUnavailable(f"search index is damaged ({type(exc).__name__}: {exc})") from None
    return ix, s


def _remove_abandoned_builds(parent: Path, name: str) -> None:
    """Temporary folders of rebuilds whose process is gone (killed mid-build)."""
    for path in parent.glob(f".{name}.build-*"):
        try:
            pid = int(path.name.split("build-", 1)[1].split("-", 1)[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except (ValueError, IndexError, PermissionError, OSError):
            continue


def _document(doc) -> dict:
    """The Whoosh fields of one paper (an engine.IndexedPaper)."""
    values = {
        "key": doc.key,
        "title": doc.title,
        "abstract": doc.abstract,
        "authors": doc.authors,
        "tstarts": doc.title,
        "astarts": doc.authors,
    }
    if doc.notes:
        values["notes"] = doc.notes
    if doc.tags:
        values["tags"] = ",".join(t.replace(",", " ") for t in doc.tags)
    if doc.year:
        values["year"] = f"{doc.year:04d}"
    sources = [f"format:{f}" for f in doc.formats]
    for source in doc.sources:
        sources.append(source)
        sources.append(source.split(":", 1)[-1])  # the file name alone
    if sources:
        values["source"] = ",".join(s.replace(",", ";") for s in sources)
    return values


def _dictionary_docs(words: Iterable[str], tag: str) -> list[dict]:
    words = sorted(words)
    chunk = 20_000
    return [{"key": f"\x00dictionary:{tag}:{i}", "dictionary": "y",
             "spell": " ".join(words[i:i + chunk])} for i in range(0, len(words), chunk)]


def _add_one(writer, paper: Paper, vocabulary: set[str]) -> None:
    doc = indexed(paper)  # decoded once: for the fields and for the spelling words
    writer.add_document(**_document(doc))
    vocabulary |= spelling_words(doc.title) | spelling_words(doc.abstract)


def _add(writer, papers: Sequence[Paper], *, replace: bool) -> None:
    vocabulary: set[str] = set()
    for paper in papers:
        if replace:
            writer.delete_by_term("key", paper.key)
        _add_one(writer, paper, vocabulary)
    with writer.reader() as reader:
        new = [w for w in vocabulary if ("spell", w) not in reader]
    for doc in _dictionary_docs(new, os.urandom(8).hex()):
        writer.add_document(**doc)


def _cancel_quietly(writer) -> None:
    """Cancel after a failure without hiding it (a half-committed writer may be closed)."""
    try:
        writer.cancel()
    except Exception:  # noqa: BLE001 - the original exception is the one that matters
        pass


# ---------------------------------------------------------------------------------------------
# The query tree in Whoosh's terms


class _Compiler:
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


def _split_typed(tree: Node) -> tuple[Node | None, Node | None]:
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
    machinery (~0.5 s for a common two-word phrase at 100k papers). This walks the rarest
    word's postings, skips the others to each of its documents, and decodes positions only
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
    postings = [whoosh_sets.term_postings(reader, fieldname, w) for w in words]
    common = set(postings[0]).intersection(*postings[1:])
    if reader.has_deletions():
        common = {d for d in common if not reader.is_deleted(d)}
    return sorted(d for d in common if _adjacent([_positions(p[d]) for p in postings], slop))


def _positions(value: bytes) -> list[int]:
    """Decoded word positions: Whoosh's Positions format is a 4-byte count and a pickled list
    of gaps (this is its decode_positions, with the loop in C)."""
    return list(accumulate(pickle.loads(value[4:] if value.endswith(b".") else value[4:] + b".")))


def _adjacent(positions: list[list[int]], slop: int) -> bool:
    """True when some position of the first word starts a chain through the others, each at
    most `slop` after the one before."""
    if len(positions) == 2 and slop == 1:  # the common case: two words side by side
        return not {p + 1 for p in positions[0]}.isdisjoint(positions[1])
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
