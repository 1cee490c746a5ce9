"""The README's screenshots come from tools/screenshots.py: it must keep running and draw the
three screens it promises (written here into a temporary folder, not docs/)."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_screenshot_script_draws_the_three_screens(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "tools" / "screenshots.py")
    screenshots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(screenshots)
    monkeypatch.setattr(screenshots, "DOCS", tmp_path)
    monkeypatch.setenv("PAPERSHELF_CONFIG_DIR", str(tmp_path / "unused"))
    written = asyncio.run(screenshots.run())
    names = sorted(path.name for path in written)
    assert names == ["conflict-view.svg", "export-dialog.svg", "main-screen.svg"]
    text = {path.name: path.read_text(encoding="utf-8").replace("&#160;", " ") for path in written}
    assert "Reasoning" in text["main-screen.svg"] and "3 matches" in text["main-screen.svg"]
    assert "Save to" in text["export-dialog.svg"] and "Export" in text["export-dialog.svg"]
    assert "Note changed on two devices" in text["conflict-view.svg"]
    for path in written:  # the README shows the committed copies: they match a fresh run
        assert (ROOT / "docs" / path.name).read_text(encoding="utf-8") == \
            path.read_text(encoding="utf-8"), f"docs/{path.name} is stale: run tools/screenshots.py"
