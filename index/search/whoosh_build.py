"""The Whoosh index folder: building a new one, opening one checked, and adding papers to
it. Part of the Whoosh engine (whoosh.py commits and swaps what is built here)."""

from __future__ import annotations

import gc
import json
import os
import re
import shutil
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from itertools import chain, filterfalse
from pathlib import Path

from whoosh import index as whoosh_index

from index.foryou import STOP_WORDS as TASTE_STOP_WORDS
from index.foryou import indexed_words
from index.model import Paper
from index.search.engine import IndexedPaper, IndexUnavailable, indexed
from index.search.whoosh_fields import BulkWriter, pieces, schema, spelling_words

# 2: titles and abstracts indexed as decoded text; 3: "for you" words; 4: positions as arrays;
# 5: posting blocks pickled with protocol 4 (whoosh_fields)
SCHEMA_VERSION = 5
FORMAT = "papershelf-whoosh"
META_FILE = "papershelf-index.json"
INDEX_NAME = "papers"
SEGMENT_PAPERS = 25_000  # a rebuild writes a segment this often (bounds its memory)
_LETTER_RUNS = re.compile("[a-z]+")
_ONE_OR_TWO_LETTERS = [chr(a) for a in range(97, 123)] + \
    [chr(a) + chr(b) for a in range(97, 123) for b in range(97, 123)]
_NOT_TASTE = TASTE_STOP_WORDS.union(_ONE_OR_TWO_LETTERS)  # what indexed_words leaves out


def build_index(directory: Path, papers: Iterable[Paper], total, progress) -> int:
    """Write `papers` into a new index at `directory` with the bulk writer, a segment every
    SEGMENT_PAPERS papers. Returns how many were written.

    The spelling dictionary (~70,000 words at 100k papers) goes into the last segment, which
    is kept big: a segment of a few documents is merged with the small ones that edits add,
    and Whoosh merges term by term (~3 s for that dictionary, every few edits). So with the
    number of papers known, the last segment takes the papers a new one would have had when
    fewer than half a segment are left (up to 1.5 segments' worth)."""
    ix = whoosh_index.create_in(str(directory), schema(), indexname=INDEX_NAME)
    done = 0
    vocabulary: set[str] = set()
    try:
        with bulk_garbage_collection():
            writer = BulkWriter(ix, compound=False)
            in_segment = 0
            try:
                for paper in papers:
                    if in_segment >= SEGMENT_PAPERS and (
                            total is None or total - done >= SEGMENT_PAPERS // 2):
                        writer.commit(merge=False)
                        writer, in_segment = BulkWriter(ix, compound=False), 0
                    _add_one(writer, paper, vocabulary)
                    done += 1
                    in_segment += 1
                    if progress is not None and done % 500 == 0:
                        progress(done, max(total or 0, done))
                for doc in _dictionary_docs(spellable(vocabulary), "0"):
                    writer.add_document(**doc)
                writer.commit(merge=False)
            except BaseException:
                cancel_quietly(writer)
                raise
    finally:
        ix.close()
    return done


@contextmanager
def bulk_garbage_collection():
    """While a big batch is indexed: the papers already in memory are not garbage, so the
    collector does not scan them over and over, and it runs less often."""
    threshold = gc.get_threshold()
    freeze = not gc.get_freeze_count()  # (what a caller froze stays frozen: not ours to undo)
    if freeze:
        gc.freeze()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        if freeze:
            gc.unfreeze()


def open_checked(directory: Path):
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


def remove_abandoned_builds(parent: Path, name: str) -> None:
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
    """Index one paper; add its spelling words to `vocabulary` (with words of 1-2 or over 30
    letters, which spellable() drops from the whole vocabulary once)."""
    doc = indexed(paper)  # decoded once: for the fields and for the spelling words
    spelling, taste, length = paper_words(doc, paper)
    writer.add_document(**_document(doc), taste=taste, wordcount=length)
    vocabulary |= spelling


def spellable(vocabulary: set[str]) -> set[str]:
    """The words "did you mean" may offer (spelling_words: 3-30 letters) of a vocabulary."""
    return {w for w in vocabulary if 2 < len(w) < 31}


def paper_words(doc: IndexedPaper, paper: Paper) -> tuple[set[str], set[str], int]:
    """(spelling words, "for you" words, length in words) of a paper, from one split where it
    can. The spelling words are spelling_words' of the decoded text (doc), but may include
    words of 1-2 or over 30 letters (see spellable); the "for you" words and length are
    index.foryou.indexed_words' of the text as the library holds it. On ASCII text that
    decodes to itself, the runs of letters indexed_words keeps are those of the pieces the
    title and abstract fields were split into (cached), so both come from those."""
    title, abstract = paper.title or "", paper.abstract or ""
    if doc.title != title or doc.abstract != abstract or not title.isascii() \
            or not abstract.isascii():
        return (spelling_words(doc.title) | spelling_words(doc.abstract),
                *indexed_words(title, abstract))
    split_title, split_abstract = pieces(title), pieces(abstract)
    letters = set(split_title)
    letters.update(split_abstract)
    length = len(split_title) + len(split_abstract)
    other = list(filterfalse(str.isalpha, letters))  # numbers, "gpt4", "x_1"
    if other:
        letters.difference_update(other)
        runs = set()
        for piece in filterfalse(str.isalpha, chain(split_title, split_abstract)):
            found = _LETTER_RUNS.findall(piece)  # "gpt4" -> "gpt"; numbers have none
            length += len(found) - 1
            runs.update(found)
        taste = (letters | runs) - _NOT_TASTE
    else:
        taste = letters - _NOT_TASTE
    if taste and max(map(len, taste)) > 30:
        taste = {w for w in taste if len(w) < 31}
    return letters, taste, length


def add_papers(writer, papers: Sequence[Paper], *, replace: bool) -> None:
    vocabulary: set[str] = set()
    for paper in papers:
        if replace:
            writer.delete_by_term("key", paper.key)
        _add_one(writer, paper, vocabulary)
    with writer.reader() as reader:
        new = [w for w in spellable(vocabulary) if ("spell", w) not in reader]
    for doc in _dictionary_docs(new, os.urandom(8).hex()):
        writer.add_document(**doc)


def cancel_quietly(writer) -> None:
    """Cancel after a failure without hiding it (a half-committed writer may be closed)."""
    try:
        writer.cancel()
    except Exception:  # noqa: BLE001 - the original exception is the one that matters
        pass
