"""BibTeX (.bib) files, read with bibtexparser v2.

What a record gets from an entry:

- `citekey`: the entry's own key (the store keeps it as the paper's citation key when free).
- `title`, `abstract`, `venue` (journal, else booktitle), author names and keyword tags: LaTeX
  decoded to plain text with pylatexenc (`M{\\"u}ller` -> `Müller`, `{BERT}` -> `BERT`).
  Bare `%`, `&` and `#` inside a value are taken literally: BibTeX does, and a LaTeX decoder
  would otherwise read `%` as a comment and cut the title there. Unknown macros stay visible
  (`\\mone`), and a value the decoder cannot handle is kept raw rather than lost.
- `authors`: split on `and` at brace depth 0; `Last, First` and `Last, Jr, First` become
  `First Last [Jr]`; `others` is dropped (extra["authors_et_al"] = True).
- `year` (int, from `year` or a biblatex `date`), `doi` (without a doi.org prefix), `url`.
- `arxiv_id` (version stripped; the version goes to extra["arxiv_version"]) from `eprint` when
  `archivePrefix`/`eprinttype` is arXiv, from an arxiv.org URL, or from Google Scholar's
  `journal = {arXiv preprint arXiv:2101.01234}` (which is then not used as the venue).
- `@string` macros, `#` concatenation and month macros are resolved here (bibtexparser's own
  middleware does not concatenate). `crossref`: fields the entry lacks are inherited from the
  referenced entry; a proceedings' `title` becomes the child's `booktitle`. A @proceedings /
  @collection entry that is only the target of crossrefs is not imported as a paper.
- `extra`: `bibtex_type`, and every other field as written (`bibtex_fields`) so an exporter
  can reproduce volume, pages, publisher and the like.

Problems (never exceptions): entries bibtexparser cannot parse (unclosed brace or quote, ...)
with the line the entry starts on, duplicate keys (the first entry wins, as in BibTeX), and
entries without a title. The entries around a broken one still import.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import threading
import unicodedata
import urllib.parse

from index.model import ARXIV_ID, ParseResult, PaperRecord, Problem, strip_arxiv_version

FORMAT = "bibtex"

_ENTRY_AT_LINE_START = re.compile(r"^[ \t]*@[ \t]*([A-Za-z]+)[ \t]*[{(]", re.M)
_KNOWN_TYPES = {
    "article", "inproceedings", "conference", "misc", "book", "incollection", "inbook",
    "phdthesis", "mastersthesis", "techreport", "unpublished", "online", "proceedings",
    "string", "comment", "preamble", "thesis", "report", "collection", "manual", "software",
    "dataset", "electronic", "booklet",
}
_MONTHS = {
    "jan": "January", "feb": "February", "mar": "March", "apr": "April", "may": "May",
    "jun": "June", "jul": "July", "aug": "August", "sep": "September", "oct": "October",
    "nov": "November", "dec": "December",
}
# Fields mapped onto PaperRecord attributes (everything else goes to extra["bibtex_fields"]).
_MAPPED = {
    "title", "author", "year", "date", "doi", "eprint", "archiveprefix", "eprinttype",
    "url", "abstract", "keywords", "journal", "journaltitle", "booktitle", "crossref",
}
_CONTAINER_TYPES = {"proceedings", "collection", "mvproceedings", "mvcollection"}
_ARXIV_URL = re.compile(
    r"arxiv\.org/(?:abs|pdf)/((?:\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?)", re.I
)
_ARXIV_IN_TEXT = re.compile(
    r"arxiv[:\s]*((?:\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?)", re.I
)
_VERSION = re.compile(r"(v\d+)$")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.I)
_UNESCAPED_SPECIAL = re.compile(r"(?<!\\)([%&#])")


def source_label(source: str) -> str:
    """`bibtex:refs.bib`: the format and the file's name, as PaperRecord.source."""
    return f"{FORMAT}:{os.path.basename(source) or source}"


def sniff(text: str) -> float:
    head = text[:65536]
    found = _ENTRY_AT_LINE_START.findall(head)
    if not found:
        return 0.0
    if any(kind.lower() in _KNOWN_TYPES for kind in found):
        return 0.95
    return 0.6


# --------------------------------------------------------------------------- LaTeX to text

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


def _plain(value: str) -> str:
    """URL / DOI / id values: drop braces and the escapes people put in them."""
    value = value.replace("{", "").replace("}", "")
    value = re.sub(r"\\([_%&#$~])", r"\1", value)
    value = re.sub(r"\\url\s*", "", value)
    return value.strip()


# --------------------------------------------------------------------------- values

