"""The search engines' contract, continued: writing the index (updates, deletes, rebuilds),
damage, the writer lock, and other threads and processes; each test on both engines, through
index.search.SearchIndex or the Library. Queries are in test_search.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.bench_index_busy import HOLD_WRITER
from index.search import IndexBusy, IndexUnavailable, SearchIndex
from search_support import PAPERS, engine, ix, library, paper  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[1]


# -- writes ------------------------------------------------------------------------------------


def test_update_then_search_finds_document_exactly_once(ix):
    """An updated paper is found exactly once, with its new text only."""
    assert ix.search("visuomotor").keys == ["p:policy"]  # open a searcher before the update
    changed = paper("p:policy", "Diffusion Policy Revisited", "visuomotor control, again",
                    ["Cheng Chi"], added=300.0)
    ix.upsert([changed])
    result = ix.search("visuomotor")
    assert result.keys == ["p:policy"]
    assert result.total == 1
    assert ix.search("revisited").keys == ["p:policy"]
    assert ix.search("title:learning visuomotor").total == 0  # old title gone
    ix.upsert([changed])  # again: still one copy
    assert ix.search("visuomotor").total == 1
    assert ix.doc_count() == len(PAPERS)


def test_upsert_adds_and_updates_in_one_call(ix):
    new = paper("p:new", "Graph Neural Networks", "message passing", ["Ann Lee"], added=800.0)
    old = paper("p:llm", "Large Language Models are Few-Shot Learners", "updated abstract text",
                ["Tom Brown"], added=400.0)
    ix.upsert([new, old])
    assert ix.doc_count() == len(PAPERS) + 1
    assert ix.search("message passing").keys == ["p:new"]
    assert ix.search("updated").keys == ["p:llm"]
    assert ix.search("greatly").total == 0
    # new words join the spelling dictionary
    assert ix.search("mesage").suggestion == "message"


def test_upsert_into_empty_index_with_duplicate_keys(tmp_path, engine):
    index = SearchIndex(tmp_path / "ix", engine)
    index.rebuild([])
    assert index.doc_count() == 0
    index.upsert([paper("k", "first version"), paper("k", "second version")])
    assert index.doc_count() == 1
    assert index.search("version").total == 1
    assert index.search("second").keys == ["k"]


def test_delete(ix):
    ix.delete(["p:diffusion", "not:there"])
    assert "p:diffusion" not in ix.search("diffusion").keys
    assert ix.doc_count() == len(PAPERS) - 1


def test_large_batches_in_chunks_and_overlapping_upserts(tmp_path, engine):
    from benchmarks.synthetic import make_records

    recs = make_records(1300, seed=3)
    papers = [paper(r.key, r.title, r.abstract, r.authors, added=float(i)) for i, r in enumerate(recs)]
    index = SearchIndex(tmp_path / "ix", engine)
    index.rebuild(papers[:1100])  # several insert chunks
    index.upsert(papers[1000:])  # overlapping: updates and adds
    assert index.doc_count() == 1300
    assert sorted(index.all_keys()) == sorted(r.key for r in recs)
    title_word = recs[1200].title.split()[-1]
    assert recs[1200].key in index.search(f'title:"{title_word}"', limit=None).keys
    # every indexed abstract word of an updated paper is still known to the spelling check
    word = max(recs[1050].abstract.split(), key=len).strip(".,;:").lower()
    assert index.search(word).suggestion is None
    index.close()


def test_rebuild_replaces_everything_and_reports_progress(ix, tmp_path):
    seen = []
    fresh = [paper(f"k{i}", f"Fresh paper number {i}", "fresh words", added=float(i)) for i in range(600)]
    ix.rebuild(iter(fresh), progress=lambda done, total: seen.append((done, total)))
    assert ix.doc_count() == 600
    assert ix.search("diffusion").total == 0
    assert seen and seen[-1] == (600, 600)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    # no temp or old directories left next to the index
    assert sorted(p.name for p in ix.directory.parent.iterdir()) == ["index"]
    other = SearchIndex(ix.directory, ix.name)
    other.open()
    assert other.doc_count() == 600
    other.close()


# -- opening, versions, damage -----------------------------------------------------------------


def test_open_missing_index_raises_unavailable(tmp_path, engine):
    with pytest.raises(IndexUnavailable):
        SearchIndex(tmp_path / "nothing", engine).open()
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexUnavailable):
        SearchIndex(tmp_path / "empty", engine).open()


def _index_files(directory: Path):
    return [p for p in directory.iterdir() if p.is_file()]


def _damage_all(directory, how):
    for path in _index_files(directory):
        data = path.read_bytes()
        if how == "truncate":
            path.write_bytes(data[: len(data) // 3])
        elif how == "scramble":
            path.write_bytes(bytes((b * 7 + 13) % 256 for b in data))
        elif how == "delete":
            path.unlink()


@pytest.mark.parametrize("how", ["truncate", "scramble", "delete"])
def test_damaged_index_raises_unavailable(ix, how):
    ix.close()
    _damage_all(ix.directory, how)
    with pytest.raises(IndexUnavailable):
        other = SearchIndex(ix.directory, ix.name)
        other.open()
        for word in ("model", "visuomotor", "diff*", '"large language"'):
            other.search(word)
        raise IndexUnavailable("not detected by reads either")


def test_caller_can_rebuild_after_damage(ix):
    ix.close()
    _damage_all(ix.directory, "truncate")
    with pytest.raises(IndexUnavailable):
        ix.open()
    ix.rebuild(PAPERS)
    assert ix.search("visuomotor").keys == ["p:policy"]


# -- concurrency -------------------------------------------------------------------------------

def test_writer_lock_held_by_another_process_raises_busy(ix):
    code = HOLD_WRITER[ix.name] + "print('locked', flush=True)\ntime.sleep(30)\n"
    holder = subprocess.Popen([sys.executable, "-c", code, str(ix.directory)],
                              stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "locked"
        # it gives up after the index's own timeout (how long that takes: bench_index_busy.py)
        with pytest.raises(IndexBusy, match=r"another papershelf process \(waited 0\.5 s\)"):
            ix.upsert([paper("x", "blocked")])
        with pytest.raises(IndexBusy):
            ix.delete(["p:llm"])
        with pytest.raises(IndexBusy):
            ix.rebuild(PAPERS)
        # reading is not blocked by a writer, and nothing was half-written
        assert ix.search("visuomotor").keys == ["p:policy"]
        assert ix.search("blocked").total == 0
    finally:
        holder.kill()
        holder.wait()
    # SIGKILL frees the lock
    ix.upsert([paper("x", "unblocked")])
    assert ix.search("unblocked").keys == ["x"]



def test_searches_run_while_another_thread_writes(ix):
    import threading

    batch = [paper(f"t{i}", f"Threaded paper {i}", "concurrent words", added=float(i)) for i in range(300)]
    errors, counts = [], []

    def writer():
        try:
            ix.upsert(batch)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    t = threading.Thread(target=writer)
    t.start()
    while t.is_alive():
        r = ix.search("visuomotor OR threaded", limit=5)
        counts.append(r.total)
    t.join()
    assert not errors
    assert counts and all(c in (1, 301) for c in counts)
    assert ix.search("visuomotor OR threaded").total == 301


def test_index_rebuilt_by_another_process_is_picked_up(ix):
    assert ix.search("visuomotor").keys == ["p:policy"]
    other = SearchIndex(ix.directory, ix.name)
    other.rebuild([paper("z", "Zebra stripes", "camouflage")])
    other.close()
    assert ix.search("zebra").keys == ["z"]
    assert ix.search("visuomotor").total == 0


@pytest.mark.parametrize("damage", ["missing", "damaged", "older"])
def test_library_rebuilds_a_missing_damaged_or_older_index(library, damage):
    import shutil

    from index.search import engine_dir

    directory = engine_dir(library.data_dir, library.engine_name)
    assert library.search("visuomotor").total == 1
    library.index.close()
    library._index = None
    if damage == "missing":
        shutil.rmtree(directory)
    elif damage == "damaged":
        for path in directory.iterdir():
            if path.is_file():
                path.write_bytes(b"\x00garbage" * 10)
    elif library.engine_name == "whoosh":
        (directory / "papershelf-index.json").write_text('{"format": "papershelf-whoosh", "schema": 0}')
    else:
        import sqlite3

        db = sqlite3.connect(directory / "search.sqlite")
        with db:
            db.execute("UPDATE meta SET value = '0' WHERE name = 'schema'")
        db.close()
    assert library.search("visuomotor").total == 1
    assert library.index.doc_count() == len(PAPERS)


_KILL_WORKER = r"""
import sys, time
from index.library import Library
from index.model import PaperRecord
from benchmarks.synthetic import make_records

