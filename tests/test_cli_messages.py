"""Issue 14: what the command line says names papers, explains itself, and refuses surprises."""

from __future__ import annotations

import argparse
import json
import os
import stat

import pytest

from samples import dense_page
from tui.cli import main
from tui.cli.parser import build_parser

PAIRS = [
    ("Sparse Routing for Tiny Language Models", "We route tokens sparsely in small models."),
    ("Sparse Routing Revisited at Scale", "We revisit sparse routing with larger budgets."),
    ("Graph Kernels for Molecule Search", "Kernels over molecular graphs for retrieval."),
]


@pytest.fixture
def run(tmp_path, capsys):
    data = tmp_path / "data"

    def run(*argv, expect=0):
        code = main(["--data-dir", str(data), *map(str, argv)])
        out, err = capsys.readouterr()
        assert code == expect, f"exit {code}, stderr: {err}"
        return out, err

    page = tmp_path / "page.txt"
    page.write_text(dense_page(PAIRS), encoding="utf-8")
    run("import", page)
    run.papers = {p["title"]: p for p in json.loads(run("list", "--json")[0])}
    run.data = data
    return run


def test_changes_name_the_citation_key_and_title(run):
    paper = run.papers["Graph Kernels for Molecule Search"]
    citekey = paper["citekey"]
    out, _ = run("star", paper["key"])
    assert out.strip() == f"starred {citekey} “Graph Kernels for Molecule Search”"
    out, _ = run("tag", citekey, "chem")
    assert out.strip() == f"{citekey} “Graph Kernels for Molecule Search”: tags chem"
    out, _ = run("status", citekey, "reading")
    assert out.strip() == f"{citekey} “Graph Kernels for Molecule Search”: reading"
    out, _ = run("note", citekey, "--text", "read section 3")
    assert out.strip() == f"{citekey} “Graph Kernels for Molecule Search”: note saved"
    assert "title:" not in out


def test_ambiguous_prefix_lists_the_candidates_titles(run):
    _, err = run("star", "title:", expect=1)
    assert "matches several papers" in err
    for title in PAIRS:
        assert title[0][:30] in err
    assert len(err.strip().splitlines()) == 1


def test_every_option_of_every_command_has_help():
    parser = build_parser()
    missing = []
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in subparsers.choices.items():
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if not action.help:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def test_show_keeps_fields_aligned_and_ends_a_note_with_one_newline(run):
    paper = run.papers["Sparse Routing Revisited at Scale"]
    run("note", paper["citekey"], "--text", "no final newline")
    out, _ = run("show", paper["citekey"])
    lines = out.splitlines()
    fields = [line for line in lines if line.startswith("  ") and ":" in line]
    columns = {line.index(":") + 1 + len(line[line.index(":") + 1:]) -
               len(line[line.index(":") + 1:].lstrip()) for line in fields}
    assert len(columns) == 1, fields  # every value starts in the same column, date included
    assert out.endswith("no final newline\n")


def test_obsidian_export_counts_in_good_grammar(run, tmp_path):
    paper = run.papers["Graph Kernels for Molecule Search"]
    _, err = run("export", "-f", "obsidian", "--keys", paper["citekey"], "-o", tmp_path / "vault")
    assert "wrote 1 note, 0 unchanged" in err


def test_exports_follow_the_umask(run, tmp_path):
    old = os.umask(0o022)
    try:
        run("export", "-o", tmp_path / "refs.bib")
        run("export", "-f", "markdown", "-o", tmp_path / "list.md")
        run("export", "-f", "obsidian", "-o", tmp_path / "vault")
    finally:
        os.umask(old)
    for path in [tmp_path / "refs.bib", tmp_path / "list.md", *(tmp_path / "vault").glob("*.md")]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_backup_refuses_a_missing_folder_and_an_existing_file(run, tmp_path):
    _, err = run("backup", tmp_path / "nowhere" / "x.sqlite3", expect=1)
    assert "does not exist" in err and "--force" in err
    assert not (tmp_path / "nowhere").exists()
    target = tmp_path / "b.sqlite3"
    target.write_bytes(b"precious")
    _, err = run("backup", target, expect=1)
    assert "already exists" in err and "--force" in err
    assert target.read_bytes() == b"precious"
    out, _ = run("backup", "--force", target)
    assert "backed up 3 papers" in out
    assert target.read_bytes().startswith(b"SQLite format 3")
    run("backup", "--force", tmp_path / "made" / "y.sqlite3")
    assert (tmp_path / "made" / "y.sqlite3").exists()


