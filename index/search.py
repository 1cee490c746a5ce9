"""Full-text search over the library: the index (SQLite FTS5), the query language,
suggestions and "similar papers".

This is the only module that knows how the index is stored, so the engine can be swapped
(it was Whoosh until the measurements in benchmarks/RESULTS.md).

Query language (what `SearchIndex.search` accepts):

- free words: all must match (BM25 over title^3, authors, tags, abstract, notes; stemmed, so
  "models" finds "model"); lowercase and/or/not are ordinary (stop) words
- ``"a phrase"``: the words next to each other (title, authors, abstract, notes)
- ``word*``: a prefix, matched on the title and author names only (unstemmed), never on the
  abstract (a prefix over every abstract word would rank most of the library)
- ``AND``, ``OR``, ``NOT`` (upper case), ``-word``, and ``( ... )`` groups
- as you type (``as_you_type=True``): the last word, while the text does not end in a space,
  is a prefix on the title (3+ letters; "models" also as "model*") and a whole word in authors
  and tags, never the abstract (a common abstract word would rank thousands of papers per
  keystroke); earlier words match everywhere as usual. A query of only such a prefix that
  matches more than RANK_PREFIX_AT_MOST titles lists them newest first (ranking a prefix is
  the slow case of FTS5)
- field filters: ``title:``, ``author:`` / ``authors:``, ``abstract:``, ``notes:``, ``source:``
  (the format, e.g. ``source:bibtex``, or a full source string), ``year:2023``,
  ``year:2020..2023``, ``year:>=2021``
- user-state filters ``is:starred``, ``-is:starred``, ``is:unread|reading|read``, ``tag:X`` are
  *not* evaluated here: `parse_filters` removes them and the caller resolves them from SQLite
  and passes the matching keys as ``allowed``. They always combine with AND.

Malformed input never raises: unbalanced quotes and parentheses, dangling operators and stray
markup such as ``[/]`` fall back to plain words; an empty field filter (``title:``) or a query
that is only ``*`` gives `SearchResult.error`.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.highlight import crude_stem
from index.model import STATUSES, Paper, PapershelfError, normalise_tag

SCHEMA_VERSION = 4

# The shortest partial word looked up as a title prefix while typing (the `names` table keeps
# a 3-letter prefix index for exactly this).
NGRAM_MIN = 3
# A query of only prefixes (a word being typed) is ranked by relevance up to this many hits,
# and listed newest first above it (ranking a prefix costs ~4 us per hit).
RANK_PREFIX_AT_MOST = 10_000
# Words plus a word being typed: when the typed word matches at most this many papers, rank
# the intersection in SQLite; above it, rank the words' matches once and filter that list
# on each keystroke.
INTERSECT_IN_SQL_AT_MOST = 5000
# Similar papers: words found in more than this share of a big library are not used.
COMMON_WORD_SHARE = 0.05
# Suggest a corrected query only when the query found fewer hits than this.
SUGGEST_BELOW = 3

SEARCH_FIELDS = ("title", "authors", "tags", "abstract", "notes")
PHRASE_FIELDS = ("title", "authors", "abstract", "notes")
FIELD_ALIASES = {
    "title": "title",
    "author": "authors",
    "authors": "authors",
    "abstract": "abstract",
    "note": "notes",
    "notes": "notes",
    "year": "year",
    "source": "source",
}


class IndexUnavailable(PapershelfError):
    """The index is missing, corrupt, or of an older schema: the caller rebuilds it (and
    when even that fails, the message is the one line the user sees)."""


class IndexBusy(PapershelfError):
    """Another process holds the index writer lock for longer than the timeout."""


# ---------------------------------------------------------------------------------------------
# User-state filters


@dataclass
class ParsedQuery:
    text: str  # what goes to the full-text index (may be "")
    starred: bool | None = None
    statuses: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)
    error: str | None = None


# A token: a quoted string (maybe unterminated), a paren, or a run of anything else.
_TOKEN = re.compile(r'"[^"]*"?|[()]|[^\s()"]+(?:"[^"]*"?)?')
_FILTER = re.compile(r"^(?P<neg>[-!]?)(?P<name>is|tag):(?P<value>.*)$", re.I | re.S)


def parse_filters(query: str) -> ParsedQuery:
    """Pull ``is:starred``, ``-is:starred``, ``is:unread|reading|read`` and ``tag:X`` out of
    the query text. The rest of the text is returned unchanged (as `ParsedQuery.text`)."""
    parsed = ParsedQuery(text="")
    keep: list[tuple[int, int]] = []
    errors: list[str] = []
    for m in _TOKEN.finditer(query):
        tok = m.group()
        f = _FILTER.match(tok)
        if not f:
            keep.append(m.span())
            continue
        neg = bool(f.group("neg"))
        name = f.group("name").lower()
        value = f.group("value").strip('"').strip()
        if name == "is":
            v = value.lower()
            if v == "starred":
                parsed.starred = not neg
            elif v in STATUSES and not neg:
                parsed.statuses.add(v)
            elif v in STATUSES:
                errors.append(f"-is:{v} is not supported; use is:{' / is:'.join(s for s in STATUSES if s != v)}")
            elif not v:
                errors.append("is: needs a value: is:starred, is:unread, is:reading or is:read")
            else:
                errors.append(
                    f"unknown filter is:{value}; use is:starred, is:unread, is:reading or is:read"
                )
        else:
            tag = normalise_tag(value)
            if not tag:
                errors.append("tag: needs a tag name, like tag:to-read")
            elif neg:
                errors.append(f"-tag:{value} is not supported")
            else:
                parsed.tags.add(tag)
    # Rebuild the remaining text from the kept spans (single spaces between them).
    parsed.text = " ".join(query[a:b] for a, b in keep)
    if errors:
        parsed.error = errors[0]
    return parsed


# ---------------------------------------------------------------------------------------------
# Results


@dataclass
class SearchResult:
    keys: list[str] = field(default_factory=list)
    total: int = 0
    terms: set[str] = field(default_factory=set)
    suggestion: str | None = None
    error: str | None = None


# ---------------------------------------------------------------------------------------------
# Query parsing (our own small parser: it never raises on user input, and it knows which
# words are prefixes, phrases and field filters, which the highlighter and suggester need).


class QueryError(Exception):
    """A malformed query; the message is one line for the user."""


@dataclass
class _Word:
    text: str  # as typed (without '*')
    field: str | None = None  # None: all search fields
    prefix: bool = False
    phrase: bool = False  # text is a phrase (several words)
    span: tuple[int, int] = (0, 0)  # where it was in the query text (for suggestions)
    partial: bool = False  # as-you-type last word


@dataclass
class _Node:
    op: str  # "and", "or", "not", "word"
    children: list[Any] = field(default_factory=list)
    word: _Word | None = None


_OPS = {"AND": "and", "OR": "or", "NOT": "not", "&&": "and", "||": "or"}
_YEAR = re.compile(r"^(\d{4})$")
_YEAR_RANGE = re.compile(r"^(\d{4})?(?:\.\.|-)(\d{4})?$")
_YEAR_CMP = re.compile(r"^(>=|<=|>|<)(\d{4})$")


def _lex(text: str) -> list[tuple[str, str, tuple[int, int]]]:
    """Tokens as (kind, value, span): kind is '(', ')', 'op', 'neg', 'term'."""
    out: list[tuple[str, str, tuple[int, int]]] = []
    for m in _TOKEN.finditer(text):
        tok = m.group()
        span = m.span()
        if tok in ("(", ")"):
            out.append((tok, tok, span))
        elif tok in _OPS:
            out.append(("op", _OPS[tok], span))
        else:
            if tok[0] in "-!" and len(tok) > 1:
                out.append(("neg", tok[0], (span[0], span[0] + 1)))
                tok = tok[1:]
                span = (span[0] + 1, span[1])
            out.append(("term", tok, span))
    return out


class _Parser:
    """or_expr := and_expr (OR and_expr)*; and_expr := unary+; unary := (NOT|-) unary | atom."""

    def __init__(self, tokens):
        self.toks = tokens
        self.i = 0
        self.errors: list[str] = []

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def parse(self) -> _Node:
        nodes = []
        while self.peek() is not None:
            node = self.or_expr()
            if node is not None:
                nodes.append(node)
            tok = self.peek()
            if tok is not None and tok[0] == ")":  # unbalanced ')': ignore it
                self.i += 1
            elif tok is not None and tok[0] == "op" and tok[1] == "or":
                self.i += 1  # dangling OR
        return _Node("and", nodes)

    def or_expr(self):
        parts = []
        node = self.and_expr()
        if node is not None:
            parts.append(node)
        while (tok := self.peek()) is not None and tok[0] == "op" and tok[1] == "or":
            self.i += 1
            node = self.and_expr()
            if node is not None:
                parts.append(node)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else _Node("or", parts)

    def and_expr(self):
        parts = []
        while (tok := self.peek()) is not None:
            kind, value, _ = tok
            if kind == ")" or (kind == "op" and value == "or"):
                break
            if kind == "op" and value == "and":
                self.i += 1
                continue
            node = self.unary()
            if node is not None:
                parts.append(node)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else _Node("and", parts)

    def unary(self):
        tok = self.peek()
        kind, value, _ = tok
        if kind == "neg" or (kind == "op" and value == "not"):
            self.i += 1
            nxt = self.peek()
            if nxt is None or nxt[0] == ")" or (nxt[0] == "op" and nxt[1] in ("or", "and")):
                return None  # dangling NOT
            inner = self.unary()
            return None if inner is None else _Node("not", [inner])
        return self.atom()

    def atom(self):
        kind, value, span = self.peek()
        self.i += 1
        if kind == "(":
            node = self.or_expr()
            if (tok := self.peek()) is not None and tok[0] == ")":
                self.i += 1
            # a missing ')' closes at the end of the query
            return node
        return self.term(value, span)

    def term(self, tok: str, span: tuple[int, int]):
        fieldname = None
        m = re.match(r"^([A-Za-z]+):(.*)$", tok, re.S)
        if m and m.group(1).lower() in FIELD_ALIASES:
            fieldname = FIELD_ALIASES[m.group(1).lower()]
            tok = m.group(2)
            span = (span[0] + len(m.group(1)) + 1, span[1])
            if not tok.strip('"').strip():
                self.errors.append(f"{m.group(1)}: needs a value, like {m.group(1)}:{_EXAMPLE.get(fieldname, 'word')}")
                return None
        if tok.startswith('"'):
            inner = tok[1:-1] if len(tok) > 1 and tok.endswith('"') else tok[1:]
            words = inner.split()
            if not words:
                return None
            if len(words) == 1:
                return _Node("word", word=_Word(words[0].rstrip("*"), fieldname, prefix=words[0].endswith("*") and len(words[0]) > 1, span=span))
            return _Node("word", word=_Word(inner.strip(), fieldname, phrase=True, span=span))
        if '"' in tok:  # e.g. title:"x" was glued; strip stray quotes
            tok = tok.replace('"', " ").strip()
        if fieldname == "year":
            return _Node("word", word=_Word(tok, "year", span=span))
        prefix = tok.endswith("*")
        core = tok.rstrip("*")
        if not core.strip("*"):
            if prefix:
                self.errors.append("'*' needs letters before it, like trans*")
            return None
        core = core.replace("*", "")
        return _Node("word", word=_Word(core, fieldname, prefix=prefix, span=span))


_EXAMPLE = {"title": "diffusion", "authors": "hinton", "year": "2023", "source": "bibtex",
            "abstract": "transformer", "notes": "idea"}

_WORDCHARS = re.compile(r"\d+(?:\.\d+)+|\w+", re.UNICODE)


def _walk_words(node: _Node, negated: bool = False):
    if node.op == "word":
        yield node.word, negated
    else:
        for child in node.children:
            yield from _walk_words(child, negated ^ (node.op == "not"))


def _parse(text: str, as_you_type: bool) -> tuple[_Node, list[str]]:
    tokens = _lex(text)
    parser = _Parser(tokens)
    tree = parser.parse()
    if as_you_type and text and not text[-1].isspace():
        # the last plain word (not a phrase or a field filter) is a partial word
        last = None
        for w, neg in _walk_words(tree):
            last = (w, neg)
        if last and not last[1]:
            w = last[0]
            if w.span[1] == len(text) and not w.phrase and w.field in (None, "title", "authors"):
                w.partial = True
    return tree, parser.errors


# ---------------------------------------------------------------------------------------------
# SQLite FTS5 (the engine)
#
# The index is one SQLite file in its own directory, separate from the library database: it is
# derived (rebuilt from the store at any time) and never synced. Three full-text tables share
# rowids with `docs`:
#
# - `full`: every searchable field, Porter-stemmed and accent-folded; ranked by BM25 with the
#   title weighted 3x. Year and source are columns too, so field filters compose with AND /
#   OR / NOT inside one FTS5 expression.
# - `names`: titles, authors and tags unstemmed, with a 3-letter prefix index: the partial
#   word while typing and `word*` prefixes (a stemmed index cannot answer "diffusi*": the
#   indexed stem is "diffus").
# - `spell`: titles and abstracts unstemmed, contentless: its vocabulary (`spell_vocab`)
#   gives "did you mean" candidates and document frequencies for "similar papers".
#
# Why not Whoosh (the first engine): building its index in pure Python cost ~3.9 ms of CPU per
# paper and a searcher over 100k papers held ~600 MB; FTS5 builds 10k papers in ~1.5 s and
# answers from a few MB of page cache. See benchmarks/RESULTS.md.

INDEX_FILE = "search.sqlite"
FORMAT = "papershelf-fts5"
# BM25 column weights of `full`: title, authors, tags, abstract, notes, year, source.
FULL_COLUMNS = ("title", "authors", "tags", "abstract", "notes", "year", "source")
FULL_WEIGHTS = "3.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0"
NAMES_WEIGHTS = "3.0, 1.0, 1.0"
_TOKENIZER = "unicode61 remove_diacritics 2"
_SCHEMA = f"""
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE docs (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, added REAL NOT NULL,
                   year INTEGER);
