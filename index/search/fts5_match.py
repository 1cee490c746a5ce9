"""The FTS5 engine's query compiler: a parsed query tree (index/query.py) into FTS5 match
expressions over the tables of index/search/fts5_file.py. Pure string work, no SQLite here."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from index.highlight import crude_stem
from index.query import PARTIAL_MIN, PHRASE_FIELDS, SEARCH_FIELDS, STOP_WORDS, Node, Word

NO_MATCH = '{year} : "00000"'  # an expression that matches no paper
_FORMAT_NAME = re.compile(r"[a-z][a-z0-9-]*")
_WORDCHARS = re.compile(r"\w")


def quote(text: str) -> str:
    """An FTS5 string: the tokenizer splits it; several tokens make a phrase."""
    return '"' + text.replace('"', '""') + '"'


def columns(fields: Iterable[str]) -> str:
    return "{" + " ".join(fields) + "}"


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
    """Turns the query tree into FTS5 expressions. `years` gives the years papers have (what
    a year range expands to)."""

    def __init__(self, years: Callable[[], list[int]]):
        self.years = years

    def plan(self, tree: Node) -> Plan | None:
        """Prefix words at the top level go to `names`; everything else into one `full`
        expression. A prefix inside OR / NOT falls back to a `full` prefix (stemmed)."""
        prefix_words: list[Word] = []
        rest: list[Node] = []
        for child in _conjuncts(tree):
            if child.op == "word" and (child.word.prefix or child.word.partial) and \
                    child.word.field in (None, "title", "authors"):
                prefix_words.append(child.word)
            else:
                rest.append(child)
        prefix_parts = [q for q in map(self.prefix_word, prefix_words) if q is not None]
        expr = self.build(Node("and", rest)) if rest else None
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
    def build(self, node: Node, negated: bool = False):
        if node.op == "word":
            text = self.word(node.word)
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
        positives = [t for k, t in parts if k == "pos"]
        if node.op == "or":
            # "a OR NOT b" would match nearly everything: keep the positive side only
            return ("pos", _join(positives, "OR")) if positives else None
        negatives = [t for k, t in parts if k == "neg"]
        if not positives:
            return ("neg", _join(negatives, "OR"))
        out = _join(positives, "AND")
        if negatives:
            out = f"({out}) NOT ({_join(negatives, 'OR')})"
        return ("pos", out)

    def prefix_word(self, word: Word) -> str | None:
        """An expression over `names` (unstemmed titles, authors, tags) for a word typed as
        a prefix (`word*`) or being typed: title and author word starts (and a whole tag);
        never the abstract, where a common word would rank most of the library."""
        pieces = word.pieces
        if not pieces:
            return None
        head, last = pieces[:-1], pieces[-1].lower()
        fieldname = word.field
        subs = []
        if len(last) >= PARTIAL_MIN and fieldname in (None, "title"):
            subs.append(f"{{title}} : {quote(last)}*")
            stem = crude_stem(last)
            if stem != last and len(stem) >= PARTIAL_MIN:
                subs.append(f"{{title}} : {quote(stem)}*")  # "models" also finds "Model"
        if fieldname in (None, "authors") and len(last) >= 2:
            subs.append(f"{{authors}} : {quote(last)}*")
        if word.partial and fieldname is None and len(last) >= 2 and last not in STOP_WORDS:
            subs.append(f"{{tags}} : {quote(last)}")
        if not subs:
            return None
        names_q = _join(subs, "OR")
        if head:
            # "state-of-the-ar": the earlier pieces are whole words of the title, authors, tags
            names_q = f"({' AND '.join(quote(h) for h in head)}) AND ({names_q})"
        return names_q

    def word(self, word: Word) -> str | None:
        fieldname = word.field
        if fieldname == "year":
            return self.year(word.years)
        if fieldname == "source":
            value = word.text.strip().lower()
            if not _WORDCHARS.search(value):
                return None
            if ":" not in value and _FORMAT_NAME.fullmatch(value):  # a format, as a whole
                return f"{{source}} : {quote(format_token(value))}"
            return f"{{source}} : {quote(value)}"  # a file name or a whole source: a phrase
        fields = (fieldname,) if fieldname else SEARCH_FIELDS
        pieces = word.pieces
        if not pieces:
            return None
        if word.phrase:
            pf = [f for f in fields if f in PHRASE_FIELDS] or ["title"]
            return f"{columns(pf)} : {quote(' '.join(pieces))}"
        if word.prefix or word.partial:
            # a prefix inside OR / NOT: a stemmed prefix, not over abstracts and notes
            pf = [f for f in fields if f not in ("abstract", "notes")] or list(fields)
            last = pieces[-1].lower()
            if len(last) < 2:
                return None
            exprs = [f"{columns(pf)} : {quote(p)}" for p in pieces[:-1]]
            exprs.append(f"{columns(pf)} : {quote(last)}*")
            return _join(exprs, "AND")
        if len(pieces) > 1:
            # A compound like "to-read" or "state-of-the-art" is a phrase (it may be a tag)
            return f"{columns(fields)} : {quote(' '.join(pieces))}"
        piece = pieces[0]
        if (piece.lower() in STOP_WORDS or len(piece) < 2) and len(fields) > 1:
            # "and", "the", "8": too common (or too short) to narrow anything down
            return None
        return f"{columns(fields)} : {quote(piece)}"

    def year(self, years: tuple[int, int]) -> str:
        lo, hi = years
        present = [str(y) for y in self.years() if lo <= y <= hi]
        if not present:
            return NO_MATCH
        return "{year} : (" + " OR ".join(map(quote, present)) + ")"


def _conjuncts(node: Node) -> list[Node]:
    """The parts of a top-level AND, nested ANDs flattened."""
    if node.op != "and":
        return [node]
    return [part for child in node.children for part in _conjuncts(child)]


def _join(parts: Sequence[str], op: str) -> str:
    if len(parts) == 1:
        return parts[0]
    return f" {op} ".join(f"({p})" for p in parts)
