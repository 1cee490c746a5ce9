"""`papershelf export`: BibTeX, a Markdown reading list, or Obsidian notes. Imports no
Textual (Rich only for the progress bar of a big export)."""

from __future__ import annotations

import argparse
import sys

from index.model import EXPORT_FORMATS, ExportOptions, PapershelfError, Selection
from tui.textsafe import terminal_safe
from tui.cli.output import EXIT_OK, EXIT_USER_ERROR, ProgressBar, discard_stdout

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


def add_parsers(subparsers) -> None:
    p = subparsers.add_parser("export", help="export to BibTeX, Markdown or Obsidian notes",
                              description=EXPORT_HELP,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--format", "-f", choices=EXPORT_FORMATS, default="bibtex",
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


def selection(args, lib) -> Selection:
    """The export's scope options as the Selection the app's export dialog makes too."""
    if args.keys:
        return Selection(keys=tuple(lib.resolve(k) for k in args.keys))
    return Selection(query=args.query, starred=args.starred, tag=args.tag)


def run_export(args, lib) -> int:
    papers = lib.exports.papers(selection(args, lib))
    if not papers:
        print("papershelf export: no papers match; nothing written", file=sys.stderr)
        return EXIT_USER_ERROR
    options = ExportOptions(group_by=args.group_by, abstract=args.abstract,
                            with_notes=args.with_notes)
    if args.format == "obsidian" and not args.output:
        raise PapershelfError("obsidian export needs -o FOLDER")
    bar = ProgressBar("exporting")
    bar.enabled = bar.enabled and len(papers) >= PROGRESS_FROM
    with bar:
        if args.output and args.output != "-":
            summary = lib.exports.write(papers, args.format, args.output, options,
                                        progress=bar.update)
        else:
            text = lib.exports.render(papers, args.format, options, progress=bar.update)
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
        discard_stdout()
    return EXIT_OK
