"""Welcome: what an empty library shows instead of an empty list."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

WELCOME = Content.assemble(
    ("Your library is empty.\n\n", "bold"),
    "Press ", ("D", "bold $accent"), " to fetch today's Daily Papers from Hugging Face.\n\n",
    "Or press ", ("i", "bold $accent"), " to import files: Hugging Face Daily Papers pages saved as\n",
    "text, BibTeX (.bib), arXiv feeds or id lists, Daily Papers JSON.\n\n",
    "Or, from a shell:\n\n",
    ("    papershelf daily\n    papershelf import FILE...\n\n", "bold"),
    "Then type to search, ", ("s", "bold $accent"), " to star, ", ("?", "bold $accent"),
    " for every key.",
)


class Welcome(Static):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(WELCOME, id=id)
