"""DetailPane: everything about the paper under the cursor.

Untrusted text is built into `Content` from plain strings (never markup). The note is Markdown:
Textual's Markdown parses Markdown, not Textual markup, so `[@click=app.quit]` in a note is
plain text; Markdown links become a `link(...)` action on the Markdown widget only, and we open
them ourselves (http, https and mailto only) instead of letting Textual open any scheme.
"""

from __future__ import annotations

from urllib.parse import urlparse

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Markdown, Static

from index.model import Paper
from tui.textsafe import terminal_safe
from tui.widgets.result_row import display_date, highlight_spans

SAFE_SCHEMES = {"http", "https", "mailto"}


def safe(text: str | None, single_line: bool = True) -> str:
    return terminal_safe(text or "", single_line=single_line)


def highlighted(text: str, terms: set[str], style: str = "bold $accent") -> Content:
    content = Content(text)
    for start, end in highlight_spans(text, terms):
        content = content.stylize(style, start, end)
    return content


def paper_content(paper: Paper, terms: set[str], why: str = "") -> tuple[Content, Content, Content]:
    """(title, facts, abstract) for a paper, with matched words highlighted; `why` says why
    the "for you" list ranks it where it is."""
    title = highlighted(safe(paper.display_title), terms)
    if paper.starred:
        title = Content.assemble(("★ ", "$warning"), title)
    rows: list[tuple[str, str]] = [
        ("Authors", ", ".join(safe(a) for a in paper.authors) or "-"),
        ("Date", " ".join(x for x in (safe(display_date(paper)),
                                      str(paper.year) if paper.year and paper.listing_date else "")
                          if x) or "-"),
        ("Status", paper.status + ("   starred" if paper.starred else "")),
        ("Tags", ", ".join(safe(t) for t in paper.tags) or "-"),
        ("Key", safe(paper.key) + (f"   cite: {safe(paper.citekey)}" if paper.citekey else "")),
        ("URL", safe(paper.best_url) or "-"),
    ]
    if paper.venue:
        rows.insert(2, ("Venue", safe(paper.venue)))
    if paper.links:
        rows.append(("Links", "  ".join(safe(link) for link in paper.links)))
    rows.append(("Sources", ", ".join(safe(s) for s in paper.sources) or "-"))
    if why:
        rows.append(("For you", safe(why)))
    parts: list[str | tuple[str, str]] = []
    for label, value in rows:
        parts += [(f"{label:<8} ", "dim"), value, "\n"]
    facts = Content.assemble(*parts[:-1])
    abstract = highlighted(safe(paper.display_abstract, single_line=False).strip() or "(no abstract)", terms)
    return title, facts, abstract


class DetailPane(VerticalScroll, can_focus=True):
    """Title, facts, abstract and note of one paper."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.paper: Paper | None = None
        self._note = ""

    def compose(self) -> ComposeResult:
        yield Static(id="detail-title")
        yield Static(id="detail-facts")
        yield Static(id="detail-abstract")
        yield Static(Content("Note"), id="detail-note-heading")
        yield Markdown(id="detail-note", open_links=False)

    def show(self, paper: Paper | None, terms: set[str] = frozenset(), why: str = "") -> None:
        self.paper = paper
        title, facts, abstract = paper_content(paper, terms, why) if paper else (
            Content("No paper selected"), Content(""), Content(""))
        self.query_one("#detail-title", Static).update(title)
        self.query_one("#detail-facts", Static).update(facts)
        self.query_one("#detail-abstract", Static).update(abstract)
        note = paper.note if paper else ""
        self.query_one("#detail-note-heading").display = bool(note)
        markdown = self.query_one("#detail-note", Markdown)
        markdown.display = bool(note)
        if note != self._note:
            self._note = note
            markdown.update(safe(note, single_line=False))

    def text(self) -> str:
        """What the pane shows, as plain text (for tests and screen readers)."""
        parts = [self.query_one(f"#detail-{name}", Static).content.plain
                 for name in ("title", "facts", "abstract")]
        if self._note:
            parts.append(safe(self._note, single_line=False))  # what the Markdown widget got
        return "\n".join(parts)

    @on(Markdown.LinkClicked)
    def open_link(self, event: Markdown.LinkClicked) -> None:
        event.stop()
        href = event.href.strip()
        if urlparse(href).scheme.lower() in SAFE_SCHEMES:
            self.app.open_url(href)
        else:
            self.notify(f"Not opening {safe(href)!r}: only http, https and mailto links open",
                        severity="warning", markup=False)
