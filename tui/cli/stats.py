"""`papershelf stats`: counts and locations."""

from __future__ import annotations

from tui.cli.output import EXIT_OK, print_json


def add_parsers(subparsers) -> None:
    p = subparsers.add_parser("stats", help="counts and locations")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run_stats)


def run_stats(args, lib) -> int:
    stats = lib.stats()
    if args.json:
        print_json(stats)
        return EXIT_OK
    status = stats["status"]
    print(f"papers:   {stats['papers']}  (starred {stats['starred']}, unread {status['unread']}, "
          f"reading {status['reading']}, read {status['read']})")
    print(f"tags:     {stats['tags']}")
    print(f"engine:   {stats['engine']} (search index)")
    print(f"data dir: {stats['data_dir']}")
    return EXIT_OK
