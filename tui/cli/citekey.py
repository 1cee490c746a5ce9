"""`papershelf citekey KEY NEWKEY`: rename a paper's citation key."""

from __future__ import annotations

import sys

from index.model import AmbiguousKey, KeyNotFound, PapershelfError
from index.textsafe import terminal_safe
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
    from index.citekey import check_citekey

    key = lib.resolve(args.key)
    paper = lib.get(key)
    new = args.new.strip()
    if problem := check_citekey(new):
        raise PapershelfError(problem)
    if paper.citekey == new:
        print(f"{key}: citation key is already {new}", file=sys.stderr)
        return EXIT_OK
    _check_free(lib, key, new)
    lib.set_citekey(key, new)
    old = paper.citekey or "(none)"
    print(f"{key}: citation key {terminal_safe(old, single_line=True)} -> {new}")
    return EXIT_OK


def _check_free(lib, key: str, new: str) -> None:
    """BibTeX treats keys that differ only in case as the same entry: refuse those too.

    `lib.resolve` matches citation-key prefixes case-insensitively, so a paper holding `new` in
    any case is either the unique match or one of several; only the latter needs a full scan."""
    try:
        candidates = [lib.get(lib.resolve(new))]
    except KeyNotFound:
        return
    except AmbiguousKey:
        candidates = lib.all_papers()
    for other in candidates:
        if other and other.key != key and (other.citekey or "").casefold() == new.casefold():
            raise PapershelfError(f"citation key {new} is already used by {other.key} "
                                  f"(as {other.citekey})")
