"""Reading papers: one, many, filtered, counted, ranked; and the small lookups beside them
(citation keys, provisional keys, arXiv misses, the search index's pending updates)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence

from index.model import STATUSES, Paper
from index.store.rows import row_to_paper

# Fields whose change neither "for you" nor the search index reads (index/store/edits.py marks
# the papers the index must rewrite; a citation key is not among them).
RANKING_NEUTRAL_FIELDS = frozenset({"citekey"})
# Operations that leave every paper's title and abstract as they were: "set" is a star, a
# status, a note or a citation key (PaperEdits.set_field).
WORD_NEUTRAL_OPS = ("tag", "set")


class PaperReads:
    def resolve_alias(self, key: str) -> str:
        """The key a paper has now, when `key` is one it had before a re-keying."""
        row = self.db.execute("SELECT new_key FROM aliases WHERE old_key = ?", (key,)).fetchone()
        return row[0] if row else key

    def _get_row(self, key: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM papers WHERE key = ? AND deleted = 0", (key,)).fetchone()

    def live_keys(self) -> set[str]:
        """The key of every paper that is not deleted."""
        return {r[0] for r in self.db.execute("SELECT key FROM papers WHERE deleted = 0")}

    def title_of(self, key: str) -> str | None:
        """The stored title of `key`, deleted or not (None when there is no such paper)."""
        row = self.db.execute("SELECT title FROM papers WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _tags_for(self, keys: list[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {k: [] for k in keys}
        for chunk_start in range(0, len(keys), 900):
            chunk = keys[chunk_start:chunk_start + 900]
            marks = ",".join("?" * len(chunk))
            for key, tag in self.db.execute(
                    f"SELECT key, tag FROM tags WHERE key IN ({marks}) ORDER BY tag", chunk):
                found[key].append(tag)
        return found

    def get(self, key: str) -> Paper | None:
        row = self._get_row(self.resolve_alias(key))
        if row is None:
            return None
        return row_to_paper(row, self._tags_for([row["key"]])[row["key"]])

    def get_many(self, keys: list[str]) -> list[Paper]:
        """Papers for keys, in the order given; unknown keys are skipped."""
        rows: dict[str, sqlite3.Row] = {}
        for start in range(0, len(keys), 900):
            chunk = keys[start:start + 900]
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(
                    f"SELECT * FROM papers WHERE deleted = 0 AND key IN ({marks})", chunk):
                rows[row["key"]] = row
        tags = self._tags_for(list(rows))
        return [row_to_paper(rows[k], tags[k]) for k in keys if k in rows]

    @staticmethod
    def _filter_sql(starred: bool | None, statuses: Iterable[str],
                    tags: Iterable[str]) -> tuple[str, list]:
        """The WHERE clause (over papers p) and its parameters for the user-state filters."""
        where, params = ["p.deleted = 0"], []
        if starred is not None:
            where.append("p.starred = ?")
            params.append(int(starred))
        statuses = list(statuses)
        if statuses:
            where.append(f"p.status IN ({','.join('?' * len(statuses))})")
            params += statuses
        for tag in tags:
            where.append("EXISTS (SELECT 1 FROM tags t WHERE t.key = p.key AND t.tag = ?)")
            params.append(tag)
        return " AND ".join(where), params

    def filtered_keys(self, *, starred: bool | None = None, statuses: Iterable[str] = (),
                      tags: Iterable[str] = (), limit: int | None = None) -> list[str]:
        """Keys matching the user-state filters, newest first."""
        where, params = self._filter_sql(starred, statuses, tags)
        sql = f"SELECT p.key FROM papers p WHERE {where} ORDER BY p.added DESC, p.key"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [r[0] for r in self.db.execute(sql, params)]

    def count(self, *, starred: bool | None = None, statuses: Iterable[str] = (),
              tags: Iterable[str] = ()) -> int:
        """How many papers filtered_keys() gives for the same filters, counted by SQLite (no
        key is loaded)."""
        where, params = self._filter_sql(starred, statuses, tags)
        return self.db.execute(f"SELECT COUNT(*) FROM papers p WHERE {where}",
                               params).fetchone()[0]

    def keys_failing(self, *, starred: bool | None = None, statuses: Iterable[str] = (),
                     tags: Iterable[str] = (), at_most: int) -> list[str] | None:
        """The keys of every paper row (deleted ones included) that filtered_keys() leaves
        out for the same filters, when there are at most `at_most` of them; else None. For
        `is:unread` in a library of mostly unread papers this list is short where the one of
        papers passing is the whole library (~0.1 s to list at 100k papers).

        Each condition's failures are read through an index where one serves (`+deleted`
        keeps SQLite from walking the listing index instead: 0.1 s at 100k papers). The
        statuses left out are read as the other known statuses; a status this version does
        not know gives None (use filtered_keys())."""
        statuses, tags = list(statuses), list(tags)
        parts = ["SELECT key FROM papers WHERE deleted > 0",
                 "SELECT key FROM papers WHERE deleted < 0"]
        params: list = []
        if starred is not None:
            parts.append("SELECT key FROM papers WHERE starred != ? AND +deleted = 0")
            params.append(int(starred))
        others = [s for s in STATUSES if s not in statuses]
        if statuses and others:
            parts.append(f"SELECT key FROM papers WHERE status IN ({','.join('?' * len(others))})"
                         f" AND +deleted = 0")
            params += others
        for tag in tags:
            parts.append("SELECT key FROM papers p WHERE +p.deleted = 0 AND NOT EXISTS "
                         "(SELECT 1 FROM tags t WHERE t.key = p.key AND t.tag = ?)")
            params.append(tag)
        if statuses and self.db.execute(
                f"SELECT count(*) FROM papers WHERE status NOT IN "
                f"({','.join('?' * len(STATUSES))})", STATUSES).fetchone()[0]:
            return None
        keys = [r[0] for r in self.db.execute(f"{' UNION '.join(parts)} LIMIT ?",
                                              (*params, at_most + 1))]
        return None if len(keys) > at_most else keys

    def iter_papers(self, batch: int = 2000) -> Iterator[Paper]:
        last = ""
        while True:
            # `+deleted`: walk the primary key. With the listing index on (deleted, ...)
            # SQLite sorted every live paper for each batch (8 s of a 100k import).
            rows = self.db.execute(
                "SELECT * FROM papers WHERE +deleted = 0 AND key > ? ORDER BY key LIMIT ?",
                (last, batch)).fetchall()
            if not rows:
                return
            tags = self._tags_for([r["key"] for r in rows])
            for row in rows:
                yield row_to_paper(row, tags[row["key"]])
            last = rows[-1]["key"]

    @staticmethod
    def _ranking_where(liked: bool, keys: Sequence[str] | None = None) -> str:
        """The papers "for you" learns from (liked) or ranks, not deleted; among `keys`."""
        if keys is not None:
            # the keys' own index drives: `+` keeps SQLite from walking an index of every
            # unread paper instead (~15 ms a query at 100k papers, against ~0.2 ms)
            state = ("(+p.starred = 1 OR +p.status = 'read')" if liked
                     else "+p.status = 'unread' AND +p.starred = 0")
            return f"+p.deleted = 0 AND {state} AND p.key IN ({','.join('?' * len(keys))})"
        if liked:  # a union of two indexed lookups: `starred = 1 OR ...` scans every paper
            return ("p.deleted = 0 AND p.rowid IN (SELECT rowid FROM papers WHERE starred = 1 "
                    "UNION SELECT rowid FROM papers WHERE status = 'read')")
        return "p.deleted = 0 AND p.status = 'unread' AND p.starred = 0"

    def _ranking_tags(self, where: str, keys: Sequence[str] | None = None
                      ) -> dict[str, list[str]]:
        tags: dict[str, list[str]] = {}
        for key, tag in self.db.execute(
                f"SELECT t.key, t.tag FROM tags t JOIN papers p ON p.key = t.key "
                f"WHERE {where} ORDER BY t.tag", list(keys or ())):
            tags.setdefault(key, []).append(tag)
        return tags

    def ranking_rows(self, *, liked: bool, keys: Sequence[str] | None = None
                     ) -> Iterator[tuple[str, str, str, list[str]]]:
        """(key, title, abstract, tags) of the papers "for you" learns from (liked: starred
        or read) or ranks (not liked: unread and not starred), newest first; only those among
        `keys` when given. Only the columns it reads: the whole Paper costs 3x more at 100k
        papers."""
        where = self._ranking_where(liked, keys)
        tags = self._ranking_tags(where, keys)
        rows = self.db.execute(
            f"SELECT p.key, p.title, p.abstract FROM papers p WHERE {where} "
            f"ORDER BY p.added DESC, p.key", list(keys or ()))
        for key, title, abstract in rows:
            yield key, title, abstract, tags.get(key, [])

    def ranking_keys(self, keys: Sequence[str] | None = None,
                     between: Callable[[], None] | None = None
                     ) -> list[tuple[str, list[str], float]]:
        """(key, tags, added) of the papers "for you" ranks, newest first (only those among
        `keys` when given): ranking_rows(liked=False) without the text, for a caller that
        reads the words from the index. `between()` is called between batches of rows (it
        may raise to stop)."""
        if keys is not None:
            where = self._ranking_where(False, keys)
            tags = self._ranking_tags(where, keys)
            return [(key, tags.get(key, []), added) for key, added in self.db.execute(
                f"SELECT p.key, p.added FROM papers p WHERE {where} "
                f"ORDER BY p.added DESC, p.key", list(keys))]
        # Every paper from the listing index (key and date only: no row is read), less the
        # few starred or not unread ones from their own indexes: 0.06 s at 100k papers, where
        # testing each row's status and star reads every row (0.3 s).
        cursor = self.db.cursor()
        cursor.row_factory = None  # plain tuples: sqlite3.Row costs more than the query
        liked = {key for (key,) in cursor.execute(
            "SELECT key FROM papers WHERE starred = 1 UNION "
            "SELECT key FROM papers WHERE status < 'unread' OR status > 'unread'")}
        tags: dict[str, list[str]] = {}
        for key, tag in cursor.execute("SELECT key, tag FROM tags ORDER BY tag"):
            tags.setdefault(key, []).append(tag)
        cursor.execute("SELECT key, added FROM papers WHERE deleted = 0 ORDER BY added DESC, key")
        listed: list[tuple[str, list[str], float]] = []
        while rows := cursor.fetchmany(20_000):  # ~15 ms of rows at a time
            listed += [(key, tags.get(key, []), added) for key, added in rows
                       if key not in liked]
            if between is not None:
                between()
        return listed

    def ranking_changes(self, mark: int, limit: int = 1000
                        ) -> tuple[int, set[str] | None, set[str]]:
        """(the change mark now, the papers changed after `mark`, those of them whose search
        index document was rewritten, added or removed: all but stars and statuses). The set
        is None when more than `limit` operations came. A merge of two papers changes both
        keys. A new citation key changes neither the ranking nor the index: it is passed
        over."""
        rows = self.db.execute("SELECT rowid, key, type, field, value FROM ops WHERE rowid > ? "
                               "ORDER BY rowid LIMIT ?", (mark, limit + 1)).fetchall()
        if not rows:
            return mark, set(), set()
        new_mark = rows[-1][0]
        if len(rows) > limit:
            return new_mark, None, set()
        changed: set[str] = set()
        rewritten: set[str] = set()
        for _, key, type_, field, value in rows:
            if type_ == "set" and field in RANKING_NEUTRAL_FIELDS:
                continue
            if type_ == "paper.merge":  # the value is the key the paper lives on as
                merged_into = json.loads(value) if value else None
                if isinstance(merged_into, str):
                    changed.add(merged_into)
                    rewritten.add(merged_into)
            changed.add(key)
            if not (type_ == "set" and field in ("starred", "status")):
                rewritten.add(key)
        return new_mark, changed, rewritten

    def words_changed_after(self, mark: int) -> bool:
        """Whether an operation after `mark` may have changed papers' words or which papers
        there are (an import, an update, a deletion, a merge): anything but a tag, a star, a
        status, a note or a citation key (WORD_NEUTRAL_OPS)."""
        row = self.db.execute(
            "SELECT 1 FROM ops WHERE rowid > ? AND type NOT IN ({}) LIMIT 1".format(
                ",".join("?" * len(WORD_NEUTRAL_OPS))), (mark, *WORD_NEUTRAL_OPS)).fetchone()
        return row is not None

    def keys_with_prefix(self, prefix: str, limit: int = 10) -> list[str]:
        """Paper keys or citation keys starting with prefix (for unique-prefix key arguments)."""
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self.db.execute(
            "SELECT key FROM papers WHERE deleted = 0 AND (key LIKE ? ESCAPE '\\' OR "
            "citekey LIKE ? ESCAPE '\\' OR key LIKE ? ESCAPE '\\') LIMIT ?",
            (pattern, pattern, "%:" + pattern, limit))
        return [r[0] for r in rows]

    def _found_among(self, sql: str, values: list[str], *params) -> set[str]:
        """The first column of `sql` ({marks}: up to 900 of `values` at a time, then `params`).
        Empty when the table is missing: a read-only library made before it existed."""
        found: set[str] = set()
        try:
            for start in range(0, len(values), 900):
                chunk = values[start:start + 900]
                marks = ",".join("?" * len(chunk))
                found.update(r[0] for r in self.db.execute(sql.format(marks=marks),
                                                           [*chunk, *params]))
        except sqlite3.OperationalError:
            return set()
        return found

    def provisional_citekeys(self, keys: list[str]) -> set[str]:
        """The papers among `keys` whose citation key is still provisional."""
        return self._found_among(
            "SELECT c.key FROM provisional_citekeys c JOIN papers p ON p.key = c.key "
            "WHERE c.key IN ({marks}) AND p.citekey = c.citekey", keys)

    def freeze_citekeys(self, keys: list[str]) -> int:
        """The keys of these papers were used (exported, copied): they never change again."""
        provisional = self.provisional_citekeys(keys)
        if not provisional or self.read_only:
            return 0
        with self.transaction():
            self.db.executemany("DELETE FROM provisional_citekeys WHERE key = ?",
                                [(k,) for k in provisional])
        return len(provisional)

    def recent_misses(self, title_norms: list[str], since: float) -> set[str]:
        """The normalised titles among these that arXiv had no match for after `since`."""
        return self._found_among("SELECT title_norm FROM resolve_misses WHERE title_norm IN "
                                 "({marks}) AND asked >= ?", title_norms, since)

    def remember_misses(self, title_norms: list[str], when: float) -> None:
        with self.transaction():
            self.db.executemany("INSERT OR REPLACE INTO resolve_misses VALUES (?, ?)",
                                [(t, when) for t in title_norms])

    def key_for_citekey(self, citekey: str) -> str | None:
        """The paper that owns a citation key, compared ignoring case as BibTeX does."""
        row = self.db.execute(
            "SELECT key FROM papers WHERE citekey = ? COLLATE NOCASE AND deleted = 0 "
            "ORDER BY citekey = ? DESC LIMIT 1", (citekey, citekey)).fetchone()
        return row[0] if row else None

    def tag_counts(self) -> list[tuple[str, int]]:
        return [(r[0], r[1]) for r in self.db.execute(
            "SELECT t.tag, COUNT(*) FROM tags t JOIN papers p ON p.key = t.key "
            "WHERE p.deleted = 0 GROUP BY t.tag ORDER BY t.tag")]

    def status_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for status, n in self.db.execute(
                "SELECT status, COUNT(*) FROM papers WHERE deleted = 0 GROUP BY status"):
            counts[status] = n
        return counts


    # ---- the search index's pending updates ----------------------------------------------------

    def has_dirty(self) -> bool:
        return self.db.execute("SELECT 1 FROM index_dirty LIMIT 1").fetchone() is not None

    def dirty_keys(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT key FROM index_dirty")]

    def clear_dirty(self, keys: Iterable[str]) -> None:
        with self.transaction():
            self.db.executemany("DELETE FROM index_dirty WHERE key = ?", [(k,) for k in keys])

