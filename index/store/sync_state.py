"""The tables sync keeps beside the library: the merge state (`sync_state`), note conflicts,
how far each file of the sync folder was read, and what each device last sent. index/merge.py
decides what wins; this module reads and writes the rows, and writes the projection into the
papers / tags / registers tables."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable

from index.store.rows import to_json
from index.store.schema import SYNC_UPSERT, ensure_sync_tables, has_sync_tables

# The papers columns a projection writes (besides key and added).
PROJECTED_COLUMNS = ("title", "title_norm", "abstract", "authors", "year", "listing_date",
                     "arxiv_id", "doi", "url", "links", "venue", "extra", "sources", "citekey",
                     "starred", "status", "note", "deleted")
_CHUNK = 500  # keys per IN (...) query


def _chunks(values: list) -> Iterable[tuple[list, str]]:
    for start in range(0, len(values), _CHUNK):
        chunk = values[start:start + _CHUNK]
        yield chunk, ",".join("?" * len(chunk))


class SyncState:
    def has_sync_tables(self) -> bool:
        return has_sync_tables(self.db)

    def ensure_sync_tables(self) -> None:
        if not self.has_sync_tables():
            with self.transaction() as db:
                ensure_sync_tables(db)

    def sync_started(self) -> bool:
        """Whether this library has read a sync folder or merged anything yet."""
        return (self.db.execute("SELECT 1 FROM sync_files LIMIT 1").fetchone() is not None
                or self.db.execute("SELECT 1 FROM sync_state LIMIT 1").fetchone() is not None)

    # ---- aliases (old key -> new key) -------------------------------------------------------

    def alias_map(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT old_key, new_key FROM aliases").fetchall())

    def add_alias(self, old: str, new: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO aliases VALUES (?, ?)", (old, new))

    # ---- merge state ---------------------------------------------------------------------------

    def upsert_state(self, rows: Iterable[tuple]) -> None:
        """Fold (key, field, hlc, op_id, value) rows in: each field's rule picks the winner."""
        self.db.executemany(SYNC_UPSERT, rows)

    def move_state(self, old: str, new: str) -> None:
        """A re-keyed paper: its rows merge into the new key's, its pending conflict goes."""
        rows = self.db.execute("SELECT ?, field, hlc, op_id, value FROM sync_state WHERE key = ?",
                               (new, old)).fetchall()
        self.upsert_state([tuple(r) for r in rows])
        self.db.execute("DELETE FROM sync_state WHERE key = ?", (old,))
        self.db.execute("DELETE FROM sync_conflicts WHERE key = ?", (old,))

    def state_of(self, keys: list[str]) -> dict[str, dict[str, tuple]]:
        """key -> {field: (hlc, op_id, value)} for each of `keys` (empty when it has none)."""
        state: dict[str, dict[str, tuple]] = {k: {} for k in keys}
        for chunk, marks in _chunks(keys):
            for row in self.db.execute(f"SELECT key, field, hlc, op_id, value FROM sync_state "
                                       f"WHERE key IN ({marks})", chunk):
                state[row[0]][row[1]] = (row[2], row[3], row[4])
        return state

    def note_state(self, key: str) -> list[tuple[str, str, str, str]]:
        """(field, hlc, op_id, value) of every note version of `key`."""
        return [tuple(r) for r in self.db.execute(
            "SELECT field, hlc, op_id, value FROM sync_state WHERE key = ? AND field LIKE 'note:%'",
            (key,))]

    def citekey_claims(self, citekeys: list[str]) -> list[tuple[str, str, str]]:
        """(key, hlc, citation key) of every paper whose merge state claims one of these."""
        found = []
        for chunk, marks in _chunks([to_json(c) for c in citekeys]):
            found += [(k, hlc, json.loads(v)) for k, hlc, v in self.db.execute(
                f"SELECT key, hlc, value FROM sync_state WHERE field = 'citekey' "
                f"AND value IN ({marks})", chunk)]
        return found

    def rename_state_ops(self, renames: dict[str, str], keys: set[str]) -> None:
        """Operations renamed by a fork (old id -> new id): the rows they won, the note versions
        they are, and the note versions that name them as parents follow."""
        for before, after in renames.items():
            self.db.execute("UPDATE OR REPLACE sync_state SET op_id = ?, field = CASE WHEN field = ? "
                            "THEN ? ELSE field END WHERE op_id = ?",
                            (after, "note:" + before, "note:" + after, before))
        for key in keys:
            for fld, value in self.note_state_values(key):
                data = json.loads(value)
                parents = [renames.get(p, p) for p in data["parents"]]
                if parents != data["parents"]:
                    data["parents"] = parents
                    self.db.execute("UPDATE sync_state SET value = ? WHERE key = ? AND field = ?",
                                    (to_json(data), key, fld))

    def note_state_values(self, key: str) -> list[tuple[str, str]]:
        return [(r[0], r[3]) for r in self.note_state(key)]

    def all_state(self) -> list[list]:
        return [list(r) for r in self.db.execute(
            "SELECT key, field, hlc, op_id, value FROM sync_state")]

    def all_aliases(self) -> list[list[str]]:
        return [list(r) for r in self.db.execute("SELECT old_key, new_key FROM aliases")]

    # ---- conflicts, files read, devices heard from ---------------------------------------------

    def conflict_rows(self, key: str | None = None) -> list[tuple[str, list[str], str | None]]:
        """(key, heads, base) of each note conflict waiting for the user (or of this paper's),
        by key."""
        where, params = ("WHERE key = ? ", (key,)) if key is not None else ("", ())
        return [(key, json.loads(heads), base) for key, heads, base in self.db.execute(
            f"SELECT key, heads, base FROM sync_conflicts {where}ORDER BY key", params).fetchall()]

    def conflict_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM sync_conflicts").fetchone()[0]

    def read_positions(self) -> dict[str, tuple[int, str]]:
        """Per file of the sync folder (path under papershelf/): (bytes read, their last 32)."""
        return {r[0]: (r[1], r[2]) for r in self.db.execute(
            "SELECT path, offset, tail FROM sync_files")}

    def save_read_positions(self, positions: Iterable[tuple[str, int, str]]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO sync_files VALUES (?, ?, ?)", positions)

    def device_rows(self) -> list[tuple]:
        """(device, max_seq, covered, last_hlc, last_op) of every other device heard from."""
        return [tuple(r) for r in self.db.execute(
            "SELECT device, max_seq, covered, last_hlc, last_op FROM sync_devices")]

    def device_status_rows(self) -> list[tuple]:
        """(device, max_seq, last_hlc, last_op, seen) of every other device, by device."""
        if not self.has_sync_tables():
            return []
        return [tuple(r) for r in self.db.execute(
            "SELECT device, max_seq, last_hlc, last_op, seen FROM sync_devices ORDER BY device")]

    def heard_from(self, device: str, seq: int, hlc: str, last_op: str, seen: float) -> None:
        """A device's operations up to `seq` arrived (the highest seq heard keeps its op)."""
        self.db.execute(
            "INSERT INTO sync_devices VALUES (?, ?, 0, ?, ?, ?) ON CONFLICT (device) DO UPDATE "
            "SET max_seq = MAX(max_seq, excluded.max_seq), last_hlc = CASE WHEN "
            "excluded.max_seq > max_seq THEN excluded.last_hlc ELSE last_hlc END, last_op = "
            "CASE WHEN excluded.max_seq > max_seq THEN excluded.last_op ELSE last_op END, "
            "seen = excluded.seen", (device, seq, hlc, last_op, seen))

    def set_device_row(self, device: str, max_seq: int, covered: int, last_hlc: str | None,
                       last_op: str | None, seen: float) -> None:
        self.db.execute("INSERT OR REPLACE INTO sync_devices VALUES (?, ?, ?, ?, ?, ?)",
                        (device, max_seq, covered, last_hlc, last_op, seen))

    # ---- projection: the merge state made visible ------------------------------------------------

    def drop_paper(self, key: str) -> bool:
        """Remove the row of a paper that lives on under another key; True when there was one."""
        if self.db.execute("DELETE FROM papers WHERE key = ?", (key,)).rowcount:
            self.db.execute("DELETE FROM tags WHERE key = ?", (key,))
            return True
        return False

    def held_citekeys(self, keys: list[str]) -> set[str]:
        held: set[str] = set()
        for chunk, marks in _chunks(keys):
            held |= {r[0] for r in self.db.execute(
                f"SELECT citekey FROM papers WHERE key IN ({marks}) AND citekey IS NOT NULL",
                chunk)}
        return held

    def rows_and_tags(self, keys: list[str]) -> tuple[dict[str, sqlite3.Row], dict[str, list[str]]]:
        """The papers rows (deleted ones too) and the tags of `keys`, as stored now."""
        current: dict[str, sqlite3.Row] = {}
        tags: dict[str, list[str]] = {k: [] for k in keys}
        for chunk, marks in _chunks(keys):
            for row in self.db.execute(f"SELECT * FROM papers WHERE key IN ({marks})", chunk):
                current[row["key"]] = row
            for k, t in self.db.execute(f"SELECT key, tag FROM tags WHERE key IN ({marks})", chunk):
                tags[k].append(t)
        return current, tags

    def write_projection(self, *, inserts: list[tuple], updates: list[tuple],
                         tag_writes: list[tuple[str, list[str]]], registers: list[tuple],
                         settled: list[str], conflicts: list[tuple], changed: set[str],
                         loser_citekey: Callable[[str, str], str]) -> None:
        """Inside a transaction: write projected papers (inserts: key, columns, added; updates:
        columns, key), their tags, registers and conflicts, and mark `changed` for the index."""
        # Free every citation key that moves before writing any, so that swaps never clash.
        moving = [(row[0],) for row in inserts] + [(row[-1],) for row in updates]
        self.db.executemany("UPDATE papers SET citekey = NULL WHERE key = ?", moving)
        cols = ", ".join(f"{c} = ?" for c in PROJECTED_COLUMNS)
        insert = (f"INSERT INTO papers (key, {', '.join(PROJECTED_COLUMNS)}, added) "
                  f"VALUES ({', '.join('?' * (len(PROJECTED_COLUMNS) + 2))})")
        citekey = PROJECTED_COLUMNS.index("citekey")
        self._write_papers(f"UPDATE papers SET {cols} WHERE key = ?", updates, citekey,
                           len(PROJECTED_COLUMNS), loser_citekey)
        self._write_papers(insert, inserts, 1 + citekey, 0, loser_citekey)
        for key, tags in tag_writes:
            self.db.execute("DELETE FROM tags WHERE key = ?", (key,))
            self.db.executemany("INSERT INTO tags VALUES (?, ?)", [(key, t) for t in tags])
        self.db.executemany("INSERT OR REPLACE INTO registers VALUES (?, ?, ?, ?)", registers)
        self.db.executemany("DELETE FROM sync_conflicts WHERE key = ?", [(k,) for k in settled])
        self.db.executemany("INSERT INTO sync_conflicts VALUES (?, ?, ?, ?)", conflicts)
        self.db.executemany("INSERT OR IGNORE INTO index_dirty VALUES (?)", [(k,) for k in changed])

    def _write_papers(self, sql: str, rows: list[tuple], ck_index: int, key_index: int,
                      loser_citekey: Callable[[str, str], str]) -> None:
        """executemany; a citation key still held by a paper outside this projection (never the
        case when every operation was folded) makes that one row take a suffixed key instead."""
        db = self.db
        try:
            db.execute("SAVEPOINT project_write")
            db.executemany(sql, rows)
            db.execute("RELEASE project_write")
            return
        except sqlite3.IntegrityError:
            db.execute("ROLLBACK TO project_write")
            db.execute("RELEASE project_write")
        for row in rows:
            try:
                db.execute(sql, row)
            except sqlite3.IntegrityError:
                row = list(row)
                row[ck_index] = loser_citekey(row[ck_index] or "paper", row[key_index])
                db.execute(sql, row)
