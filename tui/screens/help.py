"""HelpScreen: the keys that apply, as they are bound now (remapped keys included).

    app.push_screen(HelpScreen(help_rows(main_screen)))

`HelpScreen(bindings=None, title="Keys")` is a `ModalScreen[None]`. `bindings` is a list of
(key, description, binding id) tuples; a key may be a Textual key name ("question_mark",
"ctrl+s") or several separated by commas ("j,down"). `help_rows(screen)` builds that list from
the screen's active bindings (after `App.set_keymap`), one row per binding id, so what the help
shows is what the keys do. With `bindings=None` the help uses `help_rows` of the screen it
opens over, so `app.push_screen(HelpScreen())` is enough. The id column is what a user writes in config.toml [keys] to remap.
escape, q or ? closes; arrows, j/k and PageUp/PageDown scroll.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from tui.textsafe import terminal_safe
from tui.screens.dialog import Dialog

HelpRow = tuple[str, str, str]


def help_rows(screen: Screen) -> list[HelpRow]:
    """(keys, description, id) for each active binding that has an id and a description."""
    rows: dict[str, list] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.id or not binding.description:
            continue
        if binding.id in rows:
            if key not in rows[binding.id][0]:
                rows[binding.id][0].append(key)
        else:
            rows[binding.id] = [[key], binding.description]
    return [(",".join(keys), description, binding_id)
            for binding_id, (keys, description) in rows.items()]


class HelpScreen(Dialog[None]):
    DEFAULT_CSS = """
    HelpScreen > .dialog-frame { width: auto; min-width: 40; }
    HelpScreen #help-title { margin-bottom: 1; }
    HelpScreen VerticalScroll { width: auto; }
    HelpScreen #help-keys { width: auto; }
    HelpScreen #help-hint { margin-top: 1; }
    """
    # Two short lines: as one, it wrapped in a frame sized to the keys and lost its end.
    HINT = "Remap a key in config.toml under [keys]: id = \"key\".\nescape closes."

    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close", id="help-close"),
        Binding("j", "scroll('down')", "Scroll down", show=False, id="help-down"),
        Binding("k", "scroll('up')", "Scroll up", show=False, id="help-up"),
    ]

    def __init__(self, bindings: Iterable[HelpRow] | None = None, title: str = "Keys") -> None:
        super().__init__()
        self.rows: list[HelpRow] | None = None if bindings is None else list(bindings)
        self.title_text = title

    def compose(self) -> ComposeResult:
        if self.rows is None:
            stack = self.app.screen_stack
            below = stack[stack.index(self) - 1] if self in stack and stack.index(self) else None
            self.rows = help_rows(below) if below is not None else []
        with Vertical(classes="dialog-frame"):
            yield Static(Content(terminal_safe(self.title_text, single_line=True)), id="help-title",
                         classes="dialog-title")
            yield Static(Content(self.HINT), id="help-hint", classes="dialog-hint")
            with VerticalScroll(classes="dialog-body"):
                yield Static(self.keys_content(), id="help-keys")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def key_display(self, keys: str) -> str:
        shown = []
        for key in keys.split(","):
            key = key.strip()
            if key:
                try:
                    shown.append(self.app.get_key_display(Binding(key, "")))
                except Exception:  # an odd key name from a config file: show it as written
                    shown.append(key)
        return " ".join(dict.fromkeys(shown))

    def keys_content(self) -> Content:
        # Keys and ids may come from a user's config file: plain text only, never markup.
        table = [(terminal_safe(self.key_display(k), single_line=True),
                  terminal_safe(d, single_line=True), terminal_safe(i, single_line=True))
                 for k, d, i in self.rows]
        if not table:
            return Content("No keys to show.")
        key_width = max(len(k) for k, _, _ in table)
        text_width = max(len(d) for _, d, _ in table)
        lines = [Content.assemble((k.ljust(key_width), "bold $accent"), "  ", d.ljust(text_width),
                                  "  ", (i, "$text-muted"))
                 for k, d, i in table]
        return Content("\n").join(lines)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll(self, direction: str) -> None:
        scroll = self.query_one(VerticalScroll)
        if direction == "down":
            scroll.scroll_down()
        else:
            scroll.scroll_up()
