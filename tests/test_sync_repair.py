"""A damaged, truncated or missing segment of a device's published log: readers report it,
the owner notices on its next sync and writes those operations again, and every device
converges. Every step is a `papershelf` subprocess; the test never puts good bytes back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from samples import dense_page, make_papers

ROOT = Path(__file__).resolve().parent.parent


def papershelf(data: Path, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "tui.cli", "--data-dir", str(data), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done


def library(data: Path) -> list[dict]:
    return json.loads(papershelf(data, "list", "--json").stdout)


def own_segment(folder: Path, data: Path) -> Path:
    device = json.loads(papershelf(data, "stats", "--json").stdout)["device"]
    segments = sorted((folder / "papershelf" / "devices" / device).glob("ops-*.jsonl"))
    assert len(segments) == 1
    return segments[0]


def flip_a_middle_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    lines = data.split(b"\n")
    middle = sum(len(line) + 1 for line in lines[:len(lines) // 2]) + 20
    data[middle] ^= 0x01
    path.write_bytes(bytes(data))


def truncate_in_the_middle(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


DAMAGE = {"damaged": flip_a_middle_byte, "truncated": truncate_in_the_middle,
          "missing": Path.unlink}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_published_log_is_republished_by_its_owner(damage, tmp_path):
    folder, a, b = tmp_path / "Sync", tmp_path / "a", tmp_path / "b"
    folder.mkdir()
    page = tmp_path / "page.txt"
    page.write_text(dense_page(make_papers(40, seed=7)), encoding="utf-8")
    papershelf(a, "import", str(page))
    key = library(a)[0]["key"]
    papershelf(a, "star", key)
    papershelf(a, "tag", key, "to-read")
    papershelf(a, "sync", str(folder))
    segment = own_segment(folder, a)

    DAMAGE[damage](segment)

    first = papershelf(b, "sync", str(folder))
    if damage == "damaged":
        assert "checksum mismatch" in first.stderr  # the reader reports the damage
    assert library(b) != library(a)

    owner = papershelf(a, "sync", str(folder))
    assert "republished" in owner.stderr and f"was {damage}" in owner.stderr
    assert "sent 0," not in owner.stdout

    papershelf(b, "sync", str(folder))
    again = papershelf(b, "sync", "--json")
    assert json.loads(again.stdout)["problems"] == []
    assert library(b) == library(a)
    assert len(library(b)) == 40

    # whole again: the owner's next sync sends nothing
    quiet = json.loads(papershelf(a, "sync", "--json").stdout)
    assert quiet["published"] == 0 and quiet["republished"] == 0
