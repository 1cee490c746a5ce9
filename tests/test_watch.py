"""Watched folder: each dropped file imported once, after its size holds still."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from index.model import ImportReport, PapershelfError
from index.watch import FolderWatcher, is_ignored, watch_folder


class FakeLibrary:
    def __init__(self, data_dir: Path, fail_on: str | None = None):
        self.data_dir = data_dir
        self.calls: list[list[Path]] = []
        self.fail_on = fail_on

    def import_files(self, paths, **kwargs):
        self.calls.append([Path(p) for p in paths])
        if self.fail_on and Path(paths[0]).name == self.fail_on:
            raise PapershelfError(f"{paths[0]}: not a format papershelf knows")
        report = ImportReport()
        report.added.append(f"title:{Path(paths[0]).name}")
        return report

    def add(self, records, **kwargs):  # pragma: no cover - the watcher imports files
        raise AssertionError("watch imports files")


def touch(path: Path, text: str, mtime: float | None = None) -> None:
    path.write_text(text, encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))


@pytest.fixture
def setup(tmp_path):
    folder = tmp_path / "Downloads"
    folder.mkdir()
    lib = FakeLibrary(tmp_path / "data")
    return folder, lib


def names(calls):
    return [[p.name for p in call] for call in calls]


def test_existing_files_are_not_imported_new_ones_once(setup):
    folder, lib = setup
    touch(folder / "old.pdf", "%PDF old")
    watcher = FolderWatcher(lib, folder)
    assert watcher.poll() == []
    touch(folder / "hf-2024-08-20.txt", "page")
    assert watcher.poll() == []  # first sight: wait for the size to hold
    handled = watcher.poll()
    assert [p.name for p, _ in handled] == ["hf-2024-08-20.txt"]
    assert watcher.poll() == [] and watcher.poll() == []
    assert names(lib.calls) == [["hf-2024-08-20.txt"]]
    state = json.loads((lib.data_dir / "watch-state.json").read_text())
    (entry_set,) = state["folders"].values()
    assert entry_set["hf-2024-08-20.txt"]["sha1"] and entry_set["old.pdf"]["outcome"] == "existing"


def test_growing_file_waits_and_temp_files_ignored(setup):
    folder, lib = setup
    watcher = FolderWatcher(lib, folder)
    part = folder / "refs.bib"
    touch(part, "@article{a,", mtime=1000)
    watcher.poll()
    touch(part, "@article{a, title={A}}", mtime=1001)  # still being written
    assert watcher.poll() == []
    for name in ("x.part", "y.crdownload", "z.tmp", ".hidden", "~$lock.bib"):
        touch(folder / name, "data")
    assert [p.name for p, _ in watcher.poll()] == ["refs.bib"]
    assert watcher.poll() == []
    assert names(lib.calls) == [["refs.bib"]]
    assert all(is_ignored(n) for n in ("a.PART", "b.crdownload", ".DS_Store", "c.tmp"))
    assert not is_ignored("papers.json")


def test_restart_remembers_and_catches_up(setup):
    folder, lib = setup
    watcher = FolderWatcher(lib, folder)
    touch(folder / "a.txt", "A")
    watcher.poll(), watcher.poll()
    touch(folder / "b.txt", "B")  # arrives while no watcher runs
    again = FolderWatcher(FakeLibrary(lib.data_dir), folder)
    again.poll()
    handled = again.poll()
    assert [p.name for p, _ in handled] == ["b.txt"]
    assert names(again.lib.calls) == [["b.txt"]]


def test_changed_file_reimported_same_content_not(setup):
    folder, lib = setup
    watcher = FolderWatcher(lib, folder)
    touch(folder / "a.txt", "first", mtime=1000)
    watcher.poll(), watcher.poll()
    touch(folder / "a.txt", "first", mtime=2000)  # touched, same bytes
    watcher.poll(), watcher.poll()
    touch(folder / "copy (1).txt", "first")  # a renamed copy
    watcher.poll(), watcher.poll()
    touch(folder / "a.txt", "second version", mtime=3000)  # downloaded again, new content
    watcher.poll(), watcher.poll()
    assert names(lib.calls) == [["a.txt"], ["a.txt"]]


def test_a_bad_file_is_reported_once_and_the_watcher_goes_on(setup):
    folder, _ = setup
    lib = FakeLibrary(setup[1].data_dir, fail_on="movie.mkv")
    seen = []
    watcher = FolderWatcher(lib, folder, on_report=lambda path, report: seen.append((path.name, report)))
    touch(folder / "movie.mkv", "binary-ish")
    touch(folder / "good.json", "[]")
    watcher.poll(), watcher.poll(), watcher.poll()
    assert [name for name, _ in seen] == ["good.json", "movie.mkv"]
    bad = dict(seen)["movie.mkv"]
    assert bad.rejected and "not a format papershelf knows" in bad.rejected[0].message
    assert len(lib.calls) == 2


def test_unreachable_arxiv_is_retried_not_forgotten(setup):
    from index.arxiv_api import ArxivUnavailable

    folder, lib = setup
    outcomes = [ArxivUnavailable("cannot reach arXiv (timeout after 10 s); check your connection")]
    real_import = lib.import_files

    def flaky(paths, **kwargs):
        lib.calls.append([Path(p) for p in paths])
        if outcomes:
            raise outcomes.pop()
        lib.calls.pop()
        return real_import(paths, **kwargs)

    lib.import_files = flaky
    seen = []
    watcher = FolderWatcher(lib, folder, retry_after=0.2,
                            on_report=lambda path, report: seen.append(report))
    touch(folder / "ids.txt", "2101.01234\n")
    watcher.poll(), watcher.poll()
    assert len(seen) == 1 and "will try again" in seen[0].rejected[0].message
    assert watcher.poll() == []  # not before retry_after
    time.sleep(0.25)
    (path, report), = watcher.poll()
    assert report.added and not report.rejected
    assert watcher.poll() == [] and len(lib.calls) == 2


def test_include_existing_and_not_a_folder(setup, tmp_path):
    folder, lib = setup
    touch(folder / "there.bib", "x")
    watcher = FolderWatcher(lib, folder, include_existing=True)
    watcher.poll(), watcher.poll()
    assert names(lib.calls) == [["there.bib"]]
    with pytest.raises(PapershelfError, match="not a folder"):
        FolderWatcher(lib, tmp_path / "nope")


def test_watch_folder_thread_stops_on_event(setup):
    folder, lib = setup
    stop = threading.Event()
    reports = []
    thread = threading.Thread(target=watch_folder, args=(lib, folder), kwargs=dict(
        interval=0.02, stop=stop, on_report=lambda p, r: reports.append(p.name)))
    thread.start()
    try:
        time.sleep(0.1)
        touch(folder / "dropped.txt", "hello")
        deadline = time.monotonic() + 5
        while not reports and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    assert reports == ["dropped.txt"]


def test_with_the_real_library(tmp_path, lib):
    folder = tmp_path / "in"
    folder.mkdir()
    watcher = FolderWatcher(lib, folder)
    (folder / "refs.bib").write_text("@article{k2020, title={Watched Paper}, year={2020}}\n",
                                     encoding="utf-8")
    watcher.poll()
    ((path, report),) = watcher.poll()
    assert len(report.added) == 1, report.rejected
    assert lib.get(report.added[0]).title == "Watched Paper"
    assert (Path(lib.data_dir) / "watch-state.json").exists()
