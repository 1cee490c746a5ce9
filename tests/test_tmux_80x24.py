"""Issue 14 in a real terminal: papershelf in tmux at 80x24 keeps q Quit and ? Help in its
footer, and its export dialog shows its buttons while tab walks down to "Save to"."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from samples import dense_page
from tui.cli import main

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

PAIRS = [("Graph Kernels for Molecule Search", "Kernels over molecular graphs for retrieval."),
         ("Sparse Routing for Tiny Language Models", "Routing tokens sparsely in small models.")]


class Tmux:
    """One private tmux server (its own socket), so nothing else's sessions are touched."""

    def __init__(self) -> None:
        self.socket = f"papershelf-test-{uuid.uuid4().hex[:8]}"

    def __call__(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, timeout=20).stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "app")

    def wait_for(self, text: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never showed:\n{self.screen()}")


def test_export_dialog_and_footer_in_a_real_80x24_terminal(tmp_path):
    data, config = tmp_path / "data", tmp_path / "config"
    page = tmp_path / "page.txt"
    page.write_text(dense_page(PAIRS), encoding="utf-8")
    assert main(["--data-dir", str(data), "import", str(page)]) == 0
    tmux = Tmux()
    command = f"{sys.executable} -m tui.cli --data-dir {data}"
    env = ["-e", f"PAPERSHELF_CONFIG_DIR={config}", "-e", "TERM=xterm-256color"]
    tmux("new-session", "-d", "-s", "app", "-x", "80", "-y", "24", *env, "-c", os.getcwd(),
         command)
    try:
        tmux.wait_for("2 papers")
        shown = tmux.wait_for("? Help")
        footer = [line for line in shown.splitlines() if line.strip()][-1]
        assert "q Quit" in footer and "? Help" in footer and len(shown.splitlines()[0]) <= 80
        tmux("send-keys", "-t", "app", "e")
        shown = tmux.wait_for("Export papers")
        assert "Cancel" in shown and "Export " in shown.split("Export papers", 1)[1]
        for _ in range(6):
            tmux("send-keys", "-t", "app", "Tab")
            time.sleep(0.2)
        shown = tmux.wait_for("Save to")
        assert "Cancel" in shown  # the buttons stayed while the dialog scrolled
        tmux("send-keys", "-t", "app", "Escape")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "Export papers" in tmux.screen():
            time.sleep(0.2)
        time.sleep(0.5)  # escape then q at once would read as alt+q
        tmux("send-keys", "-t", "app", "q")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "app" in tmux("list-sessions"):
            time.sleep(0.2)
        assert "app" not in tmux("list-sessions")
    finally:
        tmux("kill-server")


def test_a_progress_bar_redraws_in_place_and_leaves_no_trace(tmp_path):
    # The bar's cursor moves must reach the terminal past the filter that strips escape
    # sequences from everything papershelf prints: without them each redraw lands after the
    # last, and the finished bar stays on screen.
    data = tmp_path / "data"
    page = tmp_path / "page.txt"
    pairs = [(f"Heron Survey Number {n} of Coastal Wetlands", f"Counting herons at site {n}.")
             for n in range(400)]
    page.write_text(dense_page(pairs), encoding="utf-8")
    assert main(["--data-dir", str(data), "import", str(page)]) == 0
    tmux = Tmux()
    command = (f"{sys.executable} -m tui.cli --data-dir {data} reindex; echo FINISHED; "
               "sleep 60")
    tmux("new-session", "-d", "-s", "app", "-x", "80", "-y", "24", "-e", "TERM=xterm-256color",
         "-c", os.getcwd(), "sh", "-c", command)
    try:
        shown = tmux.wait_for("FINISHED", timeout=60)
        lines = [line for line in shown.splitlines() if line.strip()]
        assert lines == ["indexed 400 papers with the whoosh engine", "FINISHED"], shown
    finally:
        tmux("kill-server")
