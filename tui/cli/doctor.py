"""`papershelf doctor [--repair]`: check the library, and repair what is safe to repair."""

from __future__ import annotations

from tui.cli.output import EXIT_OK, EXIT_PROBLEMS, line, print_json


def add_parsers(subparsers) -> None:
    p = subparsers.add_parser(
        "doctor", help="check the library (and repair what is safe to repair)",
        description="Check the database, the operation log and the search index. "
                    "Exits 1 while problems remain.")
    p.add_argument("--repair", action="store_true",
                   help="rebuild the search index and write pending updates; never deletes data")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run_doctor, flush_index=False)


def run_doctor(args, lib) -> int:
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
        print_json(data)
        return EXIT_OK if report.ok else EXIT_PROBLEMS
    if args.repair and actions:
        for finding in before.problems:
            print(f"found    {line(finding)}")
        for action in actions:
            print(f"repaired {line(action)}")
    for finding in report.findings:
        hint = "  (papershelf doctor --repair)" if finding.repairable and \
            finding.severity != "info" else ""
        print(line(finding) + hint)
    print("no problems found" if report.ok else f"{len(report.problems)} problem(s) remain")
    return EXIT_OK if report.ok else EXIT_PROBLEMS
