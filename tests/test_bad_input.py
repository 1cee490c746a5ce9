"""Hostile files given to `papershelf import` (and to the app's import): each gets a one-line
error, the other files and entries are still imported, nothing hangs or blows up."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from test_tui_support import make_app, settle, wait_for

ROOT = Path(__file__).resolve().parent.parent

GOOD_BIB = """@article{wren2021,
  title = {Wrens Sing in Prime Numbers},
  author = {Quill, Odette},
  year = {2021}
}
"""


def papershelf(data: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui.cli", "--data-dir", str(data), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=timeout,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))


def titles(data: Path) -> list[str]:
    done = papershelf(data, "list", "--json")
    return sorted(p["title"] for p in json.loads(done.stdout))


def huge_int_json(path: Path) -> Path:
    path.write_text('[{"title": "Otters Count Pebbles", "id": "2402.00001", "upvotes": '
                    + "9" * 4301 + '},\n {"title": "Herons Wait Longer", "id": "2402.00002"}]\n',
                    encoding="utf-8")
    return path


def test_a_4301_digit_integer_in_json_does_not_stop_the_import(tmp_path):
    data = tmp_path / "data"
    bib = tmp_path / "good.bib"
    bib.write_text(GOOD_BIB, encoding="utf-8")
    done = papershelf(data, "import", str(huge_int_json(tmp_path / "big.json")), str(bib))
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr
    assert titles(data) == ["Herons Wait Longer", "Otters Count Pebbles",
                            "Wrens Sing in Prime Numbers"]


async def test_the_app_finishes_that_import_and_can_import_again(tmp_path):
    app, lib = make_app(tmp_path, records=[])
    path = huge_int_json(tmp_path / "big.json")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("i")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ImportScreen")
        app.screen.query_one("#import-path").value = str(path)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "imported: added 2" in screen.status.text())
        assert not screen.query_one("#status-progress").display
        await pilot.press("i")  # i works again
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ImportScreen")
    lib.close()


def doubling_strings_bomb(path: Path, levels: int = 40) -> Path:
    lines = ['@string{s0 = "xx"}']
    lines += [f"@string{{s{i} = s{i - 1} # s{i - 1}}}" for i in range(1, levels + 1)]
    lines.append(f"@misc{{boom, title = s{levels}}}")
    path.write_text("\n".join(lines) + "\n" + GOOD_BIB + "@misc{calm, title = {Calm Seas}}\n",
                    encoding="utf-8")
    return path


def test_doubling_string_macros_are_bounded_and_the_other_entries_import(tmp_path):
    data = tmp_path / "data"
    bomb = doubling_strings_bomb(tmp_path / "bomb.bib")
    assert bomb.stat().st_size < 2048
    done = papershelf(data, "import", str(bomb), timeout=60)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr
    errors = [line for line in done.stderr.splitlines() if "@string" in line]
    assert len(errors) == 2, done.stderr  # the macro that grew too big, the entry using it
    assert "bomb.bib:20:" in errors[0]  # file and line of the @string that grew too big
    assert titles(data) == ["Calm Seas", "Wrens Sing in Prime Numbers"]


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _socket(path: Path) -> Path:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    return path


@pytest.mark.parametrize("make, what", [(_fifo, "named pipe"), (_socket, "socket"),
                                        (lambda _: Path("/dev/zero"), "device")])
def test_fifos_sockets_and_devices_are_refused_without_being_opened(make, what, tmp_path):
    data = tmp_path / "data"
    special = make(tmp_path / "special")
    bib = tmp_path / "good.bib"
    bib.write_text(GOOD_BIB, encoding="utf-8")
    done = papershelf(data, "import", str(special), str(bib), timeout=30)
    assert done.returncode == 0, done.stderr
    refused = [line for line in done.stderr.splitlines() if str(special) in line]
    assert len(refused) == 1 and what in refused[0] and "not opened" in refused[0]
    assert titles(data) == ["Wrens Sing in Prime Numbers"]
