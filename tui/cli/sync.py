"""`papershelf sync [FOLDER]`, `sync --status`, `sync --resolve KEY --keep mine|theirs|both|merged`."""

from __future__ import annotations

import json
import sys

from index.model import PapershelfError
from tui.cli.output import EXIT_OK, describe, line, print_json

DESCRIPTION = """\
Sync this library with your other machines through a folder that Dropbox, Syncthing,
Nextcloud or iCloud replicates. Each machine appends its own changes to its own log in
<FOLDER>/papershelf/ and reads the others'; nothing is ever overwritten. The folder is
remembered, so later runs need no argument."""


def add_parsers(subparsers) -> None:
    p = subparsers.add_parser("sync", help="sync with your other machines through a shared folder",
                              description=DESCRIPTION)
    p.add_argument("folder", nargs="?", metavar="FOLDER",
                   help="the shared folder (remembered in config.toml [sync] folder)")
    p.add_argument("--status", action="store_true",
                   help="show devices seen, the last change from each, and note conflicts")
    p.add_argument("--resolve", metavar="KEY", help="settle the note conflict of paper KEY")
    p.add_argument("--keep", choices=("mine", "theirs", "both", "merged"),
                   help="with --resolve: keep this device's note, the other one, both one after "
                        "the other, or the merge with conflict markers")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run_sync)


def _folder(args):
    from index.config import load_config

    if args.folder:
        return args.folder
    return load_config().get("sync", "folder")


def run_sync(args, lib) -> int:
    if args.resolve:
        return _resolve(args, lib)
    if args.keep:
        raise PapershelfError("--keep goes with --resolve KEY")
    folder = _folder(args)
    if args.status:
        return _status(args, lib, folder)
    if not folder:
        raise PapershelfError("no sync folder yet: run `papershelf sync FOLDER` once "
                              "(a folder Dropbox, Syncthing or iCloud replicates)")
    report = lib.sync.now(folder)
    if args.folder:
        from index.config import load_config, remember_sync_folder

        remember_sync_folder(load_config(), args.folder)
    if args.json:
        print(json.dumps({
            "device": report.device, "published": report.published,
            "republished": report.republished, "received": report.received,
            "changed": report.changed, "conflicts": report.conflicts, "problems": report.problems,
            "forked_from": report.forked_from, "snapshot_loaded": report.snapshot_loaded,
            "snapshot_written": report.snapshot_written, "seconds": round(report.seconds, 3),
        }, indent=2))
        return EXIT_OK
    for message in report.messages:
        print(f"note: {line(message)}", file=sys.stderr)
    for problem in report.problems[:20]:
        print(f"skipped: {line(problem)}", file=sys.stderr)
    if len(report.problems) > 20:
        print(f"skipped: ... and {len(report.problems) - 20} more", file=sys.stderr)
    if report.snapshot_loaded:
        print(f"started from snapshot {line(report.snapshot_loaded)}", file=sys.stderr)
    print(f"synced with {line(folder)}: {report.summary()}")
    if report.conflicts:
        print("see them with `papershelf sync --status`; settle one with "
              "`papershelf sync --resolve KEY --keep mine|theirs|both|merged`", file=sys.stderr)
    return EXIT_OK


def _status(args, lib, folder) -> int:
    status = lib.sync.status(folder)
    if args.json:
        print_json(status)
        return EXIT_OK
    print(f"this device: {status['device']}  ({status['ops']} changes, last "
          f"{status['last_time'] or 'never'})")
    if status["forked_from"]:
        print(f"  (took a new device id; it was {status['forked_from']})")
    print(f"sync folder: {line(folder) if folder else '(none yet: papershelf sync FOLDER)'}")
    if not status["devices"]:
        print("other devices: none seen yet")
    for device in status["devices"]:
        last = device["last_op"] or {}
        what = f"{last.get('type', '?')} {line(last.get('key', ''))}".strip()
        if last.get("field"):
            what += f" {line(last['field'])}"
        print(f"  {device['device']}  {device['ops']} changes, last at "
              f"{device['last_time'] or '?'}: {what}")
    conflicts = status["conflicts"]
    if conflicts:
        print(f"note conflicts ({len(conflicts)}):")
        for item in conflicts:
            print(f"  {item['key']}  {line(item['title'])}")
        print("settle one with `papershelf sync --resolve KEY --keep mine|theirs|both|merged`")
    else:
        print("note conflicts: none")
    return EXIT_OK


def _resolve(args, lib) -> int:
    if not args.keep:
        raise PapershelfError("--resolve KEY needs --keep mine|theirs|both|merged")
    key = lib.resolve(args.resolve)
    lib.sync.resolve(key, keep=args.keep)
    print(f"{describe(lib.get(key))}: note conflict settled ({args.keep}); "
          "run `papershelf sync` to share it")
    return EXIT_OK
