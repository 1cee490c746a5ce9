"""`papershelf completion bash|zsh|fish`: shell completion through argcomplete.

The script it prints asks `papershelf` itself what to complete (argcomplete runs the command
with `_ARGCOMPLETE` set; `main` in entry.py hands over to `complete` before parsing). So
commands and options always match this version, and citation keys and tags come from the
library.
"""

from __future__ import annotations

import argparse
import sys

from tui.cli.output import EXIT_OK

SHELLS = ("bash", "zsh", "fish")
MAX_CANDIDATES = 200

INSTALL_HELP = """\
Print the completion script for your shell. Install it with:
  bash:  papershelf completion bash > ~/.local/share/bash-completion/completions/papershelf
  zsh:   papershelf completion zsh > ~/.zfunc/_papershelf   (with fpath+=~/.zfunc before compinit)
  fish:  papershelf completion fish > ~/.config/fish/completions/papershelf.fish
"""

# Which arguments name papers, and which name tags: (command, dest) pairs; "*" is any command.
PAPER_ARGUMENTS = {("*", "key"), ("*", "keys"), ("sync", "resolve")}
TAG_ARGUMENTS = {("tag", "tags"), ("untag", "tags"), ("*", "tag")}


def add_parsers(subparsers) -> None:
    p = subparsers.add_parser("completion", help="print the shell completion script",
                              description=INSTALL_HELP,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    p.set_defaults(handler=run_completion, needs_library=False, flush_index=False)


def run_completion(args, lib) -> int:
    import argcomplete

    sys.stdout.write(argcomplete.shellcode(["papershelf"], shell=args.shell))
    return EXIT_OK


def complete(parser: argparse.ArgumentParser) -> None:
    """Answer the shell's completion request and exit (argcomplete's protocol)."""
    import argcomplete

    attach_completers(parser)
    argcomplete.autocomplete(parser)


def attach_completers(parser: argparse.ArgumentParser) -> None:
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for command, subparser in subparsers.choices.items():
        for action in subparser._actions:
            if _wanted(PAPER_ARGUMENTS, command, action.dest):
                action.completer = paper_keys
            elif _wanted(TAG_ARGUMENTS, command, action.dest):
                action.completer = tag_names


def _wanted(pairs: set[tuple[str, str]], command: str, dest: str) -> bool:
    return (command, dest) in pairs or ("*", dest) in pairs


def _library(parsed_args):
    """The library to complete from, or None: completion never creates one."""
    from index.library import Library

    return Library.open_existing(getattr(parsed_args, "data_dir", None))


def paper_keys(prefix: str, parsed_args=None, **_) -> list[str]:
    """Citation keys starting with `prefix` (else paper keys or arXiv ids that do)."""
    try:
        lib = _library(parsed_args)
    except Exception:  # noqa: BLE001 - a completion must never print a traceback
        return []
    if lib is None:
        return []
    with lib:
        return lib.complete_keys(prefix, limit=MAX_CANDIDATES)


def tag_names(prefix: str, parsed_args=None, **_) -> list[str]:
    try:
        lib = _library(parsed_args)
    except Exception:  # noqa: BLE001
        return []
    if lib is None:
        return []
    with lib:
        wanted = prefix.casefold()
        return [name for name, _ in lib.all_tags() if name.casefold().startswith(wanted)]

