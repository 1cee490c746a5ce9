"""Issue 14: `papershelf completion bash|zsh|fish`, and what the shell then completes: commands,
options, citation keys and tags (asked of a real `papershelf` process, as the shell does)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from samples import dense_page
from tui.cli import main

PAIRS = [("Sparse Routing for Tiny Language Models", "Routing tokens sparsely in small models."),
         ("Graph Kernels for Molecule Search", "Kernels over molecular graphs for retrieval.")]


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    base = tmp_path_factory.mktemp("completion")
    data = base / "data"
    page = base / "page.txt"
    page.write_text(dense_page(PAIRS), encoding="utf-8")
    assert main(["--data-dir", str(data), "import", str(page)]) == 0
    papers = json.loads(_run_cli(data, "list", "--json"))
    key = next(p for p in papers if p["title"].startswith("Graph"))["citekey"]
    assert main(["--data-dir", str(data), "tag", key, "chemistry", "reading-group"]) == 0
    return data, {p["title"]: p for p in papers}


def _run_cli(data, *argv) -> str:
    result = subprocess.run([sys.executable, "-m", "tui.cli", "--data-dir", str(data), *argv],
                            capture_output=True, text=True, check=True)
    return result.stdout


def complete(line: str, tmp_path, shell: str = "bash") -> list[str]:
    """What argcomplete answers for the command line `line` (cursor at its end)."""
    out = tmp_path / "completions"
    env = dict(os.environ, _ARGCOMPLETE="1", _ARGCOMPLETE_SHELL=shell, COMP_LINE=line,
               COMP_POINT=str(len(line)), _ARGCOMPLETE_STDOUT_FILENAME=str(out),
               _ARGCOMPLETE_IFS="\n")
    env.pop("PAPERSHELF_DATA_DIR", None)
    subprocess.run([sys.executable, "-m", "tui.cli"], env=env, check=True, timeout=30,
                   capture_output=True)
    return [word.strip() for word in out.read_text().split("\n") if word.strip()]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_a_script_for_each_shell(shell, capsys):
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert "papershelf" in script and "_ARGCOMPLETE" in script


def test_commands_and_options_complete(library, tmp_path):
    data, _ = library
    commands = complete(f"papershelf --data-dir {data} st", tmp_path)
    assert {"star", "status", "stats"} <= set(commands)
    options = complete(f"papershelf --data-dir {data} list --st", tmp_path)
    assert {"--starred", "--status"} <= set(options)


def test_citation_keys_and_tags_complete(library, tmp_path):
    data, papers = library
    graph = papers["Graph Kernels for Molecule Search"]["citekey"]
    assert complete(f"papershelf --data-dir {data} star {graph[:3]}", tmp_path) == [graph]
    assert graph in complete(f"papershelf --data-dir {data} show ", tmp_path)
    assert complete(f"papershelf --data-dir {data} untag {graph} re", tmp_path) == ["reading-group"]
    assert complete(f"papershelf --data-dir {data} list --tag ch", tmp_path) == ["chemistry"]
    assert complete(f"papershelf --data-dir {data} export --tag ", tmp_path) == \
        ["chemistry", "reading-group"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_bash_script_loads_in_bash(tmp_path, capsys):
    assert main(["completion", "bash"]) == 0
    script = tmp_path / "papershelf.bash"
    script.write_text(capsys.readouterr().out)
    result = subprocess.run(["bash", "-c", f"source {script} && complete -p papershelf"],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "papershelf" in result.stdout
