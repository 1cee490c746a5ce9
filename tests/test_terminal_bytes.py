"""The bytes papershelf commands write to a terminal: no escape sequence or control character
from a title, a DOI-built key, a tag or a file name gets through, `--json` included."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from index.library import Library
from index.model import PaperRecord

ROOT = Path(__file__).resolve().parent.parent
OSC52 = "\x1b]52;c;cm0gLXJmIH4=\x07"
CLEAR = "\x1b[2J"
RAW = ("\x1b", "\x9b", "\x9d", "\u202e", "\x07", "\r")


def papershelf(data: Path, *args: str) -> subprocess.CompletedProcess:
    """Run a command and return its raw output bytes (what a terminal would receive)."""
    return subprocess.run([sys.executable, "-m", "tui.cli", "--data-dir", str(data), *args],
                          capture_output=True, cwd=ROOT, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8"))


def assert_inert(done: subprocess.CompletedProcess) -> None:
    for stream in (done.stdout, done.stderr):
        text = stream.decode("utf-8")
        for char in RAW:
            assert char not in text, (repr(char), text[:2000])


def test_a_doi_holding_escape_sequences_never_becomes_a_key(tmp_path):
    data = tmp_path / "data"
    bib = tmp_path / f"refs{CLEAR}.bib"
    bib.write_text("@article{evil,\n  title = {Harmless Looking Title},\n"
                   f"  doi = {{10.1234/{OSC52}{CLEAR}x}}\n}}\n"
                   "@article{fine,\n  title = {Ordinary Herons},\n  doi = {10.1234/fine}\n}\n",
                   encoding="utf-8")
    done = papershelf(data, "import", str(bib))
    assert_inert(done)
    assert b"DOI holds control characters" in done.stderr
    listed = json.loads(papershelf(data, "list", "--json").stdout)
    assert [p["key"] for p in listed] == ["doi:10.1234/fine"]


def _library_with_a_hostile_key(tmp_path: Path) -> tuple[Path, str]:
    """A library an older papershelf (or a synced device) filled with a key holding ESC."""
    data = tmp_path / "data"
    with Library.open(data) as lib:
        lib.add([PaperRecord(title=f"Title {CLEAR}with \x9b31m C1 and \u202e bidi",
                             doi="10.1234/plain")])
    hostile = f"doi:10.1234/{OSC52}{CLEAR}plain"
    with sqlite3.connect(data / "library.sqlite3") as db:
        db.execute("UPDATE papers SET key = ? WHERE key = 'doi:10.1234/plain'", (hostile,))
        db.execute("DELETE FROM index_dirty")
        db.execute("INSERT INTO index_dirty VALUES (?)", (hostile,))
    return data, hostile


def test_every_command_echoing_a_key_writes_no_escape_bytes(tmp_path):
    data, _ = _library_with_a_hostile_key(tmp_path)
    prefix = "doi:10.1234/"
    for args in (("star", prefix), ("unstar", prefix), ("show", prefix), ("tag", prefix, "x"),
                 ("status", prefix, "reading"), ("note", prefix, "--text", "hi"),
                 ("list",), ("search", "title"), ("stats",), ("show", prefix, "--json"),
                 ("list", "--json"), ("search", "title", "--json")):
        done = papershelf(data, *args)
        assert done.returncode == 0, (args, done.stderr)
        assert_inert(done)


def test_list_json_escapes_c1_controls_and_bidi_overrides(tmp_path):
    data, hostile = _library_with_a_hostile_key(tmp_path)
    done = papershelf(data, "list", "--json")
    assert_inert(done)
    text = done.stdout.decode("utf-8")
    assert "\\u009b" in text and "\\u202e" in text and "\\u001b" in text
    paper = json.loads(text)[0]
    assert paper["title"] == f"Title {CLEAR}with \x9b31m C1 and \u202e bidi"  # same data
    assert paper["key"] == hostile


def test_tags_with_control_characters_are_refused(tmp_path):
    data, _ = _library_with_a_hostile_key(tmp_path)
    done = papershelf(data, "tag", "doi:10.1234/", f"red{CLEAR}")
    assert done.returncode != 0
    assert b"control characters" in done.stderr
    assert_inert(done)


def test_argument_errors_echo_no_escape_bytes(tmp_path):
    done = papershelf(tmp_path / "data", "status", "doi:x", f"read{OSC52}{CLEAR}")
    assert done.returncode == 2  # argparse: invalid choice, with the argument echoed
    assert b"invalid choice" in done.stderr
    assert_inert(done)
