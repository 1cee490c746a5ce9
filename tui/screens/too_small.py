"""TooSmallScreen: shown instead of a broken layout while the terminal is too small to use.

The app pushes it when the terminal shrinks below MIN_WIDTH x MIN_HEIGHT and pops it when the
terminal grows again (`PapershelfApp.on_resize`); what was on screen comes back as it was.
q still quits (an app key).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

MIN_WIDTH, MIN_HEIGHT = 60, 15


def too_small(width: int, height: int) -> bool:
    return width < MIN_WIDTH or height < MIN_HEIGHT


class TooSmallScreen(Screen[None]):
    DEFAULT_CSS = """
    TooSmallScreen { align: center middle; }
    TooSmallScreen #too-small { width: 100%; height: auto; text-align: center; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="too-small")

    def on_mount(self) -> None:
        self.show_size()

    def on_resize(self) -> None:
        self.show_size()

    def show_size(self) -> None:
        width, height = self.app.size
        self.query_one("#too-small", Static).update(Content(
            f"papershelf needs at least {MIN_WIDTH}x{MIN_HEIGHT}; "
            f"this terminal is {width}x{height}.\nMake it bigger, or press q to quit."))
