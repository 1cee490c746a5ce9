"""The main screen's long jobs on the whole library, mixed into MainScreen: importing files (i),
the search index check at start-up, finding papers on arXiv (R), what a sync brought in, and
changes other papershelf processes committed.

Each runs in a thread worker and reports with a message; when it may have changed which papers
the list holds, the screen searches again (`reload`). An import that added papers ranks "for
you" before it reports, when the reader uses it.
"""

from __future__ import annotations

import time
from pathlib import Path

from textual import work

from index.library import Library
from index.model import PapershelfError
from tui.messages import ImportDone, ImportProgress, IndexReady, ResolveDone, SyncDone
from tui.screens.import_screen import ImportScreen
from tui.screens.paper_actions import one_line

OWN_CHANGE_SECONDS = 5.0  # how long a paper changed here counts as this app's change


class LibraryJobs:
    """Needs from MainScreen: app, lib, results, status, search, importing, filter,
    query_text, targets(), reload(), _keep_selection, _show_welcome(), _schedule_detail(),
    rank_after_import() (MorningActions)."""

    _data_version = 0
    _op_mark = 0

    # ---- changes made by other processes -------------------------------------------------

    def remember_own(self, keys: list[str]) -> None:
        """Papers this app is changing: for them the watcher only redraws rows, never
        searches again (forgotten after OWN_CHANGE_SECONDS)."""
        self._own_keys.update(dict.fromkeys(keys, time.monotonic()))

    def watch_other_processes(self) -> None:
        """Show what another papershelf (a command, a sync) committed: two small SQLite reads
        while nothing changed; on a change, only the changed rows are redrawn, and the list is
        searched again only when it may no longer hold the same papers."""
        if self.importing:
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
            self.seen_everything()
            self.reload(redraw=True)
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
            self.reload()

    def seen_everything(self) -> None:
        """About to search and redraw anyway: the change watcher may skip what came so far."""
        self._data_version = self.lib.data_version()
        self._op_mark = self.lib.op_mark()

    # ---- import --------------------------------------------------------------------------

    def action_import_files(self) -> None:
        def done(paths: list[Path] | None) -> None:
            if paths:
                self.importing = True
                self.status.progress(0, 1)
                self.import_worker(list(paths))

        self.app.push_screen(ImportScreen(), done)

    @work(thread=True, group="import", exit_on_error=False)
    def import_worker(self, paths: list[Path]) -> None:
        def progress(done: int, total: int) -> None:
            self.post_message(ImportProgress(done, total))

        try:
            report = self.app.with_index(lambda lib: lib.import_files(paths, progress=progress))
            if report.added or report.merged:
                self.rank_after_import()
        except PapershelfError as exc:
            self.post_message(ImportDone(None, str(exc)))
            return
        except Exception as exc:  # noqa: BLE001 - the import ends either way, and i works again
            self.post_message(ImportDone(None, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(ImportDone(report))

    def on_import_progress(self, message: ImportProgress) -> None:
        self.status.progress(message.done, message.total, message.label)
        if message.label == "importing" and message.done >= message.total:
            # every paper is stored; the search index update follows and takes a while
            self.status.set(message="indexing the imported papers…")

    def on_import_done(self, message: ImportDone) -> None:
        self.importing = False
        self.search.forget_listing()
        self._keep_selection = True  # the restored selection, then after filters and imports
        self.status.progress_done()
        if message.report is None:
            self.status.set(message=f"import failed: {one_line(message.error or '')}")
            return
        report = message.report
        self.status.set(message="imported: " + report.summary())
        for problem in report.rejected[:3]:
            self.notify(one_line(str(problem)), title="Rejected", severity="warning",
                        markup=False)
        self.seen_everything()
        self.reload()

    # ---- the search index ----------------------------------------------------------------

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

    def on_index_ready(self, message: IndexReady) -> None:
        if message.error:
            self.status.progress_done()
            self.status.set(message=f"search index: {one_line(message.error)}")
        elif message.rebuilt:
            self.status.progress_done()
            self.status.set(message="search index rebuilt")
            self._keep_selection = True
            self.request_search(immediate=True)
        if message.advice:
            self.status.set(message=message.advice)

    # ---- arXiv and sync ------------------------------------------------------------------

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

    def on_resolve_done(self, message: ResolveDone) -> None:
        self.status.progress_done()
        report = message.report
        if report is None or (report.error and not report.requests):
            self.status.set(message=one_line(message.error or report.error))
            return
        stopped = f" (stopped: {report.error})" if report.error else ""
        self.status.set(message=one_line(f"arXiv: {report.summary()}{stopped}"))
        self.reload(redraw=True, welcome=False)

    def on_sync_done(self, message: SyncDone) -> None:
        if message.report is None:
            self.status.set(message=f"sync failed: {one_line(message.error or '')}")
            return
        report = message.report
        self.status.set(message="synced: " + report.summary())
        if report.conflicts:
            self.notify(f"{report.conflicts} note conflict(s): press n on the paper to resolve",
                        title="Sync", severity="warning", markup=False)
        if report.received:  # other devices' changes: show them as after an import
            self.seen_everything()
            self.reload(redraw=True, keep=False)