lib = Library.open(sys.argv[1], engine=sys.argv[2])
what = sys.argv[3]
records = make_records(6000, seed=int(sys.argv[4]))
print("start", flush=True)
if what == "rebuild":
    while True:
        lib.reindex(progress=lambda done, total: print("at", done, flush=True))
else:
    for start in range(0, len(records), 500):
        lib.add(records[start:start + 500])
        print("at", start + 500, flush=True)
print("done", flush=True)
"""


@pytest.mark.parametrize("what", ["rebuild", "update"])
def test_a_kill_during_an_index_write_leaves_an_index_that_agrees(tmp_path, engine, what):
    import os
    import signal

    from index.library import Library
    from benchmarks.synthetic import make_records

    data = tmp_path / "lib"
    with Library.open(data, engine=engine) as lib:
        lib.add(make_records(800, seed=2))
    proc = subprocess.Popen([sys.executable, "-c", _KILL_WORKER, str(data), engine, what, "5"],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout.readline().strip() == "start"
    # Kill once the writes are under way: half-way through a rebuild (it reports every 500
    # papers of 800), or while the second of twelve batches is written.
    wanted = "at 500"
    while (line := proc.stdout.readline().strip()) != wanted:
        assert line.startswith("at "), f"the writes ended before the kill: {line!r}"
    os.kill(proc.pid, signal.SIGKILL)
    rest = proc.communicate()[0]
    assert "done" not in rest  # the kill came while it was writing
    with Library.open(data, engine=engine) as lib:
        stored = set(lib.store.filtered_keys())
        assert lib.search("model OR learning OR data", limit=None).total <= len(stored)
        lib.flush_index()
        assert sorted(lib.index.all_keys()) == sorted(stored)
        some = lib.get(sorted(stored)[0])
        word = max(some.title.split(), key=len)
        assert some.key in lib.search(f'title:"{word}"', limit=None).keys
