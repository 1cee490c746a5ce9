"""Inputs that complete as you type, with tab accepting the completion.

- `CompletingInput(...)`: an `Input` (same arguments) where tab accepts the grey completion
  suggestion when there is one, and otherwise moves focus as usual. Right arrow at the end of
  the text accepts it too (Textual's own behaviour).
- `PathSuggester()`: completes file-system paths: `~/Do` -> `~/Documents/`. Hidden entries are
  offered only once a `.` is typed; several matches complete to their common prefix first.
- `PathInput(...)`: a `CompletingInput` with a `PathSuggester`.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from textual.actions import SkipAction
from textual.binding import Binding
from textual.suggester import Suggester
from textual.widgets import Input

MAX_ENTRIES = 5000  # a huge folder is not worth listing on every keystroke


class CompletingInput(Input):
    BINDINGS = [Binding("tab", "complete", "Complete", show=False, id="input-complete")]

    def action_complete(self) -> None:
        # Textual keeps the shown suggestion in a private reactive; read it defensively.
        suggestion = getattr(self, "_suggestion", "")
        if self.cursor_at_end and suggestion and suggestion != self.value:
            self.value = suggestion
            self.cursor_position = len(self.value)
        else:
            raise SkipAction()  # nothing to complete: let tab move focus


def complete_path(value: str) -> str | None:
    """The completion of a typed path (keeping the text as typed, `~` included), or None."""
    if not value:
        return None
    if value == "~":
        return "~" + os.sep
    cut = value.rfind(os.sep) + 1
    head, prefix = value[:cut], value[cut:]
    folder = Path(os.path.expanduser(head)) if head else Path(".")
    try:
        names: list[tuple[str, bool]] = []
        with os.scandir(folder) as entries:
            for count, entry in enumerate(entries):
                if count >= MAX_ENTRIES:
                    break
                if entry.name.startswith(".") and not prefix.startswith("."):
                    continue
                if entry.name.startswith(prefix) or entry.name.casefold().startswith(prefix.casefold()):
                    try:
                        is_dir = entry.is_dir()
                    except OSError:
                        is_dir = False
                    names.append((entry.name, is_dir))
    except OSError:
        return None
    if not names:
        return None
    # Exact-case matches first (case-insensitive ones help on macOS and Windows).
    exact = [item for item in names if item[0].startswith(prefix)]
    matches = sorted(exact or names)
    if len(matches) == 1:
        name, is_dir = matches[0]
        return head + name + (os.sep if is_dir else "")
    common = os.path.commonprefix([name for name, _ in matches])
    if len(common) > len(prefix):
        return head + common
    name, is_dir = matches[0]
    return head + name + (os.sep if is_dir else "")


class PathSuggester(Suggester):
    def __init__(self) -> None:
        # No cache: the folder changes; case-sensitive so the typed text reaches us as typed.
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        suggestion = await asyncio.to_thread(complete_path, value)
        return suggestion if suggestion != value else None


class PathInput(CompletingInput):
    def __init__(self, value: str | None = None, **kwargs) -> None:
        kwargs.setdefault("suggester", PathSuggester())
        super().__init__(value, **kwargs)
