"""`papershelf export`, `copy` and `citekey` end to end through tui.cli.main."""

from __future__ import annotations

import re
import sys

import bibtexparser
import pyperclip
import pytest
import yaml
from markdown_it import MarkdownIt

from index.export.latex import latex_to_text
from index.export.obsidian import MARKER
from tui.cli import main

TITLES = [
    "Sparse Mixtures for Fast Decoding",
    r"Robust {\epsilon}-Greedy Search with Na\"{\i}ve Priors",
    "Ünïcode π Ψ: 100% of R&D_costs {unbalanced",
]
ABSTRACTS = [
    "We decode faster with sparse mixtures. Code: https://github.com/example/sparse.",
    r"An {\epsilon} fraction of labels is noisy; a na\"{\i}ve prior helps \mone.",
    "Abstract with $5, ~tilde, ^caret, #hash and a stray } brace.",
]


def _page() -> str:
    lines = ["Get trending papers in your email inbox once a day!",
             "Get trending papers in your email inbox!"]
    for i, (title, abstract) in enumerate(zip(TITLES, ABSTRACTS)):
        lines += [("Subscribe" if i == 0 else "") + title, abstract]
    return "\n".join(lines) + "\n"


@pytest.fixture
def data(tmp_path, capsys):
    page = tmp_path / "daily.txt"
    page.write_text(_page(), encoding="utf-8")
    data_dir = str(tmp_path / "data")
    assert main(["--data-dir", data_dir, "import", str(page)]) == 0
    capsys.readouterr()
    return data_dir


def _keys(data, capsys) -> dict[str, str]:
    """title -> citation key, from `list --json`."""
    assert main(["--data-dir", data, "list", "--json"]) == 0
    import json

    return {p["title"]: p["citekey"] for p in json.loads(capsys.readouterr().out)}


def test_export_bibtex_to_stdout_parses_back(data, capsys):
    assert main(["--data-dir", data, "export", "--format", "bibtex"]) == 0
    out = capsys.readouterr().out
    lib = bibtexparser.parse_string(out)
    assert not lib.failed_blocks and len(lib.entries) == 3
    titles = {" ".join(latex_to_text(e["title"]).split()) for e in lib.entries}
    assert titles == {"Sparse Mixtures for Fast Decoding",
                      "Robust ϵ-Greedy Search with Naïve Priors",
                      "Ünïcode π Ψ: 100% of R&D_costs {unbalanced"}
    for entry in lib.entries:
        assert entry["note"].startswith("Listed in Hugging Face Daily Papers")
        assert "year" not in entry.fields_dict


def test_export_to_file_with_scope(data, tmp_path, capsys):
    keys = _keys(data, capsys)
    first = keys["Sparse Mixtures for Fast Decoding"]
    assert main(["--data-dir", data, "star", first]) == 0
    capsys.readouterr()
    out = tmp_path / "starred.bib"
    assert main(["--data-dir", data, "export", "--starred", "-o", str(out)]) == 0
    assert "wrote 1 paper as bibtex" in capsys.readouterr().err
    entries = bibtexparser.parse_file(str(out)).entries
    assert [e.key for e in entries] == [first]
    assert main(["--data-dir", data, "export", "--keys", first, keys[TITLES[2]]]) == 0
    assert len(bibtexparser.parse_string(capsys.readouterr().out).entries) == 2
    assert main(["--data-dir", data, "export", "--tag", "nothing-has-this"]) == 1
    assert "no papers match" in capsys.readouterr().err


def test_export_markdown_grouped(data, tmp_path, capsys):
    out = tmp_path / "list.md"
    assert main(["--data-dir", data, "export", "-f", "markdown", "--group-by", "status",
                 "-o", str(out)]) == 0
    tokens = MarkdownIt("commonmark").parse(out.read_text(encoding="utf-8"))
    h3 = [tokens[i + 1].content for i, t in enumerate(tokens) if t.tag == "h3" and
          t.type == "heading_open"]
    assert len(h3) == 3


