"""The command line as a person uses it: every command, exit codes, and every bad input."""

from __future__ import annotations

import json
import sqlite3
import stat
import sys

import pytest
from pathlib import Path

from samples import SAMPLE_PAPERS, dense_page, make_papers, spaced_page
from tui.cli import main

PAIRS = make_papers(6)


@pytest.fixture
def data(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def run(data, capsys):
    def run(*argv, expect=0):
        code = main(["--data-dir", str(data), *map(str, argv)])
        out, err = capsys.readouterr()
        if expect is not None:
            assert code == expect, f"exit {code}, stderr: {err}"
        run.code = code
        return out, err
    return run


@pytest.fixture
def page(tmp_path):
    path = tmp_path / "daily.txt"
    path.write_text(dense_page(PAIRS), encoding="utf-8")
    return path


@pytest.fixture
def imported(run, page):
    run("import", page)
    return page


def keys_in(data) -> list[str]:
    db = sqlite3.connect(data / "library.sqlite3")
    try:
        return sorted(r[0] for r in db.execute("SELECT key FROM papers"))
    finally:
        db.close()


def op_count(data) -> int:
    db = sqlite3.connect(data / "library.sqlite3")
    try:
        return db.execute("SELECT COUNT(*) FROM ops").fetchone()[0]
    finally:
        db.close()


# ---- import ------------------------------------------------------------------------------------

def test_import_then_reimport_changes_nothing(run, page, data):
    out, _ = run("import", page)
    assert f"added {len(PAIRS)}, merged 0, unchanged 0, rejected 0" in out
    ops = op_count(data)
    out, _ = run("import", page)
    assert f"added 0, merged 0, unchanged {len(PAIRS)}, rejected 0" in out
    assert op_count(data) == ops


def test_same_papers_in_another_page_are_merged(run, page, tmp_path, data):
    run("import", page)
    other = tmp_path / "aug20.txt"
    other.write_text(spaced_page(PAIRS[:2], date="Aug 20"), encoding="utf-8")
    out, _ = run("import", other)
    assert "added 0, merged 2" in out
    assert len(keys_in(data)) == len(PAIRS)
    shown = json.loads(run("list", "--json")[0])
    merged = [p for p in shown if len(p["sources"]) == 2]
    assert len(merged) == 2 and all(p["listing_date"] == "Aug 20" for p in merged)


def test_dry_run_writes_nothing(run, page, data):
    out, _ = run("import", "--dry-run", page)
    assert f"would have: added {len(PAIRS)}" in out
    assert keys_in(data) == []


def test_hard_cases_survive_intact(run, tmp_path):
    path = tmp_path / "hard.txt"
    path.write_text(dense_page(SAMPLE_PAPERS), encoding="utf-8")
    run("import", path)
    shown = {p["title"]: p for p in json.loads(run("list", "--json")[0])}
    for title, abstract in SAMPLE_PAPERS:
        assert title in shown
        assert json.loads(run("show", shown[title]["key"], "--json")[0])["abstract"] == abstract


@pytest.mark.parametrize("content, message", [
    (b"", "file is empty"),
    (b"   \n\n", "file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary file"),
    (b"Dear diary,\nToday I read nothing at all.\n", "not a format papershelf knows"),
])
def test_unusable_files_get_one_line_errors(run, tmp_path, content, message, data, imported):
    before = keys_in(data)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    _, err = run("import", bad, expect=1)
    assert message in err and str(bad) in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert keys_in(data) == before


def test_missing_path_and_directory(run, tmp_path, data):
    _, err = run("import", tmp_path / "nope.txt", expect=1)
    assert "nope.txt: no such file" in err
    _, err = run("import", tmp_path, expect=1)
    assert "no files in this folder" in err  # a folder imports its files (issue 14)
    assert not (data / "library.sqlite3").exists() or keys_in(data) == []


def test_big_file_is_refused_unless_it_can_be_read_in_pieces(run, tmp_path):
    """Pages and BibTeX of any size are read piece by piece (tests/test_big_files.py); a big
    file of another kind is refused in one line, and so is a big binary file."""
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    _, err = run("import", big, expect=1)
    assert "big.txt: looks like a binary file" in err
    big_json = tmp_path / "big.json"
    big_json.write_text("[" + " " * (50 * 1024 * 1024) + "]", encoding="utf-8")
    _, err = run("import", big_json, expect=1)
    assert "52.4 MB" in err and "at most 32 MiB" in err


def test_utf16_and_latin1_pages_import_with_a_notice(run, tmp_path):
    utf16 = tmp_path / "utf16.txt"
    utf16.write_bytes(dense_page(PAIRS[:2]).encode("utf-16"))
    out, err = run("import", utf16)
    assert "added 2" in out and "UTF-16" in err
    latin = tmp_path / "latin.txt"
    latin.write_bytes(dense_page([("Über Alles: A Latin-1 Title", "An abstract about "
                                   "caf\xe9s and na\xefve baselines, long enough to be one.")])
                      .encode("latin-1"))
    out, err = run("import", latin)
    assert "added 1" in out and "Latin-1" in err
    shown = json.loads(run("search", "Latin", "--json")[0])["results"]
    assert shown[0]["title"] == "Über Alles: A Latin-1 Title"


def test_truncated_page_imports_good_records_and_names_the_line(run, tmp_path, data):
    text = dense_page(PAIRS[:3])
    cut = text[: text.rindex(PAIRS[2][1])]  # the last abstract never arrived
    path = tmp_path / "cut.txt"
    path.write_text(cut, encoding="utf-8")
    out, err = run("import", path)
    assert "added 2" in out and "rejected 1" in out
    assert f"{path}:" in err and "rejected:" in err
    assert len(keys_in(data)) == 2


def test_newer_schema_is_refused_and_untouched(run, imported, data):
    db = sqlite3.connect(data / "library.sqlite3")
    db.execute("PRAGMA user_version = 99")
    db.close()
    before = (data / "library.sqlite3").read_bytes()
    _, err = run("list", expect=1)
    assert "newer papershelf" in err
    assert (data / "library.sqlite3").read_bytes() == before


def test_corrupt_index_is_rebuilt(run, imported, data):
    for path in (data / "search-whoosh").iterdir():
        if path.is_file():
            path.write_bytes(b"\x00garbage" * 10)
    out, _ = run("search", PAIRS[0][0].split()[0], "--json")
    assert json.loads(out)["total"] >= 1


def test_locked_index_does_not_lose_the_import(run, page, data, tmp_path, capsys, monkeypatch):
    """A second process writing the search index: the store keeps the papers; the index
    catches up."""
    run("import", page)
    monkeypatch.setattr("index.library.WRITER_TIMEOUT", 0.2)  # the import gives up on it soon
    from index.library import Library

    from whoosh import index as whoosh_index

    with Library.open(data) as other:
        # hold the (Whoosh) index's write lock like a busy second process
        writer = whoosh_index.open_dir(str(other.index.directory), indexname="papers").writer()
        try:
            more = tmp_path / "more.txt"
            more.write_text(dense_page(make_papers(8)[6:]), encoding="utf-8")
            code = main(["--data-dir", str(data), "import", str(more)])
        finally:
            writer.cancel()
    capsys.readouterr()
    assert code in (0, 1)
    assert len(keys_in(data)) == 8  # nothing lost, whatever the index said
    out, _ = run("search", make_papers(8)[7][0], "--json")
    assert any(r["title"] == make_papers(8)[7][0] for r in json.loads(out)["results"])


# ---- search ------------------------------------------------------------------------------------

@pytest.fixture
def searchable(run, tmp_path):
    pairs = [
        ("Sparse Attention for Long Documents", "We make transformers read long documents cheaply."),
        ("Dense Retrieval with Tiny Encoders", "Retrieval quality with small encoders and hard negatives."),
        ("Graph Transformers for Molecules", "A transformer over molecular graphs predicts properties."),
        ("Curriculum Learning Revisited", "Ordering examples by difficulty helps small models learn."),
    ]
    path = tmp_path / "s.txt"
    path.write_text(dense_page(pairs), encoding="utf-8")
    run("import", path)
    return {title: p["key"] for p in json.loads(run("list", "--json")[0]) for title in [p["title"]]}


def titles(run, *query):
    return [r["title"] for r in json.loads(run("search", *query, "--json")[0])["results"]]


def test_query_forms(run, searchable):
    assert titles(run, "retrieval") == ["Dense Retrieval with Tiny Encoders"]
    assert titles(run, "transformer")[0] == "Graph Transformers for Molecules"  # title outranks abstract
    assert set(titles(run, "transformers")) == {"Graph Transformers for Molecules",
                                                "Sparse Attention for Long Documents"}
    assert titles(run, '"hard negatives"') == ["Dense Retrieval with Tiny Encoders"]
    assert titles(run, "curric*") == ["Curriculum Learning Revisited"]
    assert titles(run, "sparse OR dense") and len(titles(run, "sparse OR dense")) == 2
    assert titles(run, "transformer AND molecules") == ["Graph Transformers for Molecules"]
    assert "Graph Transformers for Molecules" not in titles(run, "transformer NOT molecules")
    assert titles(run, "title:curriculum") == ["Curriculum Learning Revisited"]
    assert titles(run, "source:dailypapers", "--limit", "10") and len(titles(run, "source:dailypapers")) == 4


def test_state_filters(run, searchable):
    sparse = searchable["Sparse Attention for Long Documents"]
    dense = searchable["Dense Retrieval with Tiny Encoders"]
    run("star", sparse)
    run("tag", dense, "to-read", "ir")
    run("status", dense, "reading")
    assert titles(run, "is:starred") == ["Sparse Attention for Long Documents"]
    assert titles(run, "tag:ir") == ["Dense Retrieval with Tiny Encoders"]
    assert titles(run, "is:reading") == ["Dense Retrieval with Tiny Encoders"]
    assert titles(run, "is:unread", "transformers") == ["Sparse Attention for Long Documents"] or \
        set(titles(run, "is:unread", "transformers")) == {"Sparse Attention for Long Documents",
                                                          "Graph Transformers for Molecules"}
    assert titles(run, "to-read")[0] == "Dense Retrieval with Tiny Encoders"  # tags are words too
    run("note", dense, "--text", "compare with the bm25 baseline")
    assert titles(run, "baseline") == ["Dense Retrieval with Tiny Encoders"]


def test_empty_query_lists_newest_first(run, searchable, tmp_path):
    newer = tmp_path / "newer.txt"
    newer.write_text(dense_page([("A Brand New Paper", "Fresh from today's listing, it is new.")]))
    run("import", newer)
    assert titles(run, "is:unread")[0] == "A Brand New Paper"
    assert [p["title"] for p in json.loads(run("list", "--json")[0])][0] == "A Brand New Paper"


def test_did_you_mean(run, searchable):
    out, err = run("search", "curiculum")
    assert "did you mean: curriculum" in err


def test_malformed_queries_are_messages_not_tracebacks(run, searchable):
    for query in ['"unclosed', "(a OR", "title:", "*", "[/]", "[@click=app.quit]", "AND", "NOT", ")"]:
        out, err = run("search", query, expect=None)
        assert run.code in (0, 1), query
        assert "Traceback" not in err
        if run.code == 1:
            assert err.startswith("papershelf: bad query:") and len(err.strip().splitlines()) == 1


# ---- state commands ----------------------------------------------------------------------------

def test_star_tag_status_note_show(run, imported, data):
    key = keys_in(data)[0]
    prefix = key[:12]
    if len([k for k in keys_in(data) if k.startswith(prefix)]) > 1:
        prefix = key
    run("star", prefix)
    run("tag", prefix, "Reading Group", "ml")
    run("untag", prefix, "ml")
    run("status", prefix, "read")
    run("note", prefix, "--text", "Key idea: [bold]not markup[/]")
    shown = json.loads(run("show", prefix, "--json")[0])
    assert shown["starred"] is True
    assert shown["tags"] == ["reading-group"]
    assert shown["status"] == "read"
    assert shown["note"] == "Key idea: [bold]not markup[/]"
    assert [p["key"] for p in json.loads(run("list", "--starred", "--json")[0])] == [key]
    assert [p["key"] for p in json.loads(run("list", "--tag", "reading-group", "--json")[0])] == [key]
    run("unstar", key)
    assert json.loads(run("list", "--starred", "--json")[0]) == []


def test_note_through_editor(run, imported, data, tmp_path, monkeypatch):
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "written in the editor" > "$1"\n')
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.delenv("VISUAL", raising=False)
    key = keys_in(data)[0]
    out, _ = run("note", key)
    assert "note saved" in out
    assert json.loads(run("show", key, "--json")[0])["note"] == "written in the editor"
    monkeypatch.setenv("EDITOR", "false")
    _, err = run("note", key, expect=1)
    assert "editor exited with status 1; note not saved" in err


def test_key_errors(run, imported, data):
    _, err = run("star", "zzz-no-such", expect=1)
    assert "no paper matches key 'zzz-no-such'" in err
    _, err = run("star", "title:", expect=1)
    assert "matches several papers" in err


def test_usage_errors_exit_2(data, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--data-dir", str(data), "status", "k", "finished"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["--data-dir", str(data), "frobnicate"])
    assert exit_info.value.code == 2


def test_version_help_and_stats(run, imported, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and "papershelf " in capsys.readouterr().out
    for command in ["import", "search", "list", "show", "star", "tag", "status", "note", "reindex", "stats"]:
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0 and "usage: papershelf" in capsys.readouterr().out
    stats = json.loads(run("stats", "--json")[0])
    assert stats["papers"] == len(PAIRS) and stats["status"]["unread"] == len(PAIRS)
    out, _ = run("reindex")
    assert f"indexed {len(PAIRS)} papers" in out


def test_bare_command_without_app_prints_help_or_opens_app(monkeypatch):
    import tui.cli.entry as entry

    called = {}

    def fake_open_app(args):
        called["app"] = args.data_dir
        return 0

    monkeypatch.setattr(entry, "open_app", fake_open_app)
    assert main(["--data-dir", "/tmp/x"]) == 0 and called["app"] == "/tmp/x"


def test_cli_output_never_carries_escape_sequences(run, tmp_path):
    path = tmp_path / "evil.txt"
    path.write_text(dense_page([("Evil \x1b]52;c;aGk=\x07Title \x1b[31mred\x1b[0m here",
                                 "Abstract with \x1b[2J a clear-screen and \u202e reversed text inside.")]))
    run("import", path)
    out, _ = run("search", "Evil")
    assert "\x1b" not in out and "\u202e" not in out and "Evil Title red here" in out
    out, _ = run("list")
    assert "\x1b" not in out


def test_cli_search_does_not_import_textual(data, imported):
    import subprocess

    code = ("import sys; from tui.cli import main; main(['--data-dir', sys.argv[1], 'search', 'x']);"
            "print('textual' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code, str(data)], capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


def test_import_takes_one_automatic_backup_a_day(run, page, data, tmp_path):
    run("import", page)
    other = tmp_path / "other.txt"
    other.write_text(dense_page(make_papers(9)[6:]), encoding="utf-8")
    run("import", other)
    backups = sorted((data / "backups").glob("papershelf-auto-*"))
    assert len(backups) == 1  # the first import of the day, not every one
    db = sqlite3.connect(backups[0])
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()


def test_a_python_without_fts5_gets_one_clear_line(run, imported, data, monkeypatch, capsys):
    """SQLite built without FTS5 cannot hold the index: search says so in one line, and the
    library itself is untouched."""
    import shutil

    import os

    import index.search.fts5_file as fts5_file

    config = Path(os.environ["PAPERSHELF_CONFIG_DIR"]) / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[search]\nengine = "sqlite"\n')
    shutil.rmtree(data / "search", ignore_errors=True)
    monkeypatch.setattr(fts5_file, "SCHEMA", fts5_file.SCHEMA.replace("USING fts5 ", "USING fts5x "))
    before = keys_in(data)
    code = main(["--data-dir", str(data), "search", "model"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and "FTS5" in err and "fts5x" in err
    assert keys_in(data) == before
