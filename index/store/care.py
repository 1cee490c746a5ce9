"""What `papershelf doctor` and backups ask of the database itself: SQLite's integrity check
and index rebuild, counts of rows that point at no paper, and a consistent copy of the file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from index.model import STATUSES
from index.store.files import copy_database
from index.store.rows import StoreError


class Care:
    def integrity_problems(self, limit: int = 100) -> list[str]:
        """SQLite's integrity_check: ["ok"], or up to `limit` lines saying what is damaged.
        StoreError when the check itself cannot run."""
        try:
            return [r[0] for r in self.db.execute(f"PRAGMA integrity_check({int(limit)})")]
        except sqlite3.DatabaseError as exc:
            raise StoreError(str(exc)) from None

    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def rebuild_sqlite_indexes(self) -> None:
        """REINDEX: SQLite's own indexes are derived from the tables."""
        try:
            self.db.execute("REINDEX")
        except sqlite3.DatabaseError as exc:
            raise StoreError(str(exc)) from None

    def orphan_counts(self) -> dict[str, int]:
        """Rows that point at no paper (tags, registers, aliases), and papers whose read status
        is not a known one."""
        def count(sql: str, *params) -> int:
            return self.db.execute(sql, params).fetchone()[0]

        marks = ",".join("?" * len(STATUSES))
        return {
            "tags": count("SELECT COUNT(*) FROM tags WHERE key NOT IN (SELECT key FROM papers)"),
            "registers": count("SELECT COUNT(*) FROM registers WHERE key NOT IN "
                               "(SELECT key FROM papers)"),
            "aliases": count("SELECT COUNT(*) FROM aliases WHERE new_key NOT IN "
                             "(SELECT key FROM papers)"),
            "status": count(f"SELECT COUNT(*) FROM papers WHERE status NOT IN ({marks})",
                            *STATUSES),
        }

    def copy_to(self, dest: Path) -> Path:
        """A consistent copy of the library file at `dest` (see index/store/files.py)."""
        return copy_database(self.db, dest)
