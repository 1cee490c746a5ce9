"""Citation keys in the Google Scholar / Better BibTeX style: lastname + year + first word.

A key is assigned once when a paper enters the library, stored, and never changed by the
program afterwards, so LaTeX documents keep compiling as the library grows.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable

# Words skipped when picking the first significant title word (Better BibTeX's list, trimmed).
STOP_WORDS = frozenset(
    "a an the of on in at to for from by with and or but is are be as its it this that via "
    "into onto over under toward towards than about".split()
)
VALID_CITEKEY = re.compile(r"^[A-Za-z0-9_:.\-+/]{1,100}$")


# Latin letters that Unicode does not decompose into a base letter + accent.
_TRANSLITERATE = str.maketrans({
    "ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
    "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th",
    "ı": "i", "ȷ": "j",
})


def ascii_fold(text: str) -> str:
    """'Müller' -> 'muller', 'Østergård' -> 'ostergard', 'Ψ-net' -> '-net'."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
    return decomposed.encode("ascii", "ignore").decode("ascii").lower()


# Name suffixes that are not the family name ("Martin Luther King Jr." -> King).
_NAME_SUFFIXES = frozenset("jr jr. sr sr. ii iii iv phd ph.d.".split())


def _plain(text: str) -> str:
    """LaTeX fragments in listing text (`M\\"uller`, `{\\O}ster`) read as the letters they print."""
    if "\\" not in text and "{" not in text:
        return text
    from index.export.latex import decode_latex

    return decode_latex(text).replace("{", "").replace("}", "")


def _last_name(author: str) -> str:
    author = _plain(author).strip()
    if "," in author:  # "Last, First" (or "Last, Jr., First")
        return author.split(",", 1)[0]
    parts = author.split()
    while len(parts) > 1 and parts[-1].casefold() in _NAME_SUFFIXES:
        parts.pop()
    return parts[-1] if parts else ""


def _first_significant_word(title: str) -> str:
    for raw in re.split(r"[\s\-/]+", _plain(title)):
        word = re.sub(r"[^a-z0-9]", "", ascii_fold(raw))
        if word and word not in STOP_WORDS:
            return word
    return ""


def base_citekey(authors: list[str], year: int | None, title: str) -> str:
    name = re.sub(r"[^a-z0-9]", "", ascii_fold(_last_name(authors[0]))) if authors else ""
    parts = [name, str(year) if year else "", _first_significant_word(title)]
    key = "".join(parts)
    return key or "paper"


def assign_citekey(
    authors: list[str], year: int | None, title: str, taken: Callable[[str], bool]
) -> str:
    """The base key, or base + a, b, c ... aa, ab ... when the base is taken."""
    base = base_citekey(authors, year, title)
    if not taken(base):
        return base
    for suffix in _suffixes():
        candidate = base + suffix
        if not taken(candidate):
            return candidate
    raise AssertionError("unreachable: suffixes are unbounded")


def _suffixes():
    letters = string.ascii_lowercase
    yield from letters
    for first in letters:
        for second in letters:
            yield first + second
    n = 0
    while True:  # absurd numbers of clashes still terminate with a unique key
        n += 1
        yield f"z{n}"


def check_citekey(key: str) -> str | None:
    """None when `key` is usable in BibTeX, else why not (one line)."""
    if not VALID_CITEKEY.match(key):
        return "a citation key is 1-100 characters of letters, digits and _:.-+/"
    return None
