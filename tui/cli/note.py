"""`papershelf note KEY`: edit a paper's note in $EDITOR, or set it with --text."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from index.model import PapershelfError
from tui.cli.output import EXIT_OK, KEY_HELP, describe


def add_parsers(subparsers) -> None:
    p = subparsers.add_parser("note", help="edit a paper's note in $EDITOR (or set it with --text)")
    p.add_argument("key", help=KEY_HELP)
    p.add_argument("--text", help="the new note (use - to read standard input)")
    p.set_defaults(handler=run_note)


def run_note(args, lib) -> int:
    key = lib.resolve(args.key)
    if args.text is not None:
        text = sys.stdin.read() if args.text == "-" else args.text
        changed = lib.set_note(key, text)
        print(f"{describe(lib.get(key))}: note {'saved' if changed else 'unchanged'}")
        return EXIT_OK
    opened = lib.note_version(key)  # the editor may stay open while another process saves
    text = _edit_in_editor(lib.get(key).note)
    if text is None:
        print("note unchanged", file=sys.stderr)
        return EXIT_OK
    outcome = lib.save_note(key, text, opened)
    named = describe(lib.get(key))
    if outcome == "conflict":
        print(f"{named}: the note changed while you edited it; both versions are kept "
              f"(see `papershelf show {key}`)")
        return EXIT_OK
    if outcome == "merged":
        print(f"{named}: note saved, merged with a change made meanwhile")
        return EXIT_OK
    print(f"{named}: note {outcome}")
    return EXIT_OK


def _edit_in_editor(current: str) -> str | None:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False, encoding="utf-8") as handle:
        handle.write(current)
        path = Path(handle.name)
    try:
        try:
            result = subprocess.run([*editor.split(), str(path)])
        except FileNotFoundError:
            raise PapershelfError(f"editor {editor!r} not found; set $EDITOR or use --text") from None
        if result.returncode != 0:
            raise PapershelfError(f"editor exited with status {result.returncode}; note not saved")
        text = path.read_text(encoding="utf-8")
    finally:
        path.unlink(missing_ok=True)
    return None if text == current else text
