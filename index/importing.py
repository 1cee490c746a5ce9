"""Adding papers to the Library: parsed files and folders, fetched Daily Papers days, records.

A mixin of `index.library.Library` (it uses `self.store` and the index methods of
`index.indexing.IndexKeeping`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from index.folders import folder_files
from index.indexing import FLUSH_CHUNK
from index.model import ImportReport, PaperRecord, Problem

Progress = Callable[[int, int], None]


def download_daily(days: Sequence | None = None, *, timeout: float = 15.0):
    """The Hugging Face Daily Papers lists of these days (default today), fetched but not yet
    added (index.daily_api.DailyFetch): the network part of Library.fetch_daily, which the app
    runs without holding the library, so a stalled server never holds up a search."""
    from index.daily_api import fetch_days, recent_days

    return fetch_days(days or recent_days(1), timeout=timeout)


class Importing:
    """Library methods that add papers."""

    def add(self, records: Iterable[PaperRecord], *, dry_run: bool = False,
            progress: Progress | None = None) -> ImportReport:
        report = self.store.add_records(records, dry_run=dry_run, progress=progress)
        if not dry_run and (report.added or report.merged):
            if reason := self.try_flush_index():
                self.index_problem_reported = True
                report.notices.append(Problem(
                    f"the new papers are saved, but the search index was not updated ({reason}); "
                    "it catches up on the next run"))
        return report

    def import_files(self, paths: Sequence[str | Path], *, dry_run: bool = False,
                     progress: Progress | None = None,
                     on_file: Callable[[Path, ImportReport], None] | None = None,
                     recursive: bool = False) -> ImportReport:
        """Parse and add each file; a file that cannot be read is rejected with its reason.
        A folder imports the files in it (and in its subfolders with `recursive`)."""
        from index.sources import InputError, parse_file_in_pieces

        total = ImportReport()
        records: list[PaperRecord] = []
        files: list[Path] = []
        for path in map(Path, paths):
            if not path.is_dir():
                files.append(path)
                continue
            try:
                inside = folder_files(path, recursive=recursive)
            except OSError as exc:
                total.rejected.append(Problem(f"cannot read the folder: {exc.strerror or exc}",
                                              None, str(path)))
                continue
            if not inside:
                total.rejected.append(Problem("no files in this folder" + (
                    "" if recursive else " (--recursive reads its subfolders)"), None, str(path)))
            files += inside
        for path in files:
            try:
                for result, streamed in parse_file_in_pieces(path):
                    if any(r.extra.get("needs_fetch") for r in result.records):
                        from index.arxiv_api import ArxivUnavailable, fetch_pending  # id lists only

                        try:
                            result = fetch_pending(result)
                        except ArxivUnavailable as exc:  # this file waits; the others import
                            total.rejected.append(Problem(str(exc), None, str(path)))
                            continue
                    total.rejected += result.problems
                    total.notices += result.notices
                    if streamed:  # a piece of a big file: saved now, so memory stays bounded
                        total.extend(self.add(result.records, dry_run=dry_run,
                                              progress=progress))
                    else:
                        records += result.records
                        if len(records) >= FLUSH_CHUNK:  # many files: save whole files so far
                            total.extend(self.add(records, dry_run=dry_run, progress=progress))
                            records = []
            except InputError as exc:
                total.rejected.append(Problem(str(exc).split(": ", 1)[-1], None, str(path)))
            except (ValueError, RecursionError, MemoryError) as exc:  # a parser's blind spot:
                # this file is rejected in one line, the other files still import
                total.rejected.append(Problem(f"could not be read ({type(exc).__name__}: "
                                              f"{str(exc)[:200]})", None, str(path)))
        report = self.add(records, dry_run=dry_run, progress=progress)
        total.extend(report)
        return total

    def fetch_daily(self, days: Sequence | None = None, *, timeout: float = 15.0,
                    progress: Progress | None = None) -> tuple[ImportReport, str]:
        """Fetch the Hugging Face Daily Papers lists of these days (datetime.date; default
        today) and add them. Returns the import report and a one-line summary ("12 new
        papers from Nov 29"). Raises PapershelfError (one line) when any day cannot be
        fetched: nothing is added then."""
        return self.add_daily(download_daily(days, timeout=timeout), progress=progress)

    def add_daily(self, fetched, *, progress: Progress | None = None) -> tuple[ImportReport, str]:
        """Add what download_daily() brought: the report and its one-line summary."""
        from index.daily_api import summary_line

        report = self.add(fetched.records, progress=progress) if fetched.records \
            else ImportReport()
        known = len(report.merged) + len(report.unchanged)
        return report, summary_line(len(report.added), known, fetched.days)

    def add_from_arxiv(self, ids: Sequence[str], *, timeout: float = 10.0,
                       dry_run: bool = False) -> ImportReport:
        """Fetch these arXiv ids' metadata from arXiv and add the papers; an id arXiv does not
        know is rejected in the report. Raises ArxivUnavailable (one line) when arXiv is not
        reachable: nothing is added then."""
        from index.arxiv_api import fetch_arxiv

        fetched = fetch_arxiv(ids, timeout=timeout)
        report = self.add(fetched.records, dry_run=dry_run) if fetched.records \
            else ImportReport()
        report.rejected = list(fetched.problems) + list(report.rejected)
        return report

    @staticmethod
    def arxiv_id_in(token: str) -> str | None:
        """The arXiv id (with its version, if given) in an id or an arXiv URL, else None."""
        from index.sources.arxiv_ids import extract_id

        return extract_id(token)

    def watch(self, folder: str | Path, *, on_report=None, **options) -> None:
        """Import what appears in `folder` until interrupted (index/watch.py)."""
        from index.watch import watch_folder

        watch_folder(self, folder, on_report=on_report, **options)