CREATE INDEX docs_added ON docs (added);
CREATE VIRTUAL TABLE full USING fts5 ({", ".join(FULL_COLUMNS)},
    tokenize = 'porter {_TOKENIZER}');
CREATE VIRTUAL TABLE names USING fts5 (title, authors, tags, tokenize = '{_TOKENIZER}',
    prefix = '3');
CREATE VIRTUAL TABLE spell USING fts5 (text, tokenize = '{_TOKENIZER}', content = '',
    detail = none);
CREATE VIRTUAL TABLE spell_vocab USING fts5vocab (spell, 'row');
"""
_TABLES = ("meta", "docs", "full", "names", "spell", "spell_vocab")

_STOP_WORDS = frozenset(
    "a an and are as at be by can for from have if in is it may not of on or tbd that the "
    "this to us we when will with yet you your".split()
)
_SPELL_WORD = re.compile(r"[^\W\d_]{3,30}", re.UNICODE)
# Fields each query form may touch (columns of `full`).
_NO_MATCH = '{year} : "00000"'  # an expression that matches no paper


def _quote(text: str) -> str:
    """An FTS5 string: the tokenizer splits it; several tokens make a phrase."""
    return '"' + text.replace('"', '""') + '"'


def _columns(fields: Iterable[str]) -> str:
    return "{" + " ".join(fields) + "}"


def _row(paper: Paper) -> tuple[str, ...]:
    """The `full` columns of one paper."""
    sources = []
    for s in paper.sources:
        s = s.strip()
        if not s:
            continue
        fmt = s.split(":", 1)[0]
        sources.append(_format_token(fmt) if fmt == s else f"{_format_token(fmt)} ; {s}")
    return (
        paper.title or "",
        ", ".join(paper.authors),
        " , ".join(normalise_tag(t) for t in paper.tags),
        paper.abstract or "",
        paper.note or "",
        str(paper.year) if paper.year else "",
        " , ".join(sources),
    )


_FORMAT_NAME = re.compile(r"[a-z][a-z0-9-]*")


def _format_token(fmt: str) -> str:
    """A source format as one token: the tokenizer would split "dailypapers-json" in two, and
    `source:dailypapers` would then find JSON imports too."""
    return "format" + re.sub(r"[^a-z0-9]", "", fmt.lower())


def _spell_text(title: str, abstract: str) -> str:
    # Must be rebuilt byte for byte from `full` to delete it from the contentless table.
    return f"{title}\n{abstract}"


class SearchIndex:
    """The full-text index of the library. Thread-safe (one lock around every operation);
    several processes may read while one writes (SQLite WAL)."""

    def __init__(self, directory: Path, *, writer_timeout: float = 5.0):
        self.directory = Path(directory)
        self.writer_timeout = writer_timeout
        self._db = None
        self._identity = None
        self._cache = _ReadCache()
        self._lock = threading.RLock()

    @property
    def path(self) -> Path:
        return self.directory / INDEX_FILE

    # -- opening --------------------------------------------------------------------------

    def open(self) -> None:
        """Open the index; raise IndexUnavailable when it is missing, damaged or older."""
        with self._lock:
            self.close()
            self._db = self._connect_checked(self.path, self.writer_timeout)
            self._identity = self._file_identity()

    @staticmethod
    def _connect_checked(path: Path, timeout: float):
        import sqlite3

        if not path.is_file():
            raise IndexUnavailable(f"no search index at {path.parent}")
        _check_header(path)
        try:
            db = sqlite3.connect(path, timeout=timeout, check_same_thread=False,
                                 isolation_level=None)
        except sqlite3.Error as exc:
            raise IndexUnavailable(f"search index is damaged ({exc})") from None
        try:
            _configure(db)
            names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
            if not set(_TABLES) <= names:
                raise IndexUnavailable("search index is incomplete")
            meta = dict(db.execute("SELECT name, value FROM meta"))
            if meta.get("format") != FORMAT or meta.get("schema") != str(SCHEMA_VERSION):
                raise IndexUnavailable(
                    f"search index has schema {meta.get('schema', '?')}, this version needs "
                    f"{SCHEMA_VERSION}")
            # Touch each table's pages a little: damage usually shows here already.
            db.execute("SELECT max(id), count(*) FROM docs").fetchone()
            db.execute("SELECT rowid FROM full WHERE full MATCH 'model OR data' LIMIT 1").fetchall()
            db.execute("SELECT rowid FROM names WHERE names MATCH 'mod*' LIMIT 1").fetchall()
            db.execute("SELECT term FROM spell_vocab WHERE term = 'model'").fetchall()
        except IndexUnavailable:
            db.close()
            raise
        except sqlite3.Error as exc:
            db.close()
            raise IndexUnavailable(f"search index is damaged ({exc})") from None
        return db

    def _file_identity(self):
        try:
            st = os.stat(self.path)
            return (st.st_dev, st.st_ino)
        except OSError:
            return None

    def _conn(self):
        """The open connection; reopened when another process replaced the file."""
        if self._db is not None and self._file_identity() != self._identity:
            self.close()
        if self._db is None:
            self.open()
        return self._db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                try:
                    self._db.close()
                except Exception:
                    pass
            self._db = None
            self._cache.clear()

    def doc_count(self) -> int:
        with self._reading():
            return self._conn().execute("SELECT count(*) FROM docs").fetchone()[0]

    def all_keys(self) -> list[str]:
        """The key of every indexed document, once per copy in the full-text table (a key
        missing from `docs` shows as None): what `doctor` compares with the library."""
        with self._reading():
            rows = self._conn().execute(
                "SELECT d.key FROM full LEFT JOIN docs d ON d.id = full.rowid")
            return [r[0] for r in rows]

    # -- errors ---------------------------------------------------------------------------

    def _reading(self):
        return _Guard(self)

    def _busy(self, what: str = "") -> IndexBusy:
        return IndexBusy(
            f"the search index is being written by another papershelf process "
            f"(waited {self.writer_timeout:g} s); try {what or 'again'} when it finishes")

    # -- writing --------------------------------------------------------------------------

    def _begin_write(self, db, what: str = "") -> None:
        import sqlite3

        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise self._busy(what) from None
            raise

    def rebuild(
        self,
        papers: Iterable[Paper],
        total: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """Replace the whole index with `papers`, in one transaction: other processes see the
        old index until the new one is complete. A damaged file is started afresh."""
        import sqlite3

        with self._lock:
            try:
                db = self._conn()
            except IndexUnavailable:
                self.close()
                db = self._fresh_file()
            counted = []

            def replace_everything(db):
                for name in ("spell_vocab", "spell", "names", "full", "docs", "meta"):
                    db.execute(f"DROP TABLE IF EXISTS {name}")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.executemany("INSERT INTO meta VALUES (?, ?)",
                               [("format", FORMAT), ("schema", str(SCHEMA_VERSION))])
                counted.append(self._insert(db, papers, 0, total, progress))

            self._transaction(db, replace_everything, "the rebuild again",
                              "search index could not be rebuilt")
            done = counted[0]
            try:
                db.execute("PRAGMA incremental_vacuum")  # give the old tables' pages back
            except sqlite3.DatabaseError:
                pass  # only space is at stake
            if progress is not None:
                progress(done, max(total or 0, done))
            self._identity = self._file_identity()

    def _fresh_file(self):
        """Start a new, empty index file (the old one is damaged beyond opening)."""
        import sqlite3

        self.directory.parent.mkdir(parents=True, exist_ok=True)
        if self.directory.exists() and not self.directory.is_dir():
            self.directory.unlink()  # a file where the folder belongs
        self.directory.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.unlink(f"{self.path}{suffix}")
            except FileNotFoundError:
                pass
        db = sqlite3.connect(self.path, timeout=self.writer_timeout, check_same_thread=False,
                             isolation_level=None)
        # Incremental vacuum: a rebuild frees the old tables' pages, and the file should
        # shrink back afterwards (set before the first table is created).
        db.execute("PRAGMA auto_vacuum = INCREMENTAL")
        _configure(db)
        self._db = db
        return db

    def _insert(self, db, papers, done, total, progress) -> int:
        """Insert papers that are not in the index yet, in chunks (progress between them)."""
        chunk: list[Paper] = []
        for paper in papers:
            chunk.append(paper)
            if len(chunk) >= 500:
                self._insert_chunk(db, chunk)
                done += len(chunk)
                chunk = []
                if progress is not None:
                    progress(done, max(total or 0, done))
        if chunk:
            self._insert_chunk(db, chunk)
            done += len(chunk)
        return done

    @staticmethod
    def _insert_chunk(db, papers: Sequence[Paper]) -> None:
        start = (db.execute("SELECT max(id) FROM docs").fetchone()[0] or 0) + 1
        ids = range(start, start + len(papers))
        rows = [_row(p) for p in papers]
        db.executemany("INSERT INTO docs (id, key, added, year) VALUES (?, ?, ?, ?)",
                       [(i, p.key, float(p.added or 0.0), p.year or None) for i, p in zip(ids, papers)])
        db.executemany(f"INSERT INTO full (rowid, {', '.join(FULL_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [(i, *r) for i, r in zip(ids, rows)])
        db.executemany("INSERT INTO names (rowid, title, authors, tags) VALUES (?, ?, ?, ?)",
                       [(i, r[0], r[1], r[2]) for i, r in zip(ids, rows)])
        db.executemany("INSERT INTO spell (rowid, text) VALUES (?, ?)",
                       [(i, _spell_text(r[0], r[3])) for i, r in zip(ids, rows)])

    @staticmethod
    def _remove(db, keys: Sequence[str]) -> None:
        rows = db.execute(
            "SELECT d.id, f.title, f.abstract FROM docs d LEFT JOIN full f ON f.rowid = d.id "
            "WHERE d.key IN (SELECT value FROM json_each(?))", (json.dumps(list(keys)),)).fetchall()
        if not rows:
            return
        # The spelling table keeps no text: deleting from it takes the exact text indexed.
        db.executemany("INSERT INTO spell (spell, rowid, text) VALUES ('delete', ?, ?)",
                       [(i, _spell_text(t, a)) for i, t, a in rows if t is not None])
        ids = [(r[0],) for r in rows]
        db.executemany("DELETE FROM full WHERE rowid = ?", ids)
        db.executemany("DELETE FROM names WHERE rowid = ?", ids)
        db.executemany("DELETE FROM docs WHERE id = ?", ids)

    def _write(self, change: Callable[[Any], None]) -> None:
        with self._lock:
            self._transaction(self._conn(), change, "", "search index is damaged")

    def _transaction(self, db, change: Callable[[Any], None], retry: str, failure: str) -> None:
        """Run `change` in one write transaction. Another writer past the timeout is
        IndexBusy, a full or failing disk OSError, anything else IndexUnavailable."""
        import sqlite3

        self._cache.clear()
        try:
            self._begin_write(db, retry)
            try:
                change(db)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise self._busy(retry) from None
            if "no such module" in str(exc):
                self.close()
                raise IndexUnavailable(
                    f"this Python's SQLite has no full-text search ({exc}); papershelf needs "
                    "SQLite with FTS5, which python.org and most Linux builds include") from None
            if _is_disk_error(exc):
                raise OSError(str(exc)) from None
            self.close()
            raise IndexUnavailable(f"{failure} ({exc})") from None

    def upsert(self, papers: Sequence[Paper]) -> None:
        """Add or replace papers (by key) in one transaction. Searches from other threads and
        processes go on against the previous state until it commits."""
        papers = list({p.key: p for p in papers}.values())  # one copy per key, the last wins
        if not papers:
            return

        def change(db):
            self._remove(db, [p.key for p in papers])
            self._insert_chunk(db, papers)

        self._write(change)

    def delete(self, keys: Sequence[str]) -> None:
        keys = list(keys)
        if keys:
            self._write(lambda db: self._remove(db, keys))

    # -- reading --------------------------------------------------------------------------

    def search(
        self,
        text: str,
        limit: int | None = 50,
        allowed: set[str] | None = None,
        as_you_type: bool = False,
        *,
        sort: str = "relevance",
    ) -> SearchResult:
        """Run a query. `allowed` restricts the results to those keys (user-state filters).

        An empty query lists every paper (or every allowed one), newest first. `sort` may be
        "relevance" or "newest". Malformed queries give `SearchResult.error`, never raise;
        a damaged index raises IndexUnavailable."""
        import sqlite3

        text = text or ""
        tree, errors = _parse(text, as_you_type)
        if errors:
            return SearchResult(error=errors[0])
        with self._reading():
            db = self._conn()
            self._cache.check(db)
            builder = _MatchBuilder(self._year_list)
            try:
                plan = builder.plan(tree)
            except QueryError as exc:
                return SearchResult(error=str(exc))
            if allowed is not None and not allowed:
                return SearchResult(terms=builder.terms)
            if plan is None and tree.children:
                # only stop words, punctuation or too-short partial words ("the", "[/]", "a"):
                # nothing to look for
                return SearchResult(terms=builder.terms)
            try:
                keys, total = self._run(db, plan, limit, allowed, sort)
            except sqlite3.OperationalError as exc:
                if not str(exc).startswith("fts5:"):
                    raise
                # our expression builder quotes every word, so this is a bug of ours: say so
                # in one line rather than treating the index as damaged
                return SearchResult(terms=builder.terms, error=f"could not run this query ({exc})")
            suggestion = None
            if total < SUGGEST_BELOW and builder.plain_words:
                suggestion = self._suggest(db, text, builder, total, allowed)
            return SearchResult(keys=keys, total=total, terms=builder.terms, suggestion=suggestion)

    def _year_list(self) -> list[int]:
        """The years papers have (what a year range expands to)."""
        return self._cache.get(("years",), lambda: _ids(
            self._db, "SELECT DISTINCT year FROM docs WHERE year IS NOT NULL ORDER BY year"))

    def _run(self, db, plan: _Plan | None, limit, allowed, sort) -> tuple[list[str], int]:
        """(keys of the first `limit` hits, number of hits).

        BM25 costs ~1.5 us per matching paper in FTS5, so ranking is only ever done over the
        papers that pass every condition: the words being typed and the user-state filter are
        turned into rowid sets first (cheap, and kept between keystrokes), and the ranked
        query filters on them."""
        allowed_ids = self._allowed_ids(db, allowed) if allowed is not None else None
        if plan is None:  # list everything (or every allowed paper), newest first
            ids = self._newest(db)
        elif plan.negative:
            matched = set(_ids(db, "SELECT rowid FROM full WHERE full MATCH ?", (plan.match,)))
            ids = [i for i in self._newest(db) if i not in matched]
        elif plan.match:
            return self._run_full(db, plan, limit, allowed_ids, sort)
        elif len(typed := self._names_set(db, plan.prefix)) <= RANK_PREFIX_AT_MOST:
            ids = self._ranked_names(db, plan.prefix)
        else:
            # "tra" matches a quarter of a big library's titles, and ranking a prefix costs
            # ~2 us per hit: newest first until the word narrows it down
            ids = [i for i in self._newest(db) if i in typed]
        if allowed_ids is not None:
            ids = [i for i in ids if i in allowed_ids[0]]
        if sort == "newest" and plan is not None:
            chosen = set(ids)
            ids = [i for i in self._newest(db) if i in chosen]
        shown = ids if limit is None else ids[:limit]
        return _keys_for(db, shown), len(ids)

    def _run_full(self, db, plan: _Plan, limit, allowed_ids, sort) -> tuple[list[str], int]:
        """A query with words over `full`, ranked in SQLite (see `_run`)."""
        ranked = self._cache.peek(("full", plan.match))
        if plan.prefix and sort != "newest" and (ranked is not None or len(
                self._names_set(db, plan.prefix)) > INTERSECT_IN_SQL_AT_MOST):
            # "diffusion mod", "diffusion mode", ...: rank "diffusion" once, then filter
            if ranked is None:
                ranked = self._cache.get(("full", plan.match), lambda: _ids(
                    db, f"SELECT rowid FROM full WHERE full MATCH ? ORDER BY "
                        f"bm25(full, {FULL_WEIGHTS}), rowid DESC", (plan.match,)))
            typed = self._names_set(db, plan.prefix)
            allowed = allowed_ids[0] if allowed_ids is not None else None
            ids = [i for i in ranked if i in typed and (allowed is None or i in allowed)]
            return _keys_for(db, ids if limit is None else ids[:limit]), len(ids)
        sql = "FROM full WHERE full MATCH ?"
        params: list[Any] = [plan.match]
        # "+rowid": a plain `rowid IN (...)` is handed to FTS5 one value at a time, which
        # re-runs the whole match per value (a minute at 100k papers).
        if plan.prefix:
            sql += " AND +rowid IN (SELECT value FROM json_each(?))"
            params.append(self._cache.get(("names-json", plan.prefix), lambda: json.dumps(
                sorted(self._names_set(db, plan.prefix)))))
        if allowed_ids is not None:
            sql += " AND +rowid IN (SELECT value FROM json_each(?))"
            params.append(allowed_ids[1])
        if sort == "newest":
            chosen = set(_ids(db, f"SELECT rowid {sql}", params))
            ids = [i for i in self._newest(db) if i in chosen]
            return _keys_for(db, ids if limit is None else ids[:limit]), len(ids)
        order = f"ORDER BY bm25(full, {FULL_WEIGHTS}), rowid DESC"
        if limit is None:
            ids = _ids(db, f"SELECT rowid {sql} {order}", params)
            return _keys_for(db, ids), len(ids)
        ids = _ids(db, f"SELECT rowid {sql} {order} LIMIT ?", (*params, limit))
        total = len(ids) if len(ids) < limit else \
            db.execute(f"SELECT count(*) {sql}", params).fetchone()[0]
        return _keys_for(db, ids), total

    def _newest(self, db) -> list[int]:
        return self._cache.get(("newest",), lambda: _ids(
            db, "SELECT id FROM docs ORDER BY added DESC, id DESC"))

    def _names_set(self, db, match: str) -> set[int]:
        return self._cache.get(("names-set", match), lambda: set(_ids(
            db, "SELECT rowid FROM names WHERE names MATCH ?", (match,))))

    def _ranked_names(self, db, match: str) -> list[int]:
        return self._cache.get(("names", match), lambda: _ids(
            db, f"SELECT rowid FROM names WHERE names MATCH ? ORDER BY bm25(names, {NAMES_WEIGHTS}), "
                "rowid DESC", (match,)))

    def _allowed_ids(self, db, allowed: set[str]) -> tuple[set[int], str]:
        """The rowids of the allowed keys, as a set and as JSON for SQL (kept between calls:
        the app sends the same filter with every keystroke)."""
        frozen = frozenset(allowed)

        def compute():
            ids = _ids(db, "SELECT id FROM docs WHERE key IN (SELECT value FROM json_each(?))",
                       (json.dumps(sorted(frozen)),))
            return set(ids), json.dumps(sorted(ids))

        return self._cache.get(("allowed", frozen), compute)

    def _suggest(self, db, text, builder, total, allowed) -> str | None:
        replacements = []
        for word in builder.plain_words:
            low = word.text.lower()
            if not _SPELL_WORD.fullmatch(low) or _in_vocabulary(db, low):
                continue
            best = _best_correction(db, low)
            if best and best != low:
                replacements.append((word.span, best))
        if not replacements:
            return None
        out = text
        for (a, b), new in sorted(replacements, reverse=True):
            old = out[a:b]
            star = "*" if old.endswith("*") else ""
            out = out[:a] + new + star + out[b:]
        if out == text:
            return None
        # Only offer it when it finds more than the original.
        tree, errors = _parse(out, False)
        if errors:
            return None
        try:
            plan = _MatchBuilder(self._year_list).plan(tree)
        except QueryError:
            return None
        if plan is None:
            return None
        _, found = self._run(db, plan, 1, allowed, "relevance")
        return out if found > total else None

    def similar(self, key: str, limit: int = 20, text: str | None = None) -> list[str]:
        """Papers like `key` (more-like-this): the text's most distinctive words (by tf-idf
        over the library), any of them, ranked by BM25. Pass `text` (title + abstract, from
        the store); without it the indexed title is used."""
        with self._reading():
            db = self._conn()
            row = db.execute("SELECT d.id, f.title FROM docs d JOIN full f ON f.rowid = d.id "
                             "WHERE d.key = ?", (key,)).fetchone()
            if row is None:
                return []
            doc_id, title = row
            families = _key_terms(db, text or title or "", 12)
            if not families:
                return []
            any_word = " OR ".join(_quote(w) for _, words in families for w in words)
            # Candidates have a word of one of the families ("heron*") in the unstemmed
            # `spell` table: Porter stems are broader ("simuling" would find every
            # "simulation"), which made this 2x slower at 100k. BM25 over `full` ranks them.
            alike = " OR ".join(f"{_quote(stem)}*" for stem, _ in families)
            rows = db.execute(
                f"SELECT full.rowid FROM full WHERE full MATCH ? AND +full.rowid IN "
                f"(SELECT rowid FROM spell WHERE spell MATCH ?) AND full.rowid != ? "
                f"ORDER BY bm25(full, {FULL_WEIGHTS}) LIMIT ?",
                (f"{{title abstract}} : ({any_word})", alike, doc_id, limit))
            return _keys_for(db, [r[0] for r in rows])


class _ReadCache:
    """Recent ranked id lists and allowed sets, dropped whenever the index changes (in this
    process or any other: SQLite's data_version tells)."""

    SIZE = 8

    def __init__(self):
        self._entries: dict[Any, Any] = {}
        self._version: int | None = None

    def clear(self) -> None:
        self._entries.clear()
        self._version = None

    def check(self, db) -> None:
        version = db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version:
            self._entries.clear()
            self._version = version

    def peek(self, key):
        return self._entries.get(key)

    def get(self, key, compute: Callable[[], Any]):
        if key in self._entries:
            value = self._entries.pop(key)  # most recent last
        else:
            value = compute()
            while len(self._entries) >= self.SIZE:
                self._entries.pop(next(iter(self._entries)))
        self._entries[key] = value
        return value


def _ids(db, sql: str, params: Sequence[Any] = ()) -> list[int]:
    return [r[0] for r in db.execute(sql, params)]


def _keys_for(db, ids: Sequence[int]) -> list[str]:
    """The keys of `ids`, in that order."""
    if not ids:
        return []
    keys: dict[int, str] = {}
    for start in range(0, len(ids), 20_000):
        part = ids[start:start + 20_000]
        keys.update(db.execute("SELECT id, key FROM docs WHERE id IN (SELECT value FROM "
                               "json_each(?))", (json.dumps(list(part)),)).fetchall())
    return [keys[i] for i in ids if i in keys]


class _Guard:
    """Turns storage errors met while reading into IndexUnavailable (and drops the
    connection, so the next call reopens and re-checks the file)."""

    def __init__(self, index: SearchIndex):
        self.index = index

    def __enter__(self):
        self.index._lock.acquire()
        return self

    def __exit__(self, kind, exc, tb):
        import sqlite3

        try:
            if isinstance(exc, sqlite3.DatabaseError):
                self.index.close()
                raise IndexUnavailable(f"search index is damaged ({exc})") from None
        finally:
            self.index._lock.release()
        return False


def _configure(db) -> None:
    db.execute("PRAGMA journal_mode = WAL")
    # A rebuild writes the whole index through the WAL: give that space back afterwards.
    db.execute("PRAGMA journal_size_limit = 16777216")


def _check_header(path: Path) -> None:
    """Refuse a file that is not an SQLite database or is shorter than its header says
    (truncated); SQLite itself would only notice on the pages that are gone."""
    try:
        with open(path, "rb") as f:
            head = f.read(100)
        size = path.stat().st_size
    except OSError as exc:
        raise IndexUnavailable(f"search index unreadable ({exc.strerror or exc})") from None
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        raise IndexUnavailable("search index is damaged (not an SQLite file)")
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    valid_for = int.from_bytes(head[92:96], "big")
    change_counter = int.from_bytes(head[24:28], "big")
    if page_size < 512 or page_size & (page_size - 1):
        raise IndexUnavailable("search index is damaged (bad page size)")
    if valid_for == change_counter and pages * page_size > size:
        raise IndexUnavailable("search index is damaged (file truncated)")


def _is_disk_error(exc) -> bool:
    text = str(exc).lower()
    return "disk" in text and ("full" in text or "i/o" in text) or "readonly" in text


def _in_vocabulary(db, word: str) -> bool:
    return db.execute("SELECT 1 FROM spell_vocab WHERE term = ?", (word,)).fetchone() is not None


def _edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def _best_correction(db, word: str) -> str | None:
    """The closest vocabulary word with the same first letter (<= 1 edit for short words,
    <= 2 otherwise), the most common first."""
    maxdist = 1 if len(word) <= 4 else 2
    first = word[0]
    rows = db.execute(
        "SELECT term, doc FROM spell_vocab WHERE term >= ? AND term < ? AND length(term) "
        "BETWEEN ? AND ?", (first, first + "\U0010ffff", len(word) - maxdist, len(word) + maxdist))
    best = None
    for term, df in rows:
        d = _edit_distance(word, term)
        if d <= maxdist and (best is None or (d, -df, term) < best):
            best = (d, -df, term)
    return best[2] if best else None


def _key_terms(db, text: str, count: int) -> list[tuple[str, list[str]]]:
    """The `count` most distinctive word families of `text` (tf-idf over the library): each
    a crude stem ("heron" for "herons", "heron") with the text's words of that family."""
    from collections import defaultdict
    import math

    families: dict[str, list[str]] = defaultdict(list)
    for word in _SPELL_WORD.findall(text.lower()):
        if word not in _STOP_WORDS:
            families[crude_stem(word)].append(word)
    if not families:
        return []
    n = db.execute("SELECT count(*) FROM docs").fetchone()[0] or 1
    scored = []
    for stem, words in families.items():
        # documents with any word starting with the stem (an estimate: a paper with
        # "heron" and "herons" counts twice)
        df = db.execute("SELECT sum(doc) FROM spell_vocab WHERE term >= ? AND term < ?",
                        (stem, stem + "\U0010ffff")).fetchone()[0] or 0
        if df <= 1 and n > 1:
            continue  # only in this paper: cannot make it similar to any other
        if n >= 1000 and df > n * COMMON_WORD_SHARE:
            continue  # "model", "results": they match most of the library and say little
        scored.append((len(words) * math.log(1 + n / df), stem, sorted(set(words))))
    scored.sort(reverse=True)
    return [(stem, words) for _, stem, words in scored[:count]]


@dataclass
class _Plan:
    """One query for SQLite: `match` over `full` (an FTS5 expression; `negative` when it
    lists what to leave out), and `prefix` over `names` for the words being typed or typed
    with '*'. A paper must match both."""

    match: str | None = None
    negative: bool = False
    prefix: str | None = None


class _MatchBuilder:
    """Turns our parse tree into FTS5 expressions, and notes the terms to highlight."""

    def __init__(self, years: Callable[[], list[int]]):
        self.years = years
        self.terms: set[str] = set()
        self.plain_words: list[_Word] = []

    def plan(self, tree: _Node) -> _Plan | None:
        """Prefix words at the top level go to `names`; everything else into one `full`
        expression. A prefix inside OR / NOT falls back to a `full` prefix (stemmed)."""
        prefix_words: list[_Word] = []
        rest: list[_Node] = []
        for child in _conjuncts(tree):
            if child.op == "word" and (child.word.prefix or child.word.partial) and \
                    child.word.field in (None, "title", "authors"):
                prefix_words.append(child.word)
            else:
                rest.append(child)
        prefix_parts = [q for q in map(self.prefix_word, prefix_words) if q is not None]
        expr = self.build(_Node("and", rest)) if rest else None
        if expr is None and not prefix_parts:
            return None
        plan = _Plan()
        if expr is not None:
            kind, text = expr
            plan.match, plan.negative = text, kind == "neg"
        if prefix_parts:
            plan.prefix = _join(prefix_parts, "AND")
        return plan

    # Each build step returns (kind, expression) with kind "pos" or "neg" (a NOT that still
    # needs something to subtract from), or None when nothing is left to look for.
    def build(self, node: _Node, negated: bool = False):
        if node.op == "word":
            text = self.word(node.word, negated)
            return None if text is None else ("pos", text)
        if node.op == "not":
            inner = self.build(node.children[0], not negated)
            if inner is None:
                return None
            kind, text = inner
            return ("neg", text) if kind == "pos" else ("pos", text)
        parts = [p for p in (self.build(c, negated) for c in node.children) if p is not None]
        if not parts:
            return None
        if node.op == "or":
            positives = [t for k, t in parts if k == "pos"]
            if len(positives) < len(parts):
                # "a OR NOT b" would match nearly everything: keep the positive side only
                if not positives:
                    return None
            return ("pos", _join(positives, "OR"))
        positives = [t for k, t in parts if k == "pos"]
        negatives = [t for k, t in parts if k == "neg"]
        if not positives:
            return ("neg", _join(negatives, "OR"))
        out = _join(positives, "AND")
        if negatives:
            out = f"({out}) NOT ({_join(negatives, 'OR')})"
        return ("pos", out)

    def note_terms(self, raw: str, word: _Word, negated: bool) -> list[str]:
        pieces = _WORDCHARS.findall(raw)
        if not negated:
            for i, p in enumerate(pieces):
                low = p.lower()
                is_prefix = i == len(pieces) - 1 and (word.prefix or word.partial)
                if is_prefix or (len(low) >= 2 and low not in _STOP_WORDS):
                    self.terms.add(low)
        return pieces

    def prefix_word(self, word: _Word) -> str | None:
        """An expression over `names` (unstemmed titles, authors, tags) for a word typed as
        a prefix (`word*`), or being typed (as you type: a title prefix, or a whole author
        or tag word; never the abstract, where a common word would rank most of the library)."""
        pieces = self.note_terms(word.text, word, False)
        if not pieces:
            return None
        head, last = pieces[:-1], pieces[-1].lower()
        fieldname = word.field
        subs = []
        if len(last) >= NGRAM_MIN and fieldname in (None, "title"):
            subs.append(f"{{title}} : {_quote(last)}*")
            stem = crude_stem(last)
            if stem != last and len(stem) >= NGRAM_MIN:
                subs.append(f"{{title}} : {_quote(stem)}*")  # "models" also finds "Model"
        if (word.prefix and fieldname in (None, "authors") or fieldname == "authors") and len(last) >= 2:
            subs.append(f"{{authors}} : {_quote(last)}*")
        if word.partial and fieldname in (None, "authors") and len(last) >= 2 \
                and last not in _STOP_WORDS:
            subs.append(f"{{authors tags}} : {_quote(last)}")
        if not subs:
            return None
        names_q = _join(subs, "OR")
        if head:
            # "state-of-the-ar": the earlier pieces are whole words of the title, authors, tags
            names_q = f"({' AND '.join(_quote(h) for h in head)}) AND ({names_q})"
        return names_q

    def word(self, word: _Word, negated: bool) -> str | None:
        raw = word.text
        fieldname = word.field
        if fieldname == "year":
            return self.year(raw)
        if fieldname == "source":
            value = raw.strip().lower()
            if not _WORDCHARS.search(value):
                return None
            if ":" not in value and _FORMAT_NAME.fullmatch(value):  # a format, as a whole
                return f"{{source}} : {_quote(_format_token(value))}"
            return f"{{source}} : {_quote(value)}"  # a file name or a whole source: a phrase
        fields = (fieldname,) if fieldname else SEARCH_FIELDS
        if word.phrase:
            pf = [f for f in fields if f in PHRASE_FIELDS] or ["title"]
            pieces = _WORDCHARS.findall(raw)
            if not pieces:
                return None
            if not negated:
                self.terms.update(p.lower() for p in pieces if p.lower() not in _STOP_WORDS)
            return f"{_columns(pf)} : {_quote(' '.join(pieces))}"
        if word.prefix or word.partial:
            # a prefix inside OR / NOT, or on a field `names` does not hold: stemmed prefix
            pieces = self.note_terms(raw, word, negated)
            if not pieces:
                return None
            pf = [f for f in fields if f != "abstract" and f != "notes"] or list(fields)
            last = pieces[-1].lower()
            if len(last) < 2:
                return None
            exprs = [f"{_columns(pf)} : {_quote(p)}" for p in pieces[:-1]]
            exprs.append(f"{_columns(pf)} : {_quote(last)}*")
            return _join(exprs, "AND")
        pieces = self.note_terms(raw, word, negated)
        if not pieces:
            return None
        if not negated and not fieldname and len(pieces) == 1:
            self.plain_words.append(word)
        if len(pieces) > 1:
            # A compound like "to-read" or "state-of-the-art" is a phrase (it may be a tag)
            return f"{_columns(fields)} : {_quote(' '.join(pieces))}"
        piece = pieces[0]
        if (piece.lower() in _STOP_WORDS or len(piece) < 2) and len(fields) > 1:
            # "and", "the", "8": too common (or too short) to narrow anything down
            return None
        return f"{_columns(fields)} : {_quote(piece)}"

    def year(self, raw: str) -> str:
        raw = raw.strip()
        if m := _YEAR.match(raw):
            return f"{{year}} : {_quote(m.group(1))}"
        lo = hi = None
        if (m := _YEAR_RANGE.match(raw)) and (m.group(1) or m.group(2)):
            lo, hi = int(m.group(1) or 0), int(m.group(2) or 9999)
        elif m := _YEAR_CMP.match(raw):
            op, y = m.group(1), int(m.group(2))
            lo, hi = {">=": (y, 9999), ">": (y + 1, 9999), "<=": (0, y), "<": (0, y - 1)}[op]
        if lo is None:
            raise QueryError(f"year:{raw} is not a year; use year:2023, year:2020..2023 or year:>=2021")
        present = [str(y) for y in self.years() if lo <= y <= hi]
        if not present:
            return _NO_MATCH
        return "{year} : (" + " OR ".join(map(_quote, present)) + ")"


def _conjuncts(node: _Node) -> list[_Node]:
    """The parts of a top-level AND, nested ANDs flattened."""
    if node.op != "and":
        return [node]
    return [part for child in node.children for part in _conjuncts(child)]


def _join(parts: Sequence[str], op: str) -> str:
    if len(parts) == 1:
        return parts[0]
    return f" {op} ".join(f"({p})" for p in parts)
