"""The main screen's actions on papers, mixed into MainScreen: star (s), status (r), tags (t, T)
and the note (n), with the note conflicts sync leaves behind.

Each change shows at once on the row (`ResultsList.preview`), is written in a thread worker
through the app's store writer (`with_store`), and the row is then redrawn from what the store
holds (`PapersChanged`), so a failed write puts it back. Tags and notes become searchable once
the index is flushed, batched a moment after the last edit.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual import work

from index.library import Library
from index.model import Paper, PapershelfError, next_status
from tui.textsafe import terminal_safe
from tui.messages import JobFailed, NoteLoaded, PapersChanged
from tui.screens.note_conflict import NoteConflictScreen
from tui.screens.note_editor import NoteEditor
from tui.screens.tag_prompt import TagPrompt

FLUSH_DELAY = 1.5  # seconds after the last tag/note edit before the index catches up


class PaperActions:
    """Needs from MainScreen: app, lib, results, status, targets(), target_papers(),
    remember_own(keys), _schedule_detail(), rank_ahead_after_change() (MorningActions)."""

    _flush_timer = None

    # ---- writing a change ----------------------------------------------------------------

    def change(self, keys: list[str], apply: Callable[[Library, list[str]], object],
               summary: str, searchable: bool = False, index: bool = False) -> None:
        """Write a change for these papers in a worker, then repaint their rows."""
        if keys:
            self.remember_own(keys)
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

    def on_papers_changed(self, message: PapersChanged) -> None:
        self.changed_at = time.perf_counter()  # the store has it (tests, benchmarks)
        self.results.invalidate(message.keys)
        if self.results.current_key in message.keys:
            self._schedule_detail()
        if message.summary:
            self.status.set(message=message.summary)
        if message.searchable:
            self.schedule_flush()
        self.rank_ahead_after_change()

    def on_job_failed(self, message: JobFailed) -> None:
        self.status.set(message=one_line(message.error))
        self.notify(one_line(message.error), title="Not done", severity="error", markup=False)

    def schedule_flush(self) -> None:
        """Tags and notes become searchable once the index is flushed: batch the edits."""
        if self._flush_timer is not None:
            self._flush_timer.stop()
        self._flush_timer = self.set_timer(FLUSH_DELAY, self.flush_worker)

    @work(thread=True, group="flush", exit_on_error=False)
    def flush_worker(self) -> None:
        try:
            self.app.with_index(_flush_and_follow)
        except Exception as exc:
            self.post_message(JobFailed("updating the search index", str(exc)))

    def _preview(self, papers: list[Paper], **changes) -> list[str]:
        keys = [p.key for p in papers]
        self.results.preview(keys, **changes)
        if self.results.current_key in keys:
            self._schedule_detail()  # after the row has painted: the row is what must be quick
        return keys

    # ---- star, status, tags --------------------------------------------------------------

    def action_star(self) -> None:
        papers = self.target_papers()
        if not papers:
            return
        value = not all(p.starred for p in papers)
        what = "starred" if value else "unstarred"
        keys = self._preview(papers, starred=value)
        self.change(keys, lambda lib, keys: lib.set_star_many(keys, value),
                    f"{what} {count_text(papers)}")

    def action_cycle_status(self) -> None:
        papers = self.target_papers()
        if not papers:
            return
        following = next_status(papers[0].status)  # every target follows the first one
        keys = self._preview(papers, status=following)
        self.change(keys, lambda lib, keys: [lib.set_status(key, following) for key in keys],
                    f"{count_text(papers)} now {following}")

    def action_tag_add(self) -> None:
        papers = self.target_papers()
        if not papers:
            return

        def done(tag: str | None) -> None:
            if tag and tag.strip():
                self.change([p.key for p in papers],
                            lambda lib, keys: [lib.add_tag(key, tag) for key in keys],
                            f"tagged {count_text(papers)} {tag.strip()}", searchable=True)

        # most used first: the completion offers the likely tag before the rare one
        existing = [name for name, _ in sorted(self.lib.all_tags(), key=lambda t: -t[1])]
        self.app.push_screen(TagPrompt(f"Add a tag to {count_text(papers)}", existing), done)

    def action_tag_remove(self) -> None:
        papers = self.target_papers()
        tags = sorted({t for p in papers for t in p.tags})
        if not tags:
            self.status.set(message="no tags to remove")
            return

        def done(tag: str | None) -> None:
            if tag and tag.strip():
                self.change([p.key for p in papers],
                            lambda lib, keys: [lib.remove_tag(key, tag) for key in keys],
                            f"removed tag {tag.strip()} from {count_text(papers)}",
                            searchable=True)

        self.app.push_screen(TagPrompt(f"Remove a tag from {count_text(papers)}", tags,
                                       must_choose=True), done)

    # ---- the note ------------------------------------------------------------------------

    def action_note(self) -> None:
        key = self.results.current_key
        if key:
            self.note_load_worker(key)

    @work(thread=True, exclusive=True, group="note-open", exit_on_error=False)
    def note_load_worker(self, key: str, only_conflict: bool = False) -> None:
        """Read the note afresh (another papershelf may have saved it since the row was
        drawn), and any sync conflict waiting on it, off the UI thread. With `only_conflict`
        nothing opens unless there is a conflict."""
        try:
            paper, conflict, opened = self.app.with_store(lambda lib: _note_state(lib, key))
        except PapershelfError as exc:
            self.post_message(JobFailed("note", str(exc)))
            return
        if paper is not None and (conflict is not None or not only_conflict):
            self.post_message(NoteLoaded(paper, conflict, opened))

    def on_note_loaded(self, message: NoteLoaded) -> None:
        paper, opened = message.paper, message.version
        if message.conflict is not None:
            self._resolve_note_conflict(paper, message.conflict)
            return

        def done(text: str | None) -> None:
            if text is not None and text != paper.note:
                self.remember_own([paper.key])
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
        if outcome == "conflict":  # opens the conflict screen, as n would
            self.note_load_worker(key, only_conflict=True)

    def _resolve_note_conflict(self, paper: Paper, conflict) -> None:
        """Two devices edited this note at once (sync): choose what to keep first."""
        def done(text: str | None) -> None:
            if text is not None:  # settling flushes the index: the index owner runs it
                self.change([paper.key],
                            lambda lib, keys: lib.sync.resolve(keys[0], keep="merged", text=text),
                            "note conflict resolved", index=True)

        self.app.push_screen(NoteConflictScreen(paper.title, conflict.local, conflict.remote,
                                                conflict.merged, len(conflict.heads) - 1), done)


def _note_state(lib: Library, key: str):
    """(paper, the sync note conflict waiting on it or None, the note version it opens at)."""
    paper = lib.get(key)
    if paper is None:
        return None, None, None
    conflict = lib.sync.conflict(key)
    return paper, conflict, lib.note_version(key)


def count_text(papers: list) -> str:
    return f"{len(papers)} paper{'s' if len(papers) != 1 else ''}"


def one_line(text: str) -> str:
    return terminal_safe(text, single_line=True)


def _flush_and_follow(lib) -> None:
    """Write the pending edits to the index; the kept "for you" ranking follows it now, not
    at the next `5`."""
    lib.try_flush_index()
    lib.follow_written_index()
