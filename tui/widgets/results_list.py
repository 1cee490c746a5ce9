"""ResultsList: the virtual list of search results (Textual's Line API).

DataTable and OptionList take 11-38 s to a first frame at 100,000 rows (measured in
benchmarks/bench_tui.py); this widget holds only the result keys and renders only the rows on
screen. `render_line` never reads SQLite: a row whose paper is not loaded yet is drawn as a
placeholder, and its page (PAGE keys around it, and the pages around the viewport) is read
through a loader (Library.get_many) in a thread worker, one batch at a time, as Toolong's line
reader does; the rows repaint when it arrives. Rendered rows are kept in an LRU cache keyed by
everything that changes how a row looks, so a repaint after a scroll or a star is cheap.

How a row looks is tui/widgets/result_row.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from rich.segment import Segment
from textual import events, on, work
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from index.model import Paper
from tui.widgets.result_row import render_row

PAGE = 50  # rows fetched per SQLite round trip (a screenful and a half)
CACHED_PAPERS = 8 * PAGE  # the viewport's pages and those around it

Loader = Callable[[list[str]], list[Paper]]


class ResultsList(ScrollView, can_focus=True):
    """Search results: a cursor, marks, and one line per paper."""

    COMPONENT_CLASSES = {
        "results-list--cursor",
        "results-list--match",
        "results-list--star",
        "results-list--mark",
        "results-list--tags",
        "results-list--unread",
        "results-list--reading",
        "results-list--read",
        "results-list--date",
    }

    BINDINGS = [
        Binding("j,down", "cursor_down", "Down", id="cursor-down", show=False),
        Binding("k,up", "cursor_up", "Up", id="cursor-up", show=False),
        Binding("g,home", "first", "Top", id="top", show=False),
        Binding("G,end", "last", "Bottom", id="bottom", show=False),
        Binding("pagedown", "page_down", "Page down", id="page-down", show=False),
        Binding("pageup", "page_up", "Page up", id="page-up", show=False),
        Binding("space", "toggle_mark", "Mark", id="mark"),
        Binding("escape", "clear_marks", "Clear marks", id="clear-marks", show=False),
        Binding("enter", "open_detail", "Detail", id="focus-detail", show=False),
    ]

    class CursorMoved(Message):
        def __init__(self, results: ResultsList, key: str | None) -> None:
            super().__init__()
            self.results = results
            self.key = key

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ResultsList.CursorMoved)

    class DetailRequested(Message):
        pass

    class MarksChanged(Message):
        def __init__(self, count: int) -> None:
            super().__init__()
            self.count = count

    class PageLoaded(Message):
        """The page worker read these keys (`batch` says which request it answers)."""

        def __init__(self, batch: int, keys: list[str], papers: list[Paper] | None) -> None:
            super().__init__()
            self.batch = batch
            self.keys = keys
            self.papers = papers  # None: the read failed (the rows ask again when redrawn)

    def __init__(self, loader: Loader, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._loader = loader
        self.keys: list[str] = []
        self.terms: set[str] = set()
        self.cursor = 0
        self.marked: set[str] = set()
        self._papers: LRUCache[str, Paper] = LRUCache(CACHED_PAPERS)
        self._strips: LRUCache[tuple, Strip] = LRUCache(1024)
        self._versions: dict[str, int] = {}
        self._terms_version = 0
        # paging (see the module docstring): key -> the batch that is reading it
        self._loading: dict[str, int] = {}
        self._queued: list[str] = []
        self._batch = 0
        self._reading = False  # the page worker runs (one at a time)
        self._outdated: set[str] = set()  # shown as cached until the store's version arrives
        self._missing: set[str] = set()  # read, and not in the store (drawn blank)

    # ---- data --------------------------------------------------------------------------------

    @property
    def current_key(self) -> str | None:
        return self.keys[self.cursor] if 0 <= self.cursor < len(self.keys) else None

    def paper(self, key: str) -> Paper | None:
        """The paper for a key, from the page cache or one store read (the cursor's paper,
        for the detail pane and the actions: usually cached with its page)."""
        paper = self._papers.get(key)
        if paper is None or key in self._outdated:
            found = self._loader([key])
            self._apply(found, [key])
            paper = found[0] if found else None
        return paper

    def rows_ready(self) -> bool:
        """Every row in view shows its paper as the store holds it (asks for the pages that
        are missing, so waiting on this always ends)."""
        visible = self._visible_keys()
        waiting = [k for k in visible if k in self._outdated
                   or k not in self._papers and k not in self._missing]
        if waiting:
            self._request_around()
        return not waiting

    def _visible_keys(self) -> list[str]:
        first = self.scroll_offset.y
        return self.keys[first:first + self.scrollable_content_region.height]

    def _request_around(self) -> None:
        """Ask for the viewport's pages and the pages just above and below it."""
        if not self.keys:
            return
        top = self.scroll_offset.y
        bottom = top + max(self.scrollable_content_region.height, 1)
        for index in range(max(top - PAGE // 2, 0), min(bottom + PAGE // 2, len(self.keys)),
                           PAGE // 2):
            self._request_page(index)
        self._request_page(min(bottom, len(self.keys) - 1))

    def _request_page(self, index: int) -> None:
        start = (index // PAGE) * PAGE
        self._request([k for k in self.keys[start:start + PAGE] if k not in self._papers])

    def _request(self, keys: list[str], again: bool = False) -> None:
        """Queue keys for the page worker (`again`: also those being read, which may have
        been read before a change)."""
        wanted = [k for k in keys if again or k not in self._loading and k not in self._missing]
        if not wanted:
            return
        self._batch += 1
        for key in wanted:
            self._loading[key] = self._batch
        self._queued.extend(wanted)
        if not self._reading:
            self._reading = True
            self.call_later(self._read_queued)

    def _read_queued(self) -> None:
        keys, self._queued = list(dict.fromkeys(self._queued)), []
        if not keys:
            self._reading = False
            return
        self._page_worker(self._batch, keys)

    @work(thread=True, group="results-pages", exit_on_error=False)
    def _page_worker(self, batch: int, keys: list[str]) -> None:
        try:
            papers = self._loader(keys)
        except Exception:  # noqa: BLE001 - a busy or closing library: the rows ask again
            papers = None
        self.post_message(self.PageLoaded(batch, keys, papers))

    @on(PageLoaded)
    def _page_loaded(self, message: PageLoaded) -> None:
        # keys asked for again since (a change) wait for that newer read
        current = [k for k in message.keys if self._loading.get(k, message.batch + 1)
                   <= message.batch]
        if message.papers is None:
            for key in current:
                self._loading.pop(key, None)
        else:
            self._apply([p for p in message.papers if p.key in current], current)
        self._read_queued()
        self._refresh_visible(current)

    def _apply(self, papers: list[Paper], keys: list[str]) -> None:
        """Store what a read found for these keys; a key it did not find is not in the store."""
        found = {paper.key for paper in papers}
        for paper in papers:
            self._papers.discard(paper.key)  # LRUCache.set keeps an existing value
            self._papers[paper.key] = paper
        for key in keys:
            self._loading.pop(key, None)
            if key in self._outdated:
                self._outdated.discard(key)
                self._versions[key] = self._versions.get(key, 0) + 1
            if key not in found:
                self._missing.add(key)

    def set_results(self, keys: Sequence[str], terms: Iterable[str] = (), *,
                    select: str | None = None, keep: bool = True) -> None:
        """Show new results, the cursor on `select` (else, with `keep`, on the current paper)
        when it is among them, else on the first."""
        wanted = select or (self.current_key if keep else None)
        self.keys = list(keys)
        new_terms = set(terms)
        if new_terms != self.terms:
            self.terms = new_terms
            self._terms_version += 1
        try:
            position = self.keys.index(wanted) if wanted else 0
        except ValueError:
            position = 0
        self.cursor = min(position, max(len(self.keys) - 1, 0))
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.keys))
        self.scroll_to(y=max(0, self.cursor - self.scrollable_content_region.height // 2),
                       animate=False, immediate=True)
        self._missing.clear()  # keys from a search are in the store
        self._request_around()  # before the first paint asks for them
        self.refresh()
        self._announce()

    def invalidate(self, keys: Iterable[str]) -> None:
        """User state of these papers changed: read them again. A row in view keeps showing
        its cached paper until the store's version arrives (no flash of a placeholder)."""
        keys = list(keys)
        visible = set(self._visible_keys())
        for key in keys:
            self._versions[key] = self._versions.get(key, 0) + 1
            self._missing.discard(key)
            if key in visible and key in self._papers:
                self._outdated.add(key)
            else:
                self._papers.discard(key)
        wanted = [k for k in keys if k in visible]
        if wanted:
            self._request(wanted, again=True)

    def preview(self, keys: Iterable[str], **changes) -> None:
        """Show a change (starred=..., status=...) on the cached rows at once, before the store
        has it; `invalidate` afterwards shows what the store really holds (so a failed write
        puts the row back as it was)."""
        keys = [k for k in keys if k in self._papers]
        for key in keys:
            paper = self._papers[key]
            for name, value in changes.items():
                setattr(paper, name, value)
            self._versions[key] = self._versions.get(key, 0) + 1
        self._refresh_visible(keys)

    def _refresh_visible(self, keys: list[str]) -> None:
        first = self.scroll_offset.y
        visible = self.keys[first:first + self.size.height]
        wanted = set(keys)
        for offset, key in enumerate(visible):
            if key in wanted:
                self.refresh_line(first + offset)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()  # theme changed: every cached row has old colours

    # ---- rendering ---------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if index >= len(self.keys) or width <= 0:
            return Strip.blank(width, base)
        key = self.keys[index]
        selected = index == self.cursor
        cache_key = (key, width, selected, key in self.marked, self._versions.get(key, 0),
                     self._terms_version, self.has_focus)
        strip = self._strips.get(cache_key)
        if strip is None:
            paper = self._papers.get(key)
            if paper is not None:
                strip = self._render_row(paper, width, selected, key in self.marked)
            elif key in self._missing:
                strip = Strip.blank(width, base)
            else:  # its page is on its way: drawn once it arrives, never cached
                self._request_around()
                return self._placeholder(width, selected).apply_offsets(scroll_x, index)
            self._strips[cache_key] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, base).apply_offsets(scroll_x, index)

    def _placeholder(self, width: int, selected: bool) -> Strip:
        style = self.rich_style
        if selected:
            style += self.get_component_rich_style("results-list--cursor")
        dim = self.get_component_rich_style("results-list--date")
        return Strip([Segment("    "), Segment("…", dim)]).adjust_cell_length(width) \
            .apply_style(style)

    def _render_row(self, paper: Paper, width: int, selected: bool, marked: bool) -> Strip:
        return render_row(paper, width, selected=selected, marked=marked, terms=self.terms,
                          style=self.get_component_rich_style, base=self.rich_style)

    # ---- cursor and marks --------------------------------------------------------------------

    def move_to(self, index: int) -> None:
        if not self.keys:
            return
        index = max(0, min(index, len(self.keys) - 1))
        if index == self.cursor:
            return
        old, self.cursor = self.cursor, index
        self.refresh_line(old)
        self.refresh_line(index)
        top, height = self.scroll_offset.y, self.scrollable_content_region.height
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False, immediate=True)
        self._announce()

    def _announce(self) -> None:
        self.post_message(self.CursorMoved(self, self.current_key))

    def action_cursor_down(self) -> None:
        self.move_to(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_to(self.cursor - 1)

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        self.move_to(len(self.keys) - 1)

    def action_page_down(self) -> None:
        self.move_to(self.cursor + max(self.scrollable_content_region.height - 1, 1))

    def action_page_up(self) -> None:
        self.move_to(self.cursor - max(self.scrollable_content_region.height - 1, 1))

    def action_toggle_mark(self) -> None:
        key = self.current_key
        if key is None:
            return
        self.marked.symmetric_difference_update({key})
        self.refresh_line(self.cursor)
        self.post_message(self.MarksChanged(len(self.marked)))
        self.move_to(self.cursor + 1)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_marks":
            return bool(self.marked)  # otherwise escape goes on to the screen
        return True

    def action_clear_marks(self) -> None:
        self.clear_marks()

    def clear_marks(self) -> None:
        if self.marked:
            self.marked.clear()
            self.refresh()
            self.post_message(self.MarksChanged(0))

    def action_open_detail(self) -> None:
        self.post_message(self.DetailRequested())

    def on_click(self, event: events.Click) -> None:
        index = event.y + self.scroll_offset.y
        if 0 <= index < len(self.keys):
            self.move_to(index)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.keys))

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._request_around()  # the next pages are read before the cursor reaches them
