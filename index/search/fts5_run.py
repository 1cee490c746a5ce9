"""Running a planned FTS5 query (fts5_match.Plan) against the index file: the ranked ids, the
total, and what is kept between keystrokes. Part of the FTS5 engine (fts5.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from index.search.fts5_file import FULL_WEIGHTS, NAMES_WEIGHTS
from index.search.fts5_match import Plan

# A query of only prefixes (a word being typed) is ranked by relevance up to this many hits,
# and listed newest first above it (ranking a prefix costs ~4 us per hit).
RANK_PREFIX_AT_MOST = 10_000
# Words plus a word being typed: when the typed word matches at most this many papers, rank
# the intersection in SQLite; above it, rank the words' matches once and filter that list
# on each keystroke.
INTERSECT_IN_SQL_AT_MOST = 5000


class PlanRunner:
    """Runs plans over one index file, keeping ranked id lists and allowed sets in `cache`
    (which the engine clears when the index changes)."""

    def __init__(self, cache: ReadCache):
        self._cache = cache

    def years(self, db) -> list[int]:
        """The years papers have (what a year range expands to)."""
        return self._cache.get(("years",), lambda: ids_of(
            db, "SELECT DISTINCT year FROM docs WHERE year IS NOT NULL ORDER BY year"))

    def run(self, db, plan: Plan, limit, allowed, excluded=None) -> tuple[list[str], int]:
        """(keys of the first `limit` hits, number of hits).

        BM25 costs ~1.5 us per matching paper in FTS5, so ranking is only ever done over the
        papers that pass every condition: the words being typed and the user-state filter are
        turned into rowid sets first (cheap, and kept between keystrokes), and the ranked
        query filters on them."""
        allowed_ids = self._allowedids_of(db, allowed) if allowed is not None else None
        excluded_ids = self._allowedids_of(db, excluded) if excluded else None
        if plan.negative:
            matched = set(ids_of(db, "SELECT rowid FROM full WHERE full MATCH ?", (plan.match,)))
            if plan.prefix:
                typed = self._names_set(db, plan.prefix)
                ids = [i for i in self._ranked_names(db, plan.prefix) if i in typed and i not in matched]
            else:
                ids = [i for i in self._newest(db) if i not in matched]
        elif plan.match:
            return self._run_full(db, plan, limit, allowed_ids, excluded_ids)
        elif len(typed := self._names_set(db, plan.prefix)) <= RANK_PREFIX_AT_MOST:
            ids = self._ranked_names(db, plan.prefix)
        else:
            # "tra" matches a quarter of a big library's titles, and ranking a prefix costs
            # ~2 us per hit: newest first until the word narrows it down
            ids = [i for i in self._newest(db) if i in typed]
        if allowed_ids is not None:
            ids = [i for i in ids if i in allowed_ids[0]]
        if excluded_ids is not None:
            ids = [i for i in ids if i not in excluded_ids[0]]
        shown = ids if limit is None else ids[:limit]
        return keys_for(db, shown), len(ids)

    def _run_full(self, db, plan: Plan, limit, allowed_ids, excluded_ids) \
            -> tuple[list[str], int]:
        """A query with words over `full`, ranked in SQLite (see `_run`)."""
        ranked = self._cache.peek(("full", plan.match))
        if plan.prefix and (ranked is not None or len(
                self._names_set(db, plan.prefix)) > INTERSECT_IN_SQL_AT_MOST):
            # "diffusion mod", "diffusion mode", ...: rank "diffusion" once, then filter
            if ranked is None:
                ranked = self._cache.get(("full", plan.match), lambda: ids_of(
                    db, f"SELECT rowid FROM full WHERE full MATCH ? ORDER BY "
                        f"bm25(full, {FULL_WEIGHTS}), rowid DESC", (plan.match,)))
            typed = self._names_set(db, plan.prefix)
            allowed = allowed_ids[0] if allowed_ids is not None else None
            excluded = excluded_ids[0] if excluded_ids is not None else ()
            ids = [i for i in ranked if i in typed and (allowed is None or i in allowed)
                   and i not in excluded]
            return keys_for(db, ids if limit is None else ids[:limit]), len(ids)
        sql = "FROM full WHERE full MATCH ?"
        params: list[Any] = [plan.match]
        # "+rowid": a plain `rowid IN (...)` is handed to FTS5 one value at a time, which
        # re-runs the whole match per value (a minute at 100k papers).
        if plan.prefix:
            sql += " AND +rowid IN (SELECT value FROM json_each(?))"
            params.append(self._cache.get(("names-json", plan.prefix), lambda: json.dumps(
                sorted(self._names_set(db, plan.prefix)))))
        if allowed_ids is not None:
            sql += " AND +rowid IN (SELECT value FROM json_each(?))"
            params.append(allowed_ids[1])
        if excluded_ids is not None:
            sql += " AND +rowid NOT IN (SELECT value FROM json_each(?))"
            params.append(excluded_ids[1])
        order = f"ORDER BY bm25(full, {FULL_WEIGHTS}), rowid DESC"
        if limit is None:
            ids = ids_of(db, f"SELECT rowid {sql} {order}", params)
            return keys_for(db, ids), len(ids)
        ids = ids_of(db, f"SELECT rowid {sql} {order} LIMIT ?", (*params, limit))
        total = len(ids) if len(ids) < limit else \
            db.execute(f"SELECT count(*) {sql}", params).fetchone()[0]
        return keys_for(db, ids), total

    def _newest(self, db) -> list[int]:
        return self._cache.get(("newest",), lambda: ids_of(
            db, "SELECT id FROM docs ORDER BY added DESC, id DESC"))

    def _names_set(self, db, match: str) -> set[int]:
        return self._cache.get(("names-set", match), lambda: set(ids_of(
            db, "SELECT rowid FROM names WHERE names MATCH ?", (match,))))

    def _ranked_names(self, db, match: str) -> list[int]:
        return self._cache.get(("names", match), lambda: ids_of(
            db, f"SELECT rowid FROM names WHERE names MATCH ? ORDER BY bm25(names, {NAMES_WEIGHTS}), "
                "rowid DESC", (match,)))

    def _allowedids_of(self, db, allowed: set[str]) -> tuple[set[int], str]:
        """The rowids of the allowed (or excluded) keys, as a set and as JSON for SQL (kept
        between calls: the app sends the same filter with every keystroke)."""
        frozen = frozenset(allowed)

        def compute():
            ids = ids_of(db, "SELECT id FROM docs WHERE key IN (SELECT value FROM json_each(?))",
                       (json.dumps(sorted(frozen)),))
            return set(ids), json.dumps(sorted(ids))

        return self._cache.get(("allowed", frozen), compute)


class ReadCache:
    """Recent ranked id lists and allowed sets, dropped whenever the index changes (in this
    process or any other: SQLite's data_version tells)."""

    SIZE = 8

    def __init__(self):
        self._entries: dict[Any, Any] = {}
        self._version: int | None = None

    def clear(self) -> None:
        self._entries.clear()
        self._version = None

    def check(self, db) -> None:
        version = db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version:
            self._entries.clear()
            self._version = version

    def peek(self, key):
        return self._entries.get(key)

    def get(self, key, compute: Callable[[], Any]):
        if key in self._entries:
            value = self._entries.pop(key)  # most recent last
        else:
            value = compute()
            while len(self._entries) >= self.SIZE:
                self._entries.pop(next(iter(self._entries)))
        self._entries[key] = value
        return value


def ids_of(db, sql: str, params: Sequence[Any] = ()) -> list[int]:
    return [r[0] for r in db.execute(sql, params)]


def keys_for(db, ids: Sequence[int]) -> list[str]:
    """The keys of `ids`, in that order."""
    if not ids:
        return []
    keys: dict[int, str] = {}
    for start in range(0, len(ids), 20_000):
        part = ids[start:start + 20_000]
        keys.update(db.execute("SELECT id, key FROM docs WHERE id IN (SELECT value FROM "
                               "json_each(?))", (json.dumps(list(part)),)).fetchall())
    return [keys[i] for i in ids if i in keys]
