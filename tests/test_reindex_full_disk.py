"""`papershelf reindex` on a real full disk (a nearly full tmpfs, tests/small_fs.py): the new
index is checked before it replaces the old one; a build the disk cut short is one line and a
non-zero exit, and the old index stays in use, for either engine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from small_fs import fill, small_filesystem

from index.library import Library
from index.model import PaperRecord

ROOT = Path(__file__).resolve().parents[1]


def papershelf(data: Path, config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui.cli", "--data-dir", str(data), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT),
                                   PAPERSHELF_CONFIG_DIR=str(config)))


@pytest.mark.parametrize("engine", ["whoosh", "sqlite"])
def test_reindex_on_a_full_disk_fails_in_one_line_and_keeps_the_old_index(tmp_path, engine,
                                                                        monkeypatch):
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text(f'[search]\nengine = "{engine}"\n')
    records = [PaperRecord(title=f"Lighthouse Keepers Survey {i}", doi=f"10.5555/light.{i}",
                           abstract=f"Logbooks of storms, fog signals and lamp oil, entry {i}. "
                                    + "Weather notes. " * 40) for i in range(300)]
    with small_filesystem(tmp_path, size_kib=16 * 1024) as mount:
        data = mount / "lib"
        monkeypatch.setenv("PAPERSHELF_CONFIG_DIR", str(config))
        with Library.open(data) as lib:
            assert lib.engine_name == engine
            lib.add(records)
        before = papershelf(data, config, "search", "lighthouse", "--json", "--limit", "500")
        assert before.returncode == 0 and '"total": 300' in before.stdout
        filler = fill(mount, leave_kib=64)

        done = papershelf(data, config, "reindex")

        assert done.returncode == 1, done.stdout + done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
        assert "not rebuilt" in done.stderr and "indexed" not in done.stdout
        after = papershelf(data, config, "search", "lighthouse", "--json", "--limit", "500")
        assert after.returncode == 0 and '"total": 300' in after.stdout  # the old index works
        filler.unlink()
        again = papershelf(data, config, "reindex")  # room again: it rebuilds
        assert again.returncode == 0 and "indexed 300 papers" in again.stdout