def test_import_a_folder_and_its_subfolders_with_recursive(tmp_path, capsys):
    data = tmp_path / "data"
    folder = tmp_path / "pages"
    (folder / "older").mkdir(parents=True)
    (folder / "top.txt").write_text(dense_page(PAIRS[:1]), encoding="utf-8")
    (folder / "older" / "deep.txt").write_text(dense_page(PAIRS[1:2]), encoding="utf-8")
    assert main(["--data-dir", str(data), "import", str(folder)]) == 0
    assert "added 1," in capsys.readouterr().out
    assert main(["--data-dir", str(data), "import", "--recursive", str(folder)]) == 0
    assert "added 1, merged 0, unchanged 1" in capsys.readouterr().out
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["--data-dir", str(data), "import", str(empty)]) == 1
    assert "no files in this folder" in capsys.readouterr().err


def test_copy_in_tmux_says_what_was_sent(run, monkeypatch, capsys):
    import pyperclip

    def no_backend(text):
        raise pyperclip.PyperclipException("no mechanism")

    sent = []
    monkeypatch.setattr(pyperclip, "copy", no_backend)
    monkeypatch.setattr("index.clipboard.osc52_to_terminal", sent.append)
    monkeypatch.setenv("TMUX", "/tmp/tmux-1000/default,1,0")
    citekey = run.papers["Graph Kernels for Molecule Search"]["citekey"]
    _, err = run("copy", citekey)
    assert err.strip() == (f"sent citation key {citekey} to the terminal (OSC 52); "
                           "in tmux this needs `set -g set-clipboard on`")
    assert not err.startswith("copied")


def test_progress_names_the_indexing_phase():
    from tui.cli.output import ProgressBar

    bar = ProgressBar("importing", then="indexing", force=True)
    with bar:
        bar.update(100, 200)
        assert bar.phase == "importing"
        bar.update(200, 200)  # every paper stored: the index update follows
        assert bar.phase == "indexing"
        assert bar._progress.tasks[0].description == "indexing"
        assert bar._progress.tasks[0].total is None


def test_the_library_and_backups_stay_private(tmp_path, capsys):
    old = os.umask(0o022)
    try:
        data = tmp_path / "fresh"
        page = tmp_path / "page.txt"
        page.write_text(dense_page(PAIRS[:1]), encoding="utf-8")
        assert main(["--data-dir", str(data), "import", str(page)]) == 0
        assert main(["--data-dir", str(data), "backup", str(tmp_path / "copy.sqlite3")]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "copy.sqlite3").stat().st_mode) == 0o600
    for automatic in (data / "backups").glob("*.sqlite3"):
        assert stat.S_IMODE(automatic.stat().st_mode) == 0o600


def test_show_without_an_abstract_leaves_no_empty_paragraphs(tmp_path, capsys):
    data = tmp_path / "data"
    bib = tmp_path / "a.bib"
    bib.write_text("@article{k1, title={A Study of Tiny Things}, year={2024}}\n")
    assert main(["--data-dir", str(data), "import", str(bib)]) == 0
    assert main(["--data-dir", str(data), "note", "k1", "--text", "short"]) == 0
    capsys.readouterr()
    assert main(["--data-dir", str(data), "show", "k1"]) == 0
    out = capsys.readouterr().out
    assert "\n\n\n" not in out
    assert out.endswith("\n\nNote:\nshort\n")
    assert "  date:     2024\n" in out


def test_sync_messages_name_the_paper_and_count_in_good_grammar(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PAPERSHELF_CONFIG_DIR", str(tmp_path / "config"))
    shared = tmp_path / "shared"
    shared.mkdir()
    bib = tmp_path / "a.bib"
    bib.write_text("@article{k1, title={A Study of Tiny Things}, year={2024}}\n")
    one, two = str(tmp_path / "one"), str(tmp_path / "two")

    def cli(*argv):
        code = main(list(argv))
        out, err = capsys.readouterr()
        assert code == 0, err
        return out

    cli("--data-dir", one, "import", str(bib))
    cli("--data-dir", one, "sync", str(shared))
    assert "changed 1 paper" in cli("--data-dir", two, "sync", str(shared))
    cli("--data-dir", one, "note", "k1", "--text", "from one")
    cli("--data-dir", two, "note", "k1", "--text", "from two")
    cli("--data-dir", one, "sync", str(shared))
    cli("--data-dir", two, "sync", str(shared))
    out = cli("--data-dir", two, "sync", "--resolve", "k1", "--keep", "mine")
    assert out.startswith("k1 “A Study of Tiny Things”: note conflict settled (mine)")
