"""The argparse parser, built from the command modules.

Each command module has `add_parsers(subparsers)`, which adds its command(s) and sets
`handler=run_<command>(args, lib) -> exit code` on them. Command modules import only light
modules at their top (building the parser must not slow `papershelf search` down); what a
command needs beyond that it imports when it runs.
"""

from __future__ import annotations

import argparse

from tui.cli import (add, backup, citekey, completion, copy, daily, doctor, export, import_,
                     note, reindex, resolve, search, show, star, stats, status, sync, tag)
from tui.cli import list as list_command

# In the order `papershelf --help` lists them.
COMMAND_MODULES = (import_, search, list_command, show, star, tag, status, note, reindex, stats,
                   export, copy, citekey, add, sync, doctor, backup, resolve, completion, daily)


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("papershelf")
    except PackageNotFoundError:
        return "0+unknown"


class _VersionAction(argparse.Action):
    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="show the version and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"papershelf {version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="papershelf",
        description="A keyboard-driven reading list for research papers. "
                    "Run with no command to open the app.",
    )
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument("--data-dir", metavar="DIR",
                        help="library location (default: $PAPERSHELF_DATA_DIR or the per-user data dir)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_parsers(subparsers)
    return parser
