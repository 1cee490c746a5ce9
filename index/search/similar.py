"""Similar papers (more-like-this), over any engine: the text's most distinctive word
families by tf-idf against the library, any of them, in titles or abstracts."""

from __future__ import annotations

import math
import re
from collections import defaultdict

from index.highlight import crude_stem
from index.query import STOP_WORDS, Node, Word
from index.search.engine import Engine

# Words found in more than this share of a big library say little ("model", "results").
COMMON_WORD_SHARE = 0.05
FAMILIES = 12
_WORD = re.compile(r"[^\W\d_]{3,30}", re.UNICODE)


def key_families(engine: Engine, text: str, count: int = FAMILIES) -> list[tuple[float, list[str]]]:
    """The `count` most distinctive word families of `text`, with their tf-idf weight: each the
    text's words that share a crude stem ("heron", "herons")."""
    families: dict[str, list[str]] = defaultdict(list)
    for word in _WORD.findall(text.lower()):
        if word not in STOP_WORDS:
            families[crude_stem(word)].append(word)
    if not families:
        return []
    n = engine.doc_count() or 1
    scored = []
    for stem, words in families.items():
        df = engine.prefix_doc_frequency(stem)
        if df <= 1 and n > 1:
            continue  # only in this paper: cannot make it like any other
        if n >= 1000 and df > n * COMMON_WORD_SHARE:
            continue
        scored.append((len(words) * math.log(1 + n / max(df, 1)), stem, sorted(set(words))))
    scored.sort(reverse=True)
    return [(weight, words) for weight, _, words in scored[:count]]


def similar_tree(engine: Engine, text: str) -> Node | None:
    """A query tree for papers like `text`: any of its key words, in a title or abstract."""
    families = key_families(engine, text)
    if not families:
        return None
    top = families[0][0]
    return Node("or", [Node("word", word=Word(w, field, boost=weight / top))
                       for weight, words in families for w in words
                       for field in ("title", "abstract")])
