"""How one row of the results list looks (ResultsList draws each with `render_row`).

Untrusted text (titles, tags) becomes plain `Segment` text: it is never parsed as markup, and
terminal control characters are removed first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from index.library import Library
from index.model import Paper
from tui.textsafe import terminal_safe

STATUS_WIDTH = 7
DATE_WIDTH = 8
TAGS_WIDTH = 24


def highlight_spans(text: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Spans of matched words, as the core reads words (the one place that knows the analyser)."""
    return Library.highlight_spans(text, terms) if terms else []


def display_date(paper: Paper) -> str:
    return paper.listing_date or (str(paper.year) if paper.year else "")


def render_row(paper: Paper, width: int, *, selected: bool, marked: bool, terms: set[str],
               style: Callable[..., Style], base: Style) -> Strip:
    """One row: mark, star, title (matched words highlighted), tags, status, date; `style`
    gives the list's component styles (results-list--star ...)."""
    cursor = style("results-list--cursor") if selected else Style()
    left = [
        Segment("●" if marked else " ", style("results-list--mark")),
        Segment(" "),
        Segment("★" if paper.starred else " ", style("results-list--star")),
        Segment(" "),
    ]
    right: list[Segment] = []
    if width >= 48:
        date = display_date(paper)
        right = [Segment(" " + set_cell_size(paper.status, STATUS_WIDTH),
                         style(f"results-list--{paper.status}", default=Style())),
                 Segment(" " + set_cell_size(terminal_safe(date, single_line=True), DATE_WIDTH),
                         style("results-list--date"))]
    tags_width = min(TAGS_WIDTH, width // 5)
    if width >= 60 and paper.tags:
        tags = terminal_safe(" ".join("#" + t for t in paper.tags), single_line=True)
        if cell_len(tags) > tags_width:
            tags = set_cell_size(tags, tags_width - 1) + "…"
        right.insert(0, Segment(" " + set_cell_size(tags, tags_width),
                                style("results-list--tags")))
    used = sum(s.cell_length for s in left) + sum(s.cell_length for s in right)
    title_width = max(width - used - 1, 1)
    title = _title_segments(terminal_safe(paper.display_title, single_line=True), terms,
                            title_width, style("results-list--match"))
    strip = Strip([*left, *title, Segment(" "), *right]).adjust_cell_length(width)
    strip = strip.apply_style(base + cursor)
    if selected and cursor.bgcolor is not None:
        # Component styles carry the widget's own background, which would hide the cursor
        # behind matched words, stars and tags: the cursor's background goes over them all.
        strip = Strip(Segment.apply_style(strip, post_style=Style(bgcolor=cursor.bgcolor)))
    return strip.simplify()


def _title_segments(title: str, terms: set[str], width: int, match: Style) -> list[Segment]:
    spans = highlight_spans(title, terms)
    segments: list[Segment] = []
    last = 0
    for start, end in sorted(spans):
        if start < last:
            continue
        if start > last:
            segments.append(Segment(title[last:start]))
        segments.append(Segment(title[start:end], match))
        last = end
    if last < len(title):
        segments.append(Segment(title[last:]))
    strip = Strip(segments)
    if strip.cell_length > width:
        strip = Strip([*strip.crop(0, max(width - 1, 0)), Segment("…")])
    return list(strip.adjust_cell_length(width))
