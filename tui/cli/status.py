"""`papershelf status KEY unread|reading|read`."""

from __future__ import annotations

from index.model import STATUSES
from tui.cli.output import EXIT_OK, KEY_HELP, describe


def add_parsers(subparsers) -> None:
    p = subparsers.add_parser("status", help="set read status")
    p.add_argument("key", help=KEY_HELP)
    p.add_argument("status", choices=STATUSES, help="the new read status")
    p.set_defaults(handler=run_status)


def run_status(args, lib) -> int:
    key = lib.resolve(args.key)
    lib.set_status(key, args.status)
    print(f"{describe(lib.get(key))}: {args.status}")
    return EXIT_OK
