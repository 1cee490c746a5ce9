"""Papers -> BibTeX, written with bibtexparser v2's writer.

Values go through `index.export.latex.to_latex` (a fast path for plain ASCII, pylatexenc for
the rest), so every entry parses back with bibtexparser and compiles with bibtex + pdflatex.

Entry types: `@article` / `@inproceedings` only when the fields those types require in the
standard styles (author, title, year, journal/booktitle) are all known, because an entry with a
missing required field makes bibtex warn; otherwise `@misc` (venue as `howpublished`). A known
arXiv id adds eprint / archivePrefix (and primaryClass when the source gave one).
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from functools import lru_cache

import bibtexparser
from bibtexparser.model import Entry, Field

from index.citekey import base_citekey, check_citekey
from index.export.latex import decode_latex, encode_latex, is_plain, to_latex
from index.model import Paper

Progress = Callable[[int, int], None]  # (done, total)

# Where a paper was listed, by the format prefix of its source ("dailypapers:hf-08-20.txt").
# BibTeX files and lists of ids are not listings, so they add no note.
SOURCE_NAMES = {
    "dailypapers": "Hugging Face Daily Papers",
    "dailypapers-json": "Hugging Face Daily Papers",
    "arxiv": "an arXiv listing",
}
# Venue words that mark a conference (-> @inproceedings); anything else is a journal.
_CONFERENCE = re.compile(
    r"\b(conference|proceedings|proc\.|workshop|symposium|neurips|nips|icml|iclr|cvpr|iccv|"
    r"eccv|acl|emnlp|naacl|coling|aaai|ijcai|kdd|sigir|www|interspeech|icassp|colm|corl|rss|"
    r"icra|iros|uai|aistats|colt|wacv|bmvc|miccai|eacl|findings)\b",
    re.IGNORECASE,
)
_UNSAFE_URL = re.compile(r"[\s{}\\\"]")
_AND = re.compile(r"\band\b", re.IGNORECASE)
_VENUE_FIELD = {"article": "journal", "inproceedings": "booktitle"}


def _format() -> bibtexparser.BibtexFormat:
    fmt = bibtexparser.BibtexFormat()
    fmt.indent = "  "
    fmt.block_separator = "\n"
    fmt.trailing_comma = True  # diffs stay one line when fields are added
    return fmt


# Values are enclosed in braces as the fields are built (years stay bare), so the writer needs no
# unparse middleware: the default stack deep-copies every block, its main cost at 10k entries.
_UNPARSE_STACK: list = []


def protect_title(title: str) -> str:
    """Decoded title -> LaTeX with each run of capitalised words in braces.

    Styles such as `plain` lower-case titles; braces keep `BERT`, `Transformers` and `Über`."""
    simple = is_plain(title)
    out: list[str] = []
    run: list[str] = []
    for word in title.split():
        latex = word if simple else encode_latex(word)
        if not latex:
            continue
        if word != word.lower():  # holds an upper-case letter
            run.append(latex)
            continue
        if run:
            out.append("{" + " ".join(run) + "}")
            run = []
        out.append(latex)
    if run:
        out.append("{" + " ".join(run) + "}")
    return " ".join(out)


@lru_cache(maxsize=16_384)  # the same authors recur across a library
def _name(author: str) -> str:
    """One author for BibTeX; names BibTeX would split or misread are braced whole."""
    name = " ".join(decode_latex(author).split())
    latex = encode_latex(name)
    if _AND.search(name) or name.count(",") > 1 or not name:
        return "{" + latex + "}"
    return latex


def _raw_value(text: str) -> str:
    """URLs and DOIs are read verbatim by biblatex: keep them raw, but brace-safe."""
    return _UNSAFE_URL.sub(lambda m: "%{:02X}".format(ord(m.group())), text.strip())


def listing_note(paper: Paper) -> str:
    """'Listed in Hugging Face Daily Papers, Aug 20 (year not given)': never an invented year."""
    places: list[str] = []
    for source in paper.sources:
        prefix = source.split(":", 1)[0]
        name = SOURCE_NAMES.get(prefix)
        if name and name not in places:
            places.append(name)
    if not places:
        return ""
    note = "Listed in " + " and ".join(places)
    if paper.listing_date:
        note += ", " + paper.listing_date.strip()
        if not paper.year and not re.search(r"\b\d{4}\b", paper.listing_date):
            note += " (year not given)"
    return note


def _primary_class(paper: Paper) -> str | None:
    for name in ("primary_category", "primary_class", "primaryClass"):  # arXiv Atom: the first
        value = paper.extra.get(name) if isinstance(paper.extra, dict) else None
        if isinstance(value, str) and re.fullmatch(r"[A-Za-z\-]+(\.[A-Za-z\-]+)?", value):
            return value
    return None


def citekey_for(paper: Paper) -> str:
    """The stored key; a derived one when none is stored or the stored one is unusable."""
    key = paper.citekey
    if key and check_citekey(key) is None:
        return key
    if key:
        cleaned = re.sub(r"[^A-Za-z0-9_:.\-+/]", "", key)[:100]
        if cleaned:
            return cleaned
    return base_citekey(paper.authors, paper.year, decode_latex(paper.title))


def _entry(paper: Paper, key: str, with_notes: bool) -> Entry:
    authors = [a for a in paper.authors if a and a.strip()]
    venue = " ".join(decode_latex(paper.venue).split()) if paper.venue else ""
    if venue and authors and paper.year:
        entry_type = "inproceedings" if _CONFERENCE.search(venue) else "article"
    else:
        entry_type = "misc"
    venue_field = _VENUE_FIELD.get(entry_type, "howpublished")

    # (field, LaTeX value); empty values are left out. Values are braced here, so the writer
    # needs no enclosing middleware.
    pairs = [
        ("author", " and ".join([_name(a) for a in authors])),
        ("title", protect_title(decode_latex(paper.title))),
        ("year", None),
        (venue_field, encode_latex(venue) if venue else ""),
        ("doi", _raw_value(paper.doi) if paper.doi else ""),
    ]
    if paper.arxiv_id:
        pairs += [("eprint", _raw_value(paper.arxiv_id)), ("archivePrefix", "arXiv"),
                  ("primaryClass", _primary_class(paper) or "")]
    url = paper.best_url
    pairs += [
        ("url", _raw_value(url) if url else ""),
        ("note", encode_latex(listing_note(paper))),
        ("keywords", encode_latex(", ".join([t for t in paper.tags if t.strip()]))),
        ("abstract", to_latex(paper.abstract) if paper.abstract else ""),
    ]
    if with_notes and paper.note:
        pairs.append(("annote", to_latex(paper.note)))
    if not authors:
        pairs.append(("key", encode_latex(key)))  # what `plain` sorts and labels by
    fields = []
    for name, value in pairs:
        if name == "year":
            if paper.year:
                fields.append(Field("year", str(paper.year)))
        elif value:
            fields.append(Field(name, "{" + value + "}"))
    return Entry(entry_type, key, fields)


def export_bibtex(
    papers: Iterable[Paper], *, with_notes: bool = False, progress: Progress | None = None
) -> str:
    """Papers -> one .bib text, in the order given. Duplicate keys get a/b/c suffixes."""
    papers = list(papers)
    total = len(papers)
    if not total:
        return ""
    used: set[str] = set()
    entries: list[Entry] = []
    step = max(1, total // 100)
    with _gc_paused():
        for i, paper in enumerate(papers, 1):
            key = _unique(citekey_for(paper), used)
            entries.append(_entry(paper, key, with_notes))
            if progress is not None and (i % step == 0 or i == total):
                progress(i, total)
        library = bibtexparser.Library(entries)
        return bibtexparser.write_string(
            library, unparse_stack=_UNPARSE_STACK, bibtex_format=_format()
        )


@contextmanager
def _gc_paused():
    """Building ~100k small objects that all stay alive makes the cyclic collector rescan the
    growing heap again and again (a third of the export time at 10k); nothing here is cyclic
    garbage, so collection waits until the export is done."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _unique(key: str, used: set[str]) -> str:
    # Keys come unique from the store; a duplicate here means two papers without stored keys
    # derived the same one. bibtexparser would refuse the library, so disambiguate.
    candidate = key
    n = 0
    while candidate.casefold() in used:
        n += 1
        candidate = f"{key}{_letters(n)}"
    used.add(candidate.casefold())
    return candidate


def _letters(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(ord("a") + rem) + out
    return out
