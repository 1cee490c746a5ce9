"""SearchController: what the main screen searches for, and when; and the search itself.

When. A keystroke searches at once when no search is running and the last one started at
least `debounce` seconds ago; otherwise the newest query waits, and only it runs when the
running search ends (older queries typed meanwhile are never run). This is a throttle with
coalescing rather than a plain trailing debounce: a trailing debounce adds its whole delay to
every keystroke (120 ms > the 100 ms budget), while this keeps one search in flight at most and
answers an isolated keystroke immediately. While keys come in, the last word is still being
typed (it matches title and author word starts); after `typing_pause` seconds without a key,
or on Enter, it counts as finished and the query runs again as the command line would run it.

What. `find` and `count_without_filter` run in the screen's search worker: they take the
Library calls they need as arguments, so they (and the controller, given a fake `schedule`)
are tested without an App.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from index.library import Library, SearchHits

FOR_YOU = "foryou"
FILTERS = {"all": "", "starred": "is:starred", "unread": "is:unread", "reading": "is:reading",
           FOR_YOU: "is:unread"}
FILTER_LABELS = {FOR_YOU: "for you"}
SEARCH_CAP = 500  # text searches show this many ranked hits first (status: "500 of N")...
MORE_WITHIN = 50  # ...and the rest once the cursor comes this close to the end of them
FIRST_PAGE = 200  # rows listed before the whole list is counted
TYPING_PAUSE = 0.3  # seconds without a keystroke after which the last word counts as finished


class Timer(Protocol):
    def stop(self) -> None: ...


# schedule(delay, callback) -> a Timer; the screen passes its set_timer
Schedule = Callable[[float, Callable[[], None]], Timer]
# start(generation, full query, typing): the screen starts its search worker
Start = Callable[[int, str, bool], None]


class SearchController:
    """The throttle (see the module docstring). Every request bumps `generation`; a result
    carries the generation it was started for, so a stale one is recognised."""

    def __init__(self, start: Start, schedule: Schedule, *, text: str = "",
                 filter_name: str = "all", debounce: float = 0.12,
                 typing_pause: float = TYPING_PAUSE,
                 on_typing_finished: Callable[[], None] = lambda: None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._start_worker = start
        self._on_typing_finished = on_typing_finished
        self._schedule = schedule
        self._clock = clock
        self.text = text
        self.filter_name = filter_name if filter_name in FILTERS else "all"
        self.debounce = max(debounce, 0.0)
        self.typing_pause = typing_pause
        self.typing = False  # the last word may still be being typed
        self.generation = 0
        self.in_flight = False
        self.search_timer: Timer | None = None
        self.pause_timer: Timer | None = None
        self._last_start = -float("inf")
        self.all_keys: list[str] | None = None  # the unfiltered listing, newest first

    def full_query(self) -> str:
        """What is sent to the library, as `papershelf search` would be given it: the quick
        filter's words first (so the word being typed stays last), then the text as typed.
        The library parses it; the screen never does."""
        return " ".join(part for part in (FILTERS[self.filter_name], self.text) if part)

    @property
    def idle(self) -> bool:
        """No search running or waiting to run."""
        return not self.in_flight and self.search_timer is None

    def text_changed(self, text: str) -> None:
        self.text = text
        self.typing = True
        if self.pause_timer is not None:
            self.pause_timer.stop()
        self.pause_timer = self._schedule(self.typing_pause, self._typing_paused)
        self.request()

    def _typing_paused(self) -> None:
        self.pause_timer = None
        self.finish_typing()

    def finish_typing(self) -> bool:
        """Enter or a pause: the last word is finished. True when that searches again."""
        if self.pause_timer is not None:
            self.pause_timer.stop()
            self.pause_timer = None
        if not self.typing:
            return False
        self.typing = False
        self._on_typing_finished()
        self.request(immediate=True)
        return True

    def set_filter(self, name: str) -> None:
        self.filter_name = name
        self.request(immediate=True)

    def request(self, immediate: bool = False) -> None:
        """Ask for the results of the current query."""
        self.generation += 1
        if self.search_timer is not None:
            self.search_timer.stop()
            self.search_timer = None
        if self.in_flight:
            return  # the running search starts the newest one when it ends
        wait = 0.0 if immediate else self._last_start + self.debounce - self._clock()
        if wait <= 0:
            self.start()
        else:
            self.search_timer = self._schedule(wait, self.start)

    def start(self) -> None:
        self.search_timer = None
        self.in_flight = True
        self._last_start = self._clock()
        self._start_worker(self.generation, self.full_query(), self.typing)

    def take_over(self) -> int:
        """Another job (similar papers) fills the list instead of a search: the generation it
        answers for."""
        self.generation += 1
        self.in_flight = True
        return self.generation

    def finished(self, generation: int, keep_stale: bool = False) -> bool:
        """A search ended. False when it is stale: then the newest query starts now (unless
        `keep_stale`: a result with a note, such as similar papers, is shown anyway)."""
        self.in_flight = False
        if generation != self.generation and not keep_stale:
            self.start()  # typed on meanwhile: run only the newest query
            return False
        return True

    def forget_listing(self) -> None:
        """The library changed: the cached unfiltered listing is out of date."""
        self.all_keys = None


# ---- the search, in the search worker -----------------------------------------------------

def search_words(lib: Library, query: str, typing: bool) -> SearchHits:
    """A text search: the best SEARCH_CAP hits, and a spelling suggestion when none match."""
    hits = lib.search(query, limit=SEARCH_CAP, typing=typing)
    if typing and not hits.total and not hits.error and not hits.suggestion:
        # the word being typed is a prefix, which has no spelling suggestion: ask the
        # finished query for one (only when nothing matched, so it costs nothing else)
        whole = lib.search(query, limit=1)
        hits.suggestion = whole.suggestion if not whole.error else None
    return hits


def list_everything(with_index, query: str, typing: bool, *, unfiltered: bool,
                    controller: SearchController, cancelled: Callable[[], bool],
                    first_page: Callable[[list[str]], None]) -> SearchHits:
    """Filters alone list every paper, newest first. The whole key list takes ~0.4-1 s at
    100k papers, so the first page goes out at once (`first_page`) and the full list
    follows; the unfiltered list is kept until the library changes."""
    if unfiltered and controller.all_keys is not None:
        return SearchHits(controller.all_keys, len(controller.all_keys))
    first = with_index(lambda lib: lib.first_page(query, FIRST_PAGE, typing=typing))
    if first is not None and not cancelled():
        first_page(first)
    hits = with_index(lambda lib: lib.search(query, limit=None, typing=typing))
    if unfiltered and not hits.error:
        controller.all_keys = hits.keys
    return hits


def count_without_filter(with_index, query_kind, filter_name: str, sent: str, typing: bool,
                         hits: SearchHits, cancelled: Callable[[], bool]) -> int | None:
    """With a quick filter on, how many papers the typed text matches without it (so the
    status line can say what the filter hides); None when there is nothing to say."""
    if filter_name == FOR_YOU:
        return None  # a ranking, not a filter: nothing it "hides"
    text = typed_part(sent, filter_name) if FILTERS[filter_name] else ""
    if not text or hits.error or cancelled() or query_kind(text, typing=typing) != "words":
        return None  # (cancelled: typed on; the newer search counts for itself)
    try:
        total = with_index(lambda lib: lib.search(text, limit=1, typing=typing))
    except Exception:  # noqa: BLE001 - only a hint; the results are already shown
        return None
    if cancelled() or total.error or total.total <= hits.total:
        return None
    return total.total


def typed_part(sent: str, filter_name: str) -> str:
    """What the person typed, of a query sent with the quick filter's words first (see
    SearchController.full_query): a suggestion for the whole query goes back into the search
    bar without them, as the filter stays on by itself."""
    condition = FILTERS[filter_name]
    if condition and (sent == condition or sent.startswith(condition + " ")):
        return sent[len(condition):].strip()
    return sent


# ---- what the status line says ------------------------------------------------------------

def hits_text(hits: SearchHits, note: str = "") -> str:
    """ "500 of 1,234 matches", "12 papers" """
    noun = "match" if hits.terms or note else "paper"
    shown = f"{len(hits.keys):,} of {hits.total:,}" if hits.total > len(hits.keys) \
        else f"{hits.total:,}"
    return f"{shown} {noun}{'' if hits.total == 1 else ('es' if noun == 'match' else 's')}"


def filter_hint(hits: SearchHits, unfiltered_total: int, filter_name: str, all_key: str) -> str:
    """ "0 of 3 matches: the unread filter hides them; 1 shows all" """
    hidden = unfiltered_total - hits.total
    them = "them" if hits.total == 0 else ("1" if hidden == 1 else f"{hidden:,}")
    return (f"{hits.total:,} of {unfiltered_total:,} matches: the {filter_name} filter hides "
            f"{them}; {all_key} shows all")


def filter_label(name: str) -> str:
    return "" if name == "all" else FILTER_LABELS.get(name, name)
