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
import logging
import os
import re
import threading
import urllib.parse

from index.model import PaperRecord, ParseResult, Problem, strip_arxiv_version
from index.sources.bibtex_latex import latex_to_text, plain_value
from index.sources.bibtex_values import (
    MAX_VALUE_CHARS,
    ValueTooLong,
    arxiv_of,
    resolve_value,
    split_authors,
    year_of,
)

FORMAT = "bibtex"

_ENTRY_AT_LINE_START = re.compile(r"^[ \t]*@[ \t]*([A-Za-z]+)[ \t]*[{(]", re.M)
_KNOWN_TYPES = {
    "article", "inproceedings", "conference", "misc", "book", "incollection", "inbook",
    "phdthesis", "mastersthesis", "techreport", "unpublished", "online", "proceedings",
    "string", "comment", "preamble", "thesis", "report", "collection", "manual", "software",
    "dataset", "electronic", "booklet",
}
# Fields mapped onto PaperRecord attributes (everything else goes to extra["bibtex_fields"]).
_MAPPED = {
    "title", "author", "year", "date", "doi", "eprint", "archiveprefix", "eprinttype",
    "url", "abstract", "keywords", "journal", "journaltitle", "booktitle", "crossref",
}
_CONTAINER_TYPES = {"proceedings", "collection", "mvproceedings", "mvcollection"}
_VERSION = re.compile(r"(v\d+)$")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.I)


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
                    strings[name] = resolve_value(str(block.value), strings, too_long)
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
                        fields[name] = resolve_value(str(field.value), strings, too_long)
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
    arxiv = arxiv_of(fields)
    if arxiv:
        version = _VERSION.search(arxiv)
        if version:
            extra["arxiv_version"] = version.group(1)
        arxiv = strip_arxiv_version(arxiv)
    # A DOI holds no percent escapes of its own: `%7B` is a brace written brace-safe (as our
    # export does), or a DOI copied from a doi.org URL.
    doi = urllib.parse.unquote(_DOI_PREFIX.sub("", plain_value(fields.get("doi", "")))) or None
    if doi and not doi.startswith("10."):
        extra["doi_raw"] = doi
        doi = None
    url = plain_value(fields.get("url", "")) or None
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
        year=year_of(fields),
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