_AND = re.compile(r"\s+and(?=\s)\s*", re.I)


def _split_top(value: str, sep: str) -> list[str]:
    """Split at `sep` characters outside braces and quotes."""
    if "{" not in value and '"' not in value and "\\" not in value:
        return value.split(sep)
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(value):
        if ch == "\\":
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        elif ch == '"' and depth == 0:
            quoted = not quoted
        elif ch == sep and depth == 0 and not quoted:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return parts


MAX_VALUE_CHARS = 1_000_000  # one field or @string, expanded: far beyond any real value


class ValueTooLong(ValueError):
    """A value that expands past MAX_VALUE_CHARS (e.g. @string macros that double each other)."""

    def __init__(self, macro: str | None = None):
        super().__init__(macro)
        self.macro = macro  # the too-long macro it uses, or None when the value itself is


def _resolve(raw: str, strings: dict[str, str], too_long: set[str] = frozenset()) -> str:
    """A raw field value (`{..}`, `".."`, number, macro, `a # b`) to its BibTeX string.
    Raises ValueTooLong past MAX_VALUE_CHARS, or when it uses a macro in `too_long`."""
    raw = raw.strip()
    if not raw:
        return ""
    pieces = _split_top(raw, "#") if "#" in raw else [raw]
    if len(pieces) > 1 and not all(p.strip() for p in pieces):
        pieces = [raw]  # a stray '#', not a concatenation
    out = []
    size = 0
    for piece in pieces:
        piece = piece.strip()
        if piece.lower() in too_long:
            raise ValueTooLong(piece.lower())
        if len(piece) >= 2 and (
            (piece[0] == "{" and piece[-1] == "}") or (piece[0] == '"' and piece[-1] == '"')
        ):
            out.append(piece[1:-1])
        elif piece.lower() in strings:
            out.append(strings[piece.lower()])
        elif piece.lower() in _MONTHS:
            out.append(_MONTHS[piece.lower()])
        else:
            out.append(piece)
        size += len(out[-1])
        if size > MAX_VALUE_CHARS:
            raise ValueTooLong()
    return "".join(out)


