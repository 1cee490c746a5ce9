"""Write failures: disk full (ENOSPC / SQLITE_FULL) and I/O errors (EIO) at each write.

The promise: the command fails with one clear line on stderr (exit 1, no traceback), and the
library is as it was before (a full dump of papers, tags, registers, ops, aliases and meta is
unchanged), or, where the failing write comes after the change was saved (updating the derived
search index), the change is complete and the index catches up later.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from crash_worker import dump, records
from small_fs import fill, small_filesystem

from index.library import Library
from tui.cli import main

ROOT = Path(__file__).resolve().parent.parent
WRITE_SQL = ("INSERT", "UPDATE", "DELETE", "REPLACE", "COMMIT")


def run_cli(argv: list[str], capsys) -> tuple[int | str, str, str]:
    """(exit code, or 'exception: ...' when one escaped main; stdout; stderr)."""
    try:
        code = main(argv)
    except BaseException as exc:  # noqa: BLE001 - an escaped exception is a traceback for a user
        code = f"exception: {type(exc).__name__}: {exc}"
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_clean_failure(code, err: str) -> None:
    assert code == 1, f"expected exit 1 with a message, got {code!r}; stderr: {err!r}"
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines and lines[-1].startswith("papershelf: "), err
    assert len(lines) == 1, f"more than one line: {err!r}"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("wf") / "lib"
    with Library.open(path) as lib:
        lib.add(records(25, 21))
        keys = sorted(lib.store.filtered_keys())  # keys[0] is first_key()
        lib.add_tag(keys[0], "old")
        lib.set_note(keys[0], "first note")
        lib.flush_index()
    return path


@pytest.fixture
def data(template, tmp_path) -> Path:
    return Path(shutil.copytree(template, tmp_path / "lib"))


def first_key(data: Path) -> str:
    conn = sqlite3.connect(data / "library.sqlite3")
    key = conn.execute("SELECT key FROM papers ORDER BY key LIMIT 1").fetchone()[0]
    conn.close()
    return key


def page_file(tmp_path: Path, n: int = 30, seed: int = 77) -> Path:
    from benchmarks.synthetic import make_page_text

    path = tmp_path / "page.txt"
    path.write_text(make_page_text(n, seed), encoding="utf-8")
    return path


# ---- SQLite ----------------------------------------------------------------------------------

class FailingConnection:
    """A real sqlite3 connection whose Nth write statement raises `error`."""

    def __init__(self, conn: sqlite3.Connection, fail_at: int, error: Exception):
        object.__setattr__(self, "_conn", conn)
        object.__setattr__(self, "_left", fail_at)
        object.__setattr__(self, "_error", error)
        object.__setattr__(self, "fired", False)

    def _count(self, sql: str) -> None:
        if sql.lstrip().upper().startswith(WRITE_SQL):
            left = self._left - 1
            object.__setattr__(self, "_left", left)
            if left == 0:
                object.__setattr__(self, "fired", True)
                raise self._error

    def execute(self, sql, *args):
        self._count(sql)
        return self._conn.execute(sql, *args)

    def executemany(self, sql, *args):
        self._count(sql)
        return self._conn.executemany(sql, *args)

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def __setattr__(self, name, value):
        setattr(self._conn, name, value)


def arm_sqlite(monkeypatch, fail_at: int, error: Exception,
               database: str = "library.sqlite3") -> list[FailingConnection]:
    """Make the Nth write to `database` (the library, or the search index) fail."""
    made: list[FailingConnection] = []
    real = sqlite3.connect

    def connect(path, *args, **kwargs):
        conn = real(path, *args, **kwargs)
        if Path(path).name != database:
            return conn
        conn = FailingConnection(conn, fail_at, error)
        made.append(conn)
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect)
    return made


COMMANDS = {
    "star": lambda key, tmp: ["star", key],
    "tag": lambda key, tmp: ["tag", key, "new"],
    "untag": lambda key, tmp: ["untag", key, "old"],
    "status": lambda key, tmp: ["status", key, "read"],
    "note": lambda key, tmp: ["note", key, "--text", "second note"],
    "import": lambda key, tmp: ["import", str(page_file(tmp, 5))],
}


def success_dump(data: Path, argv: list[str], tmp_path: Path, capsys) -> dict:
    copy = Path(shutil.copytree(data, tmp_path / "success"))
    code, _, err = run_cli(["--data-dir", str(copy), *argv], capsys)
    assert code == 0, err
    return dump(copy / "library.sqlite3")


def _strip_volatile(d: dict) -> dict:
    """Drop what differs between two equal runs: op clocks, paper added times, device meta."""
    out = dict(d)
    out["ops"] = [(r[0], r[1], r[2], r[4], r[5], r[6], r[7]) for r in d["ops"]]
    out["registers"] = [(r[0], r[1]) for r in d["registers"]]
    out["papers"] = [r[:15] + r[16:] for r in d["papers"]]
    out["meta"] = [r for r in d["meta"] if r[0] != "hlc"]
    return out


SQLITE_ERRORS = [sqlite3.OperationalError("database or disk is full"),
                 sqlite3.OperationalError("disk I/O error")]
SWEEP = [*range(1, 13), 16, 20, 25, 30, 40, 60, 90, 130, 199]


# The sweep uses "disk full" only: both errors take the same path (the message test below
# runs each of them once per command).
@pytest.mark.parametrize("error", SQLITE_ERRORS[:1], ids=["ENOSPC"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_sqlite_write_failure_keeps_the_library_whole(command, error, data, tmp_path,
                                                      monkeypatch, capsys):
    """Fail the 1st, 2nd, ... write of a command: the library is either exactly as before,
    or (when the failing write came after the change was saved) holds the whole change."""
    key = first_key(data)
    argv = COMMANDS[command](key, tmp_path)
    before = dump(data / "library.sqlite3")
    after = _strip_volatile(success_dump(data, argv, tmp_path, capsys))
    failed = 0
    for n in SWEEP:
        made = arm_sqlite(monkeypatch, n, error)
        code, _, err = run_cli(["--data-dir", str(data), *argv], capsys)
        monkeypatch.undo()
        if not any(c.fired for c in made):
            assert code == 0, err
            break
        failed += 1
        assert code != 0, f"write {n} failed but the command reported success"
        now = dump(data / "library.sqlite3")
        if now != before:
            assert _strip_volatile(now) == after, f"write {n}: a partial change was kept"
            break  # every later write comes after the change was saved
    assert failed, "no write was ever made"


@pytest.mark.parametrize("error", SQLITE_ERRORS, ids=["ENOSPC", "EIO"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_sqlite_write_failure_message_is_one_line(command, error, data, tmp_path,
                                                  monkeypatch, capsys):
    key = first_key(data)
    argv = COMMANDS[command](key, tmp_path)
    before = dump(data / "library.sqlite3")
    arm_sqlite(monkeypatch, 1, error)
    code, _, err = run_cli(["--data-dir", str(data), *argv], capsys)
    monkeypatch.undo()
    assert dump(data / "library.sqlite3") == before
    assert_clean_failure(code, err)
    assert str(error) in err


def test_a_command_with_several_tags_is_all_or_nothing(data, tmp_path, monkeypatch, capsys):
    key = first_key(data)
    before = dump(data / "library.sqlite3")
    for n in range(1, 16):
        arm_sqlite(monkeypatch, n, sqlite3.OperationalError("database or disk is full"))
        code, _, err = run_cli(["--data-dir", str(data), "tag", key, "new", "other"], capsys)
        monkeypatch.undo()
        assert code != 0
        now = dump(data / "library.sqlite3")
        tags = {t for k, t in now["tags"] if k == key}
        assert now == before or {"new", "other"} <= tags, f"write {n}: only some tags kept"
        if now != before:
            break


@pytest.fixture
def full_disk_import(template, tmp_path):
    """A `papershelf import` of 400 papers into a library on a real, nearly full filesystem
    (a small tmpfs: see tests/small_fs.py). Yields (data dir, dump before, result, filler)."""
    page = page_file(tmp_path, 400)
    with small_filesystem(tmp_path, size_kib=8 * 1024) as mount:
        library = Path(shutil.copytree(template, mount / "lib"))
        before = dump(library / "library.sqlite3")
        filler = fill(mount, leave_kib=96)
        done = subprocess.run([sys.executable, "-m", "tui.cli", "--data-dir", str(library),
                               "import", str(page)], capture_output=True, text=True, cwd=ROOT,
                              timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)))
        yield library, before, done, filler


def test_real_sqlite_full_during_import_changes_nothing(full_disk_import):
    """A real ENOSPC (a nearly full tmpfs) in the middle of a 400-paper import."""
    library, before, done, filler = full_disk_import
    assert done.returncode != 0
    assert dump(library / "library.sqlite3") == before
    filler.unlink()  # room again: the library works as before
    with Library.open(library) as lib:
        assert lib.set_star(first_key(library))


def test_real_sqlite_full_message_is_one_line(full_disk_import):
    _, _, done, _ = full_disk_import
    assert_clean_failure(done.returncode, done.stderr)
    assert "full" in done.stderr


# ---- the search index ------------------------------------------------------------------------

INDEX_ERRORS = [OSError(errno.ENOSPC, "No space left on device"),
                OSError(errno.EIO, "Input/output error")]


def _arm_index(monkeypatch, error: OSError) -> None:
    """Every file the (Whoosh) search index creates fails to be written, as on a full or
    failing disk."""
    from whoosh.filedb.filestore import FileStorage

    def create_file(self, name, *args, **kwargs):
        raise error

    monkeypatch.setattr(FileStorage, "create_file", create_file)


@pytest.mark.parametrize("error", INDEX_ERRORS, ids=["ENOSPC", "EIO"])
def test_index_write_failure_keeps_the_store_and_catches_up(error, data, tmp_path,
                                                            monkeypatch, capsys):
    """The store is canonical: an index commit that fails loses nothing; the papers stay
    marked for indexing and the next command writes them."""
    from index import doctor

    page = page_file(tmp_path)
    _arm_index(monkeypatch, error)
    code, _, err = run_cli(["--data-dir", str(data), "import", str(page)], capsys)
    key = first_key(data)
    run_cli(["--data-dir", str(data), "tag", key, "indexed-later"], capsys)
    monkeypatch.undo()
    with Library.open(data) as lib:
        assert lib.store.count() == 55  # the 30 imported papers are kept
        assert "indexed-later" in lib.get(key).tags
        assert len(lib.store.dirty_keys()) >= 30
        assert doctor.check(lib).ok  # catching up, not an error
    code, out, err = run_cli(["--data-dir", str(data), "stats"], capsys)  # any command catches up
    assert code == 0
    with Library.open(data) as lib:
        assert not lib.store.dirty_keys()
        report = doctor.check(lib)
        assert report.ok and not any("catching up" in f.message for f in report.findings)


@pytest.mark.parametrize("command", ["import", "tag"])
def test_index_write_failure_is_reported_without_a_traceback(command, data, tmp_path,
                                                             monkeypatch, capsys):
    key = first_key(data)
    argv = COMMANDS[command](key, tmp_path)
    _arm_index(monkeypatch, INDEX_ERRORS[0])
    code, _, err = run_cli(["--data-dir", str(data), *argv], capsys)
    assert code == 0 and "Traceback" not in err  # the change itself is saved
    assert "catches up" in err


@pytest.mark.parametrize("command", ["import", "tag"])
def test_index_write_failure_message_names_the_cause(command, data, tmp_path, monkeypatch,
                                                     capsys):
    key = first_key(data)
    argv = COMMANDS[command](key, tmp_path)
    _arm_index(monkeypatch, INDEX_ERRORS[0])
    code, _, err = run_cli(["--data-dir", str(data), *argv], capsys)
    assert "disk is full" in err and "another papershelf" not in err


# ---- config, backup and export files ---------------------------------------------------------

def _failing_fsync(monkeypatch, error: OSError) -> None:
    def fsync(fd):
        raise error

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.parametrize("error", [OSError(errno.EIO, "Input/output error"),
                                   OSError(errno.ENOSPC, "No space left on device")],
                         ids=["EIO", "ENOSPC"])
def test_config_write_failure_keeps_the_old_file(error, tmp_path, monkeypatch):
    from index.config import load_config

    (tmp_path / "config.toml").write_text('[ui]\ntheme = "papershelf-dark"\n')
    config = load_config(tmp_path)
    _failing_fsync(monkeypatch, error)
    with pytest.raises(OSError):
        config.set("ui", "theme", "papershelf-light")
    monkeypatch.undo()
    assert (tmp_path / "config.toml").read_text() == '[ui]\ntheme = "papershelf-dark"\n'
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]  # no temp file left


def test_config_in_memory_state_matches_the_file_after_a_failed_write(tmp_path, monkeypatch):
    from index.config import load_config

    (tmp_path / "config.toml").write_text('[ui]\ntheme = "papershelf-dark"\n')
    config = load_config(tmp_path)
    _failing_fsync(monkeypatch, OSError(errno.EIO, "Input/output error"))
    with pytest.raises(OSError):
        config.set("ui", "theme", "papershelf-light")
    assert config.get("ui", "theme") == "papershelf-dark"


@pytest.mark.parametrize("error", [OSError(errno.EIO, "Input/output error"),
                                   OSError(errno.ENOSPC, "No space left on device")],
                         ids=["EIO", "ENOSPC"])
def test_backup_write_failure(error, data, tmp_path, monkeypatch, capsys):
    before = dump(data / "library.sqlite3")
    out = tmp_path / "out"
    out.mkdir()
    (out / "b.sqlite3").write_bytes(b"an older backup")
    _failing_fsync(monkeypatch, error)
    # --force: replacing an existing file is refused without it (issue 14)
    code, _, err = run_cli(["--data-dir", str(data), "backup", "--force", str(out / "b.sqlite3")],
                           capsys)
    monkeypatch.undo()
    assert_clean_failure(code, err)
    assert error.strerror in err and "nothing was changed" in err
    assert (out / "b.sqlite3").read_bytes() == b"an older backup"  # the old file is intact
    assert [p.name for p in out.iterdir()] == ["b.sqlite3"]  # no temp file left
    assert dump(data / "library.sqlite3") == before


def test_restore_write_failure_leaves_the_library(data, tmp_path, monkeypatch, capsys):
    with Library.open(data) as lib:
        good = lib.store.path.parent.parent / "good.sqlite3"
        from index.backup import backup

        backup(lib, good)
        lib.set_note(first_key(data), "after the backup")
    before = dump(data / "library.sqlite3")
    calls = {"n": 0}
    real_replace = os.replace

    def replace(src, dst):
        calls["n"] += 1
        if str(dst).endswith("library.sqlite3"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    code, _, err = run_cli(["--data-dir", str(data), "restore", str(good)], capsys)
    monkeypatch.undo()
    assert_clean_failure(code, err)
    assert "not replaced" in err
    assert dump(data / "library.sqlite3") == before
    assert not list(data.glob(".library.sqlite3.restore-*"))


@pytest.mark.parametrize("fmt", ["bibtex", "markdown"])
def test_export_write_failure(fmt, data, tmp_path, monkeypatch, capsys):
    target = tmp_path / "out.txt"
    target.write_text("previous export")
    before = dump(data / "library.sqlite3")
    _failing_fsync(monkeypatch, OSError(errno.ENOSPC, "No space left on device"))
    code, _, err = run_cli(["--data-dir", str(data), "export", "-f", fmt, "-o", str(target)],
                           capsys)
    monkeypatch.undo()
    assert_clean_failure(code, err)
    assert target.read_text() == "previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lib", "out.txt", "page.txt"] or \
        sorted(p.name for p in tmp_path.iterdir()) == ["lib", "out.txt"]
    assert dump(data / "library.sqlite3") == before


# ---- a real size limit on every file the process writes ----------------------------------------

def _import_under_fsize_limit(data: Path, page: Path) -> subprocess.CompletedProcess:
    largest = max(p.stat().st_size for p in data.rglob("*") if p.is_file())
    limit = largest + 64 * 1024
    code = (
        "import resource, signal, sys;"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN);"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}));"
        "from tui.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    return subprocess.run([sys.executable, "-c", code, "--data-dir", str(data), "import",
                           str(page)], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)


needs_rlimit = pytest.mark.skipif(sys.platform != "linux", reason="needs RLIMIT_FSIZE")


@needs_rlimit
def test_import_under_a_file_size_limit_changes_nothing(data, tmp_path):
    """No monkeypatching: a child process whose files cannot grow past a limit (EFBIG on the
    write that crosses it, as on a full disk) imports 400 papers: the real failure reaches
    SQLite. The import fails and the library is exactly as before, and still works."""
    before = dump(data / "library.sqlite3")
    proc = _import_under_fsize_limit(data, page_file(tmp_path, 400))
    assert proc.returncode != 0
    assert dump(data / "library.sqlite3") == before
    with Library.open(data) as lib:
        from index import doctor

        assert not doctor.check(lib, index=False).problems
        assert lib.set_star(first_key(data))


@needs_rlimit
def test_import_under_a_file_size_limit_message_is_one_line(data, tmp_path):
    proc = _import_under_fsize_limit(data, page_file(tmp_path, 400))
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1


# ---- standard output closed early (EPIPE) ------------------------------------------------------

def test_output_closed_early_is_not_a_traceback(tmp_path):
    data = tmp_path / "lib"
    with Library.open(data) as lib:
        lib.store.add_records(records(2000, 31))
    proc = subprocess.Popen([sys.executable, "-m", "tui.cli", "--data-dir", str(data), "list"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err, err
