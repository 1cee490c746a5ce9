"""TagPrompt: ask for a tag, completing from the tags that exist.

    app.push_screen(TagPrompt("Add tag to 3 papers", all_tags), on_tag)          # add
    app.push_screen(TagPrompt("Remove tag", paper.tags, must_choose=True), on_tag)  # remove

`TagPrompt(prompt: str, choices: list[str], *, must_choose: bool = False)` is a
`ModalScreen[str | None]`. Typing shows a grey completion from `choices` (case-insensitive; tab
or right arrow accepts it) and up to MAX_SHOWN matching choices below. enter dismisses with the
text, stripped (empty -> None); escape -> None. With `must_choose` only one of `choices` is
accepted (matched case-insensitively, returned as spelled in `choices`); anything else shows a
one-line error and the prompt stays open. Prompt, tags and errors are shown as plain text.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.suggester import SuggestFromList
from textual.widgets import Input, Static

from tui.textsafe import terminal_safe
from tui.screens.dialog import Dialog, DialogBody
from tui.widgets.path_input import CompletingInput

MAX_SHOWN = 8


def matching(choices: list[str], text: str, limit: int = MAX_SHOWN) -> list[str]:
    """Choices that start with `text`, then those that contain it (case-insensitive)."""
    needle = text.strip().casefold()
    if not needle:
        return choices[:limit]
    starts = [c for c in choices if c.casefold().startswith(needle)]
    inside = [c for c in choices if needle in c.casefold() and c not in starts]
    return (starts + inside)[:limit]


class TagPrompt(Dialog[str | None]):
    DEFAULT_CSS = """
    TagPrompt > .dialog-frame { width: 60; }
    TagPrompt #tag-matches { color: $text-muted; height: auto; }
    TagPrompt #tag-error { color: $error; height: auto; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="tag-cancel")]

    def __init__(self, prompt: str, choices: list[str], *, must_choose: bool = False) -> None:
        super().__init__()
        self.prompt = prompt
        # Deduplicated, order kept (the caller may have sorted by use).
        self.choices = list(dict.fromkeys(c for c in choices if c))
        self.must_choose = must_choose

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-frame"):
            yield Static(Content(terminal_safe(self.prompt, single_line=True)), id="tag-prompt",
                         classes="dialog-title")
            with DialogBody():
                yield CompletingInput(
                    placeholder="choose a tag" if self.must_choose else "tag",
                    suggester=SuggestFromList(self.choices, case_sensitive=False),
                    id="tag-input",
                )
                yield Static(self.matches_content(""), id="tag-matches")
                yield Static("", id="tag-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def matches_content(self, text: str) -> Content:
        found = matching(self.choices, text)
        if not found:
            return Content("no matching tag" if self.must_choose else
                           "a new tag" if text.strip() else "")
        shown = "  ".join(terminal_safe(c, single_line=True) for c in found)
        more = len(matching(self.choices, text, limit=len(self.choices))) - len(found)
        return Content(shown + (f"  (+{more} more)" if more > 0 else ""))

    @on(Input.Changed, "#tag-input")
    def show_matches(self, event: Input.Changed) -> None:
        self.query_one("#tag-matches", Static).update(self.matches_content(event.value))
        self.query_one("#tag-error", Static).update("")

    @on(Input.Submitted, "#tag-input")
    def submit(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            self.dismiss(None)
            return
        if self.must_choose:
            chosen = next((c for c in self.choices if c.casefold() == text.casefold()), None)
            if chosen is None:
                message = Content.assemble("No tag ", (terminal_safe(text, single_line=True),
                                                       "bold"), " here: pick one of the list.")
                self.query_one("#tag-error", Static).update(message)
                return
            text = chosen
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
