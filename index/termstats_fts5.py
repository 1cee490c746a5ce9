"""TermStats (index/foryou.py) over today's SQLite FTS5 index, read from its `spell_vocab`
table (fts5vocab over the unstemmed, accent-folded titles and abstracts: term, doc).

A stopgap beside index/search.py, which it does not change: the engine package that replaces
index/search.py provides `doc_count()` and `doc_frequencies()` on each engine itself, and this
file goes. It opens its own read-only connection per use, so it always reads the index file
that is current (a rebuild replaces the file). Not `mode=ro`: the index is in WAL mode, and a
read-only connection cannot open it when its -shm file is gone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

CHUNK = 500  # words per query (SQLite's default limit is 999 bound parameters)


class Fts5TermStats:
    def __init__(self, index_path: Path):
        self.index_path = Path(index_path)

    def _read(self, read):
        from index.search import IndexUnavailable

        try:
            with closing(sqlite3.connect(self.index_path)) as db:  # reads only
                return read(db)
        except sqlite3.Error as exc:
            raise IndexUnavailable(f"search index is damaged ({exc})") from None

    def doc_count(self) -> int:
        return self._read(lambda db: db.execute("SELECT count(*) FROM docs").fetchone()[0])

    def doc_frequencies(self, words: Iterable[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(words))

        def read(db) -> dict[str, int]:
            found: dict[str, int] = {}
            for start in range(0, len(wanted), CHUNK):
                chunk = wanted[start:start + CHUNK]
                marks = ",".join("?" * len(chunk))
                found.update(db.execute(
                    f"SELECT term, doc FROM spell_vocab WHERE term IN ({marks})", chunk))
            return found

        return self._read(read)

