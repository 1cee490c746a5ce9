"""`papershelf doctor`, `papershelf backup` and `papershelf restore`."""

from __future__ import annotations

import sys
from pathlib import Path

from index.textsafe import json_safe, terminal_safe

EXIT_OK, EXIT_PROBLEMS = 0, 1


def register(sub) -> None:
    p = sub.add_parser("doctor", help="check the library (and repair what is safe to repair)",
                       description="Check the database, the operation log and the search "
                                   "index. Exits 1 while problems remain.")
    p.add_argument("--repair", action="store_true",
                   help="rebuild the search index and write pending updates; never deletes data")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_doctor, flush_index=False)

    p = sub.add_parser("backup", help="write a consistent copy of the library",
                       description="Write a backup (one SQLite file holding papers, notes, "
                                   "tags and the operation log). Default: "
                                   "<data dir>/backups/papershelf-YYYYMMDD-HHMMSS.sqlite3")
    p.add_argument("path", nargs="?", metavar="PATH", help="a file or an existing folder")
    p.add_argument("--force", action="store_true",
                   help="replace an existing file, and create missing folders")
    p.set_defaults(handler=cmd_backup, flush_index=False)

    p = sub.add_parser("restore", help="replace the library with a backup",
                       description="Replace the library with a backup. The current library is "
                                   "saved as an automatic backup first; the search index is "
                                   "rebuilt on next use. Close the app first.")
    p.add_argument("path", metavar="PATH", help="a backup file")
    # needs_library=False asks tui/cli.py main() not to open the library first: a restore is
    # what people run when the library no longer opens. (Until main() honours it, the library
    # is opened, and a damaged one stops the restore with a one-line error.)
    p.set_defaults(handler=cmd_restore, flush_index=False, needs_library=False)


def _line(text: str) -> str:
    return terminal_safe(text, single_line=True)


def cmd_doctor(args, lib) -> int:
    import json

    from index import doctor

    report = doctor.check(lib)
    actions: list[str] = []
    before = report
    if args.repair and any(f.repairable for f in report.findings):
        if any(f.fix in ("sqlite-reindex", "clock") for f in report.findings):
            from index.backup import auto_backup

            try:  # repairs that write to the database get a safety copy first
                saved = auto_backup(lib, reason="before-repair")
                if saved:
                    actions.append(f"saved the library as it was to {saved}")
            except Exception as exc:  # noqa: BLE001 - a damaged database may not copy
                actions.append(f"could not save a copy first ({exc}); repairing anyway")
        actions += doctor.repair(lib, report)
        report = doctor.check(lib)
    if args.json:
        data = report.to_json()
        if args.repair:
            data["before"] = before.to_json()["findings"]
            data["repairs"] = actions
        print(json_safe(json.dumps(data, ensure_ascii=False, indent=2)))
    else:
        if args.repair and actions:
            for finding in before.problems:
                print(f"found    {_line(str(finding))}")
            for action in actions:
                print(f"repaired {_line(action)}")
        for finding in report.findings:
            hint = "  (papershelf doctor --repair)" if finding.repairable and \
                finding.severity != "info" else ""
            print(_line(str(finding)) + hint)
        print("no problems found" if report.ok else f"{len(report.problems)} problem(s) remain")
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def cmd_backup(args, lib) -> int:
    from index.backup import backup

    path = backup(lib, Path(args.path) if args.path else None, force=args.force)
    count = lib.store.count()
    print(f"backed up {count} paper{'' if count == 1 else 's'} to {_line(str(path))}")
    return EXIT_OK


def cmd_restore(args, lib) -> int:
    from index.backup import restore, validate

    validate(Path(args.path))  # before touching the open library: a bad file changes nothing
    if lib is not None:
        data_dir = lib.data_dir
        lib.close()  # restore replaces the database file; nothing may hold it open here
    else:
        from index.config import data_dir as default_data_dir

        data_dir = default_data_dir(args.data_dir)
    info = restore(data_dir, Path(args.path))
    count = info["papers"]
    print(f"restored {count} paper{'' if count == 1 else 's'} from {_line(args.path)}")
    if info["previous"]:
        print(f"the library as it was is saved in {_line(info['previous'])}", file=sys.stderr)
    return EXIT_OK
