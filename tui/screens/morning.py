"""The morning routine on the main screen, mixed into MainScreen:

- `D` (and `[daily] fetch_on_start = true`) fetches today's Hugging Face Daily Papers in a
  worker; the status line says what came ("12 new papers from Nov 29") or why not.
- the "for you" filter (`5`) lists unread papers ranked by what was starred and read
  (Library.for_you, kept and updated from what changed), and the detail pane says why.
- the ranking is made ahead of time: once the person has left the app idle for a moment
  (no key and no search for IDLE_SECONDS) after launch or after the library changed, and right
  after a star, status, tag or note made here once "for you" was shown, a worker ranks in steps
  of ~20-30 ms at 100k papers and stops at the next step when a key comes (what it did is
  kept), so that `5` finds it ready and typing does not wait for it.
"""

from __future__ import annotations

import time

from textual import work
from textual.message import Message
from textual.worker import get_current_worker

from index.library import Library, SearchHits, download_daily
from index.model import PapershelfError
from tui.textsafe import terminal_safe
from tui.messages import DailyDone, ImportProgress
from tui.search_controller import FOR_YOU


IDLE_SECONDS = 1.0  # no key and no search this long: the person reads; "for you" may rank
READY_CHECK_EVERY = 0.5
PROGRESS_AFTER = 0.25  # a ranking this long shows progress (a quick update does not flash it)


class RankingStopped(Exception):
    """A newer search replaced the one ranking "for you" (or the person came back while it
    ranked ahead): stop ranking; what was done is kept for the next ranking."""


class RankingDone(Message):
    """A ranking that showed progress ended: hide the progress bar."""


class RankedAhead(Message):
    """The worker ranking "for you" ahead ended: ranked at the library's data `version`, or
    stopped (None)."""

    def __init__(self, version: int | None) -> None:
        super().__init__()
        self.version = version


