"""StatusLine: hit count, active filter, marks, 'did you mean', errors, and import progress.

Everything shown is assembled as `Content` from plain strings: a suggestion or an error echoes
the user's query, which may hold markup-like text.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import ProgressBar, Static

from tui.textsafe import terminal_safe

MESSAGE_SECONDS = 5


class StatusLine(Horizontal):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.hits = ""
        self.filter = ""
        self.marks = 0
        self.note = ""
        self.suggestion: str | None = None
        self.suggestion_key = "ctrl+d"
        self.error = ""
        self.message = ""
        self._message_timer = None

    def compose(self) -> ComposeResult:
        yield Static(id="status-text")
        bar = ProgressBar(id="status-progress", show_eta=False)
        bar.display = False
        yield bar

    def set(self, **values) -> None:
        for name, value in values.items():
            setattr(self, name, value)
        if values.get("message") and not self.query_one("#status-progress").display:
            # a message says what just happened: it fades after a few seconds
            if self._message_timer is not None:
                self._message_timer.stop()
            self._message_timer = self.set_timer(MESSAGE_SECONDS, self._clear_message)
        self.query_one("#status-text", Static).update(self.content(), layout=False)

    def _clear_message(self) -> None:
        self._message_timer = None
        self.set(message="")

    def content(self) -> Content:
        parts: list[str | tuple[str, str]] = []

        def add(text: str, style: str = "") -> None:
            if parts:
                parts.append(("  ·  ", "dim"))
            parts.append((terminal_safe(text, single_line=True), style))

        if self.hits:
            add(self.hits, "bold")
        if self.filter:
            add(f"filter: {self.filter}", "$accent")
        if self.marks:
            add(f"{self.marks} marked", "$warning")
        if self.note:
            add(self.note)
        if self.error:
            add(self.error, "$error")
        if self.suggestion:
            add(f"did you mean {self.suggestion}? press {self.suggestion_key} to use it", "$success")
        if self.message:
            add(self.message, "italic")
        return Content.assemble(*parts)

    def text(self) -> str:
        return self.content().plain

    def progress(self, done: int, total: int, label: str = "importing") -> None:
        bar = self.query_one("#status-progress", ProgressBar)
        bar.display = True
        bar.update(total=max(total, 1), progress=done)
        self.set(message=f"{label} {done:,}/{total:,}")

    def progress_done(self) -> None:
        self.query_one("#status-progress", ProgressBar).display = False