def test_export_obsidian_needs_a_folder_and_keeps_user_text(data, tmp_path, capsys):
    assert main(["--data-dir", data, "export", "-f", "obsidian"]) == 1
    assert "needs -o FOLDER" in capsys.readouterr().err
    vault = tmp_path / "vault"
    assert main(["--data-dir", data, "export", "-f", "obsidian", "-o", str(vault)]) == 0
    notes = sorted(vault.glob("*.md"))
    assert len(notes) == 3
    note = notes[0]
    note.write_text(note.read_text(encoding="utf-8") + "mine\n", encoding="utf-8")
    assert main(["--data-dir", data, "export", "-f", "obsidian", "-o", str(vault)]) == 0
    text = note.read_text(encoding="utf-8")
    assert text.endswith(MARKER + "\nmine\n")
    assert yaml.safe_load(text.split("---\n")[1])["key"]


def test_copy_falls_back_to_osc52(data, capsys, monkeypatch):
    keys = _keys(data, capsys)
    key = keys["Sparse Mixtures for Fast Decoding"]

    def no_backend(text):
        raise pyperclip.PyperclipException("no mechanism")

    monkeypatch.setattr(pyperclip, "copy", no_backend)
    sent = []
    monkeypatch.setattr("index.clipboard.osc52_to_terminal", sent.append)
    assert main(["--data-dir", data, "copy", key, "--as", "bibtex"]) == 0
    assert "BibTeX entry to the terminal (OSC 52)" in capsys.readouterr().err
    assert bibtexparser.parse_string(sent[0]).entries[0].key == key

    copied = []
    monkeypatch.setattr(pyperclip, "copy", copied.append)
    assert main(["--data-dir", data, "copy", key, "--as", "markdown"]) == 0
    assert copied == ["Sparse Mixtures for Fast Decoding"]  # no http(s) URL known: title only
    assert main(["--data-dir", data, "copy", key]) == 0
    assert copied[-1] == key


def test_copy_without_any_clipboard_is_a_clean_error(data, capsys, monkeypatch):
    keys = _keys(data, capsys)

    def no_backend(text):
        raise pyperclip.PyperclipException("no mechanism")

    def no_tty(text):
        raise OSError("no terminal to send OSC 52 to")

    monkeypatch.setattr(pyperclip, "copy", no_backend)
    monkeypatch.setattr("index.clipboard.osc52_to_terminal", no_tty)
    assert main(["--data-dir", data, "copy", next(iter(keys.values()))]) == 1
    err = capsys.readouterr().err
    assert err.startswith("papershelf: cannot copy") and err.count("\n") == 1


def test_citekey_rename_checked(data, capsys):
    keys = _keys(data, capsys)
    a, b = keys[TITLES[0]], keys[TITLES[2]]
    assert main(["--data-dir", data, "citekey", a, "mykey2024"]) == 0
    assert "-> mykey2024" in capsys.readouterr().out
    assert _keys(data, capsys)[TITLES[0]] == "mykey2024"
    assert main(["--data-dir", data, "citekey", b, "mykey2024"]) == 1
    assert "already used" in capsys.readouterr().err
    assert main(["--data-dir", data, "citekey", b, "MyKey2024"]) == 1  # BibTeX ignores case
    assert re.search(r"already used by \S+ \(as mykey2024\)", capsys.readouterr().err)
    assert main(["--data-dir", data, "citekey", b, "bad key"]) == 1
    assert "citation key" in capsys.readouterr().err
    assert main(["--data-dir", data, "export", "--keys", "mykey2024"]) == 0
    assert "@misc{mykey2024," in capsys.readouterr().out


def test_cli_export_does_not_import_textual():
    import subprocess

    code = ("import sys, tui.cli.export, tui.cli.parser; tui.cli.parser.build_parser(); "
            "sys.exit(any(m.split('.')[0] == 'textual' for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_citekey_clash_found_among_several_prefix_matches(data, capsys):
    keys = _keys(data, capsys)
    a, b, c = (keys[t] for t in TITLES)
    assert main(["--data-dir", data, "citekey", a, "lee2024"]) == 0
    assert main(["--data-dir", data, "citekey", b, "lee2024x"]) == 0  # "lee2024" is now ambiguous
    capsys.readouterr()
    assert main(["--data-dir", data, "citekey", c, "LEE2024"]) == 1
    assert "already used" in capsys.readouterr().err
    assert main(["--data-dir", data, "citekey", c, "lee2024y"]) == 0
