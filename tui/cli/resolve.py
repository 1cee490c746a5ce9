"""`papershelf resolve [QUERY]` (and `import --resolve`): find the arXiv paper for titles that
came without an id, so a Daily Papers import can be cited. The work is index/resolve.py.

Prints each match, then the titles arXiv has no exact match for, then a summary. Offline: one
line, nothing changed. A failure or Ctrl+C halfway keeps what was already resolved and says
so.
"""

from __future__ import annotations

import argparse
import sys

from tui.textsafe import terminal_safe
from tui.cli.output import EXIT_INTERRUPTED, EXIT_OK, EXIT_USER_ERROR, ProgressBar

RESOLVE_HELP = """\
Look papers without an arXiv id up on arXiv by title, and merge exact matches into them
(authors, year, arXiv id and version, categories, DOI, abstract page). Your stars, tags,
notes and the listing text stay as they are.

Only the titles are sent, to the arXiv API ($PAPERSHELF_ARXIV_API, default
https://export.arxiv.org/api/query), ten per request, one request every 3 seconds. A title
matches only when it is the same title (ignoring case, punctuation and LaTeX); nothing is
guessed. Titles arXiv does not have are listed at the end and not asked again for a week.

examples:
  papershelf resolve                    every paper without an arXiv id
  papershelf resolve "source:dailypapers is:starred"
  papershelf import --resolve hf-2024-08-20.txt
"""


def add_parsers(subparsers) -> None:
    p = subparsers.add_parser("resolve", help="find arXiv ids, authors and years for listed titles",
                              description=RESOLVE_HELP,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("query", nargs="*", help="which papers (a search; default: all)")
    p.add_argument("--retry", action="store_true",
                   help="ask again for titles arXiv did not have within the last week")
    p.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                   help="give up on a request after this long (default 10)")
    p.set_defaults(handler=run_resolve)


def run_resolve(args, lib) -> int:
    keys = None
    if args.query:
        keys = lib.keys_matching(" ".join(args.query))
    return resolve_and_report(lib, keys, retry=args.retry, timeout=args.timeout)


def resolve_and_report(lib, keys, *, retry: bool = False, timeout: float = 10.0) -> int:
    """Resolve `keys` (None: every paper without an id); print the outcome; an exit code."""
    with ProgressBar("asking arXiv") as bar:
        report = lib.find_on_arxiv(keys, progress=bar.update, timeout=timeout,
                                   retry_misses=retry)
    if report.error and not report.requests:  # offline: one line, nothing changed
        print(f"papershelf resolve: {terminal_safe(report.error, single_line=True)}; "
              "nothing changed", file=sys.stderr)
        return EXIT_USER_ERROR
    for title, arxiv_id in report.resolved:
        print(f"arXiv:{arxiv_id}  {terminal_safe(_shown(title), single_line=True)}")
    if report.unmatched:
        print("not on arXiv (no paper with exactly this title):")
        for title in report.unmatched:
            print(f"  {terminal_safe(_shown(title), single_line=True)}")
    if report.ambiguous:
        print("several arXiv papers have this title (left alone):")
        for title in report.ambiguous:
            print(f"  {terminal_safe(_shown(title), single_line=True)}")
    print(report.summary())
    if report.interrupted:
        print(f"papershelf resolve: interrupted; the {len(report.resolved)} resolved so far "
              "are kept", file=sys.stderr)
        return EXIT_INTERRUPTED
    if report.error:
        print(f"papershelf resolve: stopped: {terminal_safe(report.error, single_line=True)}; "
              f"the {len(report.resolved)} resolved before it are kept", file=sys.stderr)
        return EXIT_USER_ERROR
    return EXIT_OK


def _shown(title: str) -> str:
    from index.library import Library

    return Library.decode_latex(title)
