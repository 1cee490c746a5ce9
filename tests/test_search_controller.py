"""SearchController and the search functions, without an App: a fake clock and timers, and a
small fake library that records what it was asked."""

from __future__ import annotations

from index.library import SearchHits
from tui import search_controller
from tui.search_controller import (
    SearchController, count_without_filter, filter_hint, hits_text, list_everything,
    search_words,
)


class Clock:
    """Timers that fire only when the test moves time on."""

    def __init__(self) -> None:
        self.now = 100.0
        self.timers: list[FakeTimer] = []

    def __call__(self) -> float:
        return self.now

    def schedule(self, delay: float, callback) -> FakeTimer:
        timer = FakeTimer(self.now + delay, callback)
        self.timers.append(timer)
        return timer

    def advance(self, seconds: float) -> None:
        self.now += seconds
        for timer in [t for t in self.timers if t.due <= self.now and not t.stopped]:
            timer.stopped = True
            timer.callback()


class FakeTimer:
    def __init__(self, due: float, callback) -> None:
        self.due, self.callback, self.stopped = due, callback, False

    def stop(self) -> None:
        self.stopped = True


def controller(**options):
    clock = Clock()
    started: list[tuple[int, str, bool]] = []
    search = SearchController(lambda *args: started.append(args), clock.schedule,
                              clock=clock, debounce=0.12, typing_pause=0.3, **options)
    return search, clock, started


def test_an_isolated_keystroke_searches_at_once():
    search, clock, started = controller()
    search.text_changed("q")
    assert started == [(1, "q", True)]
    assert search.in_flight and not search.idle


def test_keys_typed_during_a_search_run_only_the_newest_query_when_it_ends():
    search, clock, started = controller()
    search.text_changed("q")
    for text in ("qu", "qua", "quan"):
        clock.advance(0.05)
        search.text_changed(text)
    assert len(started) == 1  # one search in flight at most
    assert search.finished(1) is False  # stale: the newest query starts instead
    assert started[-1] == (4, "quan", True)
    assert search.finished(4) is True and search.idle


def test_a_quick_second_key_waits_out_the_debounce():
    search, clock, started = controller()
    search.text_changed("q")
    search.finished(1)
    clock.advance(0.05)
    search.text_changed("qu")
    assert len(started) == 1 and search.search_timer is not None
    clock.advance(0.1)
    assert started[-1] == (2, "qu", True) and search.search_timer is None


def test_a_typing_pause_finishes_the_word_and_searches_again():
    finished: list[bool] = []
    search, clock, started = controller(on_typing_finished=lambda: finished.append(True))
    search.text_changed("sheep")
    search.finished(1)
    clock.advance(0.29)
    assert len(started) == 1 and search.typing
    clock.advance(0.02)
    assert started[-1] == (2, "sheep", False) and not search.typing
    assert finished == [True]


def test_enter_finishes_the_word_at_once_and_only_once():
    search, clock, started = controller()
    search.text_changed("sheep")
    search.finished(1)
    assert search.finish_typing() is True
    assert started[-1] == (2, "sheep", False) and search.pause_timer is None
    assert search.finish_typing() is False  # nothing typed since: no second search


def test_the_quick_filter_goes_first_in_the_query():
    search, clock, started = controller(text="sheep")
    search.set_filter("unread")
    assert search.full_query() == "is:unread sheep"
    assert started[-1] == (1, "is:unread sheep", False)
    search.finished(1)
    search.set_filter("all")
    assert started[-1] == (2, "sheep", False)


def test_an_unknown_filter_falls_back_to_all():
    search, _, _ = controller(filter_name="nonsense")
    assert search.filter_name == "all"


def test_a_result_with_a_note_is_kept_even_when_stale():
    search, clock, started = controller()
    generation = search.take_over()  # similar papers fill the list
    search.text_changed("x")  # waits: a job is in flight
    assert search.finished(generation, keep_stale=True) is True
    assert len(started) == 0


