"""`papershelf list --for-you [--limit N] [--json]`: unread papers ranked by what you starred
and read (index/foryou.py), each with the words and tags it shares with them.

Called by tui/cli.py's `list`. With nothing starred or read it says so (stderr) and lists
nothing rather than ranking at random.
"""

from __future__ import annotations

import sys

DEFAULT_LIMIT = 20


def list_for_you(args, lib) -> int:
    from index.textsafe import terminal_safe
    from tui.cli import paper_json, paper_line, print_json

    if args.starred or args.tag or args.status:
        print("papershelf list: --for-you ranks unread papers; it does not combine with "
              "--starred, --tag or --status", file=sys.stderr)
        return 2
    limit = args.limit if args.limit is not None else DEFAULT_LIMIT
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
        return 0
    if ranking.message:
        print(ranking.message, file=sys.stderr)
        return 0
    for paper in papers:
        print(paper_line(paper))
        reason = reasons[paper.key]
        if reason is not None:
            print("      shares " + terminal_safe(reason.text(), single_line=True))
    shown = f"{len(papers)} of {len(ranking.scores):,}" if len(ranking.scores) > len(papers) \
        else f"{len(papers)}"
    print(f"{shown} unread papers share words or tags with the {ranking.liked:,} you starred "
          f"or read ({ranking.unread:,} unread ranked)", file=sys.stderr)
    return 0
