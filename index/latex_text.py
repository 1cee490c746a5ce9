"""LaTeX fragments in paper text -> the text a reader sees (for display and for search).

Titles and abstracts are stored as their sources wrote them (the BibTeX export needs the
LaTeX); everything that shows them to a person goes through `plain_text`:

    plain_text(r"{\\epsilon}-differential privacy")  -> "ε-differential privacy"
    plain_text(r'na\\"{\\i}ve')                      -> "naïve"
    plain_text(r"Scaling~laws for {\\carboneq}")     -> "Scaling laws for \\carboneq"

Understood fragments (accents, escaped specials, Greek and other symbol macros, font
switches) decode through `index.export.latex.decode_latex`, whose symbol table is
pylatexenc's; macros nobody defines stay as written, without the braces around them.

`search_text` is `plain_text` plus the English names of Greek letters in it, so a search for
`psi` finds PATIENT-Ψ (the letter itself is indexed too).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from index.export.latex import decode_latex

_TIE = re.compile(r"(?<!\\)~")  # `~` is a non-breaking space; `\~` is an accent
# pylatexenc prints \epsilon as the lunate ϵ; readers (and search) expect the letter ε.
_LETTER_FORMS = str.maketrans({"ϵ": "ε", "ϑ": "θ", "ϕ": "φ", "ϖ": "π", "ϱ": "ρ", "ς": "σ"})
_GREEK = re.compile(r"[\u0391-\u03a9\u03b1-\u03c9\u03d1\u03d5\u03d6\u03f1\u03f5]")


def plain_text(text: str) -> str:
    """Paper text with the LaTeX it carries shown as text (see the module docstring)."""
    if not text or ("\\" not in text and "{" not in text and "~" not in text):
        return text
    decoded = decode_latex(_TIE.sub(" ", _protect_escaped_braces(text)))
    # Braces left after decoding only grouped something unknown (`{\carboneq}`, `\ewtune{}`).
    return _restore_escaped_braces(decoded.replace("{", "").replace("}", "")).translate(
        _LETTER_FORMS)


# Escaped braces (`\{`) are text, not grouping: they survive the brace removal.
_OPEN, _CLOSE = "\ue000", "\ue001"


def _protect_escaped_braces(text: str) -> str:
    return text.replace("\\{", _OPEN).replace("\\}", _CLOSE)


def _restore_escaped_braces(text: str) -> str:
    return text.replace(_OPEN, "{").replace(_CLOSE, "}")


def search_text(text: str) -> str:
    """`plain_text`, followed by the names of the Greek letters it holds ("psi", "pi")."""
    shown = plain_text(text)
    names = [_greek_name(ch) for ch in dict.fromkeys(_GREEK.findall(shown))]
    names = [n for n in names if n]
    return f"{shown} {' '.join(names)}" if names else shown


_LONE_GREEK = re.compile(r"(?<!\S)" + _GREEK.pattern + r"(?!\S)")


def spell_greek_letters(query: str) -> str:
    """A Greek letter typed as a query word becomes its name ("Ψ" -> "psi"): one-letter
    words are not searched for, and `search_text` indexes the names."""
    if not _GREEK.search(query):
        return query
    return _LONE_GREEK.sub(lambda m: _greek_name(m.group()) or m.group(), query)


@lru_cache(maxsize=128)
def _greek_name(letter: str) -> str | None:
    """'Ψ' -> 'psi', 'π' -> 'pi', 'ϵ' -> 'epsilon' (from the Unicode name)."""
    words = unicodedata.name(letter, "").removesuffix(" SYMBOL").split()
    return words[-1].lower() if words[:1] == ["GREEK"] else None
