"""Citation keys in the Google Scholar / Better BibTeX style: lastname + year + first word.

A key is assigned when a paper enters the library and stored. A paper that arrives without
authors or a year (a Daily Papers listing) gets a provisional key from its first three
significant title words (`learningTemporallyConsistent`, Better BibTeX's form without an
author); the store replaces it by the regular key when authors and year arrive, until the key
is used (exported, copied, written into an Obsidian note, or set by hand). From then on a key
never changes, so LaTeX documents keep compiling as the library grows.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable

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


def _significant_words(title: str, count: int) -> list[str]:
    words = []
    for raw in re.split(r"[\s\-/]+", _plain(title)):
        word = re.sub(r"[^a-z0-9]", "", ascii_fold(raw))
        if word and word not in STOP_WORDS:
            words.append(word)
            if len(words) == count:
                break
    return words


def is_provisional(authors: list[str], year: int | None) -> bool:
    """A key made without an author or a year is provisional (see the module docstring)."""
    return not authors or not year


def provisional_citekey(title: str) -> str:
    """`learningTemporallyConsistent`: three significant title words, camel-cased."""
    words = _significant_words(title, 3)
    return (words[0] + "".join(w.capitalize() for w in words[1:])) if words else "paper"


def citekey_base(authors: list[str], year: int | None, title: str) -> str:
    """The key a new paper gets before clashes: regular, or provisional without author/year."""
    if is_provisional(authors, year):
        return provisional_citekey(title)
    return base_citekey(authors, year, title)


def base_citekey(authors: list[str], year: int | None, title: str) -> str:
    name = re.sub(r"[^a-z0-9]", "", ascii_fold(_last_name(authors[0]))) if authors else ""
    parts = [name, str(year) if year else "", "".join(_significant_words(title, 1))]
    key = "".join(parts)
    return key or "paper"


class CitekeyAllocator:
    """Unique keys, compared ignoring case as BibTeX does: a base, else base + a, b, c ...
    aa, ab ... z1, z2 ...

    Each base remembers the suffix it reached, so the n-th clash on a base costs one step
    rather than n (assigning keys to a whole import stays linear)."""

    def __init__(self, taken: Iterable[str] = ()):
        self._taken = {key.casefold() for key in taken}
        self._next_suffix: dict[str, int] = {}

    def __contains__(self, key: str) -> bool:
        return key.casefold() in self._taken

    def claim(self, key: str) -> bool:
        """Take exactly `key` when it is free; False when another paper has it."""
        if key in self:
            return False
        self._taken.add(key.casefold())
        return True

    def release(self, key: str) -> None:
        self._taken.discard(key.casefold())

    def allocate(self, base: str) -> str:
        if self.claim(base):
            return base
        folded = base.casefold()
        n = self._next_suffix.get(folded, 0)
        while (candidate := base + _suffix(n)) in self:
            n += 1
        self._next_suffix[folded] = n + 1
        self.claim(candidate)
        return candidate


def _suffix(n: int) -> str:
    """0 -> a ... 25 -> z, 26 -> aa ... 701 -> zz, then z1, z2 ... (never runs out)."""
    letters = string.ascii_lowercase
    if n < 26:
        return letters[n]
    if n < 26 + 26 * 26:
        first, second = divmod(n - 26, 26)
        return letters[first] + letters[second]
    return f"z{n - 26 - 26 * 26 + 1}"


def check_citekey(key: str) -> str | None:
    """None when `key` is usable in BibTeX, else why not (one line)."""
    if not VALID_CITEKEY.match(key):
        return "a citation key is 1-100 characters of letters, digits and _:.-+/"
    return None
