"""Full-text search over the library: the Whoosh schema, indexing, the query language,
suggestions and "similar papers".

This is the only module that imports Whoosh (see DESIGN.md "Whoosh facts"), and it imports it
lazily, so `import index.search` stays cheap for commands that never touch the index.

Query language (what `SearchIndex.search` accepts):

- free words: all must match (BM25F over title^3, authors, tags, abstract, notes; stemmed, so
  "models" finds "model"); lowercase and/or/not are ordinary (stop) words
- ``"a phrase"``: the words next to each other (title, authors, abstract, notes)
- ``word*``: a prefix, matched on the title (edge n-gram field) and author names only, never on
  the abstract (a prefix over the abstract takes seconds at 100k papers)
- ``AND``, ``OR``, ``NOT`` (upper case), ``-word``, and ``( ... )`` groups
- as you type (``as_you_type=True``): the last word, while the text does not end in a space,
  is a prefix on the title (edge n-grams, 3+ letters) and a whole word on title, authors and
  tags only (not the abstract: a common abstract word would score thousands of papers per
  keystroke); earlier words match everywhere as usual
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
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.model import STATUSES, Paper, normalise_tag

SCHEMA_VERSION = 1
META_FILE = "papershelf-index.json"
INDEX_NAME = "papers"

# Batches at least this large use Whoosh's multi-process writer.
FAST_BATCH = 2000
WRITER_PROCS = 2
WRITER_LIMITMB = 128
# Allowed-key sets up to this size are turned into a key query the matcher can skip along;
# larger ones become a docnum filter built from a cached key -> docnum map.
SMALL_ALLOWED = 512
# Edge n-grams for as-you-type: the title's word prefixes of these lengths.
NGRAM_MIN, NGRAM_MAX = 3, 12
UNION_TREE = True
# Fields where an as-you-type partial word also counts as a whole word.
PARTIAL_WHOLE_FIELDS = ("title", "authors", "tags")
# Block-quality skipping in Whoosh's top-N collector (see _search).
OPTIMIZE = False
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


class IndexUnavailable(Exception):
    """The index is missing, corrupt, or of an older schema: the caller rebuilds it."""


class IndexBusy(Exception):
    """Another process holds the index writer lock for longer than the timeout."""


# ---------------------------------------------------------------------------------------------
# User-state filters


@dataclass
class ParsedQuery:
    text: str  # what goes to Whoosh (may be "")
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
# Whoosh (imported lazily)

_W: Any = None


def _whoosh():
    """Import Whoosh on first use (it costs ~0.1 s) and return a namespace of what we use."""
    global _W
    if _W is None:
        import types

        _stub_morph_en()
        from whoosh import columns, fields, formats, index, query, sorting  # noqa: F401
        from whoosh.analysis import (
            CharsetFilter,
            LowercaseFilter,
            RegexTokenizer,
            SpaceSeparatedTokenizer,
            StemmingAnalyzer,
        )
        from whoosh.support.charset import accent_map

        _W = types.SimpleNamespace(
            columns=columns,
            fields=fields,
            formats=formats,
            index=index,
            query=query,
            sorting=sorting,
            CharsetFilter=CharsetFilter,
            LowercaseFilter=LowercaseFilter,
            RegexTokenizer=RegexTokenizer,
            SpaceSeparatedTokenizer=SpaceSeparatedTokenizer,
            StemmingAnalyzer=StemmingAnalyzer,
            accent_map=accent_map,
        )
    return _W


_STOP_WORDS = frozenset(
    "a an and are as at be by can for from have if in is it may not of on or tbd that the "
    "this to us we when will with yet you your".split()
)
# Decimal numbers stay whole ("3.5"); anything else splits at non-word characters, so
# "app.quit" is two words (Whoosh's default pattern would keep it as one).
_ANALYSE_WORD = re.compile(r"\d+(?:\.\d+)+|\w+", re.UNICODE)


class FastAnalyzer:
    """A one-pass replacement for Whoosh's RegexTokenizer | LowercaseFilter | StopFilter |
    StemFilter chain (4 chained generators per token): about 3x cheaper, which matters because
    analysis is a large part of index build time. Token texts are identical to the stock
    StemmingAnalyzer's for ordinary words. Instances are pickled into the index's TOC by
    reference to this class, so keep the name and module stable (or bump SCHEMA_VERSION)."""

    def __init__(self, *, stem: bool = True, stop: bool = True, fold: bool = False):
        self.stem = stem
        self.stop = stop
        self.fold = fold
        self._cache: dict[str, str] = {}

    def __getstate__(self):
        return {"stem": self.stem, "stop": self.stop, "fold": self.fold}

    def __setstate__(self, state):
        self.__init__(**state)

    def __eq__(self, other):
        return type(other) is type(self) and self.__getstate__() == other.__getstate__()

    def __hash__(self):
        return hash(tuple(self.__getstate__().items()))

    def __repr__(self):
        return f"FastAnalyzer(stem={self.stem}, stop={self.stop}, fold={self.fold})"

    def has_morph(self) -> bool:
        return self.stem

    def clean(self) -> None:
        self._cache.clear()

    def words(self, value: str, nomorph: bool = False) -> list[str | None]:
        """Analysed words in order; None where a stop word or short word was dropped."""
        text = value.lower()
        if self.fold:
            text = text.translate(_fold_table())
        out: list[str | None] = []
        stop = _STOP_WORDS if self.stop else ()
        cache = self._cache
        stemming = self.stem and not nomorph
        stemfn = _stemmer() if stemming else None
        for word in _ANALYSE_WORD.findall(text):
            if len(word) < 2 or word in stop:
                out.append(None)
                continue
            if stemming:
                s = cache.get(word)
                if s is None:
                    if len(cache) > 200_000:
                        cache.clear()
                    s = cache[word] = stemfn(word)
                word = s
            out.append(word)
        return out

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="",
                 **kwargs):
        Token = _token_class()
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = value
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar, t.endchar = start_char, start_char + len(value)
            yield t
            return
        nomorph = bool(kwargs.get("nomorph"))
        if chars:
            # Slow path with character offsets (not used by papershelf itself).
            for i, m in enumerate(_ANALYSE_WORD.finditer(value)):
                ws = self.words(m.group(), nomorph)
                if not ws or ws[0] is None:
                    continue
                t.text = ws[0]
                t.boost = 1.0
                t.stopped = False
                if positions:
                    t.pos = start_pos + i
                t.startchar, t.endchar = start_char + m.start(), start_char + m.end()
                yield t
            return
        for i, word in enumerate(self.words(value, nomorph)):
            if word is None:
                continue
            t.text = word
            t.boost = 1.0
            t.stopped = False
            if positions:
                t.pos = start_pos + i
            yield t


class EdgeNgramAnalyzer:
    """Word-start n-grams of lowercased, accent-folded words (minsize..maxsize letters),
    stop words skipped: the as-you-type title field. Cheaper than NgramWordAnalyzer."""

    def __init__(self, minsize: int = NGRAM_MIN, maxsize: int = NGRAM_MAX):
        self.minsize = minsize
        self.maxsize = maxsize

    def __eq__(self, other):
        return type(other) is type(self) and (self.minsize, self.maxsize) == (other.minsize, other.maxsize)

    def __hash__(self):
        return hash((self.minsize, self.maxsize))

    def has_morph(self) -> bool:
        return False

    def clean(self) -> None:
        pass

    def __call__(self, value, positions=False, chars=False, removestops=True, start_pos=0,
                 mode="", tokenize=True, **kwargs):
        Token = _token_class()
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        t.boost = 1.0
        t.stopped = False
        if mode == "query" or not tokenize:
            # A query term is looked up as it is (the caller passes a prefix).
            for i, word in enumerate(value.lower().translate(_fold_table()).split() if tokenize else [value]):
                t.text = word
                if positions:
                    t.pos = start_pos + i
                yield t
            return
        lo, hi = self.minsize, self.maxsize
        seen = set()
        for i, word in enumerate(_ANALYSE_WORD.findall(value.lower().translate(_fold_table()))):
            if word in _STOP_WORDS or word in seen:
                continue
            seen.add(word)
            for k in range(lo, min(len(word), hi) + 1):
                t.text = word[:k]
                if positions:
                    t.pos = start_pos + i
                yield t


_FOLD: dict[int, str] | None = None
_TOKEN_CLASS = None
_STEM = None


def _fold_table() -> dict[int, str]:
    global _FOLD
    if _FOLD is None:
        from whoosh.support.charset import accent_map

        _FOLD = dict(accent_map)
    return _FOLD


def _token_class():
    global _TOKEN_CLASS
    if _TOKEN_CLASS is None:
        from whoosh.analysis.acore import Token

        _TOKEN_CLASS = Token
    return _TOKEN_CLASS


def _stemmer():
    global _STEM
    if _STEM is None:
        from whoosh.lang.porter import stem

        _STEM = stem
    return _STEM


def _stub_morph_en() -> None:
    """whoosh.query imports whoosh.lang.morph_en (a 30-100 ms regex table) for Variations
    queries, which papershelf never builds. Put a stand-in there that loads the real module
    the first time anything calls it."""
    name = "whoosh.lang.morph_en"
    if name in sys.modules:
        return
    import importlib
    import types

    stub = types.ModuleType(name)

    def variations(word):
        sys.modules.pop(name, None)
        real = importlib.import_module(name)
        return real.variations(word)

    stub.variations = variations
    sys.modules[name] = stub


def make_schema():
    w = _whoosh()
    f = w.fields
    stem = FastAnalyzer()
    spell = f.TEXT(analyzer=w.SpaceSeparatedTokenizer(), phrase=False)
    spell.format = w.formats.Existence()
    spell.scorable = False
    title_ng = f.TEXT(analyzer=EdgeNgramAnalyzer(), phrase=False, field_boost=2.0)
    return f.Schema(
        key=f.ID(stored=True, unique=True, sortable=True),
        title=f.TEXT(analyzer=stem, field_boost=3.0, stored=True),
        title_ng=title_ng,
        # Spelling words live in a few dictionary documents (see _spell_docs), not in every
        # paper's postings: that halves the postings written per paper.
        spell=spell,
        dictionary=f.ID,
        authors=f.TEXT(analyzer=FastAnalyzer(stem=False, stop=False, fold=True)),
        tags=f.KEYWORD(lowercase=True, commas=True, scorable=True),
        abstract=f.TEXT(analyzer=stem),
        notes=f.TEXT(analyzer=stem),
        year=f.ID,
        source=f.KEYWORD(lowercase=True, commas=True),
        added=f.COLUMN(w.columns.NumericColumn("d")),
    )


_SPELL_WORD = re.compile(r"[^\W\d_]{3,30}", re.UNICODE)
_DICT_CHUNK = 20_000


def _spell_words(paper: Paper) -> set[str]:
    return set(_SPELL_WORD.findall(f"{paper.title} {paper.abstract}".lower()))


def _spell_docs(words: Iterable[str], tag: str) -> list[dict[str, Any]]:
    words = sorted(words)
    return [
        {"key": f"\x00dictionary:{tag}:{i}", "dictionary": "y",
         "spell": " ".join(words[i : i + _DICT_CHUNK])}
        for i in range(0, len(words), _DICT_CHUNK)
    ]


def _document(paper: Paper) -> dict[str, Any]:
    sources = []
    for s in paper.sources:
        s = s.replace(",", ";").strip()
        if not s:
            continue
        fmt = s.split(":", 1)[0]
        sources.append(fmt)
        if fmt != s:
            sources.append(s)
    doc: dict[str, Any] = {
        "key": paper.key,
        "title": paper.title or "",
        "title_ng": paper.title or "",
        "authors": ", ".join(paper.authors),
        "abstract": paper.abstract or "",
        "added": float(paper.added or 0.0),
    }
    if paper.tags:
        doc["tags"] = ",".join(normalise_tag(t) for t in paper.tags)
    if paper.note:
        doc["notes"] = paper.note
    if paper.year:
        doc["year"] = str(paper.year)
    if sources:
        doc["source"] = ",".join(sources)
    return doc


def _mp_start_method() -> str | None:
    # fork is fastest, but CPython 3.12+ warns when forking a threaded process (the TUI).
    return "forkserver" if sys.version_info >= (3, 12) and os.name == "posix" else None


class SearchIndex:
    """The Whoosh index of the library. Thread-safe (one lock around every operation)."""

    def __init__(self, directory: Path, *, writer_timeout: float = 5.0):
        self.directory = Path(directory)
        self.writer_timeout = writer_timeout
        self._ix = None
        self._searcher = None
        self._key_col = None
        self._key_map: dict[str, int] | None = None
        self._identity = None
        self._lock = threading.RLock()  # searcher state
        self._write_lock = threading.Lock()  # one writer per process (Whoosh locks across)

    # -- opening --------------------------------------------------------------------------

    def open(self) -> None:
        """Open the index; raise IndexUnavailable when it is missing, corrupt or older."""
        with self._lock:
            self.close()
            self._identity = self._dir_identity()
            self._ix, self._searcher = self._open_dir(self.directory)

    @staticmethod
    def _open_dir(directory: Path):
        """(index, searcher), checked: every segment's files opened and read a little."""
        meta_path = directory / META_FILE
        if not directory.is_dir():
            raise IndexUnavailable(f"no search index at {directory}")
        try:
            meta = json.loads(meta_path.read_text("utf-8"))
        except FileNotFoundError:
            raise IndexUnavailable(f"no search index at {directory}") from None
        except (OSError, ValueError) as exc:
            raise IndexUnavailable(f"search index metadata unreadable: {exc}") from None
        if not isinstance(meta, dict) or meta.get("schema") != SCHEMA_VERSION:
            raise IndexUnavailable(
                f"search index has schema {meta.get('schema') if isinstance(meta, dict) else '?'}, "
                f"this version needs {SCHEMA_VERSION}"
            )
        w = _whoosh()
        try:
            ix = w.index.open_dir(str(directory), indexname=INDEX_NAME)
            expected = set(make_schema().names())
            if set(ix.schema.names()) != expected:
                raise IndexUnavailable("search index schema does not match")
            # Touch every segment: open the readers, read the last key, look a term up.
            # The searcher is kept for the first search (opening one costs as much again).
            s = ix.searcher()
            try:
                reader = s.reader()
                n = reader.doc_count_all()
                if n:
                    col = reader.column_reader("key")
                    col[n - 1]
                    s.document_number(key=col[0])
                    reader.stored_fields(n - 1)
                reader.doc_frequency("abstract", "model")
            except BaseException:
                s.close()
                raise
        except IndexUnavailable:
            raise
        except Exception as exc:  # any storage error: truncated, scrambled, missing files
            raise IndexUnavailable(f"search index is damaged ({type(exc).__name__}: {exc})") from None
        return ix, s

    def _require(self):
        if self._ix is None:
            self.open()
        return self._ix

    def _dir_identity(self):
        try:
            st = os.stat(self.directory)
            return (st.st_dev, st.st_ino)
        except OSError:
            return None

    def _get_searcher(self):
        if self._ix is not None and self._dir_identity() != self._identity:
            self.close()  # rebuilt (directory swapped) by another SearchIndex or process
        ix = self._require()
        s = self._searcher
        if s is not None:
            try:
                if s.up_to_date():
                    return s
            except Exception:
                pass
            self._drop_searcher()
        # A fresh searcher after every commit: whoosh3's refresh() returns stale copies.
        try:
            self._searcher = ix.searcher()
        except Exception:
            # Another process may have rebuilt the index (its directory was swapped under
            # us): open the directory again; IndexUnavailable if that fails too.
            self.close()
            self._identity = self._dir_identity()
            self._ix, self._searcher = self._open_dir(self.directory)
        return self._searcher

    def _drop_searcher(self):
        if self._searcher is not None:
            try:
                self._searcher.close()
            except Exception:
                pass
        self._searcher = None
        self._key_col = None
        self._key_map = None

    def close(self) -> None:
        with self._lock:
            self._drop_searcher()
            if self._ix is not None:
                try:
                    self._ix.close()
                except Exception:
                    pass
            self._ix = None

    def doc_count(self) -> int:
        with self._lock:
            s = self._get_searcher()
            return s.doc_count() - s.doc_frequency("dictionary", "y")

    # -- writing --------------------------------------------------------------------------

    def _writer(self, ix, batch: int):
        w = _whoosh()
        kwargs: dict[str, Any] = {"timeout": self.writer_timeout, "limitmb": WRITER_LIMITMB}
        if batch >= FAST_BATCH:
            kwargs.update(procs=WRITER_PROCS, multisegment=True, start_method=_mp_start_method())
        try:
            return ix.writer(**kwargs)
        except w.index.LockError:
            raise IndexBusy(
                f"the search index is being written by another papershelf process "
                f"(waited {self.writer_timeout:g} s); try again when it finishes"
            ) from None

    def _lock_live_index(self):
        """The live index's writer lock, held while a rebuild swaps directories, so the swap
        never happens under another process that is writing the index."""
        if not (self.directory / META_FILE).exists():
            return None  # missing or half-made: nobody can be writing it
        from whoosh.filedb.filestore import FileStorage
        from whoosh.util.filelock import try_for

        lock = FileStorage(str(self.directory)).lock(f"{INDEX_NAME}_WRITELOCK")
        try:
            acquired = try_for(lock.acquire, timeout=self.writer_timeout, delay=0.1)
        except OSError:
            return None  # a damaged directory that cannot hold a lock file
        if not acquired:
            raise IndexBusy(
                f"the search index is being written by another papershelf process "
                f"(waited {self.writer_timeout:g} s); try the rebuild again when it finishes"
            )
        return lock

    def rebuild(
        self,
        papers: Iterable[Paper],
        total: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """Build a new index from scratch in a temp dir, then swap it in for the old one."""
        import shutil  # lazily: `import index.search` must stay cheap
        import tempfile

        w = _whoosh()
        papers = iter(papers)
        head: list[Paper] = []
        if total is None:
            for p in papers:
                head.append(p)
                if len(head) >= FAST_BATCH:
                    break
        estimate = total if total is not None else len(head)
        parent = self.directory.parent
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{self.directory.name}.build-", dir=parent))
        try:
            ix = w.index.create_in(str(tmp), make_schema(), indexname=INDEX_NAME)
            writer = self._writer(ix, estimate)
            done = 0
            vocabulary: set[str] = set()
            try:
                for paper in _chain(head, papers):
                    writer.add_document(**_document(paper))
                    vocabulary |= _spell_words(paper)
                    done += 1
                    if progress is not None and done % 250 == 0:
                        progress(done, max(total or 0, done))
                for doc in _spell_docs(vocabulary, "0"):
                    writer.add_document(**doc)
                writer.commit()
            except BaseException:
                _cancel_quietly(writer)
                raise
            ix.close()
            (tmp / META_FILE).write_text(
                json.dumps({"format": "papershelf-whoosh", "schema": SCHEMA_VERSION}), "utf-8"
            )
            if progress is not None:
                progress(done, max(total or 0, done))
            with self._lock:
                live_lock = self._lock_live_index()
                self.close()
                old = None
                if self.directory.exists():
                    old = parent / f".{self.directory.name}.old-{os.getpid()}-{threading.get_ident()}"
                    os.replace(self.directory, old)
                os.replace(tmp, self.directory)
                if old is not None:
                    shutil.rmtree(old, ignore_errors=True)
                self._identity = self._dir_identity()
                if live_lock is not None:
                    live_lock.release()  # (its file went away with the old directory)
                self._ix, self._searcher = self._open_dir(self.directory)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    def upsert(self, papers: Sequence[Paper]) -> None:
        """Add or replace papers (by key) in one commit. Searches from other threads go on
        against the previous state while this writes; the next search sees the commit."""
        papers = list({p.key: p for p in papers}.values())  # one copy per key, the last wins
        if not papers:
            return
        vocabulary: set[str] = set()
        for paper in papers:
            vocabulary |= _spell_words(paper)
        with self._write_lock:
            with self._lock:
                ix = self._require()
            writer = self._writer(ix, len(papers))
            try:
                reader = writer.reader()  # the committed state, now that we hold the lock
                try:
                    empty = reader.doc_count_all() == 0
                    new_words = [w for w in vocabulary if ("spell", w) not in reader]
                finally:
                    reader.close()
                for paper in papers:
                    doc = _document(paper)
                    if empty:
                        writer.add_document(**doc)  # nothing to replace: skip the deletes
                    else:
                        writer.update_document(**doc)
                for doc in _spell_docs(new_words, os.urandom(8).hex()):
                    writer.add_document(**doc)
                writer.commit()
            except BaseException:
                _cancel_quietly(writer)
                raise
            finally:
                with self._lock:
                    self._drop_searcher()

    def delete(self, keys: Sequence[str]) -> None:
        keys = list(keys)
        if not keys:
            return
        with self._write_lock:
            with self._lock:
                ix = self._require()
            writer = self._writer(ix, 0)
            try:
                for key in keys:
                    writer.delete_by_term("key", key)
                writer.commit()
            except BaseException:
                _cancel_quietly(writer)
                raise
            finally:
                with self._lock:
                    self._drop_searcher()

    # -- reading --------------------------------------------------------------------------

    def _keys_of(self, searcher, docnums) -> list[str]:
        if self._key_col is None:
            self._key_col = searcher.reader().column_reader("key")
        col = self._key_col
        return [col[d] for d in docnums]

    def _allowed_filter(self, searcher, allowed: set[str]):
        """A query (small sets) or a docnum set (large sets) restricting to `allowed`."""
        w = _whoosh()
        if len(allowed) <= SMALL_ALLOWED:
            return w.query.Or([w.query.Term("key", k) for k in sorted(allowed)]), None
        if self._key_map is None:
            reader = searcher.reader()
            col = reader.column_reader("key")
            self._key_map = {col[d]: d for d in reader.all_doc_ids()}
        km = self._key_map
        return None, {km[k] for k in allowed if k in km}

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
        text = text or ""
        tree, errors = _parse(text, as_you_type)
        if errors:
            return SearchResult(error=errors[0])
        with self._lock:
            searcher = self._get_searcher()
            try:
                return self._search(searcher, text, tree, limit, allowed, sort)
            except QueryError as exc:
                return SearchResult(error=str(exc))
            except (IndexUnavailable, IndexBusy):
                raise
            except Exception as exc:  # storage errors surface lazily in Whoosh
                self._drop_searcher()
                raise IndexUnavailable(
                    f"search index is damaged ({type(exc).__name__}: {exc})"
                ) from None

    def _search(self, searcher, text, tree, limit, allowed, sort) -> SearchResult:
        w = _whoosh()
        Q = w.query
        schema = searcher.schema
        builder = _QueryBuilder(schema, Q)
        q = builder.build(tree)
        terms = builder.terms
        if allowed is not None and not allowed:
            return SearchResult(terms=terms)
        if q is None:
            if tree.children:
                # only stop words, punctuation or too-short partial words ("the", "[/]", "a"):
                # nothing to look for (listing everything would cost 0.2 s+ per keystroke)
                return SearchResult(terms=terms)
            q = Q.Every()
            sort = "newest"
        filter_q, filter_set = (None, None)
        if allowed is not None:
            filter_q, filter_set = self._allowed_filter(searcher, allowed)
            if filter_q is not None:
                # (Require would be the natural query here, but whoosh3 3.54's Require matcher
                # fails an assertion in skip_to_quality; a constant-score AND ranks the same.)
                q = filter_q if isinstance(q, Q.Every) else Q.And([q, Q.ConstantScoreQuery(filter_q, 0.0)])
        # optimize=False: no block-quality skipping, so the collector counts every match in
        # the same pass; with skipping, len(results) re-runs the query to count (2x slower).
        kwargs: dict[str, Any] = {"limit": limit, "optimize": OPTIMIZE}
        if builder.used_every or isinstance(q, Q.Every):
            kwargs["mask"] = Q.Term("dictionary", "y")  # spelling dictionary documents
        if filter_set is not None:
            kwargs["filter"] = filter_set
        if sort == "newest":
            kwargs["sortedby"] = "added"
            kwargs["reverse"] = True
        results = searcher.search(q, **kwargs)
        keys = self._keys_of(searcher, [docnum for _, docnum in results.top_n])
        total = len(results)
        suggestion = None
        if total < SUGGEST_BELOW and builder.plain_words:
            suggestion = self._suggest(searcher, text, builder, total, allowed)
        return SearchResult(keys=keys, total=total, terms=terms, suggestion=suggestion)

    def _suggest(self, searcher, text, builder, total, allowed) -> str | None:
        reader = searcher.reader()
        replacements = []
        for word in builder.plain_words:
            low = word.text.lower()
            if not _SPELL_WORD.fullmatch(low) or ("spell", low) in reader:
                continue
            best = _best_correction(reader, low)
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
        builder2 = _QueryBuilder(searcher.schema, _whoosh().query)
        q2 = builder2.build(tree)
        if q2 is None:
            return None
        kwargs = {"limit": 1}
        if allowed is not None:
            fq, fs = self._allowed_filter(searcher, allowed)
            if fq is not None:
                q2 = _whoosh().query.And([q2, _whoosh().query.ConstantScoreQuery(fq, 0.0)])
            else:
                kwargs["filter"] = fs
        if len(searcher.search(q2, **kwargs)) <= total:
            return None
        return out

    def similar(self, key: str, limit: int = 20, text: str | None = None) -> list[str]:
        """Papers like `key` (more-like-this). Pass `text` (title + abstract, from the store)
        for the best results: the abstract is not stored in the index; without it only the
        stored title is used."""
        with self._lock:
            searcher = self._get_searcher()
            try:
                docnum = searcher.document_number(key=key)
                if docnum is None:
                    return []
                if not text:
                    text = searcher.stored_fields(docnum).get("title", "")
                if not text.strip():
                    return []
                Q = _whoosh().query
                kts = searcher.key_terms_from_text("abstract", text, numterms=12)
                if not kts:
                    return []
                q = Q.Or(
                    [Q.Term("abstract", t, boost=wt) for t, wt in kts]
                    + [Q.Term("title", t, boost=wt) for t, wt in kts]
                )
                results = searcher.search(q, limit=limit, mask={docnum})
                return self._keys_of(searcher, [d for _, d in results.top_n])
            except Exception as exc:
                self._drop_searcher()
                raise IndexUnavailable(
                    f"search index is damaged ({type(exc).__name__}: {exc})"
                ) from None


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


def _best_correction(reader, word: str) -> str | None:
    """The closest spelling-field word (prefix of 1 kept, <= 2 edits), most common first."""
    maxdist = 1 if len(word) <= 4 else 2
    candidates = list(reader.terms_within("spell", word, maxdist, prefix=1))
    if not candidates:
        return None
    stem = FastAnalyzer().words
    def rank(c: str):
        s = (stem(c) or [None])[0]
        df = (reader.doc_frequency("abstract", s) + reader.doc_frequency("title", s)) if s else 0
        return (_edit_distance(word, c), -df, c)
    return min(candidates, key=rank)


def _chain(head, rest):
    yield from head
    yield from rest



class _QueryBuilder:
    """Turns our parse tree into Whoosh queries, and notes the terms to highlight."""

    def __init__(self, schema, Q):
        self.schema = schema
        self.Q = Q
        self.terms: set[str] = set()
        self.plain_words: list[_Word] = []
        self.used_every = False

    def build(self, node: _Node, negated: bool = False):
        Q = self.Q
        if node.op == "word":
            return self.word(node.word, negated)
        if node.op == "not":
            inner = self.build(node.children[0], not negated)
            return None if inner is None else Q.Not(inner)
        parts = [p for p in (self.build(c, negated) for c in node.children) if p is not None]
        if not parts:
            return None
        if node.op == "or":
            return parts[0] if len(parts) == 1 else _or(Q, parts)
        positives = [p for p in parts if not isinstance(p, Q.Not)]
        negatives = [p.query for p in parts if isinstance(p, Q.Not)]
        if not positives:
            base = Q.Every()
            self.used_every = True
        else:
            base = positives[0] if len(positives) == 1 else Q.And(positives)
        if negatives:
            return Q.AndNot(base, _or(Q, negatives))
        return base

    def analyse(self, fieldname: str, text: str) -> list[str]:
        return list(self.schema[fieldname].process_text(text, mode="query"))

    def word(self, word: _Word, negated: bool):
        Q = self.Q
        raw = word.text
        fieldname = word.field
        if fieldname == "year":
            return self.year(raw)
        if fieldname == "source":
            value = raw.strip().lower().replace(",", ";")
            return Q.Term("source", value) if value else None
        fields = (fieldname,) if fieldname else SEARCH_FIELDS
        if word.phrase:
            pf = [f for f in fields if f in PHRASE_FIELDS] or ["title"]
            subs = []
            for f in pf:
                toks = self.analyse(f, raw)
                if len(toks) > 1:
                    # Dropped stop words still take a position in the index ("order to
                    # abstractive"): allow one step per dropped word between the others.
                    dropped = len(_WORDCHARS.findall(raw)) - len(toks)
                    subs.append(Q.Phrase(f, toks, slop=1 + max(dropped, 0)))
                elif toks:
                    subs.append(Q.Term(f, toks[0]))
            if not negated:
                self.terms.update(
                    t.lower() for t in _WORDCHARS.findall(raw) if t.lower() not in _STOP_WORDS
                )
            return _or(Q, subs)
        pieces = _WORDCHARS.findall(raw)
        if not pieces:
            return None
        if not negated:
            for i, p in enumerate(pieces):
                low = p.lower()
                is_prefix = i == len(pieces) - 1 and (word.prefix or word.partial)
                if is_prefix or (len(low) >= 2 and low not in _STOP_WORDS):
                    self.terms.add(low)
        if word.prefix or word.partial:
            # The last piece is a prefix: title n-grams (+ author names for typed `word*`),
            # plus, while typing, the piece as a whole word anywhere. Never the abstract.
            head, last = pieces[:-1], pieces[-1].lower()
            subs = []
            if len(last) >= NGRAM_MIN and fieldname in (None, "title"):
                subs.append(Q.Term("title_ng", last[:NGRAM_MAX]))
            if (word.prefix and fieldname in (None, "authors") or fieldname == "authors") and len(last) >= 2:
                folded = self.analyse("authors", last)
                subs.append(Q.Prefix("authors", folded[0] if folded else last))
            if word.partial:
                # while typing, the partial word as a whole word: not over the abstract and
                # notes (a common word there means scoring thousands of papers per keystroke)
                typing_fields = tuple(f for f in fields if f in PARTIAL_WHOLE_FIELDS) or fields
                whole = self.whole(last, typing_fields)
                if whole is not None:
                    subs.append(whole)
            last_q = _or(Q, subs)
            head_qs = [self.whole(p, fields) for p in head]
            parts = [p for p in head_qs + [last_q] if p is not None]
            return _and(Q, parts)
        if not negated and not fieldname and len(pieces) == 1:
            self.plain_words.append(word)
        if len(pieces) > 1 and any(f in PHRASE_FIELDS for f in fields):
            # A compound like "to-read" or "state-of-the-art" is a phrase (as in Whoosh's own
            # parser), and it may also be one whole tag.
            query = self.word(_Word(raw, fieldname, phrase=True, span=word.span), negated)
            if "tags" in fields:
                whole_tag = Q.Term("tags", normalise_tag(raw), boost=10.0)  # a whole tag is what was meant
                query = whole_tag if query is None else Q.Or([query, whole_tag])
            return query
        parts = [p for p in (self.whole(p, fields) for p in pieces) if p is not None]
        return _and(Q, parts)

    def whole(self, piece: str, fields):
        Q = self.Q
        if (piece.lower() in _STOP_WORDS or len(piece) < 2) and len(fields) > 1:
            # "and", "the", "8": the analysers drop them at index time, so requiring them
            # would match nothing (also from author names, tags), as Whoosh itself does.
            return None
        subs = []
        for f in fields:
            if f == "tags":
                subs.append(Q.Term("tags", piece.lower()))
                continue
            for tok in self.analyse(f, piece):
                subs.append(Q.Term(f, tok))
        return _or(Q, subs)

    def year(self, raw: str):
        Q = self.Q
        raw = raw.strip()
        if m := _YEAR.match(raw):
            return Q.Term("year", m.group(1))
        if (m := _YEAR_RANGE.match(raw)) and (m.group(1) or m.group(2)):
            return Q.TermRange("year", m.group(1) or "0000", m.group(2) or "9999")
        if m := _YEAR_CMP.match(raw):
            op, y = m.group(1), int(m.group(2))
            lo, hi = {
                ">=": (y, 9999), ">": (y + 1, 9999), "<=": (0, y), "<": (0, y - 1)
            }[op]
            return Q.TermRange("year", f"{lo:04d}", f"{hi:04d}")
        raise QueryError(f"year:{raw} is not a year; use year:2023, year:2020..2023 or year:>=2021")


def _cancel_quietly(writer) -> None:
    """Cancel after a failure without hiding it: a writer whose commit failed half-way may
    already be closed, and cancel() would then raise over the real error."""
    try:
        writer.cancel()
    except Exception:  # noqa: BLE001 - the original exception is the one that matters
        pass


def _or(Q, subs):
    if not subs:
        return None
    if len(subs) == 1:
        return subs[0]
    # Whoosh picks a "preloaded" array union for segments under 5,000 documents: it reads
    # every posting of every clause up front and cannot skip, which made allowed-set
    # intersections and multi-segment indexes slow. The binary union tree can skip.
    return Q.DefaultOr(subs) if UNION_TREE else Q.Or(subs)


def _and(Q, subs):
    if not subs:
        return None
    return subs[0] if len(subs) == 1 else Q.And(subs)
