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
    report = lib.care.check()
    actions: list[str] = []
    before = report
    if args.repair and any(f.repairable for f in report.findings):
        actions = lib.care.repair(report)  # a safety copy first when a repair writes
        report = lib.care.check()
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
