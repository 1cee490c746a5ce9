"""`papershelf search QUERY`: full-text search, with a highlighted snippet per result."""

from __future__ import annotations

import argparse
import sys

from index.model import PapershelfError
from tui.textsafe import terminal_safe
from tui.cli.output import EXIT_OK, paper_json, paper_line, print_json

SEARCH_HELP = """\
Search the library. Query language:
  words            all words, ranked (title counts most, then authors, tags, abstract, notes)
  "a phrase"       exact phrase
  trans*           prefix (on titles and authors)
  a OR b, NOT c    boolean operators; parentheses group
  title:x author:x year:2024 source:bibtex     field filters
  is:starred  is:unread|reading|read  tag:x    your own state
"""


def add_parsers(subparsers) -> None:
    p = subparsers.add_parser("search", help="full-text search", description=SEARCH_HELP,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("query", nargs="+", help="the query (several words are joined with spaces)")
    p.add_argument("--limit", type=int, default=20, metavar="N",
                   help="show at most N results (default 20)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run_search)


def run_search(args, lib) -> int:
    hits = lib.search(" ".join(args.query), limit=args.limit)
    if hits.error or hits.hint:
        raise PapershelfError(f"bad query: {hits.error or hits.hint}")
    papers = lib.get_many(hits.keys)
    if args.json:
        print_json({"total": hits.total, "suggestion": hits.suggestion,
                    "results": [paper_json(p) for p in papers]})
        return EXIT_OK
    bold = sys.stdout.isatty()
    for paper in papers:
        print(paper_line(paper))
        text, spans = lib.snippet(terminal_safe(paper.display_abstract, single_line=True),
                                  hits.terms, width=150)
        if text:
            print("      " + _mark(text, spans, bold))
    shown = f"{len(papers)} of {hits.total}" if hits.total > len(papers) else str(hits.total)
    print(f"{shown} result{'s' if hits.total != 1 else ''}", file=sys.stderr)
    if hits.suggestion:
        print(f"did you mean: {terminal_safe(hits.suggestion, single_line=True)}", file=sys.stderr)
    return EXIT_OK


def _mark(text: str, spans, bold: bool) -> str:
    if not bold:
        return text
    out, last = [], 0
    for start, end in spans:
        out += [text[last:start], "\x1b[1m", text[start:end], "\x1b[0m"]
        last = end
    out.append(text[last:])
    return "".join(out)
