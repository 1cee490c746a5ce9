"""This device's log in the sync folder: publishing new operations, checking that the log
there is this library's (a copied data directory or a restored backup forks a new device id),
and writing it again when a sync tool damaged, truncated or dropped a segment."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import replace
from pathlib import Path

from index import merge
from index.fileio import fsync_dir as _fsync_dir
from index.fileio import write_atomic
from index.store import Op
from index.sync.folder import SEGMENT_BYTES, compact, encode_line, parse_line, same_op, segment_files
from index.sync.report import SyncReport


def last_published(store, own: Path) -> tuple[int, str | None]:
    """(highest seq in our log, or 0; why our log is not ours, or None). Trims a torn last line
    left by a crash in the middle of our own append (only this device writes there)."""
    segments = segment_files(own)
    for _, path in reversed(segments):
        size = path.stat().st_size
        window = 65536
        while True:  # the last 64 KiB, or the whole file when a line is longer than that
            with open(path, "rb+") as handle:
                start = max(0, size - window)
                handle.seek(start)
                data = handle.read()
                cut = data.rfind(b"\n")
                if data and not data.endswith(b"\n") and (cut >= 0 or start == 0):
                    handle.truncate(start + cut + 1)  # a torn append of ours
                    handle.flush()
                    os.fsync(handle.fileno())
                    data = data[:cut + 1]
                    size = start + cut + 1
            if start == 0 or any(parse_line(line)[0] for line in data.split(b"\n")[1:] if line.strip()):
                break
            window = size
        lines = [line for line in data.split(b"\n") if line.strip()]
        for line in reversed(lines):
            op, _ = parse_line(line)
            if op is None or op.device != store.device:
                continue
            mine = store.op(op.op_id)
            if mine is None:
                return op.seq, (f"the sync folder holds operations of device {store.device} that "
                                "this library never wrote (a copied data directory or a restored "
                                "backup)")
            if not same_op(mine, op):
                return op.seq, (f"device {store.device} wrote different operations on another "
                                "machine (a copied data directory)")
            return op.seq, None
    return 0, None


def _published_prefix(store, own: Path) -> int:
    """How many of this library's first operations the folder holds exactly as written here."""
    there: dict[str, Op] = {}
    for _, path in segment_files(own):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        for line in data.split(b"\n"):
            op, _ = parse_line(line) if line.strip() else (None, None)
            if op is not None and op.device == store.device:
                there.setdefault(op.op_id, op)
    count = 0
    for mine in store.ops_since(store.device, 0):
        published = there.get(mine.op_id)
        if published is None or not same_op(mine, published):
            break
        count += 1
    return count


def fork(store, own: Path, reason: str) -> str:
    """Give this library a new device id; operations the folder does not hold as ours move to
    it (they were never published). The old id's log becomes just another device to read."""
    old = store.device
    new = uuid.uuid4().hex[:12]
    published = _published_prefix(store, own)
    with store.transaction():
        folded = int(store.meta(f"sync:folded:{old}", 0))
        pending = [op for op in store.ops_since(old, folded) if op.seq <= published]
        if pending:  # published but not yet merged here: merge them under the old id
            merge.project(store, merge.fold(store, pending))
            folded = published
        moving = store.ops_since(old, published)
        renames = {op.op_id: f"{new}-{i}" for i, op in enumerate(moving, 1)}
        renumbered = {}
        for i, op in enumerate(moving, 1):
            value = op.value
            if op.type == "set" and op.field == "note" and isinstance(value, dict):
                value = dict(value)
                if value.get("parent") in renames:
                    value["parent"] = renames[value["parent"]]
                if isinstance(value.get("parents"), list):
                    value["parents"] = [renames.get(p, p) for p in value["parents"]]
            renumbered[op.op_id] = replace(op, op_id=renames[op.op_id], device=new, seq=i,
                                           value=value)
        store.renumber_ops(renumbered)
        if renames and store.has_sync_tables():
            store.rename_state_ops(renames, {op.key for op in moving})
        store.set_meta(f"sync:folded:{new}", max(0, folded - published))
        store.set_meta(f"sync:folded:{old}", min(folded, published))
        store.set_meta("sync:forked_from", old)
        store.become_device(new)
    return f"{reason}: this library is now device {new} (was {old}); nothing was lost"


# ---- keeping this device's published log whole ---------------------------------------------------
#
# A sync tool can damage, truncate or drop a segment after it was written. Readers only
# report that; the owner is the one who can write the operations again. So the owner
# remembers, per segment, which of its operations it holds (`first`..`last`) and the size and
# mtime it had when last found whole; a segment that differs is compared with the bytes its
# operations encode to, and rewritten (temp + rename) when it is damaged, truncated or missing.
# Readers keep their place before a damaged line, so they read the repaired lines next time.


def _segment_records(store) -> dict[str, dict]:
    return json.loads(store.meta(f"sync:segments:{store.device}", "{}"))


def _save_segment_records(store, records: dict[str, dict]) -> None:
    with store.transaction():
        store.set_meta(f"sync:segments:{store.device}", compact(records))


