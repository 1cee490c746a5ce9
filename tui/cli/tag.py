"""`papershelf tag KEY TAG...` and `papershelf untag KEY TAG...`."""

from __future__ import annotations

from tui.textsafe import terminal_safe
from tui.cli.output import EXIT_OK, KEY_HELP, describe


def add_parsers(subparsers) -> None:
    for name, adding in (("tag", True), ("untag", False)):
        p = subparsers.add_parser(
            name, help=("add tags to" if adding else "remove tags from") + " a paper")
        p.add_argument("key", help=KEY_HELP)
        p.add_argument("tags", nargs="+", metavar="TAG",
                       help="tags to " + ("add" if adding else "remove"))
        p.set_defaults(handler=run_tag, adding=adding)


def run_tag(args, lib) -> int:
    key = lib.resolve(args.key)
    if args.adding:
        lib.add_tags(key, args.tags)
    else:
        lib.remove_tags(key, args.tags)
    paper = lib.get(key)
    print(f"{describe(paper)}: tags {terminal_safe(', '.join(paper.tags)) or '(none)'}")
    return EXIT_OK
