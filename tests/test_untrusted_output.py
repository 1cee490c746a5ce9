"""Untrusted text through the exporters and the command line (issue 7): no crash, no escape
sequence reaches the terminal raw, no file is written outside the chosen folder."""

from __future__ import annotations

import re

import bibtexparser
import pytest

from index.export import ExportOptions, render
from index.export.obsidian import export_obsidian
from index.model import Paper
from tui.textsafe import terminal_safe
from untrusted import untrusted_strings

STRINGS = untrusted_strings()
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def evil_papers(count: int | None = None) -> list[Paper]:
    strings = STRINGS if count is None else STRINGS[:count]
    papers = []
    for i in range(0, len(strings) - 4, 4):
        title, abstract, note, tag = strings[i:i + 4]
        papers.append(Paper(
            key=f"title:{i:012x}", title=title or "x", abstract=abstract, note=note,
            tags=[tag[:100]], authors=[strings[i + 1][:60]], citekey=f"key{i}",
            url=strings[i + 2][:200], sources=["dailypapers:" + strings[i + 3][:40]]))
    return papers


def test_terminal_output_never_carries_control_characters():
    for text in STRINGS:
        shown = terminal_safe(text)
        assert "\x1b" not in shown and "\x9b" not in shown
        assert not RAW_CONTROL.search(shown.replace("\n", ""))


def test_bibtex_of_untrusted_text_parses_back_entry_for_entry():
    papers = evil_papers()
    text = render(papers, "bibtex", ExportOptions(with_notes=True))
    library = bibtexparser.parse_string(text)
    assert len(library.entries) == len(papers)
    assert not library.failed_blocks


def test_markdown_of_untrusted_text_renders_no_raw_html_or_escapes():
    from markdown_it import MarkdownIt

    papers = evil_papers()
    text = render(papers, "markdown")
    html = MarkdownIt("commonmark").render(text)
    assert "<script>" not in html  # markup in titles is text, never HTML
    assert "\x1b" not in text


def test_obsidian_notes_of_untrusted_text_stay_inside_the_folder(tmp_path):
    papers = evil_papers(800)
    for paper, name in zip(papers, STRINGS):
        paper.citekey = name[:80] or "x"  # the worst a renamed key could be
    folder = tmp_path / "vault" / "papers"
    export_obsidian(papers, folder)
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and folder not in p.parents]
    assert outside == []
    written = [p for p in folder.iterdir() if p.is_file()]
    assert len(written) == len(papers)


@pytest.fixture(scope="module")
def untrusted_library(tmp_path_factory):
    from index.library import Library
    from index.model import PaperRecord

    data = tmp_path_factory.mktemp("untrusted") / "lib"
    with Library.open(data) as lib:
        records = [PaperRecord(title=f"{text[:300]} model {i}", abstract=text, source="t:x")
                   for i, text in enumerate(STRINGS[:300])]
        lib.add(records)
        keys = [p.key for p in lib.list_papers()]
        for key, text in zip(keys, STRINGS[300:]):
            lib.set_note(key, text)
    return data, keys[0]


COMMANDS = [["list"], ["list", "--json"], ["search", "model"], ["search", "model", "--json"],
            ["show", "KEY"], ["show", "KEY", "--json"], ["star", "KEY"], ["unstar", "KEY"],
            ["tag", "KEY", "plain-tag"], ["status", "KEY", "reading"],
            ["note", "KEY", "--text", "a plain note"], ["stats"], ["stats", "--json"]]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_cli_output_of_untrusted_library(command, untrusted_library):
    """The bytes a `papershelf` process writes (stdout and stderr, as a terminal gets them)
    hold no escape sequence, control character or bidi override from the library."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    data, key = untrusted_library
    root = Path(__file__).resolve().parent.parent
    argv = [key if arg == "KEY" else arg for arg in command]
    done = subprocess.run([sys.executable, "-m", "tui.cli", "--data-dir", str(data), *argv],
                          capture_output=True, cwd=root, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(root), PYTHONIOENCODING="utf-8"))
    assert done.returncode == 0, done.stderr[-500:]
    out, err = done.stdout.decode("utf-8"), done.stderr.decode("utf-8")
    assert "\x1b" not in out + err and "\x9b" not in out + err
    assert not RAW_CONTROL.search((out + err).replace("\n", "").replace("\t", ""))
