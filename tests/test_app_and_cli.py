"""The open app and `papershelf` commands in other processes on the same library.

The app runs headless (App.run_test + Pilot); every command is a real `python -m tui.cli`
subprocess, so nothing here shares a connection or a Store object with the app.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from test_tui_support import make_app, rows, settle, wait_for

ROOT = Path(__file__).resolve().parent.parent
SIZE = (120, 36)


def papershelf(data: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui.cli", "--data-dir", str(data), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT), **(env or {})))


async def papershelf_async(data: Path, *args: str) -> subprocess.CompletedProcess:
    """A command run while the app keeps running (its event loop is not blocked)."""
    return await asyncio.to_thread(papershelf, data, *args)


def row_of(screen, title_word: str) -> str:
    return next(r for r in rows(screen) if title_word in r)


async def test_the_open_app_shows_stars_and_tags_set_by_a_command(tmp_path):
    app, lib = make_app(tmp_path)
    data = tmp_path / "data"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert "★" not in row_of(screen, "Sheep")
        done = await papershelf_async(data, "star", "arxiv:2401.00004")
        assert done.returncode == 0, done.stderr
        done = await papershelf_async(data, "tag", "arxiv:2401.00004", "bedtime")
        assert done.returncode == 0, done.stderr
        await wait_for(pilot, lambda: "★" in row_of(screen, "Sheep")
                       and "bedtime" in row_of(screen, "Sheep"), timeout=5)
        await pilot.press("2")  # the starred filter: the paper is there, with its star
        await settle(pilot)
        assert len(rows(screen)) == 1 and "★" in rows(screen)[0]
        # and unstarred elsewhere, it leaves the starred list of the open app
        done = await papershelf_async(data, "unstar", "arxiv:2401.00004")
        assert done.returncode == 0, done.stderr
        await wait_for(pilot, lambda: not rows(screen), timeout=5)
    lib.close()


async def test_app_and_command_writing_the_same_note_both_versions_are_kept(tmp_path):
    app, lib = make_app(tmp_path)
    data = tmp_path / "data"
    key = "arxiv:2401.00005"  # newest: the cursor starts on it
    lib.set_note(key, "first thoughts\n")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.results.current_key == key
        done = await papershelf_async(data, "note", key, "--text", "from a command\n")
        assert done.returncode == 0, done.stderr
        await pilot.press("n")  # the editor opens on the note as it is now
        await wait_for(pilot, lambda: type(app.screen).__name__ == "NoteEditor")
        editor = app.screen
        assert editor.query_one("TextArea").text == "from a command\n"
        done = await papershelf_async(data, "note", key, "--text", "CLI version\n")
        assert done.returncode == 0, done.stderr
        editor.query_one("TextArea").text = "app version\n"
        await pilot.press("ctrl+s")
        # the two versions meet in the conflict view sync uses; nothing is overwritten
        await wait_for(pilot, lambda: type(app.screen).__name__ == "NoteConflictScreen")
        conflict = app.screen
        sides = {conflict.query_one("#conflict-local").text,
                 conflict.query_one("#conflict-remote").text}
        assert sides == {"CLI version\n", "app version\n"}
    shown = papershelf(data, "show", key)
    assert shown.returncode == 0, shown.stderr
    assert "CLI version" in shown.stdout and "app version" in shown.stdout
    assert shown.stdout.count("papershelf sync --resolve") == 1
    as_json = json.loads(papershelf(data, "show", key, "--json").stdout)
    versions = as_json["unsettled_note_versions"]
    assert sorted(v["text"] for v in versions) == ["CLI version\n", "app version\n"]
    assert all(v["device"] and v["time"] for v in versions)
    lib.close()


def test_note_in_editor_while_another_command_saves_keeps_both(tmp_path):
    from index.library import Library

    data = tmp_path / "data"
    with Library.open(data) as lib:
        from test_tui_support import PAPERS

        lib.add(PAPERS)
        lib.set_note("arxiv:2401.00001", "start\n")
    # an "editor" that, while open, lets another papershelf save the note, then writes its own
    editor = tmp_path / "editor.sh"
    editor.write_text(
        "#!/bin/sh\n"
        f"PYTHONPATH={ROOT} {sys.executable} -m tui.cli --data-dir {data} note "
        "arxiv:2401.00001 --text 'saved meanwhile' >/dev/null || exit 3\n"
        "printf 'typed in the editor\\n' > \"$1\"\n")
    editor.chmod(0o755)
    done = papershelf(data, "note", "arxiv:2401.00001", env={"EDITOR": str(editor),
                                                            "VISUAL": str(editor)})
    assert done.returncode == 0, done.stderr
    assert "both versions are kept" in done.stdout
    as_json = json.loads(papershelf(data, "show", "arxiv:2401.00001", "--json").stdout)
    texts = sorted(v["text"] for v in as_json["unsettled_note_versions"])
    assert texts == ["saved meanwhile", "typed in the editor\n"]
    settled = papershelf(data, "sync", "--resolve", "arxiv:2401.00001", "--keep", "mine")
    assert settled.returncode == 0, settled.stderr  # no sync folder needed to settle
    after = json.loads(papershelf(data, "show", "arxiv:2401.00001", "--json").stdout)
    assert after["unsettled_note_versions"] == []
    assert after["note"] in ("saved meanwhile", "typed in the editor\n")


async def test_the_open_app_shows_a_big_import_made_by_a_command(tmp_path):
    from samples import dense_page, make_papers

    app, lib = make_app(tmp_path)
    data = tmp_path / "data"
    page = tmp_path / "page.txt"
    page.write_text(dense_page(make_papers(1200, seed=9)), encoding="utf-8")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert "5 papers" in screen.status.text()
        done = await papershelf_async(data, "import", str(page))
        assert done.returncode == 0, done.stderr
        await wait_for(pilot, lambda: "1,205 papers" in screen.status.text(), timeout=10)
    lib.close()
