"""PapershelfCommands: every action of the main screen in the command palette (ctrl+p).

Built from the bindings themselves, so the palette shows the same names and the user's own
keys (from the keymap) and offers only what applies now (`check_action`).
"""

from __future__ import annotations

from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.keymap import key_for


class PapershelfCommands(Provider):
    def _commands(self) -> list[tuple[str, str, object]]:
        from tui.screens.main import MainScreen
        from tui.widgets.results_list import ResultsList

        screen = self.screen
        if not isinstance(screen, MainScreen):
            return []
        app = self.app
        found: list[tuple[str, str, object]] = []
        seen: set[str] = set()
        sources = [(screen, MainScreen), (screen.results, ResultsList), (app, type(app))]
        for node, cls in sources:
            for binding in cls.BINDINGS:
                if binding.action in seen or binding.action in {"command_palette"}:
                    continue
                name, _, params = binding.action.partition("(")
                if node.check_action(name, ()) is not True:
                    continue
                seen.add(binding.action)
                key = key_for(app, binding.id or "", binding.key.split(",")[0])
                label = binding.description or name.replace("_", " ")
                if params:
                    label = f"Filter: {binding.description}"
                found.append((label, f"key {app.get_key_display(_fake(key))}",
                              partial(app.run_action, binding.action, node)))
        return found

    async def discover(self) -> Hits:
        for label, help_text, callback in self._commands():
            yield DiscoveryHit(label, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, help_text, callback in self._commands():
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), callback, help=help_text)


def _fake(key: str) -> Binding:
    return Binding(key, "")