class FakeLibrary:
    def __init__(self, totals: dict[str, int], suggestion: str | None = None) -> None:
        self.totals = totals
        self.suggestion = suggestion
        self.calls: list[tuple] = []

    def search(self, query, limit=None, typing=False):
        self.calls.append((query, limit, typing))
        total = self.totals.get(query, 0)
        keys = [f"k{i}" for i in range(total if limit is None else min(total, limit))]
        return SearchHits(keys, total, terms=[query],
                          suggestion=None if typing else self.suggestion)

    def first_page(self, query, size, typing=False):
        self.calls.append(("first_page", query, size))
        return [f"k{i}" for i in range(min(size, self.totals.get(query, 0)))]

    @staticmethod
    def query_kind(query, typing=False):
        return "words" if query and not query.startswith("is:") else "filter"


def run(lib):
    return lambda job: job(lib)


def test_search_words_caps_the_hits_and_asks_the_finished_query_for_a_suggestion(monkeypatch):
    monkeypatch.setattr(search_controller, "SEARCH_CAP", 3)
    lib = FakeLibrary({"sheep": 10})
    hits = search_words(lib, "sheep", typing=True)
    assert len(hits.keys) == 3 and hits.total == 10
    assert lib.calls == [("sheep", 3, True)]  # matched: no second search
    lib = FakeLibrary({}, suggestion="sheep")
    hits = search_words(lib, "shep", typing=True)
    assert hits.suggestion == "sheep" and lib.calls[-1] == ("shep", 1, False)


def test_list_everything_sends_the_first_page_then_keeps_the_unfiltered_list():
    search, _, _ = controller()
    lib = FakeLibrary({"": 500})
    pages: list[list[str]] = []
    hits = list_everything(run(lib), "", False, unfiltered=True, controller=search,
                           cancelled=lambda: False, first_page=pages.append)
    assert len(pages) == 1 and len(pages[0]) == search_controller.FIRST_PAGE
    assert hits.total == 500 and search.all_keys == hits.keys
    lib.calls.clear()
    again = list_everything(run(lib), "", False, unfiltered=True, controller=search,
                            cancelled=lambda: False, first_page=pages.append)
    assert again.keys == hits.keys and lib.calls == []  # from the kept list
    search.forget_listing()
    list_everything(run(lib), "", False, unfiltered=True, controller=search,
                    cancelled=lambda: False, first_page=pages.append)
    assert lib.calls  # read again after a change


def test_count_without_filter_says_how_many_the_filter_hides():
    lib = FakeLibrary({"sheep": 7})
    shown = SearchHits(["k0", "k1"], 2, terms=["sheep"])
    total = count_without_filter(run(lib), lib.query_kind, "unread", "is:unread sheep", False,
                                 shown, cancelled=lambda: False)
    assert total == 7
    assert filter_hint(shown, total, "unread", "1") == \
        "2 of 7 matches: the unread filter hides 5; 1 shows all"
    # nothing to say: no filter, a cancelled search, or nothing hidden
    assert count_without_filter(run(lib), lib.query_kind, "all", "sheep", False, shown,
                                cancelled=lambda: False) is None
    assert count_without_filter(run(lib), lib.query_kind, "unread", "is:unread sheep", False,
                                shown, cancelled=lambda: True) is None
    everything = SearchHits([f"k{i}" for i in range(7)], 7, terms=["sheep"])
    assert count_without_filter(run(lib), lib.query_kind, "unread", "is:unread sheep", False,
                                everything, cancelled=lambda: False) is None


def test_hits_text_counts_matches_and_papers():
    assert hits_text(SearchHits(["a"] * 3, 10, terms=["x"])) == "3 of 10 matches"
    assert hits_text(SearchHits(["a"], 1, terms=["x"])) == "1 match"
    assert hits_text(SearchHits(["a"] * 2, 2)) == "2 papers"
    assert hits_text(SearchHits(["a"] * 2, 2), note="similar to x") == "2 matches"
