"""The layering rules of docs/ARCHITECTURE.md, checked on the source: the front ends reach the
core through one door, and the core never imports Textual."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What a tui/ module may import from the core: the facade, plain data, settings.
DOOR = frozenset({"index.library", "index.model", "index.config"})


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, module) for every import in `source`, at any depth (inside functions too).
    `from index import config` counts as importing `index.config`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module == "index":
                found += [(node.lineno, f"index.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def door_violations(source: str) -> list[str]:
    return [f"line {line}: {module}" for line, module in imported_modules(source)
            if (module == "index" or module.startswith("index.")) and module not in DOOR]


def _python_files(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)


def test_front_ends_import_only_the_library_the_model_and_the_config():
    files = _python_files("tui")
    assert len(files) > 20  # the scan really looks at the front ends
    problems = {str(path.relative_to(ROOT)): found for path in files
                if (found := door_violations(path.read_text(encoding="utf-8")))}
    assert problems == {}


def test_the_core_never_imports_textual():
    problems = {}
    for path in _python_files("index"):
        found = [f"line {line}: {module}" for line, module in
                 imported_modules(path.read_text(encoding="utf-8"))
                 if module.split(".")[0] == "textual"]
        if found:
            problems[str(path.relative_to(ROOT))] = found
    assert problems == {}


def test_the_rule_catches_each_way_of_reaching_past_the_door():
    source = (
        "from index.library import Library\n"
        "from index.model import Paper\n"
        "import index.config\n"
        "from index import sync\n"
        "def later():\n"
        "    from index.export.bibtex import bibtex_entry\n"
        "    import index.store\n"
    )
    assert door_violations(source) == [
        "line 4: index.sync", "line 6: index.export.bibtex", "line 7: index.store"]
    assert door_violations("from .screens import main\nimport textual\n") == []
