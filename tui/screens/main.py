"""MainScreen: search on top, results and detail side by side, status line, footer.

The screen holds what it shows as reactives (the query, the quick filter, the result count,
the selected paper, whether an import runs) and wires the parts together:

- tui/search_controller.py decides when to search and what a search finds (the throttle is
  explained there); the search itself runs in `search_worker`;
- the actions live in mixins by group: paper_actions (star, status, tags, note),
  share_actions (copy, open, export), library_jobs (import, index check, arXiv, sync, the
  watcher of other processes) and morning (Daily Papers, "for you").

Writes (star, status, tags, notes) run in thread workers on the app's store writer, searches
and imports on its index owner, and the results list reads its rows in workers too: see
tui/app.py for the three Library objects and why.
"""

from __future__ import annotations

import time

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Input
from textual.worker import get_current_worker

from index.library import Library, SearchHits
from index.model import Paper, PapershelfError
from tui.textsafe import terminal_safe
from tui.keymap import key_for
from tui.messages import FilterHides, MoreResults, SearchDone
from tui.screens.library_jobs import LibraryJobs
from tui.screens.morning import READY_CHECK_EVERY, MorningActions
from tui.screens.paper_actions import PaperActions, one_line
from tui.screens.share_actions import ShareActions
from tui.search_controller import (
    FOR_YOU, MORE_WITHIN, SearchController, count_without_filter, filter_hint,
    filter_label, hits_text, list_everything, search_words, typed_part,
)
from tui.widgets.detail_pane import DetailPane
from tui.widgets.footer import ShelfFooter
from tui.widgets.results_list import ResultsList
from tui.widgets.search_bar import SearchBar
from tui.widgets.status_line import StatusLine
from tui.widgets.welcome import Welcome

DETAIL_DELAY = 0.06  # seconds the cursor rests before the detail pane follows it
WATCH_EVERY = 0.5  # seconds between looks for changes committed by other processes


