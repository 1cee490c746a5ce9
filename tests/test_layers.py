"""Layering rules, checked on the source: they fail when a module crosses a layer.

- SQL on the library database runs only in the store package (index/store/). The FTS5 engine
  (index/search/fts5*.py) keeps its own index file in SQLite: the engine's business.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQL_CALLS = {"execute", "executemany", "executescript"}


def _allowed_sql(path: Path) -> bool:
    rel = path.relative_to(ROOT).as_posix()
    return rel.startswith("index/store/") or (rel.startswith("index/search/fts5")
                                              and rel.endswith(".py"))


def sql_uses(source: str) -> list[str]:
    """Where `source` imports sqlite3, calls .execute/.executemany/.executescript, or reaches
    for the store's connection (`store.db`): "line: what"."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {a.name}" for a in node.names
                      if a.name.split(".")[0] == "sqlite3"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlite3":
            found.append(f"{node.lineno}: from {node.module} import ...")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in SQL_CALLS):
            found.append(f"{node.lineno}: .{node.func.attr}(...)")
        elif isinstance(node, ast.Attribute) and node.attr == "db" and (
                (isinstance(node.value, ast.Name) and node.value.id == "store")
                or (isinstance(node.value, ast.Attribute) and node.value.attr == "store")):
            found.append(f"{node.lineno}: the store's connection (.store.db)")
    return sorted(found, key=lambda f: int(f.split(":")[0]))


def test_sql_runs_only_in_the_store_package():
    offenders = {}
    for package in ("index", "tui"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if _allowed_sql(path):
                continue
            uses = sql_uses(path.read_text(encoding="utf-8"))
            if uses:
                offenders[path.relative_to(ROOT).as_posix()] = uses
    assert offenders == {}


def test_the_sql_check_finds_sql_and_nothing_else():
    """The check can fail: each way of running SQL is found, and look-alikes are not."""
    caught = sql_uses(
        "import sqlite3\n"
        "from sqlite3 import Row\n"
        "def f(lib, db):\n"
        "    db.execute('SELECT 1')\n"
        "    lib.store.db.executemany('DELETE FROM tags WHERE key = ?', [])\n"
        "    conn().executescript('VACUUM')\n"
        "    return store.db\n")
    assert caught == ["1: import sqlite3", "2: from sqlite3 import ...", "4: .execute(...)",
                      "5: .executemany(...)", "5: the store's connection (.store.db)",
                      "6: .executescript(...)", "7: the store's connection (.store.db)"]
    harmless = ("import sqlite3_utils_unrelated as u\n"
                "def g(app, pool, store):\n"
                "    pool.submit(execute)\n"
                "    app.run_action('execute')\n"
                "    text = 'db.execute(\"SELECT 1\")'\n"
                "    return store.count(), app.db_path, self_db\n")
    assert sql_uses(harmless) == []
    assert _allowed_sql(ROOT / "index/store/papers.py")
    assert _allowed_sql(ROOT / "index/search/fts5.py")
    assert not _allowed_sql(ROOT / "index/sync/receive.py")
