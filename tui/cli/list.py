"""`papershelf list`: papers newest first, filtered by star, tag or status; and
`list --for-you`: unread papers ranked by what you starred and read (index/foryou.py), each
with the words and tags it shares with them. With nothing starred or read, --for-you says so
(stderr) and lists nothing rather than ranking at random.
"""

from __future__ import annotations

import sys

from index.model import STATUSES
from tui.textsafe import terminal_safe
from tui.cli.output import EXIT_OK, EXIT_USAGE, paper_json, paper_line, print_json

FOR_YOU_LIMIT = 20


def add_parsers(subparsers) -> None:
    p = subparsers.add_parser("list", help="list papers, newest first (or --for-you)")
    p.add_argument("--starred", action="store_true", help="only starred papers")
    p.add_argument("--tag", metavar="T", help="only papers tagged T")
    p.add_argument("--status", choices=STATUSES, help="only papers with this read status")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="list at most N papers")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--for-you", action="store_true",
                   help="unread papers ranked by what you starred and read (default limit 20)")
    p.set_defaults(handler=run_list)


def run_list(args, lib) -> int:
    if args.for_you:
        return _list_for_you(args, lib)
    papers = lib.list_papers(starred=True if args.starred else None, tag=args.tag,
                             status=args.status, limit=args.limit)
    if args.json:
        print_json([paper_json(p) for p in papers])
    else:
        for paper in papers:
            print(paper_line(paper))
    return EXIT_OK


def _list_for_you(args, lib) -> int:
    if args.starred or args.tag or args.status:
        print("papershelf list: --for-you ranks unread papers; it does not combine with "
              "--starred, --tag or --status", file=sys.stderr)
        return EXIT_USAGE
    limit = args.limit if args.limit is not None else FOR_YOU_LIMIT
    ranking = lib.for_you(limit=max(limit, 0))
    papers = lib.get_many(ranking.keys)
    reasons = {paper.key: ranking.reason(paper) for paper in papers}
    if args.json:
        results = []
        for paper in papers:
            reason = reasons[paper.key]
            results.append(paper_json(paper) | {
                "score": round(ranking.scores[paper.key], 4),
                "shared_words": list(reason.words) if reason else [],
                "shared_tags": list(reason.tags) if reason else []})
        print_json({"liked": ranking.liked, "unread": ranking.unread,
                    "matched": len(ranking.scores), "message": ranking.message,
                    "results": results})
        return EXIT_OK
    if ranking.message:
        print(ranking.message, file=sys.stderr)
        return EXIT_OK
    for paper in papers:
        print(paper_line(paper))
        reason = reasons[paper.key]
        if reason is not None:
            print("      shares " + terminal_safe(reason.text(), single_line=True))
    shown = f"{len(papers)} of {len(ranking.scores):,}" if len(ranking.scores) > len(papers) \
        else f"{len(papers)}"
    print(f"{shown} unread papers share words or tags with the {ranking.liked:,} you starred "
          f"or read ({ranking.unread:,} unread ranked)", file=sys.stderr)
    return EXIT_OK
