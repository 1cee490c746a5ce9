"""Snapshots: the merged state, written now and then so that a new device starts from it
instead of replaying every log; the operations a loaded snapshot covers are copied in later."""

from __future__ import annotations

import gzip
import hashlib
import os
import json
import time
import zlib
from pathlib import Path

from index import merge
from index.clock import Timestamp
from index.fileio import write_atomic
from index.store import Op
from index.sync.folder import compact, parse_line, segment_files


SNAPSHOT_FORMAT = "papershelf-snapshot"


def snapshot_files(root: Path) -> list[Path]:
    try:
        names = os.listdir(root / "snapshots")
    except OSError:
        return []
    return [root / "snapshots" / n for n in sorted(names)
            if n.startswith("snapshot-") and n.endswith(".json.gz")]


def _snapshot_header(path: Path) -> dict | None:
    try:
        with gzip.open(path, "rb") as handle:
            header = json.loads(handle.readline())
        return header if isinstance(header, dict) and header.get("format") == SNAPSHOT_FORMAT else None
    except (OSError, ValueError, EOFError, zlib.error):
        return None


def load_snapshot(store, root: Path, problems: list[str]) -> tuple[str | None, set[str]]:
    candidates = []
    for path in snapshot_files(root):
        header = _snapshot_header(path)
        if header is None:
            problems.append(f"snapshots/{path.name}: unreadable snapshot, ignored")
        elif int(header.get("major", 0)) == 1:
            candidates.append((int(header.get("ops", 0)), path, header))
    for _, path, header in sorted(candidates, key=lambda c: -c[0]):
        try:
            with gzip.open(path, "rb") as handle:
                handle.readline()
                payload = handle.read()
            if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
                raise ValueError("checksum mismatch")
            data = json.loads(payload)
            state = [tuple(r) for r in data["state"]]
            if any(len(r) != 5 for r in state):
                raise ValueError("malformed rows")
        except (OSError, ValueError, EOFError, KeyError, TypeError, zlib.error) as exc:
            problems.append(f"snapshots/{path.name}: damaged snapshot ({exc}); replaying the logs")
            continue
        with store.transaction():
            store.upsert_state(state)
            aliases = merge.Aliases(store)
            for old, new in data.get("aliases", []):
                aliases.add(old, new)
            own_prefix = f"devices/{store.device}/"
            positions = [(p, o, t) for p, o, t in data.get("positions", [])
                         if not p.startswith(own_prefix)]
            store.save_read_positions(positions)
            # The operations the snapshot covers are copied into the ops table by the next sync
            # (every operation is kept), without merging them again.
            store.set_meta("sync:backfill", compact([[p, o] for p, o, _ in positions]))
            for device, max_seq, covered, last_hlc, last_op in data.get("devices", []):
                if device != store.device:
                    store.set_device_row(device, max_seq, covered, last_hlc, last_op, time.time())
            newest = max((r[2] for r in state), default=None)
            if newest:
                store.clock.observe(Timestamp.decode(newest))
            keys = {r[0] for r in state}
            merge.project(store, keys)
        return path.name, keys
    return None, set()


def backfill(store, root: Path, positions: list, problems: list[str]) -> None:
    """Store the operations a loaded snapshot covered (they are merged already)."""
    ops: list[Op] = []
    for rel, offset in positions:
        try:
            with open(root / rel, "rb") as handle:
                data = handle.read(offset)
        except OSError:
            continue
        for line in data.split(b"\n")[:-1]:
            if line.strip():
                op, _ = parse_line(line)
                if op is not None and op.device != store.device:
                    ops.append(op)
    with store.transaction():
        store.store_ops(ops)
        store.forget_meta("sync:backfill")


def write_snapshot(store, root: Path, own: Path, every: int) -> str | None:
    """A snapshot of this library's merged state, when the newest in the folder misses `every`
    operations or more; returns its name (None when none was due)."""
    devices = store.device_rows()
    total = sum(r[1] for r in devices)
    best = 0
    for path in snapshot_files(root):
        header = _snapshot_header(path)
        if header:
            best = max(best, int(header.get("ops", 0)))
    mine = store.last_seq(store.device)
    total += mine
    if total - best < every:
        return None
    positions = [(p, o, t) for p, (o, t) in store.read_positions().items()]
    for _, path in segment_files(own):
        data = path.read_bytes()
        positions.append((f"devices/{store.device}/{path.name}", len(data), data[-32:].hex()))
    devices.append((store.device, mine, mine, store.clock.last.encode(), None))
    payload = compact({
        "state": store.all_state(),
        "aliases": store.all_aliases(),
        "positions": positions, "devices": devices,
    }).encode("utf-8")
    header = {"format": SNAPSHOT_FORMAT, "major": 1, "device": store.device, "ops": total,
              "hlc": store.clock.last.encode(), "sha256": hashlib.sha256(payload).hexdigest(),
              "covers": {r[0]: r[2] for r in devices}}
    name = f"snapshot-{store.device}.json.gz"
    (root / "snapshots").mkdir(exist_ok=True)
    blob = gzip.compress(compact(header).encode() + b"\n" + payload, compresslevel=1, mtime=0)
    write_atomic(root / "snapshots" / name, blob)
    return name
