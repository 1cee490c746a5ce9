"""MainScreen: search on top, results and detail side by side, status line, footer.

Searching. A keystroke searches at once when no search is running and the last one started at
least `debounce_ms` ago; otherwise the newest query waits, and only it runs when the running
search ends (older queries typed meanwhile are never run). This is a throttle with coalescing
rather than a plain trailing debounce: a trailing debounce adds its whole delay to every
keystroke (120 ms > the 100 ms budget), while this keeps one search in flight at most and
answers an isolated keystroke immediately.

Writes (star, status, tags, notes, import, index flush) run in thread workers on the app's
writer Library; searches on its reader Library (see tui/app.py for why two).
"""

from __future__ import annotations

import time
import webbrowser
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input
from textual.worker import get_current_worker

from index.library import Library, SearchHits
from index.model import STATUSES, Paper, PapershelfError
from tui.textsafe import terminal_safe
from tui.messages import (
    FilterHides,
    ImportDone,
    ImportProgress,
    IndexReady,
    JobFailed,
    MoreResults,
    ResolveDone,
    SyncDone,
    PapersChanged,
    SearchDone,
)
from tui.screens.morning import FOR_YOU, MorningActions
from tui.widgets.detail_pane import DetailPane
from tui.widgets.footer import ShelfFooter
from tui.widgets.results_list import ResultsList
from tui.widgets.search_bar import SearchBar
from tui.widgets.status_line import StatusLine
from tui.widgets.welcome import Welcome

FILTERS = {"all": "", "starred": "is:starred", "unread": "is:unread", "reading": "is:reading",
           FOR_YOU: "is:unread"}
FILTER_LABELS = {FOR_YOU: "for you"}
SEARCH_CAP = 500  # text searches show this many ranked hits first (status: "500 of N")...
MORE_WITHIN = 50  # ...and the rest once the cursor comes this close to the end of them
FIRST_PAGE = 200  # rows listed before the whole list is counted
TYPING_PAUSE = 0.3  # seconds without a keystroke after which the last word counts as finished
DETAIL_DELAY = 0.06  # seconds the cursor rests before the detail pane follows it
WATCH_EVERY = 0.5  # seconds between looks for changes committed by other processes
OWN_CHANGE_SECONDS = 5.0  # how long a paper changed here counts as this app's change
FLUSH_DELAY = 1.5  # seconds after the last tag/note edit before the index catches up

# The modal screens other modules provide; a key whose screen is missing stays hidden.
MODALS = {
    "tag_add": "tui.screens.tag_prompt",
    "tag_remove": "tui.screens.tag_prompt",
    "note": "tui.screens.note_editor",
    "export": "tui.screens.export_dialog",
    "import_files": "tui.screens.import_screen",
}
# n opens tui.screens.note_conflict instead of the editor when sync left a note conflict


def available(module: str) -> bool:
    try:
        return find_spec(module) is not None
    except ModuleNotFoundError:
        return False


