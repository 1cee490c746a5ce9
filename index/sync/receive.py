"""Receiving: reading the new lines of other devices' logs (remembering how far each file was
read), and merging them with this device's new operations in one transaction."""

from __future__ import annotations

import os
import time
from pathlib import Path

from index import merge
from index.clock import Timestamp
from index.store import Op
from index.sync.folder import ANY_SEGMENT, compact, parse_line
from index.sync.report import SyncReport


def _read_new(path: Path, rel: str, offset: int, tail: str,
              problems: list[str]) -> tuple[list[Op], int, str]:
    """New complete lines of one file -> (ops, new offset, new tail)."""
    try:
        size = path.stat().st_size
        if size < offset:
            offset = 0
        if size == offset and offset:
            return [], offset, tail
        with open(path, "rb") as handle:
            if offset:
                start = max(0, offset - 32)
                handle.seek(start)
                if handle.read(offset - start).hex() != tail:
                    offset = 0  # replaced (a sync tool's other version): read it again
            handle.seek(offset)
            data = handle.read()
    except OSError as exc:
        problems.append(f"{rel}: cannot read ({exc.strerror})")
        return [], offset, tail
    end = data.rfind(b"\n")
    if end < 0:
        return [], offset, tail  # only a write in progress
    ops: list[Op] = []
    pos = offset
    first_bad = None
    for line in data[:end].split(b"\n"):
        if line.strip():
            op, why = parse_line(line)
            if op is None:
                problems.append(f"{rel}: skipped the line at byte {pos}: {why}")
                if first_bad is None:
                    first_bad = pos  # read again next time: the sync tool may repair it
            else:
                ops.append(op)
        pos += len(line) + 1
    new_offset = first_bad if first_bad is not None else offset + end + 1
    new_tail = ""
    if new_offset:
        with open(path, "rb") as handle:
            start = max(0, new_offset - 32)
            handle.seek(start)
            new_tail = handle.read(new_offset - start).hex()
    return ops, new_offset, new_tail


def read_devices(store, root: Path, problems: list[str]):
    positions = store.read_positions()
    ops: list[Op] = []
    moved: list[tuple] = []
    devices = root / "devices"
    try:
        dirs = sorted(os.listdir(devices))
    except OSError:
        dirs = []
    for name in dirs:
        if name == store.device or name.startswith("."):
            continue
        directory = devices / name
        try:
            files = sorted(os.listdir(directory))
        except OSError:
            continue  # a file where a directory should be, or unreadable
        for filename in files:
            if not ANY_SEGMENT.match(filename) or filename.endswith(".tmp"):
                continue
            rel = f"devices/{name}/{filename}"
            offset, tail = positions.get(rel, (0, ""))
            found, new_offset, new_tail = _read_new(directory / filename, rel, offset, tail, problems)
            ops += found
            if (new_offset, new_tail) != (offset, tail):
                moved.append((rel, new_offset, new_tail))
    return ops, moved


def apply(store, ops: list[Op], moved: list[tuple], report: SyncReport) -> int:
    with store.transaction():
        fresh: dict[str, Op] = {}
        for op in ops:
            if op.device != store.device and op.op_id not in fresh:
                fresh[op.op_id] = op
        for known in store.known_op_ids(list(fresh)):
            del fresh[known]
        new = list(fresh.values())
        store.store_ops(new)
        newest: dict[str, Op] = {}
        for op in new:
            if op.device not in newest or op.seq > newest[op.device].seq:
                newest[op.device] = op
        if new:
            store.clock.observe(Timestamp.decode(max(o.hlc for o in new)))
        for device, op in newest.items():
            store.heard_from(device, op.seq, op.hlc, compact({"type": op.type, "key": op.key,
                                                                "field": op.field}), time.time())
        folded = int(store.meta(f"sync:folded:{store.device}", 0))
        local = store.ops_since(store.device, folded)
        touched = merge.fold(store, new + local)
        if local:
            store.set_meta(f"sync:folded:{store.device}", local[-1].seq)
        changed = merge.project(store, touched)
        store.save_read_positions(moved)
    report.received = len(new)
    return len(changed)


def fold_local(lib) -> set[str]:
    """Fold this device's new operations into the merge state now (no folder needed)."""
    store = lib.store
    store.ensure_sync_tables()
    with store.transaction():
        folded = int(store.meta(f"sync:folded:{store.device}", 0))
        local = store.ops_since(store.device, folded)
        if not local:
            return set()
        touched = merge.fold(store, local)
        store.set_meta(f"sync:folded:{store.device}", local[-1].seq)
        return merge.project(store, touched)
