"""`papershelf`'s entry point: parse, open the library, run one command. Bare `papershelf`
opens the app.

This must stay light: `papershelf search` runs as a whole process in well under a quarter of a
second, so Textual and Rich are imported only by the commands that need them.
"""

from __future__ import annotations

import os
import sys

from index.model import PapershelfError
from tui.textsafe import TerminalSafeWriter, terminal_safe
from tui.cli.output import EXIT_INTERRUPTED, EXIT_OK, EXIT_USER_ERROR, ProgressBar, discard_stdout
from tui.cli.parser import build_parser

# Commands that bring in many changes at once start with the day's automatic backup.
DAILY_BACKUP_COMMANDS = {"import", "add", "sync", "resolve", "daily"}
# Commands that read or write the search index: when it has to be built first (a new engine,
# a library from an older version), they show that with a progress bar.
INDEX_COMMANDS = {"search", "import", "add", "export", "copy", "resolve", "daily"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if "_ARGCOMPLETE" in os.environ:  # the shell asks what to complete (completion script)
        from tui.cli.completion import complete

        complete(parser)
    # Every string a command prints, argparse's errors echoing arguments included, passes one
    # terminal-safe filter. The app draws the terminal itself: it gets the real streams.
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = TerminalSafeWriter(sys.stdout), TerminalSafeWriter(sys.stderr)
    try:
        args = parser.parse_args(argv)
        if args.command is not None:
            return dispatch(args)
    finally:
        sys.stdout, sys.stderr = streams
    return open_app(args)


def dispatch(args) -> int:
    """Run the parsed command on the opened library; every error it raises on purpose
    (PapershelfError) becomes one line on stderr and exit code 1."""
    from index.library import Library

    try:
        if not getattr(args, "needs_library", True):  # restore works on a damaged library
            return args.handler(args, None)
        with Library.open(args.data_dir) as lib:
            backup_warning = None
            if args.command in DAILY_BACKUP_COMMANDS:
                backup_warning = take_daily_backup(lib)
            if args.command in INDEX_COMMANDS and not getattr(args, "dry_run", False):
                prepare_index(lib)
            code = args.handler(args, lib)
            if backup_warning and code == EXIT_OK:  # a failed command's own error says enough
                print(backup_warning, file=sys.stderr)
            if (getattr(args, "flush_index", True) and (reason := lib.try_flush_index())
                    and not lib.index_problem_reported):
                print(f"papershelf: saved; the search index was not updated ({reason}); "
                      "it catches up on the next run", file=sys.stderr)
            if lib.ranking_left_behind():
                rank_for_next_launch(lib)
            return code
    except PapershelfError as exc:
        print(f"papershelf: {terminal_safe(str(exc), single_line=True)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("papershelf: interrupted; nothing half-written was kept", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        discard_stdout()
        return EXIT_OK


def prepare_index(lib) -> None:
    """Open the search index, building it first (with a progress bar) when it is missing,
    damaged or of another version."""
    if lib.index_ready():
        return
    with ProgressBar(f"building the search index ({lib.engine_name})") as bar:
        lib.reindex(progress=bar.update)


def rank_for_next_launch(lib) -> None:
    """Rank "for you" again after this command changed the library (saved as the library
    closes), so that the app's next `5` shows it at once. Only a head start: when the index
    can't be read, or Ctrl-C comes, the command's own outcome stands and the app ranks."""
    try:
        with ProgressBar("ranking for you") as bar:
            lib.for_you(progress=bar.update, saved=False)
    except (PapershelfError, OSError, KeyboardInterrupt):
        pass


def take_daily_backup(lib) -> str | None:
    """The day's automatic backup. Failing to take it never blocks the command: returns a
    warning to show once the command has succeeded, or None."""
    try:
        lib.care.daily_backup()
    except Exception as exc:  # noqa: BLE001 - a backup problem must not stop an import
        reason = terminal_safe(str(exc), single_line=True)
        return f"papershelf: warning: no automatic backup today ({reason})"
    return None


def open_app(args) -> int:
    from tui.app import run_app

    try:
        return run_app(args.data_dir)
    except PapershelfError as exc:
        print(f"papershelf: {terminal_safe(str(exc), single_line=True)}", file=sys.stderr)
        return EXIT_USER_ERROR
