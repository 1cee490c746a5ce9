"""What every command prints through: exit codes, terminal-safe lines, JSON and progress bars.

Light on purpose (no Rich until a bar is shown): the parser imports every command module, and
every command module imports this one.
"""

from __future__ import annotations

import json
import os
import sys

from tui.textsafe import json_safe, terminal_safe

EXIT_OK = 0
EXIT_USER_ERROR = 1  # bad input, a paper not found, a failed import, offline
EXIT_PROBLEMS = 1  # `doctor`: problems remain
EXIT_USAGE = 2  # arguments that do not go together (argparse uses 2 as well)
EXIT_INTERRUPTED = 130  # Ctrl+C, as a shell reports it

# How the commands that take one paper describe their argument.
KEY_HELP = "paper: citation key, arXiv id, key, or a unique prefix of one"


def line(text) -> str:
    """`text` as one terminal-safe line."""
    return terminal_safe(str(text), single_line=True)


def paper_json(paper) -> dict:
    return {
        "key": paper.key, "citekey": paper.citekey, "title": paper.title, "authors": paper.authors,
        "year": paper.year, "listing_date": paper.listing_date, "arxiv_id": paper.arxiv_id,
        "doi": paper.doi, "url": paper.best_url, "links": paper.links, "sources": paper.sources,
        "starred": paper.starred, "status": paper.status, "tags": paper.tags, "note": paper.note,
    }


def paper_line(paper) -> str:
    star = "*" if paper.starred else " "
    tags = f"  [{', '.join(paper.tags)}]" if paper.tags else ""
    title = terminal_safe(paper.display_title, single_line=True)
    return f"{star} {paper.citekey or paper.key:<24} {title}{terminal_safe(tags)}  ({paper.status})"


def describe(paper, width: int = 60) -> str:
    """How a message names a paper: its citation key and title (shortened), terminal-safe."""
    title = terminal_safe(paper.title, single_line=True)
    if len(title) > width:
        title = title[:width - 1].rstrip() + "…"
    name = terminal_safe(paper.citekey or paper.key, single_line=True)
    return f"{name} “{title}”"


def print_json(data) -> None:
    """JSON for scripts: readable non-ASCII, but C1 controls and bidi overrides as \\u escapes."""
    print(json_safe(json.dumps(data, ensure_ascii=False, indent=2)))


def print_report_problems(report) -> None:
    for notice in report.notices:
        print(f"note: {terminal_safe(str(notice), single_line=True)}", file=sys.stderr)
    for problem in report.rejected:
        print(f"rejected: {terminal_safe(str(problem), single_line=True)}", file=sys.stderr)


def print_report(report, *, dry_run: bool = False) -> None:
    print_report_problems(report)
    prefix = "dry run, would have: " if dry_run else ""
    print(prefix + report.summary())


def report_exit_code(report) -> int:
    """An import, `add` or `daily` fails only when everything it was given was rejected."""
    if report.rejected and not (report.added or report.merged or report.unchanged):
        return EXIT_USER_ERROR
    return EXIT_OK


def discard_stdout() -> None:
    """The reader of our output went away (`papershelf list | head`): normal, not an error.
    Point stdout at /dev/null so the interpreter's final flush does not raise again."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


class ProgressBar:
    """A Rich progress bar on stderr. Silent when stderr is not a terminal.

    `then` names the phase that follows once the count is complete (an import's index
    update takes seconds after the last paper is stored): the bar shows it instead of 100%."""

    def __init__(self, description: str, *, force: bool = False, then: str | None = None):
        self.description = description
        self.then = then
        self.phase = description
        self.enabled = force or sys.stderr.isatty()
        self._progress = None
        self._task = None

    def __enter__(self) -> ProgressBar:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            # Rich redraws the bar in place with cursor moves, which the terminal-safe filter
            # on sys.stderr would strip (each redraw then lands after the last): the bar
            # writes to the stream beneath. It draws only our own descriptions; and nothing
            # printed meanwhile is redirected through Rich, so every message stays filtered.
            stream = getattr(sys.stderr, "unfiltered", sys.stderr)
            self._progress = Progress(
                "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                TimeRemainingColumn(), console=Console(file=stream), transient=True,
                redirect_stdout=False, redirect_stderr=False)
            self._progress.__enter__()
            self._task = self._progress.add_task(self.description, total=None)
        return self

    def update(self, done: int, total: int | None) -> None:
        if self.then and total and done >= total:
            if self._progress is not None and self.phase != self.then:
                # a new task without a total: Rich pulses it, nothing claims 100% done
                self._progress.remove_task(self._task)
                self._task = self._progress.add_task(self.then, total=None)
            self.phase = self.then
            return
        if self._progress is not None:
            self._progress.update(self._task, completed=done, total=total)

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)
