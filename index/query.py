"""The query language: what a person types, parsed into FTS5 expressions for index/search.py.

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

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from index.highlight import crude_stem
from index.model import STATUSES, normalise_tag


# The shortest partial word looked up as a title prefix while typing (the `names` table keeps
# a 3-letter prefix index for exactly this).
NGRAM_MIN = 3

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


def parse_query(text: str, as_you_type: bool) -> tuple[_Node, list[str]]:
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



STOP_WORDS = frozenset(
    "a an and are as at be by can for from have if in is it may not of on or tbd that the "
    "this to us we when will with yet you your".split()
)

_NO_MATCH = '{year} : "00000"'  # an expression that matches no paper

def quote(text: str) -> str:
    """An FTS5 string: the tokenizer splits it; several tokens make a phrase."""
    return '"' + text.replace('"', '""') + '"'


def columns(fields: Iterable[str]) -> str:
    return "{" + " ".join(fields) + "}"



_FORMAT_NAME = re.compile(r"[a-z][a-z0-9-]*")


def format_token(fmt: str) -> str:
    """A source format as one token: the tokenizer would split "dailypapers-json" in two, and
    `source:dailypapers` would then find JSON imports too."""
    return "format" + re.sub(r"[^a-z0-9]", "", fmt.lower())



@dataclass
class Plan:
    """One query for SQLite: `match` over `full` (an FTS5 expression; `negative` when it
    lists what to leave out), and `prefix` over `names` for the words being typed or typed
    with '*'. A paper must match both."""

    match: str | None = None
    negative: bool = False
    prefix: str | None = None


class MatchBuilder:
    """Turns our parse tree into FTS5 expressions, and notes the terms to highlight."""

    def __init__(self, years: Callable[[], list[int]]):
        self.years = years
        self.terms: set[str] = set()
        self.plain_words: list[_Word] = []

    def plan(self, tree: _Node) -> Plan | None:
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
        plan = Plan()
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
                if is_prefix or (len(low) >= 2 and low not in STOP_WORDS):
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
            subs.append(f"{{title}} : {quote(last)}*")
            stem = crude_stem(last)
            if stem != last and len(stem) >= NGRAM_MIN:
                subs.append(f"{{title}} : {quote(stem)}*")  # "models" also finds "Model"
        if (word.prefix and fieldname in (None, "authors") or fieldname == "authors") and len(last) >= 2:
            subs.append(f"{{authors}} : {quote(last)}*")
        if word.partial and fieldname in (None, "authors") and len(last) >= 2 \
                and last not in STOP_WORDS:
            subs.append(f"{{authors tags}} : {quote(last)}")
        if not subs:
            return None
        names_q = _join(subs, "OR")
        if head:
            # "state-of-the-ar": the earlier pieces are whole words of the title, authors, tags
            names_q = f"({' AND '.join(quote(h) for h in head)}) AND ({names_q})"
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
                return f"{{source}} : {quote(format_token(value))}"
            return f"{{source}} : {quote(value)}"  # a file name or a whole source: a phrase
        fields = (fieldname,) if fieldname else SEARCH_FIELDS
        if word.phrase:
            pf = [f for f in fields if f in PHRASE_FIELDS] or ["title"]
            pieces = _WORDCHARS.findall(raw)
            if not pieces:
                return None
            if not negated:
                self.terms.update(p.lower() for p in pieces if p.lower() not in STOP_WORDS)
            return f"{columns(pf)} : {quote(' '.join(pieces))}"
        if word.prefix or word.partial:
            # a prefix inside OR / NOT, or on a field `names` does not hold: stemmed prefix
            pieces = self.note_terms(raw, word, negated)
            if not pieces:
                return None
            pf = [f for f in fields if f != "abstract" and f != "notes"] or list(fields)
            last = pieces[-1].lower()
            if len(last) < 2:
                return None
            exprs = [f"{columns(pf)} : {quote(p)}" for p in pieces[:-1]]
            exprs.append(f"{columns(pf)} : {quote(last)}*")
            return _join(exprs, "AND")
        pieces = self.note_terms(raw, word, negated)
        if not pieces:
            return None
        if not negated and not fieldname and len(pieces) == 1:
            self.plain_words.append(word)
        if len(pieces) > 1:
            # A compound like "to-read" or "state-of-the-art" is a phrase (it may be a tag)
            return f"{columns(fields)} : {quote(' '.join(pieces))}"
        piece = pieces[0]
        if (piece.lower() in STOP_WORDS or len(piece) < 2) and len(fields) > 1:
            # "and", "the", "8": too common (or too short) to narrow anything down
            return None
        return f"{columns(fields)} : {quote(piece)}"

    def year(self, raw: str) -> str:
        raw = raw.strip()
        if m := _YEAR.match(raw):
            return f"{{year}} : {quote(m.group(1))}"
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
        return "{year} : (" + " OR ".join(map(quote, present)) + ")"


def _conjuncts(node: _Node) -> list[_Node]:
    """The parts of a top-level AND, nested ANDs flattened."""
    if node.op != "and":
        return [node]
    return [part for child in node.children for part in _conjuncts(child)]


def _join(parts: Sequence[str], op: str) -> str:
    if len(parts) == 1:
        return parts[0]
    return f" {op} ".join(f"({p})" for p in parts)