def split_authors(value: str) -> tuple[list[str], bool]:
    """BibTeX author list to display names ("First Last"); second item: 'and others' seen."""
    names, et_al = [], False
    # split on 'and' surrounded by whitespace, at brace depth 0
    depth, start, i, chunks = 0, 0, 0, []
    lower = value.lower()
    if "{" not in value:
        chunks, i = _AND.split(value), len(value)  # no braces: a regex does it
        start = None
    while i < len(value):
        ch = value[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        elif (
            depth == 0
            and ch.isspace()
            and lower.startswith("and", i + 1)
            and i + 4 < len(value)
            and value[i + 4].isspace()
        ):
            chunks.append(value[start:i])
            i += 4
            start = i
            continue
        i += 1
    if start is not None:
        chunks.append(value[start:])
    for chunk in chunks:
        chunk = chunk.strip()
        if not chunk:
            continue
        if chunk.lower() in ("others", "et al.", "et al"):
            et_al = True
            continue
        parts = [p.strip() for p in _split_top(chunk, ",")]
        if len(parts) == 2 and parts[1]:
            chunk = f"{parts[1]} {parts[0]}"
        elif len(parts) >= 3 and parts[2]:
            chunk = f"{parts[2]} {parts[0]} {parts[1]}".strip()
        else:
            chunk = " ".join(p for p in parts if p)
        name = latex_to_text(chunk)
        if name:
            names.append(name)
    return names, et_al


def _year(fields: dict[str, str]) -> int | None:
    for name in ("year", "date"):
        match = _YEAR.search(fields.get(name, ""))
        if match:
            return int(match.group(1))
    return None


def _arxiv(fields: dict[str, str]) -> str | None:
    eprint = _plain(fields.get("eprint", ""))
    kind = (fields.get("archiveprefix") or fields.get("eprinttype") or "").strip().lower()
    if eprint and kind in ("arxiv", "{arxiv}"):
        found = _ARXIV_IN_TEXT.search("arxiv:" + re.sub(r"^arxiv:\s*", "", eprint, flags=re.I))
        if found:
            return found.group(1)
    if eprint and not kind and ARXIV_ID.fullmatch(re.sub(r"^arxiv:\s*", "", eprint, flags=re.I)):
        return re.sub(r"^arxiv:\s*", "", eprint, flags=re.I)
    for name in ("url", "eprint", "doi", "note", "howpublished"):
        found = _ARXIV_URL.search(fields.get(name, ""))
        if found:
            return found.group(1)
    journal = fields.get("journal", "")
    if journal.lower().lstrip("{").startswith("arxiv"):
        found = _ARXIV_IN_TEXT.search(journal)
        if found:
            return found.group(1)
    doi = fields.get("doi", "")
    found = re.search(r"10\.48550/arxiv\.(\d{4}\.\d{4,5})", doi, re.I)
    if found:
        return found.group(1)
    return None


# --------------------------------------------------------------------------- parsing

_parsing = threading.local()
_filtered: set[str] = set()


class _QuietWhileParsing(logging.Filter):
    """Drops bibtexparser/pylatexenc log records emitted by a thread that is inside parse()."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_parsing, "depth", 0)


_QUIET = _QuietWhileParsing()
_QUIET_PREFIXES = ("bibtexparser", "pylatexenc")


@contextlib.contextmanager
def _quiet():
    """bibtexparser and pylatexenc log warnings for bad input (Python's last-resort handler
    would print them); parse() reports problems instead. Thread-safe: only records from the
    parsing thread are dropped, and no logger's handlers or levels are changed."""
    import bibtexparser  # noqa: F401 - make sure its loggers exist
    import pylatexenc.latex2text  # noqa: F401

    for name in list(logging.root.manager.loggerDict):
        if name.startswith(_QUIET_PREFIXES) and name not in _filtered:
            logger = logging.getLogger(name)
            if _QUIET not in logger.filters:
                logger.addFilter(_QUIET)
            _filtered.add(name)
    _parsing.depth = getattr(_parsing, "depth", 0) + 1
    try:
        yield
    finally:
        _parsing.depth -= 1


def _split_library(text: str):
    import bibtexparser

    return bibtexparser.parse_string(text, parse_stack=[])


def _blocks(text: str, problems: list[Problem]):
    """(block, 1-based line) for every block; falls back to one entry at a time on a crash."""
    try:
        library = _split_library(text)
        return [(b, (b.start_line or 0) + 1) for b in library.blocks]
    except Exception:
        pass
    # bibtexparser gave up on the whole file (it raises on states it considers its own bugs):
    # parse each chunk that starts with '@' at a line start on its own.
    out = []
    starts = [m.start() for m in _ENTRY_AT_LINE_START.finditer(text)]
    for n, begin in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(text)
        first_line = text.count("\n", 0, begin) + 1
        try:
            library = _split_library(text[begin:end])
        except Exception as exc:
            head = text[begin:end].strip().splitlines()[0][:60] if text[begin:end].strip() else ""
            problems.append(
                Problem(f"malformed BibTeX entry {head!r} ({type(exc).__name__}); skipped",
                        first_line)
            )
            continue
        out.extend((b, first_line + (b.start_line or 0)) for b in library.blocks)
    return out


def _head(raw: str | None) -> str:
    first = (raw or "").strip().splitlines()[0] if (raw or "").strip() else ""
    return first[:60]


def parse(text: str, source: str) -> ParseResult:
    from bibtexparser.model import (
        DuplicateBlockKeyBlock,
        DuplicateFieldKeyBlock,
        Entry,
        ParsingFailedBlock,
        String,
    )

    result = ParseResult(format=FORMAT)
    problems = result.problems
    source = source_label(source)
    with _quiet():
        blocks = _blocks(text, problems)
        strings: dict[str, str] = {}
        too_long: set[str] = set()  # @strings past MAX_VALUE_CHARS, and those built from them
        entries: list[tuple[str, str, dict[str, str], int]] = []  # key, type, fields, line
        seen_keys: dict[str, int] = {}
        for block, line in blocks:
            if isinstance(block, String):
                name = str(block.key).lower()
                try:
                    strings[name] = _resolve(str(block.value), strings, too_long)
                except ValueTooLong as exc:
                    if exc.macro is None:  # the first one to grow too big says so, once
                        problems.append(Problem(
                            f"@string {name} expands to more than {MAX_VALUE_CHARS:,} "
                            "characters; entries using it were skipped", line))
                    too_long.add(name)
                except Exception:
                    pass
                continue
            if isinstance(block, DuplicateBlockKeyBlock):
                key = str(getattr(block, "key", "") or "")
                first = seen_keys.get(key.lower())
                where = f" (first at line {first})" if first else ""
                problems.append(
                    Problem(f"duplicate citation key {key!r}{where}; this entry was skipped", line)
                )
                continue
            if isinstance(block, DuplicateFieldKeyBlock):
                block = getattr(block, "ignore_error_block", None)  # BibTeX: the first wins
                if not isinstance(block, Entry):
                    continue
                result.notices.append(
                    Problem(f"entry {block.key!r} repeats a field; the first value was used", line)
                )
            elif isinstance(block, ParsingFailedBlock):
                reason = getattr(getattr(block, "error", None), "abort_reason", "") or ""
                reason = " ".join(str(reason).split())
                if reason.startswith("Unexpected block start"):
                    reason = "a brace or quote opened in it is not closed before the next entry"
                elif reason.startswith("Unexpectedly reached end of file"):
                    reason = "the file ends inside it: a brace or quote is not closed"
                elif not reason:
                    reason = "unbalanced braces or quotes?"
                problems.append(
                    Problem(f"malformed BibTeX entry {_head(block.raw)!r} ({reason}); skipped", line)
                )
                continue
            if not isinstance(block, Entry):
                continue  # comments, preambles
            fields: dict[str, str] = {}
            oversized = None
            for field in block.fields:
                name = str(field.key).strip().lower()
                if name and name not in fields:
                    try:
                        fields[name] = _resolve(str(field.value), strings, too_long)
                    except ValueTooLong as exc:
                        oversized = exc.macro and f"@string {exc.macro}" or f"field {name}"
                        break
                    except Exception:
                        fields[name] = str(field.value)
            key = str(block.key).strip()
            if oversized:
                problems.append(Problem(f"entry {key!r}: {oversized} is longer than "
                                        f"{MAX_VALUE_CHARS:,} characters; skipped", line))
                continue
            seen_keys.setdefault(key.lower(), line)
            entries.append((key, str(block.entry_type).lower(), fields, line))

        by_key = {key.lower(): (kind, fields) for key, kind, fields, _ in entries}
        crossref_targets = {
            f["crossref"].strip().lower() for _, _, f, _ in entries if f.get("crossref")
        }
        for key, kind, fields, line in entries:
            if kind in _CONTAINER_TYPES and key.lower() in crossref_targets:
                continue
            try:
                record = _record(key, kind, fields, line, source, by_key)
            except Exception as exc:  # a bug here must not lose the other entries
                problems.append(
                    Problem(f"entry {key!r}: could not be read ({type(exc).__name__})", line)
                )
                continue
            if record is None:
                problems.append(Problem(f"entry {key!r} has no title; skipped", line))
            else:
                result.records.append(record)
    return result


def _record(key, kind, fields, line, source, by_key) -> PaperRecord | None:
    parent_ref = fields.get("crossref", "").strip().lower()
    if parent_ref and parent_ref in by_key:
        parent_kind, parent = by_key[parent_ref]
        fields = dict(fields)
        if "booktitle" not in fields and "title" in parent and parent_kind in (
            _CONTAINER_TYPES | {"book"}
        ):
            fields["booktitle"] = parent["title"]
        for name, value in parent.items():
            if name not in fields and name not in ("title", "crossref", "abstract", "keywords"):
                fields[name] = value
    title = latex_to_text(fields.get("title", ""))
    if not title:
        return None
    extra: dict = {"bibtex_type": kind}
    authors, et_al = split_authors(fields.get("author", "")) if fields.get("author") else ([], False)
    if et_al:
        extra["authors_et_al"] = True
    arxiv = _arxiv(fields)
    if arxiv:
        version = _VERSION.search(arxiv)
        if version:
            extra["arxiv_version"] = version.group(1)
        arxiv = strip_arxiv_version(arxiv)
    # A DOI holds no percent escapes of its own: `%7B` is a brace written brace-safe (as our
    # export does), or a DOI copied from a doi.org URL.
    doi = urllib.parse.unquote(_DOI_PREFIX.sub("", _plain(fields.get("doi", "")))) or None
    if doi and not doi.startswith("10."):
        extra["doi_raw"] = doi
        doi = None
    url = _plain(fields.get("url", "")) or None
    journal = fields.get("journal") or fields.get("journaltitle") or ""
    if journal and journal.lower().lstrip("{").startswith("arxiv"):
        journal = ""
    venue = latex_to_text(journal or fields.get("booktitle", "")) or None
    tags = []
    for tag in re.split(r"[,;]", fields.get("keywords", "")):
        tag = latex_to_text(tag)
        if tag and tag not in tags:
            tags.append(tag)
    rest = {name: value for name, value in fields.items() if name not in _MAPPED}
    if rest:
        extra["bibtex_fields"] = rest
    return PaperRecord(
        title=title,
        abstract=latex_to_text(fields.get("abstract", "")),
        authors=authors,
        year=_year(fields),
        arxiv_id=arxiv,
        doi=doi,
        url=url,
        venue=venue,
        source=source,
        tags=tags,
        citekey=key or None,
        extra=extra,
        line=line,
    )
