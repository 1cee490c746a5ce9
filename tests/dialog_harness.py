"""A tiny App that pushes one dialog and records what it dismisses with, for the dialog tests
(test_tui_modals.py, test_tui_path_dialogs.py, test_tui_merge_editor.py)."""

from __future__ import annotations

from textual.app import App

NASTY = ["[@click=app.quit]x[/]", "[/]", "[bold]", "[ @click=app.bell]", "[Re]"]
UNSET = object()


class Harness(App[None]):
    """Pushes one screen on mount and records what it dismisses with."""

    def __init__(self, make_screen) -> None:
        super().__init__()
        self.make_screen = make_screen
        self.results: list = []
        self.actions_run: list[str] = []

    def on_mount(self) -> None:
        self.push_screen(self.make_screen(), self.results.append)

    # Any action smuggled in through markup would land here instead of quitting the test.
    def action_quit(self) -> None:
        self.actions_run.append("quit")

    def action_bell(self) -> None:
        self.actions_run.append("bell")


def screen_text(app: App) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def result(app: Harness):
    return app.results[-1] if app.results else UNSET


async def click_text(pilot, needle: str) -> None:
    """Click on the first place `needle` shows on screen; assert no action is attached there."""
    app = pilot.app
    for y, line in enumerate(screen_text(app).splitlines()):
        x = line.find(needle)
        if x >= 0:
            style = app.screen.get_style_at(x + 1, y)
            assert not any(k.startswith("@") for k in (style.meta or {})), style.meta
            await pilot.click(offset=(x + 1, y))
            await pilot.pause()
            return
    raise AssertionError(f"{needle!r} not on screen:\n{screen_text(app)}")
