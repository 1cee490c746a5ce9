"""The query language: what a person types, parsed once into one engine-neutral tree.

The app's search box and `papershelf search` hand the raw text to `parse`; everything after
that (the user-state filters, the full-text engines, "did you mean", highlighting) reads the
resulting `Query`, so the two front ends can never read a query differently.

What a query may hold:

- free words: all must match (title, authors, tags, abstract, notes; stemmed by the engine);
  lowercase and/or/not are ordinary words
- ``"a phrase"``: the words next to each other
- ``word*``: a prefix, on title words and author names
- ``AND``, ``OR``, ``NOT`` (upper case), ``-word``, and ``( ... )`` groups
- field filters ``title:`` ``author:`` ``abstract:`` ``notes:`` ``source:`` ``year:2023``
  ``year:2020..2023`` ``year:>=2021``
- user-state filters ``is:starred`` ``-is:starred`` ``is:unread|reading|read`` ``tag:X``:
  collected in `Query.filters` (answered from the library's store, never by the engine); they
  always combine with AND
- while typing (``typing=True``), the last word, when no space follows it, is the word being
  typed (`Word.partial`): it matches title and author word starts only, and is left out until
  it has 3 letters

A query that cannot run at all (``is:bogus``, ``year:soon``, ``title:`` with no value, a lone
``*``) gets `Query.error`. One that can be read in a forgiving way (an unknown field, an
unclosed quote or parenthesis, a dangling operator) runs that way and gets `Query.hint`, one
line saying what was not understood: the CLI treats both as errors, the app shows the hint in
its status line. While typing, hints wait until the query is finished.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from index.latex_text import spell_greek_letters
from index.model import STATUSES, normalise_tag

# The shortest word being typed that is looked up (shorter ones match too much to help).
PARTIAL_MIN = 3

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
# Words before a colon that are not meant as fields (a pasted link).
_NOT_FIELDS = frozenset({"http", "https", "ftp", "mailto", "doi", "arxiv"})

STOP_WORDS = frozenset(
    "a an and are as at be by can for from have if in is it may not of on or tbd that the "
    "this to us we when will with yet you your".split()
)

# Word pieces as the engines split them: decimals stay whole ("3.5"), anything else splits
# at non-word characters, so "state-of-the-art" is four pieces.
WORD_PIECES = re.compile(r"\d+(?:\.\d+)+|\w+", re.UNICODE)


# ---------------------------------------------------------------------------------------------
# The tree


@dataclass
class Word:
    text: str  # as typed, without field name, quotes or '*'
    field: str | None = None  # None: every search field
    prefix: bool = False  # typed with '*'
    phrase: bool = False  # a quoted run of several words
    partial: bool = False  # the word being typed
    span: tuple[int, int] = (0, 0)  # where the text stands in the raw query
    years: tuple[int, int] | None = None  # year: filters, as an inclusive range
    boost: float = 1.0  # weight among the other words (similar papers); engines may ignore it

    @property
    def pieces(self) -> list[str]:
        if len(self.text) == 1:  # a Greek letter alone ("Ψ") is searched by its name, as indexed
            return WORD_PIECES.findall(spell_greek_letters(self.text))
        return WORD_PIECES.findall(self.text)


@dataclass
class Node:
    op: str  # "and", "or", "not", "word"
    children: list[Node] = field(default_factory=list)
    word: Word | None = None


@dataclass
class Filters:
    """The user-state part of a query, answered from the store."""

    starred: bool | None = None
    statuses: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)

    @property
    def active(self) -> bool:
        return self.starred is not None or bool(self.statuses) or bool(self.tags)


@dataclass
class Query:
    raw: str
    tree: Node
    filters: Filters
    typing: bool = False
    error: str | None = None
    hint: str | None = None

    def words(self) -> Iterator[tuple[Word, bool]]:
        """Every word of the tree, with whether it sits under a NOT."""
        yield from _walk(self.tree, False)

    @property
    def has_text(self) -> bool:
        """True when there is something for the full-text engine to look for."""
        return any(True for _ in self.words())

    @property
    def terms(self) -> set[str]:
        """Lowercased words and prefixes to highlight in results (never negated ones)."""
        out: set[str] = set()
        for word, negated in self.words():
            if negated or word.field in ("year", "source"):
                continue
            pieces = [p.lower() for p in word.pieces]
            for i, piece in enumerate(pieces):
                last_prefix = i == len(pieces) - 1 and (word.prefix or word.partial)
                if last_prefix or (len(piece) >= 2 and piece not in STOP_WORDS):
                    out.add(piece)
        return out

    @property
    def plain_words(self) -> list[Word]:
        """Words a spelling correction may replace: whole, unfielded, single, not negated."""
        return [w for w, negated in self.words()
                if not negated and w.field is None and not (w.prefix or w.partial or w.phrase)
                and len(w.pieces) == 1]

    def with_replacements(self, replacements: list[tuple[tuple[int, int], str]]) -> str:
        """The raw text with some words replaced, everything else (filters, operators,
        quotes, the other words) kept as it was typed."""
        out = self.raw
        for (start, end), new in sorted(replacements, reverse=True):
            out = out[:start] + new + out[end:]
        return out


def _walk(node: Node, negated: bool):
    if node.op == "word":
        yield node.word, negated
    else:
        for child in node.children:
            yield from _walk(child, negated ^ (node.op == "not"))


# ---------------------------------------------------------------------------------------------
# Parsing


# A token: a quoted string (maybe unterminated), a paren, or a run of anything else (which may
# end in a quoted part, as in title:"world model").
_TOKEN = re.compile(r'"[^"]*"?|[()]|[^\s()"]+(?:"[^"]*"?)?')
_FILTER = re.compile(r"^(?P<name>is|tag):(?P<value>.*)$", re.I | re.S)
_FIELDED = re.compile(r"^([A-Za-z]+):(.+)$", re.S)
_OPS = {"AND": "and", "OR": "or", "NOT": "not", "&&": "and", "||": "or"}
_YEAR = re.compile(r"^(\d{4})$")
_YEAR_RANGE = re.compile(r"^(\d{4})?(?:\.\.|-)(\d{4})?$")
_YEAR_CMP = re.compile(r"^(>=|<=|>|<)(\d{4})$")
_EXAMPLE = {"title": "diffusion", "authors": "hinton", "year": "2023", "source": "bibtex",
            "abstract": "transformer", "notes": "idea"}
KNOWN_FIELDS = "title:, author:, abstract:, notes:, year:, source:, tag: or is:"


def parse(text: str, *, typing: bool = False) -> Query:
    """Parse what a person typed. Never raises: problems become `error` or `hint`."""
    text = text or ""
    parser = _Parser(text, _lex(text))
    tree = parser.parse()
    query = Query(text, tree, parser.filters, typing=typing)
    if parser.errors:
        query.error = parser.errors[0]
    if typing and text and not text[-1].isspace():
        _mark_partial(query)
    hints = _balance_hints(text) + parser.hints
    if hints and not typing:
        query.hint = hints[0]
    return query


def _mark_partial(query: Query) -> None:
    """The last plain word, when the text ends in it, is the word being typed. Shorter than
    PARTIAL_MIN letters it is left out (it would match most of the library)."""
    last = None
    for word, negated in query.words():
        last = (word, negated)
    if last is None or last[1]:
        return
    word = last[0]
    if word.span[1] != len(query.raw) or word.phrase or word.field not in (None, "title", "authors"):
        return
    word.partial = True
    pieces = word.pieces
    if not pieces or len(pieces[-1]) < PARTIAL_MIN:
        _drop(query.tree, word)


def _drop(node: Node, word: Word) -> bool:
    """Remove `word` from the tree; True when `node` became empty."""
    if node.op == "word":
        return node.word is word
    node.children = [c for c in node.children if not _drop(c, word)]
    return not node.children


def _lex(text: str) -> list[tuple[str, object, tuple[int, int]]]:
    """Tokens as (kind, value, span): kind is '(', ')', 'op', 'neg', 'filter' or 'term'."""
    out: list[tuple[str, object, tuple[int, int]]] = []
    for m in _TOKEN.finditer(text):
        tok, span = m.group(), m.span()
        if tok in ("(", ")"):
            out.append((tok, tok, span))
            continue
        if tok in _OPS:
            out.append(("op", _OPS[tok], span))
            continue
        if tok[0] in "-!" and len(tok) > 1:
            out.append(("neg", tok[0], (span[0], span[0] + 1)))
            tok, span = tok[1:], (span[0] + 1, span[1])
        if f := _FILTER.match(tok):
            out.append(("filter", (f.group("name").lower(), f.group("value")), span))
        else:
            out.append(("term", tok, span))
    return out


class _Parser:
    """or_expr := and_expr (OR and_expr)*; and_expr := unary+; unary := (NOT|-) unary | atom.

    Forgiving: a stray ')' or operator is skipped, a missing ')' closes at the end."""

    def __init__(self, text: str, tokens):
        self.text = text
        self.toks = tokens
        self.i = 0
        self.errors: list[str] = []
        self.hints: list[str] = []
        self.filters = Filters()

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def parse(self) -> Node:
        nodes = []
        while self.peek() is not None:
            node = self.or_expr()
            if node is not None:
                nodes.append(node)
            tok = self.peek()
            if tok is not None and tok[0] == ")":
                self.i += 1
            elif tok is not None and tok[0] == "op":
                self.hints.append(f"{tok[1].upper()} needs a word on each side")
                self.i += 1
        return Node("and", nodes)

    def or_expr(self):
        parts = []
        node = self.and_expr()
        if node is not None:
            parts.append(node)
        while (tok := self.peek()) is not None and tok[0] == "op" and tok[1] == "or":
            self.i += 1
            nxt = self.peek()
            if not parts or nxt is None or nxt[0] == ")" or nxt[0] == "op":
                self.hints.append("OR needs a word on each side")
            node = self.and_expr()
            if node is not None:
                parts.append(node)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else Node("or", parts)

    def and_expr(self):
        parts = []
        while (tok := self.peek()) is not None:
            kind, value, _ = tok
            if kind == ")" or (kind == "op" and value == "or"):
                break
            if kind == "op" and value == "and":
                self.i += 1
                nxt = self.peek()
                if not parts or nxt is None or nxt[0] == ")" or nxt[0] == "op" and nxt[1] != "not":
                    self.hints.append("AND needs a word on each side")
                continue
            node = self.unary()
            if node is not None:
                parts.append(node)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else Node("and", parts)

    def unary(self, negated: bool = False):
        kind, value, _ = self.peek()
        if kind == "neg" or (kind == "op" and value == "not"):
            self.i += 1
            nxt = self.peek()
            if nxt is None or nxt[0] == ")" or (nxt[0] == "op" and nxt[1] in ("or", "and")):
                self.hints.append("NOT needs a word after it")
                return None
            inner = self.unary(not negated)
            return None if inner is None else Node("not", [inner])
        return self.atom(negated)

    def atom(self, negated: bool):
        kind, value, span = self.peek()
        self.i += 1
        if kind == "(":
            node = self.or_expr()
            if (tok := self.peek()) is not None and tok[0] == ")":
                self.i += 1
            return node
        if kind == "filter":
            self.filter(*value, negated)
            return None
        return self.term(value, span)

    def filter(self, name: str, value: str, negated: bool) -> None:
        value = value.strip('"').strip()
        if name == "is":
            v = value.lower()
            if v == "starred":
                self.filters.starred = not negated
            elif v in STATUSES and not negated:
                self.filters.statuses.add(v)
            elif v in STATUSES:
                others = " / is:".join(s for s in STATUSES if s != v)
                self.errors.append(f"-is:{v} is not supported; use is:{others}")
            elif not v:
                self.errors.append("is: needs a value: is:starred, is:unread, is:reading or is:read")
            else:
                self.errors.append(
                    f"unknown filter is:{value}; use is:starred, is:unread, is:reading or is:read")
            return
        tag = normalise_tag(value)
        if not tag:
            self.errors.append("tag: needs a tag name, like tag:to-read")
        elif negated:
            self.errors.append(f"-tag:{value} is not supported")
        else:
            self.filters.tags.add(tag)

    def term(self, tok: str, span: tuple[int, int]):
        fieldname = None
        if m := _FIELDED.match(tok):
            name = m.group(1).lower()
            if name in FIELD_ALIASES:
                fieldname = FIELD_ALIASES[name]
                tok = m.group(2)
                span = (span[0] + len(m.group(1)) + 1, span[1])
            elif name not in _NOT_FIELDS and not m.group(2).startswith("//"):
                self.hints.append(f"unknown field {m.group(1)}: (searched as words); "
                                  f"fields are {KNOWN_FIELDS}")
        elif tok.endswith(":") and tok[:-1].lower() in FIELD_ALIASES:
            name = tok[:-1]
            example = _EXAMPLE.get(FIELD_ALIASES[name.lower()], "word")
            self.errors.append(f"{name}: needs a value, like {name}:{example}")
            return None
        if tok.startswith('"'):
            closed = len(tok) > 1 and tok.endswith('"')
            inner = tok[1:-1] if closed else tok[1:]
            start = span[0] + 1
            words = inner.split()
            if not words:
                return None
            if len(words) == 1:
                text = words[0]
                return Node("word", word=Word(text.rstrip("*"), fieldname,
                                              prefix=text.endswith("*") and len(text) > 1,
                                              span=(start, start + len(inner.rstrip()))))
            return Node("word", word=Word(inner.strip(), fieldname, phrase=True,
                                          span=(start, start + len(inner.rstrip()))))
        if '"' in tok:  # a quote glued inside a word: read it as a space
            tok = tok.replace('"', " ").strip()
        if fieldname == "year":
            return self.year(tok, span)
        prefix = tok.endswith("*")
        core = tok.rstrip("*")
        if not core.strip("*"):
            if prefix:
                self.errors.append("'*' needs letters before it, like trans*")
            return None
        return Node("word", word=Word(core.replace("*", ""), fieldname, prefix=prefix,
                                      span=(span[0], span[0] + len(core))))

    def year(self, raw: str, span: tuple[int, int]):
        raw = raw.strip()
        years = None
        if m := _YEAR.match(raw):
            years = (int(m.group(1)), int(m.group(1)))
        elif (m := _YEAR_RANGE.match(raw)) and (m.group(1) or m.group(2)):
            years = (int(m.group(1) or 0), int(m.group(2) or 9999))
        elif m := _YEAR_CMP.match(raw):
            op, y = m.group(1), int(m.group(2))
            years = {">=": (y, 9999), ">": (y + 1, 9999), "<=": (0, y), "<": (0, y - 1)}[op]
        if years is None:
            self.errors.append(
                f"year:{raw} is not a year; use year:2023, year:2020..2023 or year:>=2021")
            return None
        return Node("word", word=Word(raw, "year", span=span, years=years))


def _balance_hints(text: str) -> list[str]:
    """Unclosed quotes and unbalanced parentheses (outside quotes)."""
    hints = []
    depth, quoted, stray_close = 0, False, False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            if depth:
                depth -= 1
            else:
                stray_close = True
    if quoted:
        hints.append('a quote is not closed (add a closing ")')
    if depth:
        hints.append("a parenthesis is not closed (add a closing ')')")
    if stray_close:
        hints.append("a ')' has no '(' before it")
    return hints
