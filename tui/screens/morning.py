"""The morning routine on the main screen, mixed into MainScreen:

- `D` (and `[daily] fetch_on_start = true`) fetches today's Hugging Face Daily Papers in a
  worker; the status line says what came ("12 new papers from Nov 29") or why not.
- the "for you" filter (`5`) lists unread papers ranked by what was starred and read
  (Library.for_you, cached until the library changes), and the detail pane says why.
"""

from __future__ import annotations

from textual import work
from textual.message import Message
from textual.worker import get_current_worker

from index.library import Library, SearchHits, download_daily
from index.model import PapershelfError
from tui.textsafe import terminal_safe
from tui.messages import DailyDone, ImportProgress
from tui.search_controller import FOR_YOU


class RankingStopped(Exception):
    """A newer search replaced the one ranking "for you": stop ranking (nothing is kept)."""


class RankingDone(Message):
    """A ranking that showed progress ended: hide the progress bar."""


class MorningActions:
    """Needs from MainScreen: app (with_index), status, filter, search (the SearchController),
    request_search, _show_welcome, _keep_selection."""

    _fetching_daily = False
    for_you_ranking = None  # the ranking the "for you" list shows (set by the search worker)

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
        except PapershelfError as exc:
            self.post_message(DailyDone(None, f"Daily Papers not fetched: {exc}"))
        except Exception as exc:  # noqa: BLE001 - shown in the status line, never a crash
            self.post_message(DailyDone(None, f"Daily Papers failed: {type(exc).__name__}: {exc}"))
        else:
            self.post_message(DailyDone(report, line))

    def on_daily_done(self, message: DailyDone) -> None:
        self._fetching_daily = False
        self.status.set(message=terminal_safe(message.line, single_line=True))
        report = message.report
        if report is not None and (report.added or report.merged):
            self._show_welcome(False)
            self.search.forget_listing()
            self._keep_selection = True
            self.request_search(immediate=True)

    # ---- for you -------------------------------------------------------------------------

    def for_you_hits(self, lib: Library, sent: str, typing: bool = False) -> tuple[SearchHits, str]:
        """The "for you" list (in the search worker): the ranking, or the unread papers that
        match the typed text in ranking order. The second value explains an empty ranking.

        Ranking 100k unread papers takes seconds: it shows progress, and stops when a newer
        search cancels this worker (which would otherwise hold the index until it ends)."""
        worker = get_current_worker()
        shown = False

        def progress(done: int, total: int) -> None:
            nonlocal shown
            if worker.is_cancelled:
                raise RankingStopped
            shown = True
            self.post_message(ImportProgress(done, total, "ranking unread papers for you"))

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