class MorningActions:
    """Needs from MainScreen: app (with_index, index_ready), status, filter, search (the
    SearchController), request_search, _show_welcome, _keep_selection, applied_at, changed_at,
    importing and _data_version (LibraryJobs)."""

    _fetching_daily = False
    for_you_ranking = None  # the ranking the "for you" list shows (set by the search worker)
    _ranked_ahead_at = None  # the library's data version "for you" was last ranked ahead at
    _ranking_ahead = False

    # ---- Daily Papers --------------------------------------------------------------------

    def action_fetch_daily(self) -> None:
        if self._fetching_daily:
            return
        self._fetching_daily = True
        self.status.set(message="fetching today's Daily Papers…")
        self.daily_worker()

    @work(thread=True, exclusive=True, group="daily", exit_on_error=False)
    def daily_worker(self) -> None:
        try:
            fetched = download_daily()  # outside with_index: searches go on meanwhile
            report, line = self.app.with_index(lambda lib: lib.add_daily(fetched))
            if report.added or report.merged:
                self.rank_after_import()
        except PapershelfError as exc:
            self.post_message(DailyDone(None, f"Daily Papers not fetched: {exc}"))
        except Exception as exc:  # noqa: BLE001 - shown in the status line, never a crash
            self.post_message(DailyDone(None, f"Daily Papers failed: {type(exc).__name__}: {exc}"))
        else:
            self.post_message(DailyDone(report, line))

    def on_daily_done(self, message: DailyDone) -> None:
        self._fetching_daily = False
        self.status.progress_done()
        self.status.set(message=terminal_safe(message.line, single_line=True))
        report = message.report
        if report is not None and (report.added or report.merged):
            self._show_welcome(False)
            self.search.forget_listing()
            self._keep_selection = True
            self.request_search(immediate=True)

    # ---- for you -------------------------------------------------------------------------

    def rank_after_import(self) -> None:
        """(In an import's worker, once the papers are in.) When the reader uses "for you",
        rank the new papers before the import reports, with progress, so that `5` right
        after "12 new papers from Nov 29" shows them ranked at once. A key stops it (a
        search must not wait for it: from scratch that is a second at 100k papers); what it
        did is kept, and the ranking ahead goes on once the person is idle."""
        started, generation = time.perf_counter(), self.search.generation

        def progress(done: int, total: int) -> None:
            if self._person_came_back(started, generation):
                raise RankingStopped
            self.post_message(ImportProgress(done, total, "ranking for you"))

        try:
            self.app.with_index(lambda lib: lib.rank_after_import(progress))
        except RankingStopped:
            pass
        except Exception:  # noqa: BLE001 - a head start only: `5` ranks, and says why not
            pass

    def for_you_hits(self, lib: Library, sent: str, typing: bool = False) -> tuple[SearchHits, str]:
        """The "for you" list (in the search worker): the ranking, or the unread papers that
        match the typed text in ranking order. The second value explains an empty ranking.

        A ranking from scratch at 100k papers takes a second: it shows progress, and stops
        when a newer search cancels this worker (which would otherwise hold the index until it
        ends); what it did is kept."""
        worker = get_current_worker()
        shown = False
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            nonlocal shown
            if worker.is_cancelled:
                raise RankingStopped
            if time.perf_counter() - started < PROGRESS_AFTER:
                return
            shown = True
            self.post_message(ImportProgress(done, total, "ranking for you"))

        try:
            ranking = lib.for_you(progress=progress)
        finally:
            if shown:
                self.post_message(RankingDone())
        self.for_you_ranking = ranking
        if ranking.message:
            return SearchHits([], 0), ranking.message
        if lib.query_kind(sent, typing=typing) != "words":
            return SearchHits(ranking.keys, len(ranking.keys)), ""
        found = lib.search(sent, limit=None, typing=typing)
        if found.error:
            return found, ""
        matching = set(found.keys)
        keys = [key for key in ranking.keys if key in matching]
        return SearchHits(keys, len(keys), found.terms, found.suggestion), ""

    def rank_for_you_ahead(self) -> None:
        """(A timer.) When the person is idle and the library changed since the last ranking
        ahead, rank "for you" in a worker, so that `5` finds it ready."""
        version = self._data_version  # LibraryJobs.watch_other_processes keeps it
        last_activity = max(self.app.last_key_at, self.applied_at, self.changed_at)
        if version == self._ranked_ahead_at \
                or time.perf_counter() - last_activity < IDLE_SECONDS:
            return
        self._start_ranking_ahead(version)

    def rank_ahead_after_change(self) -> None:
        """Right after a star, a status, a tag or a note made here, once "for you" has been
        shown: update the kept ranking in a worker now (~0.1 s at 100k papers), not after
        an idle second, so that `5` a moment later finds it ready. The next key stops it,
        as it stops any ranking ahead, and what it did is kept."""
        if self.for_you_ranking is not None:
            self._start_ranking_ahead(self._data_version)

    def _start_ranking_ahead(self, version: int) -> None:
        if self._ranking_ahead or self.importing or not self.app.index_ready.is_set() \
                or not self.search.idle:
            return
        self._ranking_ahead = True
        self.rank_ahead_worker(self.search.generation, version)

    @work(thread=True, exclusive=True, group="foryou-ahead", exit_on_error=False)
    def rank_ahead_worker(self, generation: int, version: int) -> None:
        worker = get_current_worker()
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            if self._person_came_back(started, generation) or not self.search.idle \
                    or worker.is_cancelled:
                raise RankingStopped
            time.sleep(0)  # the UI thread takes the GIL between steps

        finished = False
        try:
            self.app.with_index(lambda lib: lib.for_you(progress=progress, saved=False))
            finished = True
        except RankingStopped:
            pass
        except Exception:  # noqa: BLE001 - ranking ahead is a nicety: `5` ranks and says why
            finished = True
        self.post_message(RankedAhead(version if finished else None))

    def _person_came_back(self, started: float, generation: int) -> bool:
        """(From a worker.) A key, or a search newer than `generation`, since `started`:
        work ahead stops so that the person never waits for it."""
        return self.app.last_key_at > started or self.search.generation != generation

    def on_ranked_ahead(self, message: RankedAhead) -> None:
        self._ranking_ahead = False
        if message.version is not None:
            self._ranked_ahead_at = message.version

    def on_ranking_done(self, message: RankingDone) -> None:
        self.status.progress_done()
        self.status.set(message="")

    def why_for_you(self, paper) -> str:
        """What the detail pane says about a paper in the "for you" list."""
        ranking = self.for_you_ranking
        if self.filter != FOR_YOU or ranking is None or paper is None:
            return ""
        reason = ranking.reason(paper)
        if reason is None:
            return ""
        return f"shares {reason.text()} with the {ranking.liked:,} you starred or read"
