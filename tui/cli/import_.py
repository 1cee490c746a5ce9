"""`papershelf import FILE...` and `import --watch FOLDER`. (`import` is a Python keyword,
hence the underscore.)"""

from __future__ import annotations

import sys
from pathlib import Path

from tui.textsafe import terminal_safe
from tui.cli.output import (EXIT_OK, EXIT_USAGE, ProgressBar, print_report,
                            print_report_problems, report_exit_code)


def add_parsers(subparsers) -> None:
    p = subparsers.add_parser(
        "import", help="import Daily Papers pages and other files",
        description="Import files; the format is detected from the content.")
    p.add_argument("files", nargs="*", metavar="FILE",
                   help="files to import; a folder imports the files in it")
    p.add_argument("-r", "--recursive", action="store_true",
                   help="with a folder, also import the files in its subfolders")
    p.add_argument("--dry-run", action="store_true",
                   help="report what would change, change nothing")
    p.add_argument("--watch", metavar="FOLDER", help="keep importing files dropped into FOLDER")
    p.add_argument("--resolve", action="store_true",
                   help="then look the imported titles up on arXiv (see `papershelf resolve -h`)")
    p.set_defaults(handler=run_import)


def run_import(args, lib) -> int:
    if args.watch:
        return _watch(args, lib)
    if not args.files:
        print("papershelf import: give one or more files (or --watch FOLDER)", file=sys.stderr)
        return EXIT_USAGE
    # once every paper is stored, the search index is updated: seconds for a big import
    with ProgressBar("importing", then="indexing") as bar:
        report = lib.import_files(args.files, dry_run=args.dry_run, progress=bar.update,
                                   recursive=args.recursive)
    print_report(report, dry_run=args.dry_run)
    if args.resolve and not args.dry_run and (report.added or report.merged or report.unchanged):
        from tui.cli.resolve import resolve_and_report

        return resolve_and_report(lib, report.added + report.merged + report.unchanged)
    return report_exit_code(report)


def _watch(args, lib) -> int:
    def show(path, report):
        print(f"{terminal_safe(str(path))}: {report.summary()}", flush=True)
        print_report_problems(report)

    print(f"watching {terminal_safe(args.watch)} (ctrl+c to stop)", file=sys.stderr)
    try:
        lib.watch(Path(args.watch), on_report=show)
    except KeyboardInterrupt:  # the normal way to stop watching
        print("stopped watching", file=sys.stderr)
    return EXIT_OK
