"""`papershelf star KEY...` and `papershelf unstar KEY...`."""

from __future__ import annotations

from tui.cli.output import EXIT_OK, describe


def add_parsers(subparsers) -> None:
    for name, value in (("star", True), ("unstar", False)):
        p = subparsers.add_parser(name, help=f"{name} papers")
        p.add_argument("keys", nargs="+", metavar="KEY",
                       help="papers: citation keys, arXiv ids, keys, or unique prefixes")
        p.set_defaults(handler=run_star, value=value)


def run_star(args, lib) -> int:
    keys = [lib.resolve(key) for key in args.keys]  # every key checked before anything changes
    lib.set_star_many(keys, args.value)
    for paper in lib.get_many(list(dict.fromkeys(keys))):
        print(f"{'starred' if args.value else 'unstarred'} {describe(paper)}")
    return EXIT_OK
