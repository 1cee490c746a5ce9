"""A command-line progress bar (Rich, on stderr). Silent when stderr is not a terminal."""

from __future__ import annotations

import sys


class ProgressBar:
    """`then` names the phase that follows once the count is complete (an import's index
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

            self._progress = Progress(
                "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                TimeRemainingColumn(), console=Console(stderr=True), transient=True)
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