class MainScreen(MorningActions, Screen):
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

    def __init__(self, *, query: str = "", filter: str = "all", selected: str | None = None,
                 debounce_ms: int = 120) -> None:
        super().__init__()
        self.query_text = query
        self.filter = filter if filter in FILTERS else "all"
        self._select = selected
        self.debounce = max(debounce_ms, 0) / 1000
        self.terms: set[str] = set()
        self.suggestion: str | None = None
        self.hits: SearchHits | None = None
        self.note = ""  # "similar to ..." while similar papers are shown
        self._fetching_more = False
        self._generation = 0
        self._in_flight = False
        self._last_start = 0.0
        self._search_timer: Timer | None = None
        self._pause_timer: Timer | None = None
        self._typing = False  # the last word may still be being typed (see _query_changed)
        self.typing_pause = TYPING_PAUSE
        self._flush_timer: Timer | None = None
        self._detail_timer: Timer | None = None
        self._importing = False
        self._all_keys: list[str] | None = None  # the unfiltered listing, newest first
        self._keep_selection = True  # the restored selection, then after filters and imports
        self.last_search_seconds = 0.0
        self.applied_query: str | None = None  # the full query whose results are shown
        self._applied_typing = False  # ...and whether its last word was still being typed
        self.applied_at = 0.0  # perf_counter() when they were applied (tests, benchmarks)
        self.changed_at = 0.0
        # papers this app changed lately (key -> monotonic time): for them the watcher only
        # redraws rows, never searches again; forgotten after OWN_CHANGE_SECONDS
        self._own_keys: dict[str, float] = {}
        self._data_version = 0
        self._op_mark = 0

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
        self.status.suggestion_key = self._key_for("accept-suggestion", "ctrl+d")
        empty = not self.lib.list_papers(limit=1)
        self._show_welcome(empty)
        self.status.set(filter=_filter_label(self.filter))
        self.results.focus()
        self.request_search(immediate=True)
        self.index_worker()
        self._data_version = self.lib.data_version()
        self._op_mark = self.lib.op_mark()
        self.set_interval(WATCH_EVERY, self.watch_other_processes)
        if self.app.config.get("daily", "fetch_on_start"):
            self.action_fetch_daily()

    # ---- changes made by other processes -------------------------------------------------------

    def watch_other_processes(self) -> None:
        """Show what another papershelf (a command, a sync) committed: two small SQLite reads
        while nothing changed; on a change, only the changed rows are redrawn, and the list is
        searched again only when it may no longer hold the same papers."""
        if self._importing:
            return  # the import's own end redraws everything
        try:
            version = self.lib.data_version()
            if version == self._data_version:
                return
            self._data_version = version
            self._op_mark, changes = self.lib.changes_since(self._op_mark)
        except Exception:  # noqa: BLE001 - a busy or swapped file: look again next time
            return
        if len(changes) > 1000:  # a big import or sync elsewhere: redraw as after our own
            self._seen_everything()
            self._all_keys = None
            self._keep_selection = True
            self._show_welcome(not self.lib.list_papers(limit=1))
            self.results.invalidate(list(self.results.keys))
            self.request_search(immediate=True)
            return
        keys = {key for key, _ in changes}
        now = time.monotonic()
        self._own_keys = {k: t for k, t in self._own_keys.items() if now - t < OWN_CHANGE_SECONDS}
        self.results.invalidate(list(keys))  # rows show what the store holds now
        if self.results.current_key in keys:
            self._schedule_detail()
        foreign = keys - self._own_keys.keys()
        if not foreign:
            return  # this app's own changes: it keeps such papers in its list until it searches
        reshaped = any(kind != "set" and kind != "tag" for key, kind in changes if key in foreign)
        if reshaped or self.filter != "all" or self.query_text.strip():
            self._all_keys = None
            self._keep_selection = True
            self._show_welcome(not self.lib.list_papers(limit=1))
            self.request_search(immediate=True)

    def _show_welcome(self, empty: bool) -> None:
        self.query_one(Welcome).display = empty
        self.results.display = not empty
        self.detail.display = not empty

    def _key_for(self, binding_id: str, default: str) -> str:
        keys = getattr(self.app, "_keymap", {}).get(binding_id)
        return keys.split(",")[0] if keys else default

    # ---- searching ---------------------------------------------------------------------------

    def full_query(self) -> str:
        """What is sent to the library, as `papershelf search` would be given it: the quick
        filter's words first (so the word being typed stays last), then the text as typed.
        The library parses it; the screen never does."""
        return " ".join(part for part in (FILTERS[self.filter], self.query_text) if part)

    @on(Input.Changed, "#search")
    def _query_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self.note = ""
        # While keys come in, the last word matches title and author word starts; once
        # typing pauses, every word matches everywhere, as on the command line.
        self._typing = True
        if self._pause_timer is not None:
            self._pause_timer.stop()
        self._pause_timer = self.set_timer(self.typing_pause, self._typing_paused)
        self.request_search()

    def _typing_paused(self) -> None:
        self._pause_timer = None
        self._finish_typing()

    def _finish_typing(self) -> None:
        if self._typing:
            self._typing = False
            self._keep_selection = True  # the same text, now finished: stay on the paper
            self.request_search(immediate=True)

    @on(SearchBar.Leave)
    def _leave_search(self) -> None:
        if self._pause_timer is not None:
            self._pause_timer.stop()
            self._pause_timer = None
        self._finish_typing()  # Enter finishes the word as a pause does
        self.results.focus()

    def request_search(self, immediate: bool = False) -> None:
        """Ask for the results of the current query (see the module docstring)."""
        self._generation += 1
        if self._search_timer is not None:
            self._search_timer.stop()
            self._search_timer = None
        if self._in_flight:
            return  # the running search starts the newest one when it ends
        wait = 0.0 if immediate else self._last_start + self.debounce - time.monotonic()
        if wait <= 0:
            self._start_search()
        else:
            self._search_timer = self.set_timer(wait, self._start_search)

    def _start_search(self) -> None:
        self._search_timer = None
        self._in_flight = True
        self._last_start = time.monotonic()
        self.search_worker(self._generation, self.full_query(), self._typing)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def search_worker(self, generation: int, query: str, typing: bool) -> None:
        worker = get_current_worker()
        started = time.perf_counter()
        note = ""
        try:
            kind = self.lib.query_kind(query, typing=typing)
            if self.filter == FOR_YOU:
                self.app.index_ready.wait()  # the ranking reads the index's word statistics
                hits, note = self.app.with_index(
                    lambda lib: self.for_you_hits(lib, query, typing))
            elif kind != "words":
                hits = self._list_everything(generation, query, typing, worker, kind == "all")
            else:
                self.app.index_ready.wait()  # the start-up check may be rebuilding it
                hits = self.app.with_index(lambda lib: _search(lib, query, typing))
        except PapershelfError as exc:
            hits = SearchHits([], 0, error=str(exc))
        except Exception as exc:  # a damaged index must not take the app down
            hits = SearchHits([], 0, error=f"search failed: {type(exc).__name__}: {exc}")
        if not worker.is_cancelled:
            note = note if generation == self._generation else ""  # a note keeps stale hits
            self.post_message(SearchDone(generation, query, hits, time.perf_counter() - started,
                                         note=note, typing=typing))
            self._count_hidden(generation, query, typing, hits, worker)

    def _count_hidden(self, generation: int, sent: str, typing: bool, hits: SearchHits,
                      worker) -> None:
        """With a quick filter on, count the matches without it, so the status line can say
        what the filter hides (after the results: they must not wait for this)."""
        condition = FILTERS[self.filter]
        if self.filter == FOR_YOU:
            return  # a ranking, not a filter: nothing it "hides"
        text = sent[len(condition):].strip() if condition and sent.startswith(condition) else ""
        if not text or hits.error or worker.is_cancelled \
                or self.lib.query_kind(text, typing=typing) != "words":
            return  # (cancelled: typed on; the newer search counts for itself)
        try:
            total = self.app.with_index(lambda lib: lib.search(text, limit=1, typing=typing))
        except Exception:  # noqa: BLE001 - only a hint; the results are already shown
            return
        if not worker.is_cancelled and not total.error and total.total > hits.total:
            self.post_message(FilterHides(generation, total.total))

    @on(FilterHides)
    def _filter_hides(self, message: FilterHides) -> None:
        if message.generation != self._generation or self.hits is None or self.note:
            return
        self.status.set(hits=filter_hint(self.hits, message.unfiltered_total, self.filter,
                                         self._key_for("filter-all", "1")))

    def _list_everything(self, generation: int, query: str, typing: bool, worker,
                         unfiltered: bool) -> SearchHits:
        """Filters alone list every paper, newest first. The whole key list takes ~0.4-1 s at
        100k papers, so the first page goes out at once and the full list follows; the
        unfiltered list is kept until an import changes it."""
        if unfiltered and self._all_keys is not None:
            return SearchHits(self._all_keys, len(self._all_keys))
        first = self.app.with_index(lambda lib: lib.first_page(query, FIRST_PAGE, typing=typing))
        if first is not None and not worker.is_cancelled:
            self.post_message(SearchDone(generation, query, SearchHits(first, len(first)),
                                         0.0, partial=True))
        hits = self.app.with_index(lambda lib: lib.search(query, limit=None, typing=typing))
        if unfiltered and not hits.error:
            self._all_keys = hits.keys
        return hits

    @on(SearchDone)
    def _search_done(self, message: SearchDone) -> None:
        if message.partial:
            if message.generation == self._generation:
                self.results.set_results(message.hits.keys, (), select=self._select,
                                         keep=self._keep_selection)
                self._keep_selection = True  # the full list keeps where the person moved to
                self.status.set(hits=f"{len(message.hits.keys):,}+ papers (counting)")
            return
        self._in_flight = False
        if message.generation != self._generation and not message.note:
            self._start_search()  # typed on meanwhile: run only the newest query
            return
        self.last_search_seconds = message.seconds
        self.applied_query, self.applied_at = message.query, time.perf_counter()
        self._applied_typing = message.typing
        hits = message.hits
        if hits.error:
            self.status.set(error=_one_line(hits.error), suggestion=None)
            return
        had_suggestion = bool(self.suggestion)
        self.hits, self.terms, self.suggestion = hits, set(hits.terms), hits.suggestion
        self.note = message.note
        # a new query shows its best hit first; a filter or an import keeps the paper in view
        self.results.set_results(hits.keys, self.terms, select=self._select,
                                 keep=self._keep_selection)
        self._select, self._keep_selection = None, False
        self.status.set(hits=self._hits_text(hits), suggestion=hits.suggestion, note=self.note,
                        error=_one_line(hits.hint) if hits.hint else "")
        if not hits.keys:
            self.detail.show(None)
        if had_suggestion != bool(hits.suggestion):
            self.refresh_bindings()  # the footer's ctrl+d (rebuilding the footer is not free)

    def _hits_text(self, hits: SearchHits) -> str:
        noun = "match" if hits.terms or self.note else "paper"
        shown = f"{len(hits.keys):,} of {hits.total:,}" if hits.total > len(hits.keys) \
            else f"{hits.total:,}"
        return f"{shown} {noun}{'' if hits.total == 1 else ('es' if noun == 'match' else 's')}"

    def action_focus_search(self) -> None:
        self.query_one(SearchBar).focus()

    def action_focus_results(self) -> None:
        self.results.focus()

    def action_filter(self, name: str) -> None:
        self.filter = name
        self._keep_selection = name != FOR_YOU  # a ranking opens on its best paper
        self.status.set(filter=_filter_label(name))
        self.request_search(immediate=True)

    def action_accept_suggestion(self) -> None:
        if self.suggestion:
            bar = self.query_one(SearchBar)
            bar.value = self.suggestion  # Input.Changed runs the search
            bar.cursor_position = len(bar.value)  # type on after the accepted words

    # ---- results and detail ------------------------------------------------------------------

    @on(ResultsList.CursorMoved)
    def _cursor_moved(self, message: ResultsList.CursorMoved) -> None:
        # The list repaints at once; the detail (a relayout of wrapped text) follows when the
        # cursor or the results rest for a moment, so typing and holding j stay quick.
        self._schedule_detail()
        self._maybe_fetch_more()

    def _maybe_fetch_more(self) -> None:
        """Near the end of a capped ranked list: fetch every hit, in a worker."""
        hits = self.hits
        if hits is None or self.note or self._fetching_more or self._in_flight \
                or hits.total <= len(self.results.keys) \
                or self.results.cursor < len(self.results.keys) - MORE_WITHIN:
            return
        self._fetching_more = True
        self.more_worker(self._generation, self.applied_query or "", self._applied_typing)

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
        if message.generation != self._generation or message.hits.error:
            return  # typed on meanwhile: that search's own results are on their way
        self.hits = message.hits
        self.results.set_results(message.hits.keys, self.terms, keep=True)
        self.status.set(hits=self._hits_text(message.hits))

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
        if action in MODALS and not available(MODALS[action]):
            return False
        if action == "accept_suggestion":
            return bool(self.suggestion)
        if action == "import_files" and self._importing:
            return None
        return True

    # ---- changes -----------------------------------------------------------------------------

    def change(self, keys: list[str], apply: Callable[[Library, list[str]], object],
               summary: str, searchable: bool = False, index: bool = False) -> None:
        """Write a change for these papers in a worker, then repaint their rows."""
        if keys:
            self._own_keys.update(dict.fromkeys(keys, time.monotonic()))  # see watch_other_...
            self.write_worker(keys, apply, summary, searchable, index)

    @work(thread=True, group="write", exit_on_error=False)
    def write_worker(self, keys: list[str], apply, summary: str, searchable: bool,
                     index: bool = False) -> None:
        run = self.app.with_index if index else self.app.with_store
        try:
            run(lambda lib: apply(lib, keys))
        except PapershelfError as exc:
            self.post_message(JobFailed(summary, str(exc)))
            summary = ""  # the rows are redrawn from the store: as they were
        self.post_message(PapersChanged(keys, summary, searchable))

    @on(PapersChanged)
    def _papers_changed(self, message: PapersChanged) -> None:
        self.changed_at = time.perf_counter()  # the store has it (tests, benchmarks)
        self.results.invalidate(message.keys)
        if self.results.current_key in message.keys:
            self._schedule_detail()
        if message.summary:
            self.status.set(message=message.summary)
        if message.searchable:
            self.schedule_flush()

    @on(JobFailed)
    def _job_failed(self, message: JobFailed) -> None:
        self.status.set(message=_one_line(message.error))
        self.notify(_one_line(message.error), title="Not done", severity="error", markup=False)

    def schedule_flush(self) -> None:
        """Tags and notes become searchable once the index is flushed: batch the edits."""
        if self._flush_timer is not None:
            self._flush_timer.stop()
        self._flush_timer = self.set_timer(FLUSH_DELAY, self.flush_worker)

    @work(thread=True, group="flush", exit_on_error=False)
    def flush_worker(self) -> None:
        try:
            self.app.with_index(lambda lib: lib.try_flush_index())
        except Exception as exc:
            self.post_message(JobFailed("updating the search index", str(exc)))

    def _preview_detail(self, keys: list[str]) -> None:
        if self.results.current_key in keys:
            self._schedule_detail()  # after the row has painted: the row is what must be quick

    def action_star(self) -> None:
        papers = self.target_papers()
        if not papers:
            return
        value = not all(p.starred for p in papers)
        what = "starred" if value else "unstarred"
        self.results.preview([p.key for p in papers], starred=value)
        self._preview_detail([p.key for p in papers])
        self.change([p.key for p in papers], lambda lib, keys: lib.set_star_many(keys, value),
                    f"{what} {_count(papers)}")

    def action_cycle_status(self) -> None:
        papers = self.target_papers()
        if not papers:
            return
        first = papers[0].status
        following = STATUSES[(STATUSES.index(first) + 1) % len(STATUSES)]
        self.results.preview([p.key for p in papers], status=following)
        self._preview_detail([p.key for p in papers])
        self.change([p.key for p in papers],
                    lambda lib, keys: [lib.set_status(key, following) for key in keys],
                    f"{_count(papers)} now {following}")

    def action_tag_add(self) -> None:
        from tui.screens.tag_prompt import TagPrompt

        papers = self.target_papers()
        if not papers:
            return

        def done(tag: str | None) -> None:
            if tag and tag.strip():
                self.change([p.key for p in papers],
                            lambda lib, keys: [lib.add_tag(key, tag) for key in keys],
                            f"tagged {_count(papers)} {tag.strip()}", searchable=True)

        # most used first: the completion offers the likely tag before the rare one
        existing = [name for name, _ in sorted(self.lib.all_tags(), key=lambda t: -t[1])]
        self.app.push_screen(TagPrompt(f"Add a tag to {_count(papers)}", existing), done)

    def action_tag_remove(self) -> None:
        from tui.screens.tag_prompt import TagPrompt

        papers = self.target_papers()
        tags = sorted({t for p in papers for t in p.tags})
        if not tags:
            self.status.set(message="no tags to remove")
            return

        def done(tag: str | None) -> None:
            if tag and tag.strip():
                self.change([p.key for p in papers],
                            lambda lib, keys: [lib.remove_tag(key, tag) for key in keys],
                            f"removed tag {tag.strip()} from {_count(papers)}", searchable=True)

        self.app.push_screen(TagPrompt(f"Remove a tag from {_count(papers)}", tags,
                                       must_choose=True), done)

    def action_note(self) -> None:
        from tui.screens.note_editor import NoteEditor

        key = self.results.current_key
        # read afresh: another papershelf may have saved this note since the row was drawn
        paper = self.lib.get(key) if key else None
        if paper is None:
            return
        conflict = note_conflict(self.lib, paper.key)
        if conflict is not None:
            self._resolve_note_conflict(paper, conflict)
            return
        opened = self.lib.note_version(paper.key)

        def done(text: str | None) -> None:
            if text is not None and text != paper.note:
                self._own_keys[paper.key] = time.monotonic()
                self.note_worker(paper.key, text, opened)

        self.app.push_screen(NoteEditor(paper.title, paper.note or ""), done)

    @work(thread=True, group="write", exit_on_error=False)
    def note_worker(self, key: str, text: str, opened: str | None) -> None:
        """Save a note only over the version the editor opened (compare-and-set)."""
        try:
            outcome = self.app.with_store(lambda lib: lib.save_note(key, text, opened))
        except PapershelfError as exc:
            self.post_message(JobFailed("note", str(exc)))
            self.post_message(PapersChanged([key]))
            return
        summary = {"conflict": "the note changed meanwhile: both versions kept",
                   "merged": "note saved, merged with a change made meanwhile"}.get(
                       outcome, "note saved")
        self.post_message(PapersChanged([key], summary, searchable=True))
        if outcome == "conflict":
            self.app.call_from_thread(self._show_note_conflict, key)

    def _show_note_conflict(self, key: str) -> None:
        paper = self.lib.get(key)
        conflict = note_conflict(self.lib, key) if paper else None
        if conflict is not None:
            self._resolve_note_conflict(paper, conflict)

    def _resolve_note_conflict(self, paper: Paper, conflict) -> None:
        """Two devices edited this note at once (sync): choose what to keep first."""
        from index.sync import resolve_conflict
        from tui.screens.note_conflict import NoteConflictScreen

        def done(text: str | None) -> None:
            if text is not None:  # resolve_conflict flushes the index: the index owner runs it
                self.change([paper.key], lambda lib, keys: resolve_conflict(lib, keys[0], keep="merged",
                                                                     text=text),
                            "note conflict resolved", index=True)

        self.app.push_screen(NoteConflictScreen(paper.title, conflict.local, conflict.remote,
                                                conflict.merged, len(conflict.heads) - 1), done)

    # ---- copy, open, similar -----------------------------------------------------------------

    def action_copy_citekey(self) -> None:
        papers = self.target_papers()
        text = ", ".join(p.citekey or p.key for p in papers)
        self.copy(text, f"citation key{'s' if len(papers) > 1 else ''} {text}", papers)

    def action_copy_bibtex(self) -> None:
        from index.export.bibtex import export_bibtex

        papers = self.target_papers()
        if papers:
            self.copy(export_bibtex(papers), f"BibTeX for {_count(papers)}", papers)

    def action_copy_markdown(self) -> None:
        from index.clipboard import markdown_link

        papers = self.target_papers()
        if papers:
            self.copy("\n".join(markdown_link(p) for p in papers),
                      f"Markdown link{'s' if len(papers) > 1 else ''} for {_count(papers)}")

    def copy(self, text: str, what: str, citing: list[Paper] = ()) -> None:
        if text:
            self.copy_worker(text, what, [p.key for p in citing])

    @work(thread=True, group="copy", exit_on_error=False)
    def copy_worker(self, text: str, what: str, citing: list[str] = ()) -> None:
        from index.clipboard import copied_message, copy_text

        app = self.app

        def osc52(value: str) -> None:
            app.call_from_thread(app.copy_to_clipboard, value)

        try:
            method = copy_text(text, osc52=osc52)
            if citing:  # a copied citation key is used: it never changes again
                self.app.with_store(lambda lib: lib.citekeys_used(citing))
        except PapershelfError as exc:
            self.post_message(JobFailed("copy", str(exc)))
            return
        app.call_from_thread(self.status.set, message=copied_message(what, method))

    def action_open_url(self) -> None:
        key = self.results.current_key
        paper = self.results.paper(key) if key else None
        target = paper.page_to_open() if paper else None
        if target is None:
            self.status.set(message="this paper has no arXiv id and no link to open")
            return
        self.open_worker(*target)

    @work(thread=True, group="open", exit_on_error=False)
    def open_worker(self, url: str, what: str = "") -> None:
        opened = webbrowser.open(url)
        done = f"opened {what}: " if opened else f"could not open {what}: "
        self.app.call_from_thread(self.status.set, message=done + terminal_safe(url))

    def action_resolve(self) -> None:
        """Look the marked papers (or the current one) up on arXiv by title."""
        keys = self.targets()
        if keys:
            self.status.progress(0, len(keys), "asking arXiv")
            self.resolve_worker(keys)

    @work(thread=True, group="resolve", exit_on_error=False)
    def resolve_worker(self, keys: list[str]) -> None:
        # Its own connection, as another papershelf process would: the searches go on.
        try:
            with Library.open(self.lib.data_dir) as lib:
                report = lib.find_on_arxiv(keys, progress=lambda done, total: self.post_message(
                    ImportProgress(done, total, "asking arXiv")))
        except PapershelfError as exc:
            self.post_message(ResolveDone(error=str(exc)))
            return
        except Exception as exc:  # noqa: BLE001 - said in the status line, never silence
            self.post_message(ResolveDone(error=f"resolve failed: {type(exc).__name__}: {exc}"))
            return
        self.post_message(ResolveDone(report))

    @on(ResolveDone)
    def _resolve_done(self, message: ResolveDone) -> None:
        self.status.progress_done()
        report = message.report
        if report is None or (report.error and not report.requests):
            self.status.set(message=_one_line(message.error or report.error))
            return
        stopped = f" (stopped: {report.error})" if report.error else ""
        self.status.set(message=_one_line(f"arXiv: {report.summary()}{stopped}"))
        self._all_keys = None
        self._keep_selection = True
        self.results.invalidate(list(self.results.keys))
        self.request_search(immediate=True)

    def action_similar(self) -> None:
        key = self.results.current_key
        paper = self.results.paper(key) if key else None
        if paper is not None:
            self._generation += 1
            self._in_flight = True
            self.similar_worker(self._generation, paper.key, paper.title)

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

    # ---- import and export -------------------------------------------------------------------

    def action_import_files(self) -> None:
        from tui.screens.import_screen import ImportScreen

        def done(paths: list[Path] | None) -> None:
            if paths:
                self._importing = True
                self.refresh_bindings()
                self.status.progress(0, 1)
                self.import_worker(list(paths))

        self.app.push_screen(ImportScreen(), done)

    @work(thread=True, group="import", exit_on_error=False)
    def import_worker(self, paths: list[Path]) -> None:
        def progress(done: int, total: int) -> None:
            self.post_message(ImportProgress(done, total))

        try:
            report = self.app.with_index(lambda lib: lib.import_files(paths, progress=progress))
        except PapershelfError as exc:
            self.post_message(ImportDone(None, str(exc)))
            return
        except Exception as exc:  # noqa: BLE001 - the import ends either way, and i works again
            self.post_message(ImportDone(None, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(ImportDone(report))

    @on(ImportProgress)
    def _import_progress(self, message: ImportProgress) -> None:
        self.status.progress(message.done, message.total, message.label)
        if message.label == "importing" and message.done >= message.total:
            # every paper is stored; the search index update follows and takes a while
            self.status.set(message="indexing the imported papers…")

    @work(thread=True, group="index", exit_on_error=False)
    def index_worker(self) -> None:
        """Check the search index once, off the UI thread; rebuild it when missing or old.

        Text searches wait for this (filters alone never need the index), so the reader never
        starts a second rebuild of its own."""
        def check(lib: Library) -> bool:
            if lib.index_ready():
                return False
            if not lib.list_papers(limit=1):
                lib.reindex()  # an empty index for an empty library: nothing to tell
                return False
            lib.reindex(progress=lambda done, total: self.post_message(
                ImportProgress(done, total, "building the search index")))
            return True

        try:
            self.app.with_store(lambda lib: None)  # open it now: the first star is then quick
            rebuilt = self.app.with_index(check)
            self.app.with_index(lambda lib: lib.index)  # open it for the first search
            self.post_message(IndexReady(rebuilt, advice=self.app.with_store(
                lambda lib: lib.engine_advice())))
        except Exception as exc:
            self.post_message(IndexReady(False, str(exc)))
        finally:
            self.app.index_ready.set()

    @on(IndexReady)
    def _index_ready(self, message: IndexReady) -> None:
        if message.error:
            self.status.progress_done()
            self.status.set(message=f"search index: {_one_line(message.error)}")
        elif message.rebuilt:
            self.status.progress_done()
            self.status.set(message="search index rebuilt")
            self._keep_selection = True
            self.request_search(immediate=True)
        if message.advice:
            self.status.set(message=message.advice)

    @on(SyncDone)
    def _sync_done(self, message: SyncDone) -> None:
        if message.report is None:
            self.status.set(message=f"sync failed: {_one_line(message.error or '')}")
            return
        report = message.report
        self.status.set(message="synced: " + report.summary())
        if report.conflicts:
            self.notify(f"{report.conflicts} note conflict(s): press n on the paper to resolve",
                        title="Sync", severity="warning", markup=False)
        if report.received:  # other devices' changes: show them as after an import
            self._seen_everything()
            self._show_welcome(not self.lib.list_papers(limit=1))
            self._all_keys = None
            self.results.invalidate(list(self.results.keys))
            self.request_search(immediate=True)

    @on(ImportDone)
    def _import_done(self, message: ImportDone) -> None:
        self._importing = False
        self._all_keys: list[str] | None = None  # the unfiltered listing, newest first
        self._keep_selection = True  # the restored selection, then after filters and imports
        self.refresh_bindings()
        self.status.progress_done()
        if message.report is None:
            self.status.set(message=f"import failed: {_one_line(message.error or '')}")
            return
        report = message.report
        self.status.set(message="imported: " + report.summary())
        for problem in report.rejected[:3]:
            self.notify(_one_line(str(problem)), title="Rejected", severity="warning",
                        markup=False)
        self._show_welcome(not self.lib.list_papers(limit=1))
        self._all_keys = None
        self._keep_selection = True
        self._seen_everything()
        self.request_search(immediate=True)

    def _seen_everything(self) -> None:
        """About to search and redraw anyway: the change watcher may skip what came so far."""
        self._data_version = self.lib.data_version()
        self._op_mark = self.lib.op_mark()

    def action_export(self) -> None:
        from tui.screens.export_dialog import ExportDialog, ExportScope

        results = self.results
        scopes = []
        if results.marked:
            scopes.append(ExportScope("marked", len(results.marked)))
        scopes.append(ExportScope("results", len(results.keys)))
        scopes.append(ExportScope("starred", len(self.lib.list_papers(starred=True))))
        current = results.paper(results.current_key) if results.current_key else None
        tags = sorted(self.lib.all_tags(), key=lambda item: -item[1])  # most used first
        if tags:  # the dialog's tag picker starts at this paper's first tag
            tag = current.tags[0] if current and current.tags else tags[0][0]
            scopes.append(ExportScope("tag", dict(tags).get(tag, 0), tag=tag))
        scopes.append(ExportScope("all", len(self.lib.search("", limit=None).keys)))
        marked = [k for k in results.keys if k in results.marked] or sorted(results.marked)
        shown = list(results.keys)

        def done(request) -> None:
            if request is not None:
                self.export_worker(request, marked, shown)

        self.app.push_screen(ExportDialog(scopes, directory=Path.cwd(), tags=tags), done)

    @work(thread=True, group="export", exit_on_error=False)
    def export_worker(self, request, marked: list[str], shown: list[str]) -> None:
        from index.export import ExportOptions, write_export

        def papers_for(lib: Library) -> list[Paper]:
            kind = request.scope.kind
            if kind == "marked":
                return lib.get_many(marked)
            if kind == "results":
                return lib.get_many(shown)
            if kind == "starred":
                return lib.list_papers(starred=True)
            if kind == "tag":
                return lib.list_papers(tag=request.scope.tag)
            return list(lib.all_papers())

        try:
            papers = self.app.with_index(papers_for)
            options = ExportOptions(group_by=request.group_by, with_notes=request.with_notes)
            summary = write_export(papers, request.format, request.path, options)
            self.app.with_store(lambda lib: lib.citekeys_used([p.key for p in papers]))
        except PapershelfError as exc:
            self.post_message(JobFailed("export", str(exc)))
            return
        self.app.call_from_thread(self.status.set, message=summary)

    # ---- state -------------------------------------------------------------------------------

    def state(self) -> dict[str, str]:
        """What comes back on the next launch."""
        return {"last_query": self.query_text, "last_filter": self.filter,
                "last_selected": self.results.current_key or ""}


def note_conflict(lib: Library, key: str):
    """The sync note conflict waiting on this paper, if any (None without sync)."""
    if not available("index.sync"):
        return None
    from index.sync import pending_conflicts

    return next((c for c in pending_conflicts(lib) if c.key == key), None)


def _search(lib: Library, query: str, typing: bool) -> SearchHits:
    hits = lib.search(query, limit=SEARCH_CAP, typing=typing)
    if typing and not hits.total and not hits.error and not hits.suggestion:
        # the word being typed is a prefix, which has no spelling suggestion: ask the
        # finished query for one (only when nothing matched, so it costs nothing else)
        whole = lib.search(query, limit=1)
        hits.suggestion = whole.suggestion if not whole.error else None
    return hits


def filter_hint(hits: SearchHits, unfiltered_total: int, filter_name: str, all_key: str) -> str:
    """ "0 of 3 matches: the unread filter hides them; 1 shows all" """
    hidden = unfiltered_total - hits.total
    them = "them" if hits.total == 0 else ("1" if hidden == 1 else f"{hidden:,}")
    return (f"{hits.total:,} of {unfiltered_total:,} matches: the {filter_name} filter hides "
            f"{them}; {all_key} shows all")


def _filter_label(name: str) -> str:
    return "" if name == "all" else FILTER_LABELS.get(name, name)


def _count(papers: list) -> str:
    return f"{len(papers)} paper{'s' if len(papers) != 1 else ''}"


def _one_line(text: str) -> str:
    return terminal_safe(text, single_line=True)
