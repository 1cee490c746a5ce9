"""The operation log: this device's operations (appended with every change), the ones sync
received from other devices, and where the log ends (what caches and the app watch)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from index.store.rows import Op, row_to_op, to_json

_INSERT_OP = "INSERT OR IGNORE INTO ops VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


def _op_row(op: Op) -> tuple:
    return (op.op_id, op.device, op.seq, op.hlc, op.type, op.key, op.field, to_json(op.value))


class OpLog:
    def next_seq(self) -> int:
        """The sequence number this device's next operation takes."""
        return self.last_seq(self.device) + 1

    def record_op(self, type_: str, key: str, field: str | None, value: object,
                  seq: int) -> Op:
        """Inside a transaction: append one operation of this device (and, for a field,
        remember it as that field's last write)."""
        stamp = self.clock.tick().encode()
        op = Op(f"{self.device}-{seq}", self.device, seq, stamp, type_, key, field, value)
        self.changed_here = True
        row = _op_row(op)
        if self._op_buffer is not None:  # a batch import writes its ops in one executemany
            self._op_buffer.append(row)
        else:
            self.db.execute("INSERT INTO ops VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
        if field is not None:
            self.db.execute("INSERT OR REPLACE INTO registers VALUES (?, ?, ?, ?)",
                            (key, field, stamp, op.op_id))
        return op

    def ops_since(self, device: str, after_seq: int) -> list[Op]:
        rows = self.db.execute(
            "SELECT * FROM ops WHERE device = ? AND seq > ? ORDER BY seq", (device, after_seq))
        return [row_to_op(r) for r in rows]

    def ops_between(self, device: str, first: int, last: int) -> list[Op]:
        """A device's operations with seq first..last, in order."""
        rows = self.db.execute("SELECT * FROM ops WHERE device = ? AND seq BETWEEN ? AND ? "
                               "ORDER BY seq", (device, first, last))
        return [row_to_op(r) for r in rows]

    def op(self, op_id: str) -> Op | None:
        row = self.db.execute("SELECT * FROM ops WHERE op_id = ?", (op_id,)).fetchone()
        return row_to_op(row) if row is not None else None

    def register(self, key: str, field: str) -> tuple[str, str] | None:
        row = self.db.execute("SELECT hlc, op_id FROM registers WHERE key = ? AND field = ?",
                              (key, field)).fetchone()
        return (row[0], row[1]) if row else None

    def change_mark(self) -> int:
        """A number that grows with every change to the library (each is one operation, from
        this device or merged by sync): what a cache of derived results is keyed on."""
        return self.db.execute("SELECT coalesce(max(rowid), 0) FROM ops").fetchone()[0]

    def mark_stamp(self, mark: int) -> str:
        """`mark` and the id of the operation at it: names one state of the library even
        across a restore from a backup (which could bring the same mark back with other
        operations behind it)."""
        row = self.db.execute("SELECT op_id FROM ops WHERE rowid = ?", (mark,)).fetchone()
        return f"{mark}:{row[0] if row else ''}"

    def op_mark(self) -> int:
        """Where the op log ends now: `changes_since` reports what comes after it."""
        return self.db.execute("SELECT COALESCE(MAX(rowid), 0) FROM ops").fetchone()[0]

    def changes_since(self, mark: int, limit: int = 1000) -> tuple[int, list[tuple[str, str]]]:
        """(new mark, [(paper key, op type)]) for operations committed after `mark`; more than
        `limit` of them (the caller then refreshes everything) come back as `limit` + 1."""
        rows = self.db.execute("SELECT rowid, key, type FROM ops WHERE rowid > ? ORDER BY rowid "
                               "LIMIT ?", (mark, limit + 1)).fetchall()
        if len(rows) > limit:
            return self.op_mark(), [(r[1], r[2]) for r in rows]
        return (rows[-1][0] if rows else mark), [(r[1], r[2]) for r in rows]


    def store_ops(self, ops: Iterable[Op]) -> None:
        """Inside a transaction: keep operations received by sync (a known id is skipped)."""
        rows = [_op_row(op) for op in ops]
        if rows:
            self.changed_here = True
        self.db.executemany(_INSERT_OP, rows)

    def known_op_ids(self, op_ids: list[str]) -> set[str]:
        """The ids among `op_ids` the log holds already."""
        known: set[str] = set()
        for start in range(0, len(op_ids), 500):
            chunk = op_ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            known.update(r[0] for r in self.db.execute(
                f"SELECT op_id FROM ops WHERE op_id IN ({marks})", chunk))
        return known

    def last_seq(self, device: str) -> int:
        """The highest sequence number of `device` in the log (0 when none)."""
        row = self.db.execute("SELECT MAX(seq) FROM ops WHERE device = ?", (device,)).fetchone()
        return row[0] or 0

    def newest_own_op(self) -> tuple[int, str | None]:
        """(how many operations this device wrote, the newest clock among them)."""
        row = self.db.execute("SELECT MAX(seq), MAX(hlc) FROM ops WHERE device = ?",
                              (self.device,)).fetchone()
        return row[0] or 0, row[1]

    def note_ops(self, key: str) -> list[tuple[str, str, object]]:
        """(op id, clock, value) of every note write to the paper `key` in the log."""
        return [(op_id, hlc, json.loads(value)) for op_id, hlc, value in self.db.execute(
            "SELECT op_id, hlc, value FROM ops WHERE type = 'set' AND field = 'note' AND key = ?",
            (key,))]

    def renumber_ops(self, renames: dict[str, Op]) -> None:
        """Inside a transaction: give operations a new id, device, seq and value (a forked
        device takes over the operations it never published); registers follow."""
        for before, op in renames.items():
            self.db.execute("UPDATE ops SET op_id = ?, device = ?, seq = ?, value = ? "
                            "WHERE op_id = ?", (*_op_row(op)[:3], to_json(op.value), before))
        for before, op in renames.items():
            self.db.execute("UPDATE registers SET op_id = ? WHERE op_id = ?", (op.op_id, before))

    # ---- what the doctor reads -------------------------------------------------------------

    def own_op_clocks(self) -> list[tuple[str, int, str]]:
        """(op id, seq, clock) of this device's operations, by seq."""
        return [tuple(r) for r in self.db.execute(
            "SELECT op_id, seq, hlc FROM ops WHERE device = ? ORDER BY seq", (self.device,))]

    def op_values(self) -> Iterable[tuple[str, str | None]]:
        """(op id, the value as stored: JSON text) of every operation."""
        return self.db.execute("SELECT op_id, value FROM ops")

    def op_clocks(self) -> list[str]:
        """The clock of every operation in the log."""
        return [r[0] for r in self.db.execute("SELECT hlc FROM ops")]
