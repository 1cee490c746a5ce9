"""`papershelf backup [PATH]` and `papershelf restore PATH`."""

from __future__ import annotations

import sys
from pathlib import Path

from tui.cli.output import EXIT_OK, line


def add_parsers(subparsers) -> None:
    p = subparsers.add_parser("backup", help="write a consistent copy of the library",
                              description="Write a backup (one SQLite file holding papers, notes, "
                                          "tags and the operation log). Default: "
                                          "<data dir>/backups/papershelf-YYYYMMDD-HHMMSS.sqlite3")
    p.add_argument("path", nargs="?", metavar="PATH", help="a file or an existing folder")
    p.add_argument("--force", action="store_true",
                   help="replace an existing file, and create missing folders")
    p.set_defaults(handler=run_backup, flush_index=False)

    p = subparsers.add_parser("restore", help="replace the library with a backup",
                              description="Replace the library with a backup. The current library "
                                          "is saved as an automatic backup first; the search "
                                          "index is rebuilt on next use. Close the app first.")
    p.add_argument("path", metavar="PATH", help="a backup file")
    # needs_library=False: the entry point does not open the library first, because a restore
    # is what people run when the library no longer opens.
    p.set_defaults(handler=run_restore, flush_index=False, needs_library=False)


def run_backup(args, lib) -> int:
    path = lib.care.backup(Path(args.path) if args.path else None, force=args.force)
    count = lib.count()
    print(f"backed up {count} paper{'' if count == 1 else 's'} to {line(path)}")
    return EXIT_OK


def run_restore(args, lib) -> int:
    """`lib` is None when the entry point honours needs_library=False; a caller that opened
    the library anyway gets it closed before the file is replaced."""
    from index.library import Library

    Library.validate_backup(args.path)  # before touching the open library: a bad file changes nothing
    if lib is not None:
        data_dir = lib.data_dir
        lib.close()  # restore replaces the database file; nothing may hold it open here
    else:
        from index.config import data_dir as default_data_dir

        data_dir = default_data_dir(args.data_dir)
    info = Library.restore_backup(data_dir, args.path)
    count = info["papers"]
    print(f"restored {count} paper{'' if count == 1 else 's'} from {line(args.path)}")
    if info["previous"]:
        print(f"the library as it was is saved in {line(info['previous'])}", file=sys.stderr)
    return EXIT_OK
