"""`papershelf citekey KEY NEWKEY`: rename a paper's citation key."""

from __future__ import annotations

import sys

from tui.textsafe import terminal_safe
from tui.cli.output import EXIT_OK


def add_parsers(subparsers) -> None:
    p = subparsers.add_parser(
        "citekey", help="rename a paper's citation key",
        description="Give a paper a new citation key. Keys are unique; documents that cite the "
                    "old key must be updated by hand.")
    p.add_argument("key", help="paper key, citation key, or a unique prefix")
    p.add_argument("new", metavar="NEWKEY", help="the new citation key")
    p.set_defaults(handler=run_citekey)


def run_citekey(args, lib) -> int:
    key = lib.resolve(args.key)
    paper = lib.get(key)
    new = args.new.strip()
    if not lib.set_citekey(key, new):
        print(f"{key}: citation key is already {new}", file=sys.stderr)
        return EXIT_OK
    old = paper.citekey or "(none)"
    print(f"{key}: citation key {terminal_safe(old, single_line=True)} -> {new}")
    return EXIT_OK

