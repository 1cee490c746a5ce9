"""LaTeX in BibTeX values to plain text: a fast decoder for what most values hold (accents,
special letters, escapes, font switches), and pylatexenc for the rest. Part of the BibTeX
reader (bibtex.py)."""

from __future__ import annotations

import functools
import re
import unicodedata

# Bare `%`, `&` and `#` are literal in BibTeX: escaped before pylatexenc reads them as LaTeX.
_UNESCAPED_SPECIAL = re.compile(r"(?<!\\)([%&#])")

_converter = None


def _latex_converter():
    global _converter
    if _converter is None:
        from pylatexenc.latex2text import LatexNodes2Text

        class _KeepUnknown(LatexNodes2Text):
            """Unknown macros stay visible as `\\name` instead of vanishing."""

            def macro_node_to_text(self, node):
                if self.latex_context.get_macro_spec(node.macroname) is None:
                    if _SWITCH.fullmatch("\\" + node.macroname):
                        return ""
                    return "\\" + node.macroname + (getattr(node, "macro_post_space", "") or "")
                return super().macro_node_to_text(node)

        from index.export.latex import latex_contexts

        _converter = _KeepUnknown(math_mode="text", keep_comments=False, strict_latex_spaces=True,
                                  latex_context=latex_contexts()[0])
    return _converter


_walker_context = None


def _pylatexenc_to_text(value: str) -> str:
    global _walker_context
    from pylatexenc import latexwalker

    if _walker_context is None:
        from index.export.latex import latex_contexts

        _walker_context = latex_contexts()[1]
    converter = _latex_converter()
    walker = latexwalker.LatexWalker(value, latex_context=_walker_context, tolerant_parsing=True)
    return converter.nodelist_to_text(walker.get_latex_nodes()[0])


# A fast decoder for what most .bib values hold (accents, special letters, escapes, font
# switches); pylatexenc (~8 ms a value) only sees values with anything else left over.
_ACCENTS = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303",
            "=": "\u0304", ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b",
            "c": "\u0327", "k": "\u0328", "r": "\u030a", "d": "\u0323", "b": "\u0331"}
_LETTERS = {"ss": "ß", "o": "ø", "O": "Ø", "aa": "å", "AA": "Å", "ae": "æ", "AE": "Æ",
            "oe": "œ", "OE": "Œ", "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ"}
_SYMBOL_ACCENT = re.compile(
    r"""\\(['`^"~=.])\s*(?:\{\s*(\\[ij](?![A-Za-z])|[A-Za-z])\s*\}|(\\[ij](?![A-Za-z])|[A-Za-z]))""")
_LETTER_ACCENT = re.compile(
    r"\\([uvHckrdb])(?:\s*\{\s*(\\[ij](?![A-Za-z])|[A-Za-z])\s*\}|\s+([A-Za-z]))")
_SPECIAL_LETTER = re.compile(r"\\(ss|aa|AA|ae|AE|oe|OE|o|O|l|L|i|j)(?![A-Za-z])(?:\{\}|[ \t]+(?=[A-Za-z]))?")
_ESCAPED = re.compile(r"\\([&%_#$@{}])")
_TEXT_MACRO = re.compile(
    r"\\(?:emph|textbf|textit|textsc|texttt|textrm|textsf|textup|textnormal|textmd|textsl|"
    r"mathrm|mathbf|mathit|mbox|text|underline|uppercase|lowercase|NoCaseChange|bibstring)"
    r"\s*(?=\{)")
_SWITCH = re.compile(r"\\(?:em|bf|it|sc|rm|sf|tt|sl|normalfont|relax|protect)(?![A-Za-z])\s*")


def _accented(match: re.Match) -> str:
    base = match.group(2) or match.group(3) or ""
    base = {"\\i": "i", "\\j": "j"}.get(base, base)
    return base + _ACCENTS[match.group(1)]


def _fast_latex(value: str) -> str | None:
    """Plain text for common LaTeX, or None when anything else remains (then: pylatexenc)."""
    text = _SYMBOL_ACCENT.sub(_accented, value)
    text = _LETTER_ACCENT.sub(_accented, text)
    text = _SPECIAL_LETTER.sub(lambda m: _LETTERS[m.group(1)], text)
    text = _TEXT_MACRO.sub("", text)
    text = _SWITCH.sub("", text)
    text = _ESCAPED.sub(lambda m: "\x00" + m.group(1), text)  # protect from brace removal
    if "\\" in text or "$" in text:
        return None
    text = text.replace("{", "").replace("}", "").replace("\x00", "")
    text = text.replace("---", "\u2014").replace("--", "\u2013").replace("~", " ")
    text = text.replace("``", "\u201c").replace("''", "\u201d")
    return unicodedata.normalize("NFC", text)


@functools.lru_cache(maxsize=8192)
def latex_to_text(value: str) -> str:
    """LaTeX to one line of plain text; the raw value (braces dropped) if decoding fails."""
    if not value:
        return ""
    text = _fast_latex(value)
    if text is None:
        try:
            text = _pylatexenc_to_text(_UNESCAPED_SPECIAL.sub(r"\\\1", value))
        except Exception:  # pylatexenc is tolerant, but never let a value sink an import
            text = value.replace("{", "").replace("}", "")
    return " ".join(text.replace("\xa0", " ").split())


def plain_value(value: str) -> str:
    """URL / DOI / id values: drop braces and the escapes people put in them."""
    value = value.replace("{", "").replace("}", "")
    value = re.sub(r"\\([_%&#$~])", r"\1", value)
    value = re.sub(r"\\url\s*", "", value)
    return value.strip()
