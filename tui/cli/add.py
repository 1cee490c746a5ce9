"""`papershelf add ID_OR_URL...`: fetch papers from the arXiv API and add them.

Accepts arXiv ids (2101.01234, 2101.01234v2,
hep-th/9901001, arXiv:2101.01234), arxiv.org/abs|pdf URLs and huggingface.co/papers/<id>
URLs. Arguments that are none of these are a user error (exit 1) before anything goes online.
Ids arXiv does not know are reported as rejected with their reason; an offline machine gets
one clear line (PapershelfError, printed by the entry point) and nothing is stored.
"""

from __future__ import annotations

import argparse
import sys

from tui.textsafe import terminal_safe
from tui.cli.output import EXIT_USER_ERROR, print_report, report_exit_code

ADD_HELP = """\
Fetch title, authors, abstract and links from the arXiv API and add the papers.

examples:
  papershelf add 2101.01234
  papershelf add https://arxiv.org/abs/2101.01234v2 https://huggingface.co/papers/2408.10188
  papershelf add --dry-run hep-th/9901001

$PAPERSHELF_ARXIV_API overrides the API address (default https://export.arxiv.org/api/query).
To import a file listing ids (one per line, # comments), use `papershelf import FILE`.
"""


def add_parsers(subparsers) -> None:
    p = subparsers.add_parser(
        "add",
        help="add papers by arXiv id or arxiv.org / huggingface.co/papers URL",
        description=ADD_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("ids", nargs="+", metavar="ID_OR_URL",
                   help="arXiv ids, arxiv.org or huggingface.co/papers URLs")
    p.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")
    p.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                   help="give up on arXiv after this long (default 10)")
    p.set_defaults(handler=run_add)


def run_add(args, lib) -> int:
    ids, bad = [], []
    for token in args.ids:
        found = lib.arxiv_id_in(token)
        (ids if found else bad).append(found or token)
    for token in bad:
        shown = terminal_safe(token, single_line=True)
        print(f"papershelf add: not an arXiv id or URL: {shown}", file=sys.stderr)
    if bad:
        return EXIT_USER_ERROR
    dry_run = bool(getattr(args, "dry_run", False))
    report = lib.add_from_arxiv(ids, timeout=getattr(args, "timeout", 10.0), dry_run=dry_run)
    print_report(report, dry_run=dry_run)
    return report_exit_code(report)
