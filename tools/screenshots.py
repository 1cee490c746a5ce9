"""Regenerate the README's screenshots (SVG, drawn by Textual itself) into docs/.

    .venv/bin/python tools/screenshots.py          # writes docs/*.svg

Each picture is the real app, run headless on a small invented library in a temporary data
and config directory (your own library and config.toml are never read):

- docs/main-screen.svg      the main screen with search results and the detail pane (120x32)
- docs/export-dialog.svg    the export dialog at 80x24, scrolled to "Save to"
- docs/conflict-view.svg    the note conflict view after a sync (100x28)
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

PAPERS = [
    ("Graph Transformers for Molecular Reasoning", "2408.01001", ["A. Okafor", "L. Brandt"],
     "We pass messages over molecular graphs with attention and reason about reactions "
     "without hand-made features.", ["gnn", "thesis"], "reading"),
    ("Reasoning Transformers without Chain of Thought", "2408.01002", ["M. Ito"],
     "Transformers that reason in their hidden states match chain-of-thought prompting on "
     "arithmetic while writing nothing down.", [], "unread"),
    ("Sparse Transformers Reason over Long Documents", "2403.01003", ["R. Silva", "J. Park"],
     "Sparse attention keeps long-document reasoning within memory limits.", ["to-read"],
     "unread"),
    ("Counting Sheep with Small Vision Models", "2402.01004", ["E. Moreau"],
     "A small vision model counts animals in drone footage of pastures.", [], "read"),
    ("Quantized Lullabies: Low-Bit Audio Generation", "2401.01005", ["G. Romano"],
     "Four-bit weights still generate pleasant audio; we measure how well.", ["audio"],
     "unread"),
]


def make_library(data_dir: Path):
    from index.library import Library
    from index.model import PaperRecord

    lib = Library.open(data_dir)
    lib.add([PaperRecord(title=title, arxiv_id=arxiv, authors=authors, abstract=abstract,
                         listing_date="Aug 20", source="dailypapers:aug20.txt")
             for title, arxiv, authors, abstract, _, _ in PAPERS])
    for title, arxiv, _, _, tags, status in PAPERS:
        key = lib.resolve(arxiv)
        if tags:
            lib.add_tags(key, tags)
        lib.set_status(key, status)
    lib.set_star(lib.resolve("2408.01001"))
    lib.set_note(lib.resolve("2408.01002"), "Compare with the chain-of-thought baseline in §4.")
    return lib


async def settle(pilot) -> None:
    screen = pilot.app.screen_stack[0]
    for _ in range(500):
        await pilot.pause()
        busy = [w for w in pilot.app.workers if not w.is_finished]
        if screen.idle and not busy:
            break
        await asyncio.sleep(0.01)
    await pilot.pause(0.3)


def steady_cursor(app) -> None:
    """A blinking cursor would make every run's picture differ."""
    focused = app.focused
    if focused is not None and hasattr(focused, "cursor_blink"):
        focused.cursor_blink = False
        focused.refresh()


async def shoot(lib, config, name: str, size: tuple[int, int], prepare) -> Path:
    from tui.app import PapershelfApp

    app = PapershelfApp(lib, config)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await prepare(pilot)
        steady_cursor(app)
        await pilot.pause(0.2)
        svg = app.export_screenshot(title="papershelf")
    path = DOCS / name
    path.write_text(svg, encoding="utf-8")
    return path


async def main_screen(pilot) -> None:
    await pilot.press("slash", *"transformer reasoning", "escape", "j")
    await settle(pilot)


async def export_dialog(pilot) -> None:
    await pilot.press("e")
    await pilot.pause(0.3)
    for _ in range(5):  # to "Save to": the dialog scrolls; its buttons stay in view
        await pilot.press("tab")
    pilot.app.focused.value = ""  # a path as a person types it (the default is the cwd's)
    await pilot.press(*"~/papers/reading-group.bib")
    await pilot.pause(0.2)


async def conflict_view(pilot) -> None:
    from tui.screens.note_conflict import NoteConflictScreen

    mine = ("Strong on reactions.\n\nCheck the ablation in table 3 before the reading "
            "group.\n")
    theirs = ("Strong on reactions.\n\nThe ablation in table 3 drops the edge features; "
              "ask the authors.\n")
    pilot.app.push_screen(NoteConflictScreen(PAPERS[0][0], mine, theirs))
    await pilot.pause(0.3)


async def run() -> list[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PAPERSHELF_CONFIG_DIR"] = str(Path(tmp) / "config")
        from index.config import load_config

        config = load_config()
        lib = make_library(Path(tmp) / "data")
        try:
            DOCS.mkdir(exist_ok=True)
            return [await shoot(lib, config, "main-screen.svg", (120, 32), main_screen),
                    await shoot(lib, config, "export-dialog.svg", (80, 24), export_dialog),
                    await shoot(lib, config, "conflict-view.svg", (100, 28), conflict_view)]
        finally:
            lib.close()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    for written in asyncio.run(run()):
        print(f"wrote {written.relative_to(ROOT)}")
