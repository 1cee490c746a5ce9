"""SearchBar: the query input on top of the main screen.

An Input shows its value as plain text (no markup), so a restored query is safe to show.
Down, enter and escape hand the keyboard to the results list.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input

PLACEHOLDER = 'Search  (words, "a phrase", trans*, tag:x, year:2024, is:starred)   / to focus'


class SearchBar(Input):
    BINDINGS = [
        Binding("down,enter,escape", "leave", "Results", id="search-leave", show=False),
    ]

    class Leave(Message):
        """The user is done typing: focus the results."""

    def __init__(self, value: str = "", *, id: str | None = None) -> None:
        super().__init__(value=value, placeholder=PLACEHOLDER, id=id, select_on_focus=False)

    def action_leave(self) -> None:
        self.post_message(self.Leave())