def _expected_bytes(store, first: int, last: int) -> bytes | None:
    ops = store.ops_between(store.device, first, last)
    if len(ops) != last - first + 1:
        return None  # this library does not hold them (a restored backup): not ours to rewrite
    return b"".join(encode_line(op) for op in ops)


def _ours_agree(store, data: bytes) -> tuple[bool, list[int]]:
    """(every readable line of this device matches what the store holds, their seqs)."""
    seqs = []
    for line in data.split(b"\n"):
        op, _ = parse_line(line) if line.strip() else (None, None)
        if op is None or op.device != store.device:
            continue
        mine = store.op(op.op_id)
        if mine is None or not same_op(mine, op):
            return False, seqs
        seqs.append(op.seq)
    return True, seqs


def _record_legacy_segments(store, own: Path, records: dict[str, dict]) -> None:
    """Segments published before owners kept records: learn what they hold, once."""
    previous_last = max((r["last"] for r in records.values()), default=0)
    for _, path in segment_files(own):
        if path.name in records:
            continue
        try:
            data = path.read_bytes()
        except OSError:
            return
        agree, seqs = _ours_agree(store, data)
        if not agree or not seqs:
            return  # not what this library wrote: the fork check decides
        records[path.name] = {"first": previous_last + 1, "last": max(seqs), "size": -1,
                              "mtime": -1}
        previous_last = max(seqs)


def repair_own(store, own: Path, report: SyncReport) -> None:
    records = _segment_records(store)
    before = json.dumps(records, sort_keys=True)
    _record_legacy_segments(store, own, records)
    for name, record in sorted(records.items()):
        _check_segment(store, own / name, record, report)
    if json.dumps(records, sort_keys=True) != before:
        _save_segment_records(store, records)


def _check_segment(store, path: Path, record: dict, report: SyncReport) -> None:
    """Compare one published segment with what its operations encode to; write it again when
    it is damaged, truncated or missing. Updates `record` (its range, size and mtime)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        stat = None
    except OSError:
        return
    if stat is not None and (stat.st_size, stat.st_mtime_ns) == (record["size"], record["mtime"]):
        return  # as it was when last found whole
    expected = _expected_bytes(store, record["first"], record["last"])
    if expected is None:
        return
    try:
        data = path.read_bytes() if stat is not None else b""
    except OSError:
        return
    if data.startswith(expected):
        # longer: operations appended by a sync that stopped before noting them
        agree, seqs = _ours_agree(store, data[len(expected):])
        if agree and seqs == list(range(record["last"] + 1, record["last"] + 1 + len(seqs))):
            record["last"] += len(seqs)
    else:
        agree, _ = _ours_agree(store, data)
        if not agree:
            return  # holds operations this library never wrote: the fork check decides
        what = "missing" if stat is None else \
            "truncated" if expected.startswith(data) else "damaged"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, expected)
        _fsync_dir(path.parent)
        count = record["last"] - record["first"] + 1
        report.republished += count
        report.messages.append(f"republished {count} operations: this device's {path.name} "
                               f"in the sync folder was {what}")
        stat = path.stat()
    record["size"], record["mtime"] = stat.st_size, stat.st_mtime_ns


def note_published(store, own: Path, written: dict[str, tuple[int, int]]) -> None:
    """Remember what the last publish put in each segment (and how the segment looks now)."""
    if not written:
        return
    records = _segment_records(store)
    for name, (first, last) in written.items():
        record = records.setdefault(name, {"first": first, "last": last})
        record["first"], record["last"] = min(record["first"], first), max(record["last"], last)
        try:
            stat = (own / name).stat()
            record["size"], record["mtime"] = stat.st_size, stat.st_mtime_ns
        except OSError:
            record["size"] = record["mtime"] = -1
    _save_segment_records(store, records)


def publish(store, own: Path, published: int, written: dict | None = None) -> int:
    """Append this device's operations after `published`; `written` gets, per segment, the
    first and last seq appended to it."""
    ops = store.ops_since(store.device, published)
    if not ops:
        return 0
    written = {} if written is None else written
    own.mkdir(parents=True, exist_ok=True)
    segments = segment_files(own)
    number = segments[-1][0] if segments else 1
    path = own / f"ops-{number:06d}.jsonl"
    size = path.stat().st_size if path.exists() else 0
    batch: list[bytes] = []
    batch_size = 0

    def flush():
        nonlocal batch, batch_size
        if batch:
            new_file = not path.exists()
            with open(path, "ab") as handle:
                handle.write(b"".join(batch))
                handle.flush()
                os.fsync(handle.fileno())
            if new_file:
                _fsync_dir(own)
        batch, batch_size = [], 0

    for op in ops:
        line = encode_line(op)
        if size + batch_size > 0 and size + batch_size + len(line) > SEGMENT_BYTES:
            flush()
            number += 1
            path = own / f"ops-{number:06d}.jsonl"
            size = 0
        batch.append(line)
        batch_size += len(line)
        first = written.get(path.name, (op.seq, op.seq))[0]
        written[path.name] = (first, op.seq)
    flush()
    return len(ops)
