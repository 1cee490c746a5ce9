"""Messages that thread workers post back to the UI thread.

Each is a small dataclass-like Message. A newer search result supersedes an older one still in
the queue (`can_replace`), so fast typing never floods the message queue.
"""

from __future__ import annotations

from textual.message import Message

from index.library import SearchHits
from index.model import ImportReport


class SearchDone(Message):
    """A search finished; `generation` says which request it answers (stale ones are dropped)."""

    def __init__(self, generation: int, query: str, hits: SearchHits, seconds: float,
                 note: str = "", partial: bool = False, typing: bool = False) -> None:
        super().__init__()
        self.typing = typing  # the query's last word was still being typed
        self.partial = partial  # a first page; the full results follow from the same worker
        self.generation = generation
        self.query = query
        self.hits = hits
        self.seconds = seconds
        self.note = note  # e.g. "similar to ...": shown in the status line

    def can_replace(self, message: Message) -> bool:
        # a newer final result supersedes an older one still queued; first pages never do
        return isinstance(message, SearchDone) and not message.partial and not self.partial


class MoreResults(Message):
    """Every hit of a ranked search whose first SEARCH_CAP were shown (the cursor neared
    their end)."""

    def __init__(self, generation: int, hits: SearchHits) -> None:
        super().__init__()
        self.generation = generation
        self.hits = hits


class PapersChanged(Message):
    """User state of these papers changed in the store: repaint their rows and the detail."""

    def __init__(self, keys: list[str], summary: str = "", searchable: bool = False) -> None:
        super().__init__()
        self.keys = keys
        self.summary = summary
        self.searchable = searchable  # tags/notes: the index needs a flush to find them


class ImportProgress(Message):
    """Progress of an import or an index build (`label` says which)."""

    def __init__(self, done: int, total: int, label: str = "importing") -> None:
        super().__init__()
        self.done = done
        self.total = total
        self.label = label

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ImportProgress)


class ImportDone(Message):
    def __init__(self, report: ImportReport | None, error: str | None = None) -> None:
        super().__init__()
        self.report = report
        self.error = error


class ResolveDone(Message):
    """`R` finished: `report` is index.resolve.ResolveReport (also when it stopped early)."""

    def __init__(self, report=None, error: str | None = None) -> None:
        super().__init__()
        self.report = report
        self.error = error


class JobFailed(Message):
    """A background job raised a user-facing error: show its one-line message."""

    def __init__(self, what: str, error: str) -> None:
        super().__init__()
        self.what = what
        self.error = error


class IndexReady(Message):
    """The search index was checked at start-up (and rebuilt when it had to be)."""

    def __init__(self, rebuilt: bool, error: str | None = None, advice: str | None = None) -> None:
        super().__init__()
        self.rebuilt = rebuilt
        self.error = error
        self.advice = advice  # a suggestion about the search engine, shown once


class SyncDone(Message):
    """A sync with the shared folder finished (report), or failed (error, one line)."""

    def __init__(self, report=None, error: str | None = None) -> None:
        super().__init__()
        self.report = report
        self.error = error


class FilterHides(Message):
    """How many papers the query matches without the quick filter (for search `generation`)."""

    def __init__(self, generation: int, unfiltered_total: int) -> None:
        super().__init__()
        self.generation = generation
        self.unfiltered_total = unfiltered_total


class DailyDone(Message):
    """A fetch of the Daily Papers list finished: its one-line summary, or why it failed."""

    def __init__(self, report: ImportReport | None, line: str) -> None:
        super().__init__()
        self.report = report
        self.line = line


class NoteLoaded(Message):
    """n read a paper's note afresh: open the editor (or the sync conflict waiting on it)."""

    def __init__(self, paper, conflict, version: str | None) -> None:
        super().__init__()
        self.paper = paper
        self.conflict = conflict  # an index.sync conflict, or None
        self.version = version  # the note version the editor opens at (compare-and-set)
