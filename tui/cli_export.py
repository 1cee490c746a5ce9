"""CLI commands `export`, `copy` and `citekey`. Imports no Textual (Rich only for progress)."""

from __future__ import annotations

import argparse
import sys

from index.export import FORMATS, ExportOptions, render, write_export
from index.model import AmbiguousKey, KeyNotFound, PapershelfError
from index.textsafe import terminal_safe

EXIT_OK, EXIT_USER_ERROR = 0, 1
PROGRESS_FROM = 500  # smaller exports finish before a bar could be read

EXPORT_HELP = """\
Export papers as BibTeX, a Markdown reading list, or Obsidian notes (one file per paper).

Which papers (one of; default: all):
  --query Q        the results of a search (same language as `papershelf search`)
  --starred        starred papers
  --tag T          papers with tag T
  --keys K ...     these papers (keys, citation keys, or unique prefixes)

BibTeX and Markdown go to standard output unless -o FILE is given; Obsidian needs -o FOLDER.
Re-exporting Obsidian notes keeps what you wrote below the marker line in each note.
"""


def register(sub) -> None:
    p = sub.add_parser("export", help="export to BibTeX, Markdown or Obsidian notes",
                       description=EXPORT_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--format", "-f", choices=FORMATS, default="bibtex",
                   help="output format (default: bibtex)")
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--query", "-q", metavar="Q", help="the papers a search query finds")
    scope.add_argument("--starred", action="store_true", help="the starred papers")
    scope.add_argument("--tag", metavar="T", help="the papers tagged T")
    scope.add_argument("--keys", nargs="+", metavar="K",
                       help="these papers (citation keys, arXiv ids, keys or unique prefixes)")
    p.add_argument("--group-by", choices=("status", "tag", "none"), default="status",
                   help="markdown: group papers by read status (default) or by tag")
    p.add_argument("--abstract", choices=("details", "quote", "none"), default="details",
                   help="markdown: abstract folded in <details> (default), quoted, or left out")
    p.add_argument("--with-notes", action="store_true",
                   help="bibtex: include your notes (as annote); Markdown always includes them")
    p.add_argument("-o", "--output", metavar="PATH",
                   help="file to write (folder for obsidian); default: standard output")
    p.set_defaults(handler=run_export, flush_index=False)

    p = sub.add_parser("copy", help="copy a paper's citation key, BibTeX or Markdown link",
                       description="Copy to the system clipboard, or through the terminal "
                                   "(OSC 52) where there is none, e.g. over SSH.")
    p.add_argument("key", help="paper key, citation key, or a unique prefix")
    p.add_argument("--as", dest="what", choices=("key", "bibtex", "markdown"), default="key",
                   help="what to copy: the citation key (default), the BibTeX entry, or a "
                        "Markdown link")
    p.set_defaults(handler=run_copy, flush_index=False)

    p = sub.add_parser("citekey", help="rename a paper's citation key",
                       description="Give a paper a new citation key. Keys are unique; documents "
                                   "that cite the old key must be updated by hand.")
    p.add_argument("key", help="paper key, citation key, or a unique prefix")
    p.add_argument("new", metavar="NEWKEY", help="the new citation key")
    p.set_defaults(handler=run_citekey)


def select_papers(args, lib) -> list:
    if args.query is not None:
        hits = lib.search(args.query, limit=None)
        if hits.error:
            raise PapershelfError(f"bad query: {hits.error}")
        return lib.get_many(hits.keys)
    if args.starred:
        return lib.list_papers(starred=True)
    if args.tag is not None:
        return lib.list_papers(tag=args.tag)
    if args.keys:
        keys = list(dict.fromkeys(lib.resolve(k) for k in args.keys))
        return lib.get_many(keys)
    return list(lib.all_papers())


def run_export(args, lib) -> int:
    papers = select_papers(args, lib)
    if not papers:
        print("papershelf export: no papers match; nothing written", file=sys.stderr)
        return EXIT_USER_ERROR
    options = ExportOptions(group_by=args.group_by, abstract=args.abstract,
                            with_notes=args.with_notes)
    if args.format == "obsidian" and not args.output:
        raise PapershelfError("obsidian export needs -o FOLDER")
    with _progress(len(papers)) as bar:
        if args.output and args.output != "-":
            summary = write_export(papers, args.format, args.output, options, progress=bar.update)
        else:
            text = render(papers, args.format, options, progress=bar.update)
    lib.citekeys_used([p.key for p in papers])
    if args.output and args.output != "-":
        print(terminal_safe(summary, single_line=True), file=sys.stderr)
        return EXIT_OK
    if sys.stdout.isatty():
        text = terminal_safe(text)  # untrusted text must not drive the terminal
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `papershelf export | head`: the reader has all it wanted
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_OK


def _progress(total: int):
    from tui.cli_progress import ProgressBar

    bar = ProgressBar("exporting")
    if total < PROGRESS_FROM:
        bar.enabled = False
    return bar


def copy_payload(paper, what: str) -> str:
    if what == "key":
        from index.export.bibtex import citekey_for

        return citekey_for(paper)
    if what == "bibtex":
        from index.export.bibtex import bibtex_entry

        return bibtex_entry(paper)
    from index.clipboard import markdown_link

    return markdown_link(paper)


def run_copy(args, lib) -> int:
    from index.clipboard import copied_message, copy_text, osc52_to_terminal

    paper = lib.get(lib.resolve(args.key))
    text = copy_payload(paper, args.what)
    method = copy_text(text, osc52=osc52_to_terminal)
    if args.what in ("key", "bibtex"):
        lib.citekeys_used([paper.key])
    shown = {"key": "citation key", "bibtex": "BibTeX entry", "markdown": "Markdown link"}
    what = shown[args.what] + (f" {text}" if args.what == "key" else "")
    print(copied_message(terminal_safe(what, single_line=True), method), file=sys.stderr)
    return EXIT_OK


def run_citekey(args, lib) -> int:
    from index.citekey import check_citekey

    key = lib.resolve(args.key)
    paper = lib.get(key)
    new = args.new.strip()
    if problem := check_citekey(new):
        raise PapershelfError(problem)
    if paper.citekey == new:
        print(f"{key}: citation key is already {new}", file=sys.stderr)
        return EXIT_OK
    _check_free(lib, key, new)
    lib.set_citekey(key, new)
    old = paper.citekey or "(none)"
    print(f"{key}: citation key {terminal_safe(old, single_line=True)} -> {new}")
    return EXIT_OK


def _check_free(lib, key: str, new: str) -> None:
    """BibTeX treats keys that differ only in case as the same entry: refuse those too.

    `lib.resolve` matches citation-key prefixes case-insensitively, so a paper holding `new` in
    any case is either the unique match or one of several; only the latter needs a full scan."""
    try:
        candidates = [lib.get(lib.resolve(new))]
    except KeyNotFound:
        return
    except AmbiguousKey:
        candidates = lib.all_papers()
    for other in candidates:
        if other and other.key != key and (other.citekey or "").casefold() == new.casefold():
            raise PapershelfError(f"citation key {new} is already used by {other.key} "
                                  f"(as {other.citekey})")
