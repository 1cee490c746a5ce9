"""config.toml is the user's file: the app remembers its state elsewhere, a setting picked in
the app changes that one key, and the file keeps the user's permissions."""

from __future__ import annotations

import difflib
import os
import stat
import subprocess
import sys
from pathlib import Path

from test_tui_support import make_app, settle

from index.config import DEFAULT_CONFIG

ROOT = Path(__file__).resolve().parent.parent
SIZE = (120, 36)

HAND_EDITED = DEFAULT_CONFIG.replace(
    "# keep = 5                       # automatic backups kept in the data directory",
    "keep = 9    # my own value, and my own comment",
) + "\n# a note to myself at the end\n"


async def test_quitting_the_app_leaves_config_toml_byte_for_byte(tmp_path):
    config = tmp_path / "config" / "config.toml"
    app, lib = make_app(tmp_path, config_text=HAND_EDITED)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("2", "1", "slash", *"qua")
        await settle(pilot)
        await pilot.press("escape", "j", "q")
    lib.close()
    assert config.read_text(encoding="utf-8") == HAND_EDITED
    assert (tmp_path / "data" / "state.toml").exists()  # what the app remembers lives here


async def test_picking_a_theme_in_the_app_changes_only_that_line(tmp_path):
    config = tmp_path / "config" / "config.toml"
    app, lib = make_app(tmp_path, config_text=HAND_EDITED)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # a hand edit made while the app runs must survive the app's own save
        edited = HAND_EDITED.replace("keep = 9", "keep = 11")
        config.write_text(edited, encoding="utf-8")
        app.theme = "papershelf-light"
        app.save_theme()
        await pilot.press("q")
    lib.close()
    after = config.read_text(encoding="utf-8")
    changed = [line for line in difflib.ndiff(edited.splitlines(), after.splitlines())
               if line[:1] in "+-"]
    assert changed == ['+ theme = "papershelf-light"'], changed


def papershelf(*args: str, umask: int | None = None) -> subprocess.CompletedProcess:
    def set_umask():
        if umask is not None:
            os.umask(umask)

    return subprocess.run([sys.executable, "-m", "tui.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120, preexec_fn=set_umask,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))


def test_sync_folder_creates_the_config_with_its_commented_defaults(tmp_path):
    folder = tmp_path / "Sync"
    folder.mkdir()
    done = papershelf("sync", str(folder))
    assert done.returncode == 0, done.stderr
    config = Path(os.environ["PAPERSHELF_CONFIG_DIR"]) / "config.toml"
    text = config.read_text(encoding="utf-8")
    for line in DEFAULT_CONFIG.splitlines():
        if line.startswith("#"):
            assert line in text  # every commented default is there
    assert f'folder = "{folder.resolve()}"' in text


def test_config_toml_follows_the_umask_and_keeps_a_chosen_mode(tmp_path):
    folder = tmp_path / "Sync"
    folder.mkdir()
    done = papershelf("sync", str(folder), umask=0o022)
    assert done.returncode == 0, done.stderr
    config = Path(os.environ["PAPERSHELF_CONFIG_DIR"]) / "config.toml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o644
    config.chmod(0o640)  # the user's choice stays when papershelf changes a key
    other = tmp_path / "Other"
    other.mkdir()
    done = papershelf("sync", str(other), umask=0o077)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    assert f'folder = "{other.resolve()}"' in config.read_text(encoding="utf-8")
