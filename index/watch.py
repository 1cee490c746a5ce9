"""Watch a folder (a browser's download folder, say) and import each file dropped into it once.

    watch_folder(lib, folder, interval=2.0, stop=event, on_report=lambda path, report: ...)

Stdlib polling, no new dependency. Each poll lists the folder's regular files (not
sub-folders) and:

- ignores temp and hidden files: names starting with "." or "~$", and *.part, *.crdownload,
  *.tmp, *.download, *.partial, *.swp, *~ (browsers write these while downloading);
- waits until a file's size and mtime are the same in two polls in a row (a download still in
  progress is not imported half-way), then imports it with `lib.import_files([path])`;
- remembers every file it has handled by name + size + mtime + sha1 in
  `<lib.data_dir>/watch-state.json` (written temp + fsync + rename), so a file is imported
  once, across restarts too. A file that changes (a new download over the old name) is
  imported again; a renamed copy with the same content (sha1) is not.
- The first time a folder is watched, the files already in it are recorded without being
  imported (a download folder holds years of unrelated files); `include_existing=True`
  imports them too. Files that arrive while the watcher is not running are imported when it
  next starts.

`on_report(path, report)` gets an ImportReport for every file handled; a file that cannot be
imported (not a known format, binary, unreadable) gives a report whose `rejected` says why,
and is not retried until it changes. A list of arXiv ids that cannot be fetched because arXiv
is unreachable is reported once and tried again every `retry_after` seconds (60) until it works. The watcher itself never dies on one bad file.
`FolderWatcher.poll()` does one round and returns the reports, for tests and the TUI.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from index.fileio import write_atomic
from index.model import ImportReport, PapershelfError, Problem
from index.sources import MAX_FILE_BYTES

STATE_FILE = "watch-state.json"
IGNORED_SUFFIXES = (".part", ".crdownload", ".tmp", ".download", ".partial", ".swp", "~",
                    ".opdownload", ".!qb")


def is_ignored(name: str) -> bool:
    low = name.lower()
    return low.startswith((".", "~$")) or low.endswith(IGNORED_SUFFIXES)


def _sha1(path: Path) -> str:
    digest = hashlib.sha1()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class FolderWatcher:
    def __init__(self, lib, folder: str | Path, *, state_path: str | Path | None = None,
                 include_existing: bool = False,
                 on_report: Callable[[Path, ImportReport], None] | None = None,
                 retry_after: float = 60.0):
        self.lib = lib
        self.retry_after = retry_after
        self._retry_at: dict[str, float] = {}  # name -> monotonic time to try again
        self.folder = Path(folder).expanduser()
        if not self.folder.is_dir():
            raise PapershelfError(f"{self.folder}: not a folder (cannot watch it)")
        self.folder_id = str(self.folder.resolve())
        if state_path is None:
            data_dir = getattr(lib, "data_dir", None)
            if data_dir is None:
                raise PapershelfError("cannot watch: the library has no data directory")
            state_path = Path(data_dir) / STATE_FILE
        self.state_path = Path(state_path)
        self.on_report = on_report
        self._pending: dict[str, tuple[int, int]] = {}  # name -> (size, mtime_ns) last poll
        state = self._load()
        self._all = state
        first_time = self.folder_id not in state["folders"]
        self.seen: dict[str, dict] = state["folders"].setdefault(self.folder_id, {})
        if first_time and not include_existing:
            for path, st in self._listing():  # not hashed: a download folder can be huge
                self.seen[path.name] = self._entry(path, st, None, "existing")
            self._save()

    # ---- state ---------------------------------------------------------------------------------

    def _load(self) -> dict:
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and isinstance(data.get("folders"), dict):
                return data
        except (OSError, ValueError):
            pass
        return {"version": 1, "folders": {}}

    def _save(self) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.state_path,
                     json.dumps(self._all, ensure_ascii=False, indent=1).encode("utf-8"))

    @staticmethod
    def _entry(path: Path, st: os.stat_result, sha1: str | None, outcome: str) -> dict:
        return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha1": sha1, "outcome": outcome}

    # ---- polling -------------------------------------------------------------------------------

    def _listing(self):
        try:
            names = sorted(os.listdir(self.folder))
        except OSError:
            return []
        out = []
        for name in names:
            if is_ignored(name):
                continue
            path = self.folder / name
            try:
                st = path.stat()
            except OSError:
                continue
            if path.is_file():
                out.append((path, st))
        return out

    def poll(self) -> list[tuple[Path, ImportReport]]:
        """One round: import every new file whose size held still since the last round."""
        handled: list[tuple[Path, ImportReport]] = []
        current: dict[str, tuple[int, int]] = {}
        changed_state = False
        for path, st in self._listing():
            signature = (st.st_size, st.st_mtime_ns)
            known = self.seen.get(path.name)
            if known and (known.get("size"), known.get("mtime_ns")) == signature:
                continue
            current[path.name] = signature
            if self._pending.get(path.name) != signature or st.st_size == 0:
                continue  # new or still growing: look again next round
            if time.monotonic() < self._retry_at.get(path.name, 0.0):
                continue  # arXiv was unreachable for this id list: not yet
            try:
                sha1 = _sha1(path) if st.st_size <= MAX_FILE_BYTES else None
            except OSError:
                continue
            if sha1 is not None and any(entry.get("sha1") == sha1 for entry in self.seen.values()):
                # touched, or a renamed copy of something already handled: nothing new
                self.seen[path.name] = self._entry(path, st, sha1, "same content")
                changed_state = True
                continue
            report, transient = self._import(path)
            if transient:
                # arXiv could not be asked: not done, try again later; say so once
                first = path.name not in self._retry_at
                self._retry_at[path.name] = time.monotonic() + self.retry_after
                if first:
                    handled.append((path, report))
                    if self.on_report is not None:
                        self.on_report(path, report)
                continue
            self._retry_at.pop(path.name, None)
            outcome = "rejected" if report.rejected and not (
                report.added or report.merged or report.unchanged) else "imported"
            self.seen[path.name] = self._entry(path, st, sha1, outcome)
            changed_state = True
            self._save()  # after each file: a crash later does not import it again
            handled.append((path, report))
            if self.on_report is not None:
                self.on_report(path, report)
        self._pending = current
        if changed_state:
            self._save()
        return handled

    def _import(self, path: Path) -> tuple[ImportReport, bool]:
        """(report, transient): transient when arXiv could not be reached for an id list."""
        from index.arxiv_api import ArxivUnavailable

        try:
            report = self.lib.import_files([path])
        except ArxivUnavailable as exc:
            report = ImportReport()
            report.rejected.append(
                Problem(f"{exc} (will try again in {self.retry_after:g} s)", None, str(path)))
            return report, True
        except PapershelfError as exc:
            report = ImportReport()
            report.rejected.append(Problem(str(exc).split(": ", 1)[-1], None, str(path)))
        except Exception as exc:  # the watcher must outlive one bad file
            report = ImportReport()
            report.rejected.append(
                Problem(f"could not be imported ({type(exc).__name__}: {exc})", None, str(path)))
        return (report if isinstance(report, ImportReport) else ImportReport()), False


def watch_folder(lib, folder: str | Path, *, interval: float = 2.0,
                 stop: threading.Event | None = None,
                 on_report: Callable[[Path, ImportReport], None] | None = None,
                 include_existing: bool = False,
                 state_path: str | Path | None = None,
                 retry_after: float = 60.0) -> None:
    """Poll `folder` every `interval` seconds until `stop` is set (or KeyboardInterrupt)."""
    watcher = FolderWatcher(lib, folder, state_path=state_path, include_existing=include_existing,
                            on_report=on_report, retry_after=retry_after)
    stop = stop or threading.Event()
    while not stop.is_set():
        watcher.poll()
        stop.wait(interval)