class MainScreen(PaperActions, ShareActions, LibraryJobs, MorningActions, Screen):
    BINDINGS = [
        Binding("slash", "focus_search", "Search", id="focus-search"),
        Binding("escape", "focus_results", "Results", id="focus-results", show=False),
        Binding("s", "star", "Star", id="star"),
        Binding("t", "tag_add", "Tag", id="tag-add"),
        Binding("T", "tag_remove", "Untag", id="tag-remove", show=False),
        Binding("r", "cycle_status", "Status", id="status-cycle"),
        Binding("n", "note", "Note", id="note"),
        Binding("y", "copy_citekey", "Copy key", id="copy-citekey", show=False),
        Binding("Y", "copy_bibtex", "Copy BibTeX", id="copy-bibtex", show=False),
        Binding("m", "copy_markdown", "Copy link", id="copy-markdown", show=False),
        Binding("e", "export", "Export", id="export"),
        Binding("o", "open_url", "Open", id="open-url", show=False),
        Binding("R", "resolve", "Find on arXiv", id="resolve", show=False),
        Binding("L", "similar", "Similar", id="similar", show=False),
        Binding("i", "import_files", "Import", id="import"),
        Binding("1", "filter('all')", "All", id="filter-all", show=False),
        Binding("2", "filter('starred')", "Starred", id="filter-starred", show=False),
        Binding("3", "filter('unread')", "Unread", id="filter-unread", show=False),
        Binding("4", "filter('reading')", "Reading", id="filter-reading", show=False),
        Binding("5", "filter('foryou')", "For you", id="filter-foryou", show=False),
        Binding("D", "fetch_daily", "Fetch Daily Papers", id="daily-fetch", show=False),
        Binding("ctrl+d", "accept_suggestion", "Did you mean", id="accept-suggestion",
                priority=True),
    ]

    # What the screen shows. `var`: setting one never repaints the whole screen (the widgets
    # showing it repaint themselves), which keeps a keystroke cheap.
    query_text: var[str] = var("")
    filter: var[str] = var("all")
    result_count: var[int] = var(0)  # the total the status line counts
    selected_key: var[str | None] = var(None)  # the paper under the cursor
    importing: var[bool] = var(False)  # an import runs (i waits until it is done)

    def __init__(self, *, query: str = "", filter: str = "all", selected: str | None = None,
                 debounce_ms: int = 120) -> None:
        super().__init__()
        self.search = SearchController(self.search_worker, self.set_timer, text=query,
                                       filter_name=filter, debounce=max(debounce_ms, 0) / 1000,
                                       on_typing_finished=self._typing_finished)
        self.set_reactive(MainScreen.query_text, query)
        self.set_reactive(MainScreen.filter, self.search.filter_name)
        self._select = selected
        self.terms: set[str] = set()
        self.suggestion: str | None = None
        self.hits: SearchHits | None = None
        self.note = ""  # "similar to ..." while similar papers are shown
        self._fetching_more = False
        self._detail_timer = None
        self._keep_selection = True  # the restored selection, then after filters and imports
        self.last_search_seconds = 0.0
        self.applied_query: str | None = None  # the full query whose results are shown
        self._applied_typing = False  # ...and whether its last word was still being typed
        self.applied_at = 0.0  # perf_counter() when they were applied (tests, benchmarks)
        self.changed_at = 0.0
        self._own_keys: dict[str, float] = {}  # see LibraryJobs.remember_own

    @property
    def lib(self) -> Library:
        return self.app.lib

    # ---- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield SearchBar(self.query_text, id="search")
        with Horizontal(id="body"):
            yield ResultsList(self.lib.get_many, id="results")
            yield Welcome(id="welcome")
            yield DetailPane(id="detail")
        yield StatusLine(id="status")
        yield ShelfFooter()

    @property
    def results(self) -> ResultsList:
        return self.query_one(ResultsList)

    @property
    def detail(self) -> DetailPane:
        return self.query_one(DetailPane)

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    def on_mount(self) -> None:
        self.status.suggestion_key = key_for(self.app, "accept-suggestion", "ctrl+d")
        self._show_welcome(not self.lib.list_papers(limit=1))
        self.status.set(filter=filter_label(self.filter))
        self.results.focus()
        self.request_search(immediate=True)
        self.index_worker()
        self.seen_everything()
        self.set_interval(WATCH_EVERY, self.watch_other_processes)
        self.set_interval(READY_CHECK_EVERY, self.rank_for_you_ahead)
        if self.app.config.get("daily", "fetch_on_start"):
            self.action_fetch_daily()

    def watch_filter(self, name: str) -> None:
        self.status.set(filter=filter_label(name))

    def watch_importing(self) -> None:
        self.refresh_bindings()  # i is shown disabled while an import runs

    def _show_welcome(self, empty: bool) -> None:
        self.query_one(Welcome).display = empty
        self.results.display = not empty
        self.detail.display = not empty

    def reload(self, *, redraw: bool = False, welcome: bool = True, keep: bool = True) -> None:
        """The library changed under the list: search again (keeping the paper in view), after
        redrawing every row (`redraw`) and checking whether the library is now empty."""
        self.search.forget_listing()
        if keep:
            self._keep_selection = True
        if welcome:
            self._show_welcome(not self.lib.list_papers(limit=1))
        if redraw:
            self.results.invalidate(list(self.results.keys))
        self.request_search(immediate=True)

    # ---- searching ---------------------------------------------------------------------------

    def full_query(self) -> str:
        return self.search.full_query()

    @on(Input.Changed, "#search")
    def _query_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self.note = ""
        self.search.text_changed(event.value)

    def _typing_finished(self) -> None:
        self._keep_selection = True  # the same text, now finished: stay on the paper

    @on(SearchBar.Leave)
    def _leave_search(self) -> None:
        self.search.finish_typing()  # Enter finishes the word as a pause does
        self.results.focus()

    def request_search(self, immediate: bool = False) -> None:
        self.search.request(immediate=immediate)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def search_worker(self, generation: int, query: str, typing: bool) -> None:
        worker = get_current_worker()
        cancelled = lambda: worker.is_cancelled  # noqa: E731
        filter_name = self.search.filter_name
        started = time.perf_counter()
        note = ""

        def first_page(keys: list[str]) -> None:
            self.post_message(SearchDone(generation, query, SearchHits(keys, len(keys)), 0.0,
                                         partial=True))

        try:
            kind = self.lib.query_kind(query, typing=typing)
            if filter_name == FOR_YOU:
                self.app.index_ready.wait()  # the ranking reads the index's word statistics
                hits, note = self.app.with_index(
                    lambda lib: self.for_you_hits(lib, query, typing))
            elif kind != "words":
                hits = list_everything(self.app.with_index, query, typing,
                                       unfiltered=kind == "all", controller=self.search,
                                       cancelled=cancelled, first_page=first_page)
            else:
                self.app.index_ready.wait()  # the start-up check may be rebuilding it
                hits = self.app.with_index(lambda lib: search_words(lib, query, typing))
            if hits.suggestion:
                hits.suggestion = typed_part(hits.suggestion, filter_name) or None
        except PapershelfError as exc:
            hits = SearchHits([], 0, error=str(exc))
        except Exception as exc:  # a damaged index must not take the app down
            hits = SearchHits([], 0, error=f"search failed: {type(exc).__name__}: {exc}")
        if worker.is_cancelled:
            return
        note = note if generation == self.search.generation else ""  # a note keeps stale hits
        self.post_message(SearchDone(generation, query, hits, time.perf_counter() - started,
                                     note=note, typing=typing))
        # after the results: they must not wait for this
        total = count_without_filter(self.app.with_index, self.lib.query_kind, filter_name,
                                     query, typing, hits, cancelled)
        if total is not None:
            self.post_message(FilterHides(generation, total))

    @on(FilterHides)
    def _filter_hides(self, message: FilterHides) -> None:
        if message.generation != self.search.generation or self.hits is None or self.note:
            return
        self.status.set(hits=filter_hint(self.hits, message.unfiltered_total, self.filter,
                                         key_for(self.app, "filter-all", "1")))

    @on(SearchDone)
    def _search_done(self, message: SearchDone) -> None:
        if message.partial:
            if message.generation == self.search.generation:
                self.results.set_results(message.hits.keys, (), select=self._select,
                                         keep=self._keep_selection)
                self._keep_selection = True  # the full list keeps where the person moved to
                self.status.set(hits=f"{len(message.hits.keys):,}+ papers (counting)")
            return
        if not self.search.finished(message.generation, keep_stale=bool(message.note)):
            return
        self.last_search_seconds = message.seconds
        self.applied_query, self.applied_at = message.query, time.perf_counter()
        self._applied_typing = message.typing
        hits = message.hits
        if hits.error:
            self.status.set(error=one_line(hits.error), suggestion=None)
            return
        had_suggestion = bool(self.suggestion)
        self.hits, self.terms, self.suggestion = hits, set(hits.terms), hits.suggestion
        self.note = message.note
        self.result_count = hits.total
        # a new query shows its best hit first; a filter or an import keeps the paper in view
        self.results.set_results(hits.keys, self.terms, select=self._select,
                                 keep=self._keep_selection)
        self._select, self._keep_selection = None, False
        self.status.set(hits=hits_text(hits, self.note), suggestion=hits.suggestion,
                        note=self.note, error=one_line(hits.hint) if hits.hint else "")
        if not hits.keys:
            self.detail.show(None)
        if had_suggestion != bool(hits.suggestion):
            self.refresh_bindings()  # the footer's ctrl+d (rebuilding the footer is not free)

    def action_focus_search(self) -> None:
        self.query_one(SearchBar).focus()

    def action_focus_results(self) -> None:
        self.results.focus()

    def action_filter(self, name: str) -> None:
        self.filter = name
        self._keep_selection = name != FOR_YOU  # a ranking opens on its best paper
        self.search.set_filter(name)

    def action_accept_suggestion(self) -> None:
        if self.suggestion:
            bar = self.query_one(SearchBar)
            bar.value = self.suggestion  # Input.Changed runs the search
            bar.cursor_position = len(bar.value)  # type on after the accepted words

    def action_similar(self) -> None:
        key = self.results.current_key
        paper = self.results.paper(key) if key else None
        if paper is not None:
            self.similar_worker(self.search.take_over(), paper.key, paper.title)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def similar_worker(self, generation: int, key: str, title: str) -> None:
        started = time.perf_counter()
        try:
            keys = self.app.with_index(lambda lib: lib.similar(key, limit=50))
            hits = SearchHits(keys, len(keys))
        except Exception as exc:
            hits = SearchHits([], 0, error=f"similar papers: {exc}")
        title = terminal_safe(title, single_line=True)
        short = title if len(title) <= 50 else title[:49] + "…"
        self.post_message(SearchDone(generation, "", hits, time.perf_counter() - started,
                                     note=f"similar to “{short}” (type to search again)"))

    # ---- results and detail ------------------------------------------------------------------

    @on(ResultsList.CursorMoved)
    def _cursor_moved(self, message: ResultsList.CursorMoved) -> None:
        # The list repaints at once; the detail (a relayout of wrapped text) follows when the
        # cursor or the results rest for a moment, so typing and holding j stay quick.
        self.selected_key = message.key
        self._schedule_detail()
        self._maybe_fetch_more()

    def _maybe_fetch_more(self) -> None:
        """Near the end of a capped ranked list: fetch every hit, in a worker."""
        hits = self.hits
        if hits is None or self.note or self._fetching_more or self.search.in_flight \
                or hits.total <= len(self.results.keys) \
                or self.results.cursor < len(self.results.keys) - MORE_WITHIN:
            return
        self._fetching_more = True
        self.more_worker(self.search.generation, self.applied_query or "", self._applied_typing)

    @work(thread=True, exclusive=True, group="more", exit_on_error=False)
    def more_worker(self, generation: int, sent: str, typing: bool) -> None:
        try:
            hits = self.app.with_index(lambda lib: lib.search(sent, limit=None, typing=typing))
        except Exception as exc:  # noqa: BLE001 - shown in the status line, never a crash
            hits = SearchHits([], 0, error=f"search failed: {type(exc).__name__}: {exc}")
        self.post_message(MoreResults(generation, hits))

    @on(MoreResults)
    def _more_results(self, message: MoreResults) -> None:
        self._fetching_more = False
        if message.generation != self.search.generation or message.hits.error:
            return  # typed on meanwhile: that search's own results are on their way
        self.hits = message.hits
        self.result_count = message.hits.total
        self.results.set_results(message.hits.keys, self.terms, keep=True)
        self.status.set(hits=hits_text(message.hits, self.note))

    def _schedule_detail(self) -> None:
        if self._detail_timer is not None:
            self._detail_timer.stop()
        self._detail_timer = self.set_timer(DETAIL_DELAY, self._show_detail)

    def _show_detail(self) -> None:
        self._detail_timer = None
        key = self.results.current_key
        paper = self.results.paper(key) if key else None
        self.detail.show(paper, self.terms, why=self.why_for_you(paper))

    @on(ResultsList.DetailRequested)
    def _detail_requested(self) -> None:
        self.detail.focus()

    @on(ResultsList.MarksChanged)
    def _marks_changed(self, message: ResultsList.MarksChanged) -> None:
        self.status.set(marks=message.count)

    def targets(self) -> list[str]:
        """The marked papers when there are any, else the one under the cursor."""
        results = self.results
        if results.marked:
            return [k for k in results.keys if k in results.marked] or sorted(results.marked)
        return [results.current_key] if results.current_key else []

    def target_papers(self) -> list[Paper]:
        keys = self.targets()
        papers = [self.results.paper(k) for k in keys[:200]]
        if len(keys) > 200:
            papers += self.lib.get_many(keys[200:])
        return [p for p in papers if p is not None]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "accept_suggestion":
            return bool(self.suggestion)
        if action == "import_files" and self.importing:
            return None
        return True

    @property
    def idle(self) -> bool:
        """Nothing left to show: the current query's results are applied, no search waits,
        the detail pane has followed the cursor and every visible row has its paper."""
        return self.applied_query == self.full_query() and self.search.idle \
            and self._detail_timer is None and self.results.rows_ready()

    # ---- state -------------------------------------------------------------------------------

    def state(self) -> dict[str, str]:
        """What comes back on the next launch."""
        return {"last_query": self.query_text, "last_filter": self.filter,
                "last_selected": self.results.current_key or ""}
