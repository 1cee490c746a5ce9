"""The main screen's ways to take papers elsewhere, mixed into MainScreen: copy a citation key
(y), BibTeX (Y) or a Markdown link (m), open the paper's page (o), and export (e).

Everything that reads the library or touches the clipboard, a browser or a file runs in a
thread worker; the status line says what was done.
"""

from __future__ import annotations

import webbrowser
from pathlib import Path

from textual import work

from index.library import Library
from index.model import ExportOptions, Paper, PapershelfError, Selection
from tui.textsafe import terminal_safe
from tui.messages import JobFailed
from tui.screens.export_dialog import ExportDialog, ExportScope
from tui.screens.paper_actions import count_text


class ShareActions:
    """Needs from MainScreen: app, lib, results, status, target_papers()."""

    # ---- copy and open -------------------------------------------------------------------

    def action_copy_citekey(self) -> None:
        papers = self.target_papers()
        text = self.lib.exports.clipboard_text(papers, "key")
        self.copy(text, f"citation key{'s' if len(papers) > 1 else ''} {text}", papers)

    def action_copy_bibtex(self) -> None:
        papers = self.target_papers()
        if papers:
            self.copy(self.lib.exports.clipboard_text(papers, "bibtex"),
                      f"BibTeX for {count_text(papers)}", papers)

    def action_copy_markdown(self) -> None:
        papers = self.target_papers()
        if papers:
            self.copy(self.lib.exports.clipboard_text(papers, "markdown"),
                      f"Markdown link{'s' if len(papers) > 1 else ''} for {count_text(papers)}")

    def copy(self, text: str, what: str, citing: list[Paper] = ()) -> None:
        if text:
            self.copy_worker(text, what, [p.key for p in citing])

    @work(thread=True, group="copy", exit_on_error=False)
    def copy_worker(self, text: str, what: str, citing: list[str] = ()) -> None:
        app = self.app
        exports = self.lib.exports  # copying reads nothing from the library

        def osc52(value: str) -> None:
            app.call_from_thread(app.copy_to_clipboard, value)

        try:
            method = exports.copy(text, osc52=osc52)
            if citing:  # a copied citation key is used: it never changes again
                self.app.with_store(lambda lib: lib.citekeys_used(citing))
        except PapershelfError as exc:
            self.post_message(JobFailed("copy", str(exc)))
            return
        app.call_from_thread(self.status.set, message=exports.copied_message(what, method))

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

    # ---- export --------------------------------------------------------------------------

    def action_export(self) -> None:
        """Open the dialog at once; the scopes that need the library are counted in a worker
        and fill in when ready (at 100k papers that takes a second or two)."""
        results = self.results
        marked = [k for k in results.keys if k in results.marked] or sorted(results.marked)
        shown = list(results.keys)
        known = [ExportScope("marked", len(results.marked))] if results.marked else []
        known.append(ExportScope("results", len(shown)))
        current = results.paper(results.current_key) if results.current_key else None
        provisional = [*known, ExportScope("starred", None), ExportScope("all", None)]
        dialog = ExportDialog(provisional, directory=Path.cwd())

        def done(request) -> None:
            if request is not None:
                self.export_worker(request, marked, shown)

        self.app.push_screen(dialog, done)
        self.export_count_worker(dialog, known, current.tags if current else [])

    @work(thread=True, group="export-count", exit_on_error=False)
    def export_count_worker(self, dialog: ExportDialog, known: list[ExportScope],
                            current_tags: list[str]) -> None:
        try:
            scopes, tags = export_scopes(self.lib, known, current_tags)
        except PapershelfError as exc:
            self.post_message(JobFailed("counting papers to export", str(exc)))
            return
        self.app.call_from_thread(self._show_export_counts, dialog, scopes, tags)

    async def _show_export_counts(self, dialog: ExportDialog, scopes, tags) -> None:
        if dialog.is_attached and dialog.is_active:
            await dialog.show_counts(scopes, tags)

    @work(thread=True, group="export", exit_on_error=False)
    def export_worker(self, request, marked: list[str], shown: list[str]) -> None:
        selection = selection_for(request.scope, marked, shown)
        try:
            papers = self.app.with_index(lambda lib: lib.exports.papers(selection))
            options = ExportOptions(group_by=request.group_by, with_notes=request.with_notes)
            summary = self.lib.exports.write(papers, request.format, request.path, options)
            self.app.with_store(lambda lib: lib.citekeys_used([p.key for p in papers]))
        except PapershelfError as exc:
            self.post_message(JobFailed("export", str(exc)))
            return
        self.app.call_from_thread(self.status.set, message=summary)


def export_scopes(lib: Library, known: list[ExportScope], current_tags: list[str]):
    """The export scopes with their counts (in a worker: this reads the library), and every
    tag with its count, most used first: the dialog's tag picker starts at the current
    paper's first tag."""
    scopes = list(known)
    scopes.append(ExportScope("starred", lib.exports.count(Selection(starred=True))))
    tags = sorted(lib.all_tags(), key=lambda item: -item[1])  # most used first
    if tags:
        tag = current_tags[0] if current_tags else tags[0][0]
        scopes.append(ExportScope("tag", dict(tags).get(tag, 0), tag=tag))
    scopes.append(ExportScope("all", lib.exports.count(Selection())))
    return scopes, tags


def selection_for(scope: ExportScope, marked: list[str], shown: list[str]) -> Selection:
    """The dialog's choice as the Selection `papershelf export` makes of its options too."""
    if scope.kind in ("marked", "results"):
        return Selection(keys=tuple(marked if scope.kind == "marked" else shown))
    return Selection(starred=scope.kind == "starred",
                     tag=scope.tag if scope.kind == "tag" else None)
