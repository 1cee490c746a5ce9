"""`papershelf doctor [--repair]`: what it finds, what it repairs, and what it leaves alone."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from crash_worker import dump, records

from index import doctor
from index.library import Library
from tui.cli import main


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("doctor") / "lib"
    with Library.open(path) as lib:
        lib.add(records(40, 11))
        keys = lib.store.filtered_keys()
        lib.set_star(keys[0])
        lib.add_tag(keys[1], "survey")
        lib.set_note(keys[2], "read section 3")
        lib.flush_index()
    return path


@pytest.fixture
def data(template, tmp_path) -> Path:
    """A healthy library with an up-to-date index (a copy of one built once per module)."""
    return Path(shutil.copytree(template, tmp_path / "lib"))


def _doctor(path: Path, *extra: str, capsys) -> tuple[int, str]:
    code = main(["--data-dir", str(path), "doctor", *extra])
    return code, capsys.readouterr().out


def test_a_healthy_library_passes(data, capsys):
    with Library.open(data) as lib:
        report = doctor.check(lib)
        assert report.ok, report.findings
        checks = {f.check for f in report.findings}
        assert {"sqlite", "oplog", "index"} <= checks
    code, out = _doctor(data, capsys=capsys)
    assert code == 0 and "no problems found" in out


def test_pending_index_updates_are_catching_up_not_an_error(data, capsys):
    with Library.open(data) as lib:
        lib.add_tag(lib.store.filtered_keys()[3], "later")  # marks the paper dirty
        assert lib.store.dirty_keys()
        report = doctor.check(lib)
        assert report.ok
        assert any("catching up" in f.message for f in report.findings)
        before = dump(lib.store.db)
        dirty = lib.store.dirty_keys()
    # Checking changes nothing: the CLI does not flush the index after `doctor`.
    code, _ = _doctor(data, capsys=capsys)
    assert code == 0
    with Library.open(data) as lib:
        assert dump(lib.store.db) == before and lib.store.dirty_keys() == dirty


def test_a_paper_missing_from_the_index_is_found_and_repaired(data, capsys):
    with Library.open(data) as lib:
        key = lib.store.filtered_keys()[4]
        lib.index.delete([key])
        report = doctor.check(lib)
        [finding] = [f for f in report.problems]
        assert finding.check == "index" and finding.repairable and key in finding.message
    code, out = _doctor(data, capsys=capsys)
    assert code == 1 and "missing from the search index" in out and "--repair" in out
    code, out = _doctor(data, "--repair", capsys=capsys)
    assert code == 0 and "rebuilt the search index" in out
    with Library.open(data) as lib:
        assert doctor.check(lib).ok
        words = [w for w in lib.get(key).title.replace(":", " ").split() if len(w) >= 5]
        assert key in lib.search(" ".join(words), limit=None).keys


@pytest.mark.parametrize("engine", ["whoosh", "sqlite"])
def test_deleted_and_duplicate_entries_in_the_index(data, engine):
    with Library.open(data, engine=engine) as lib:
        keys = lib.store.filtered_keys()
        lib.index.close()
        if engine == "sqlite":
            # Two full-text entries that lost their paper (as after a half-applied repair).
            raw = sqlite3.connect(lib.index.engine.path)
            with raw:
                raw.execute("INSERT INTO full (rowid, title) VALUES (999998, 'orphan one')")
                raw.execute("INSERT INTO full (rowid, title) VALUES (999999, 'orphan two')")
            raw.close()
            unknown, twice = "<unknown>", "<unknown>"
        else:
            # An entry of a paper the library never had, and a second copy of a paper.
            from whoosh import index as whoosh_index

            writer = whoosh_index.open_dir(str(lib.index.directory), indexname="papers").writer()
            writer.add_document(key="title:000000000000", title="orphan one")
            writer.add_document(key=keys[0], title="a stale second copy")
            writer.commit()
            unknown, twice = "title:000000000000", keys[0]
        lib.index.close()
        # A paper deleted in the store while its index update was lost.
        lib.store.delete(keys[6])
        lib.store.clear_dirty([keys[6]])
        report = doctor.check(lib)
        messages = " | ".join(f.message for f in report.problems)
        assert "more than once" in messages and twice in messages
        assert "2 search index entries are deleted or unknown" in messages
        assert unknown in messages or keys[6] in messages
        actions = doctor.repair(lib, report)
        assert any("rebuilt" in a for a in actions)
        assert doctor.check(lib).ok
        assert sorted(doctor.index_keys(lib)) == sorted(lib.store.filtered_keys())


def test_a_missing_index_is_reported_and_rebuilt(data, capsys):
    shutil.rmtree(data / "search-whoosh")
    with Library.open(data) as lib:
        report = doctor.check(lib)
        assert [f.fix for f in report.problems] == ["reindex"]
    code, out = _doctor(data, "--repair", "--json", capsys=capsys)
    result = json.loads(out)
    assert code == 0 and result["ok"] is True
    assert any("rebuilt" in a for a in result["repairs"])
    assert any(f["check"] == "index" and f["severity"] == "warning" for f in result["before"])


def test_a_gap_in_the_operation_log_is_an_error_repair_does_not_hide(data, capsys):
    conn = sqlite3.connect(data / "library.sqlite3")
    device = conn.execute("SELECT v FROM meta WHERE k = 'device_id'").fetchone()[0]
    conn.execute("DELETE FROM ops WHERE device = ? AND seq = 3", (device,))
    conn.commit()
    conn.close()
    with Library.open(data) as lib:
        report = doctor.check(lib)
        [finding] = report.problems
        assert finding.check == "oplog" and "gaps" in finding.message and "3..3" in finding.message
        assert not finding.repairable
    before = dump(data / "library.sqlite3")
    code, out = _doctor(data, "--repair", capsys=capsys)
    assert code == 1 and "1 problem(s) remain" in out
    assert dump(data / "library.sqlite3") == before  # nothing deleted or renumbered


def test_an_undecodable_operation_is_an_error(data):
    conn = sqlite3.connect(data / "library.sqlite3")
    conn.execute("UPDATE ops SET value = '{broken' WHERE seq = 2")
    conn.commit()
    conn.close()
    with Library.open(data) as lib:
        report = doctor.check(lib)
        assert any(f.check == "oplog" and "not valid JSON" in f.message for f in report.errors)


def test_orphan_tags_are_reported_and_kept(data):
    conn = sqlite3.connect(data / "library.sqlite3")
    conn.execute("INSERT INTO tags VALUES ('arxiv:0000.00000', 'lost')")
    conn.commit()
    conn.close()
    with Library.open(data) as lib:
        report = doctor.check(lib)
        assert any(f.check == "consistency" and "belong to no paper" in f.message
                   for f in report.problems)
        doctor.repair(lib, report)
        assert lib.store.db.execute("SELECT COUNT(*) FROM tags WHERE tag = 'lost'").fetchone()[0] == 1


def test_a_damaged_database_is_reported_in_one_line(data, capsys):
    conn = sqlite3.connect(data / "library.sqlite3")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'papers_title_norm'"
                        ).fetchone()[0]
    conn.close()
    raw = bytearray((data / "library.sqlite3").read_bytes())
    start = (root - 1) * page_size
    raw[start + 8: start + page_size] = bytes(range(256)) * ((page_size - 8) // 256) + \
        bytes((page_size - 8) % 256)
    (data / "library.sqlite3").write_bytes(bytes(raw))
    with Library.open(data) as lib:
        report = doctor.check(lib)
        assert report.errors and report.errors[0].check == "sqlite"
    code = main(["--data-dir", str(data), "doctor"])
    captured = capsys.readouterr()
    assert code == 1 and "Traceback" not in captured.err
    assert any(line.startswith("error: [sqlite]") for line in captured.out.splitlines())


# ---- regression: found while writing these tests (fixed in index/search.py) -------------------

def test_searching_an_exact_title_with_a_stop_word_finds_the_paper(tmp_path):
    from index.model import PaperRecord

    with Library.open(tmp_path / "lib") as lib:
        lib.add([PaperRecord(title="Learning to Rank Transformers", abstract="ranking",
                             arxiv_id="2401.00001")])
        assert lib.search("Learning to Rank Transformers").keys == ["arxiv:2401.00001"]


# ---- index damage, end to end through the CLI ---------------------------------------------------

def _damage(path: Path, how: str) -> None:
    if how == "delete":
        path.unlink()
    elif how == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "scramble":
        raw = bytearray(path.read_bytes())
        for i in range(len(raw) // 4, len(raw), 7):
            raw[i] = (raw[i] * 31 + 17) % 256
        path.write_bytes(bytes(raw))


@pytest.mark.parametrize("how", ["delete", "truncate", "scramble", "empty"])
def test_search_survives_a_damaged_index(how, data, capsys):
    """Damage the search index file; `papershelf search` still answers, from an index rebuilt
    from the store, and the rebuilt index holds every paper exactly once."""
    files = sorted(p for p in (data / "search-whoosh").iterdir() if p.is_file())
    assert len(files) > 3, files
    for path in files:
        _damage(path, how)
    with Library.open(data) as lib:
        expected = lib.store.filtered_keys()
        probes = [lib.get(expected[0])]
    for paper in probes:
        words = [w for w in paper.title.replace(":", " ").split() if len(w) >= 5]
        code = main(["--data-dir", str(data), "search", "--json", "--limit", "100", *words])
        captured = capsys.readouterr()
        assert code == 0 and "Traceback" not in captured.err, captured.err
        found = [r["key"] for r in json.loads(captured.out)["results"]]
        assert paper.key in found
    with Library.open(data) as lib:
        assert sorted(doctor.index_keys(lib)) == sorted(expected)
        assert doctor.check(lib).ok


def test_search_survives_a_deleted_index_folder(data, capsys):
    shutil.rmtree(data / "search-whoosh")
    (data / "search-whoosh").write_text("a file where the folder was")
    code = main(["--data-dir", str(data), "search", "--json", "model"])
    captured = capsys.readouterr()
    assert code == 0 and "Traceback" not in captured.err, captured.err
    with Library.open(data) as lib:
        assert doctor.check(lib).ok


def test_an_old_whoosh_index_folder_is_removed(data, capsys):
    """Versions before 0.2 kept a Whoosh index in whoosh/: derived data, removed on first use."""
    (data / "whoosh").mkdir()
    (data / "whoosh" / "_papers_1.toc").write_bytes(b"old index")
    code = main(["--data-dir", str(data), "search", "--json", "model"])
    capsys.readouterr()
    assert code == 0 and not (data / "whoosh").exists()


def test_repairing_the_clock_saves_a_copy_first(data, capsys):
    conn = sqlite3.connect(data / "library.sqlite3")
    conn.execute("UPDATE meta SET v = '0000000000001.00000.x' WHERE k = 'hlc'")
    conn.commit()
    conn.close()
    code, out = _doctor(data, capsys=capsys)
    assert code == 1 and "clock is behind" in out
    code, out = _doctor(data, "--repair", capsys=capsys)
    assert code == 0 and "saved the library as it was" in out and "moved the stored clock" in out
    assert list((data / "backups").glob("papershelf-auto-*-before-repair.sqlite3"))
