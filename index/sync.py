"""Sync through a folder that Dropbox, Syncthing, Nextcloud or iCloud replicates.

Layout (see DESIGN.md, "Sync folder format"):

    <folder>/papershelf/FORMAT                          {"format": "papershelf-oplog", "major": 1}
    <folder>/papershelf/devices/<device>/ops-000001.jsonl  this device's operations, append-only
    <folder>/papershelf/devices/<device>/DEVICE.json    lease: which machine writes this log
    <folder>/papershelf/snapshots/snapshot-<device>.json.gz   merged state, for fast starts

Only the device itself writes in its directory, so sync tools never see two writers of a file.
Each line is one operation as JSON with a trailing CRC-32 field over the rest of the line, so a
flipped byte is detected. Appends are flushed and fsynced; whole files are written temp + fsync +
rename. Readers remember, per file, how many bytes they consumed (plus the 32 bytes before that
point, to notice a replaced file) and read only what is new; a last line without a newline is a
write in progress and is read next time. SQLite files (library or index) never go into the folder.

One sync: check the folder, check that this device's log is ours (a copied data directory or a
restored backup forks a new device id), publish new local operations, load a snapshot when this
is a new device (the operations it covers are copied into the ops table by the next sync), read
every other device's new lines, then in one transaction store the new
operations (deduplicated by id), fold them and this device's new operations into the merge state
(index/merge.py), project the touched papers, and remember the read positions. Then the search
index is brought up to date, and now and then a snapshot is written.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import socket
import time
import uuid
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from index import merge
from index.clock import Timestamp, canonical
from index.fileio import fsync_dir as _fsync_dir
from index.fileio import write_atomic
from index.model import PapershelfError
from index.store import Op

FORMAT_NAME = "papershelf-oplog"
FORMAT_MAJOR = 1
SNAPSHOT_FORMAT = "papershelf-snapshot"
SEGMENT_BYTES = 1 << 20
SNAPSHOT_EVERY = 2000  # write a snapshot when the newest one misses this many operations
LEASE = "DEVICE.json"

_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_SEGMENT = re.compile(r"^ops-(\d{6})\.jsonl$")
# Segments and the copies sync tools make of them: ".sync-conflict-...", "(... conflicted
# copy ...)", " 2", " (1)". Temp files (".syncthing.x.tmp", "~x.tmp", "x.tmp") never match.
_ANY_SEGMENT = re.compile(r"^ops-\d{6}[^/]*\.jsonl$")
_CRC = re.compile(rb',"crc":"([0-9a-f]{8})"\}\s*$')
_HLC = re.compile(r"^\d{16}\.\d{5,12}\.[^\s]+$")  # wider counters: older writers, read carried


class SyncError(PapershelfError):
    pass


@dataclass
class SyncReport:
    folder: str
    device: str
    published: int = 0  # operations of this device written to the folder
    republished: int = 0  # written again: the folder's copy was damaged, truncated or missing
    received: int = 0  # new operations from other devices
    changed: int = 0  # papers whose visible state changed
    problems: list[str] = field(default_factory=list)  # corrupt lines, bad snapshots
    conflicts: int = 0  # note conflicts waiting for the user
    forked_from: str | None = None  # the old device id, when this library had to take a new one
    snapshot_loaded: str | None = None
    snapshot_written: str | None = None
    seconds: float = 0.0
    messages: list[str] = field(default_factory=list)

    def summary(self) -> str:
        sent = self.published + self.republished
        text = (f"sent {sent}, received {self.received}, "
                f"changed {self.changed} paper{'' if self.changed == 1 else 's'}")
        if self.conflicts:
            text += f", {self.conflicts} note conflict{'s' if self.conflicts != 1 else ''} to resolve"
        return text


@dataclass
class NoteConflict:
    key: str
    title: str
    local: str  # this device's newest version (or the older one when neither is ours)
    remote: str  # the other device's version (several: merged, with conflict markers)
    merged: str  # a three-way merge with conflict markers
    heads: list[str]
    base: str | None


# ---- the folder ----------------------------------------------------------------------------------

def machine_nonce(data_dir: Path) -> str:
    """Different on two machines (or two copies of a data directory), stable on one."""
    parts = [socket.gethostname(), os.path.realpath(data_dir)]
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            parts.append(Path(path).read_text().strip())
            break
        except OSError:
            pass
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:16]


def _root(folder: str | os.PathLike, *, create: bool = True) -> Path:
    folder = Path(folder).expanduser()
    if not folder.exists():
        raise SyncError(f"sync folder {folder} does not exist (is the drive mounted?)")
    if not folder.is_dir():
        raise SyncError(f"sync folder {folder} is not a folder")
    root = folder / "papershelf"
    fmt = root / "FORMAT"
    if fmt.exists():
        try:
            data = json.loads(fmt.read_text(encoding="utf-8"))
            name, major = data["format"], int(data["major"])
        except (OSError, ValueError, KeyError, TypeError):
            name, major = None, None
        if name not in (None, FORMAT_NAME):
            raise SyncError(f"{fmt}: not a papershelf sync folder (format {name!r}); nothing was changed")
        if major is not None and major > FORMAT_MAJOR:
            raise SyncError(f"{root} was written by a newer papershelf (sync format {major}; this "
                            f"version knows {FORMAT_MAJOR}); upgrade papershelf. Nothing was read "
                            "or written.")
        if major is not None:
            return root
    if not create:
        return root
    if not os.access(folder, os.W_OK) or (root.exists() and not os.access(root, os.W_OK)):
        raise SyncError(f"sync folder {folder} is read-only; nothing was sent or received")
    try:
        (root / "devices").mkdir(parents=True, exist_ok=True)
        (root / "snapshots").mkdir(exist_ok=True)
        write_atomic(fmt, _compact({"format": FORMAT_NAME, "major": FORMAT_MAJOR}).encode())
    except OSError as exc:
        raise SyncError(f"sync folder {folder}: cannot write ({exc.strerror})") from None
    return root


def encode_line(op: Op) -> bytes:
    body = _compact(op.to_json()).encode("utf-8")
    return body[:-1] + b',"crc":"%08x"}\n' % zlib.crc32(body)


def parse_line(line: bytes) -> tuple[Op | None, str | None]:
    """One log line -> (op, None) or (None, why it is unusable)."""
    match = _CRC.search(line)
    if match and zlib.crc32(line[:match.start()] + b"}") != int(match[1], 16):
        return None, "checksum mismatch (damaged line)"
    try:
        data = json.loads(line)
    except ValueError:
        return None, "not valid JSON"
    try:
        op = Op.from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None, "missing or malformed fields"
    if not (isinstance(op.op_id, str) and isinstance(op.device, str) and op.device
            and "/" not in op.device and op.seq >= 1 and op.op_id == f"{op.device}-{op.seq}"
            and isinstance(op.hlc, str) and _HLC.match(op.hlc) and op.type in merge.OP_TYPES
            and isinstance(op.key, str) and op.key and (op.field is None or isinstance(op.field, str))):
        return None, "not a papershelf operation"
    if len(op.hlc.split(".", 2)[1]) != 5:
        op = replace(op, hlc=canonical(op.hlc))
    return op, None


def _segments(directory: Path) -> list[tuple[int, Path]]:
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return sorted((int(m[1]), directory / n) for n in names if (m := _SEGMENT.match(n)))


# ---- the store side ------------------------------------------------------------------------------

@contextmanager
def _sync_lock(data_dir: Path):
    """One sync at a time per data directory (the app and the CLI may both try)."""
    try:
        import fcntl
    except ImportError:  # Windows: the store's write lock still keeps the data consistent
        yield
        return
    path = Path(data_dir) / "sync.lock"
    handle = open(path, "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise SyncError("another papershelf is syncing this library; try again") from None
        yield
    finally:
        handle.close()


# ---- this device's log -----------------------------------------------------------------------------

def _last_published(store, own: Path) -> tuple[int, str | None]:
    """(highest seq in our log, or 0; why our log is not ours, or None). Trims a torn last line
    left by a crash in the middle of our own append (only this device writes there)."""
    segments = _segments(own)
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
            if not _same_op(mine, op):
                return op.seq, (f"device {store.device} wrote different operations on another "
                                "machine (a copied data directory)")
            return op.seq, None
    return 0, None


def _published_prefix(store, own: Path) -> int:
    """How many of this library's first operations the folder holds exactly as written here."""
    there: dict[str, Op] = {}
    for _, path in _segments(own):
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
        if published is None or not _same_op(mine, published):
            break
        count += 1
    return count


def _same_op(a: Op, b: Op) -> bool:
    """The same operation, not only the same id and clock: two copies of one data directory
    number their operations alike, and changes made in the same millisecond on both also get
    the same clock reading."""
    return (a.type, a.key, a.field, a.value) == (b.type, b.key, b.field, b.value) and (
        a.hlc == b.hlc or canonical(a.hlc) == canonical(b.hlc))  # (older wide counters)


def _fork(store, own: Path, reason: str) -> str:
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
        store.set_meta(f"sync:segments:{store.device}", _compact(records))


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
        if mine is None or not _same_op(mine, op):
            return False, seqs
        seqs.append(op.seq)
    return True, seqs


def _record_legacy_segments(store, own: Path, records: dict[str, dict]) -> None:
    """Segments published before owners kept records: learn what they hold, once."""
    previous_last = max((r["last"] for r in records.values()), default=0)
    for _, path in _segments(own):
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


def _repair_own(store, own: Path, report: SyncReport) -> None:
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


def _note_published(store, own: Path, written: dict[str, tuple[int, int]]) -> None:
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


def _publish(store, own: Path, published: int, written: dict | None = None) -> int:
    """Append this device's operations after `published`; `written` gets, per segment, the
    first and last seq appended to it."""
    ops = store.ops_since(store.device, published)
    if not ops:
        return 0
    written = {} if written is None else written
    own.mkdir(parents=True, exist_ok=True)
    segments = _segments(own)
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


def _check_lease(own: Path, device: str, nonce: str) -> str | None:
    lease = own / LEASE
    try:
        data = json.loads(lease.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None  # damaged: rewritten below
    if isinstance(data, dict) and data.get("device") == device and data.get("nonce") not in (None, nonce):
        return (f"device {device} is also used by another machine (a copied data directory)")
    return None


def _write_lease(own: Path, device: str, nonce: str) -> None:
    lease = own / LEASE
    body = _compact({"device": device, "nonce": nonce, "host": socket.gethostname()}).encode()
    try:
        if lease.read_bytes() == body:
            return
    except OSError:
        pass
    own.mkdir(parents=True, exist_ok=True)
    write_atomic(lease, body)


# ---- reading other devices ------------------------------------------------------------------------------

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


def _read_devices(store, root: Path, problems: list[str]):
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
            if not _ANY_SEGMENT.match(filename) or filename.endswith(".tmp"):
                continue
            rel = f"devices/{name}/{filename}"
            offset, tail = positions.get(rel, (0, ""))
            found, new_offset, new_tail = _read_new(directory / filename, rel, offset, tail, problems)
            ops += found
            if (new_offset, new_tail) != (offset, tail):
                moved.append((rel, new_offset, new_tail))
    return ops, moved


# ---- snapshots ---------------------------------------------------------------------------------

def _snapshot_files(root: Path) -> list[Path]:
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


def _load_snapshot(store, root: Path, problems: list[str]) -> tuple[str | None, set[str]]:
    candidates = []
    for path in _snapshot_files(root):
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
            store.set_meta("sync:backfill", _compact([[p, o] for p, o, _ in positions]))
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


def _backfill(store, root: Path, positions: list, problems: list[str]) -> None:
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


def _write_snapshot(store, root: Path, own: Path) -> str | None:
    devices = store.device_rows()
    total = sum(r[1] for r in devices)
    best = 0
    for path in _snapshot_files(root):
        header = _snapshot_header(path)
        if header:
            best = max(best, int(header.get("ops", 0)))
    mine = store.last_seq(store.device)
    total += mine
    if total - best < SNAPSHOT_EVERY:
        return None
    positions = [(p, o, t) for p, (o, t) in store.read_positions().items()]
    for _, path in _segments(own):
        data = path.read_bytes()
        positions.append((f"devices/{store.device}/{path.name}", len(data), data[-32:].hex()))
    devices.append((store.device, mine, mine, store.clock.last.encode(), None))
    payload = _compact({
        "state": store.all_state(),
        "aliases": store.all_aliases(),
        "positions": positions, "devices": devices,
    }).encode("utf-8")
    header = {"format": SNAPSHOT_FORMAT, "major": 1, "device": store.device, "ops": total,
              "hlc": store.clock.last.encode(), "sha256": hashlib.sha256(payload).hexdigest(),
              "covers": {r[0]: r[2] for r in devices}}
    name = f"snapshot-{store.device}.json.gz"
    (root / "snapshots").mkdir(exist_ok=True)
    blob = gzip.compress(_compact(header).encode() + b"\n" + payload, compresslevel=1, mtime=0)
    write_atomic(root / "snapshots" / name, blob)
    return name


def _clean_temp(directory: Path, target: str) -> None:
    """Temp files a crashed write of `target` left behind (write_atomic names them
    .<target>.<random>.tmp); other tools' temp files are theirs to clean."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for n in names:
        if n.startswith(f".{target}.") and n.endswith(".tmp"):
            try:
                if time.time() - (directory / n).stat().st_mtime > 3600:
                    (directory / n).unlink()
            except OSError:
                pass


# ---- the public API ----------------------------------------------------------------------------

def sync_now(lib, folder: str | os.PathLike, *, update_index: bool = True) -> SyncReport:
    """Publish, receive, merge, apply and index. Raises SyncError with a one-line reason.

    update_index=False leaves the search index to a later `lib.flush_index()` (the changed
    papers stay marked), so the app can show a big first sync before the index catches up."""
    started = time.perf_counter()
    store = lib.store
    if store.read_only:
        raise SyncError(f"{store.data_dir}: the data directory is read-only; cannot sync")
    root = _root(folder)
    report = SyncReport(str(folder), store.device)
    with _sync_lock(store.data_dir):
        store.ensure_sync_tables()
        nonce = machine_nonce(store.data_dir)
        own = root / "devices" / store.device
        why = _check_lease(own, store.device, nonce)
        published = 0
        if not why:
            try:
                _repair_own(store, own, report)
            except OSError as exc:
                report.problems.append(f"could not republish this device's log ({exc.strerror})")
            published, why = _last_published(store, own)
        if why:
            report.forked_from = store.device
            report.messages.append(_fork(store, own, why))
            own = root / "devices" / store.device
            published = 0
        try:
            written: dict[str, tuple[int, int]] = {}
            report.published = _publish(store, own, published, written)
            _note_published(store, own, written)
            _write_lease(own, store.device, nonce)
        except OSError as exc:
            raise SyncError(f"sync folder {folder}: cannot write ({exc.strerror}); nothing was "
                            "sent") from None
        report.device = store.device
        if not store.sync_started():
            report.snapshot_loaded, keys = _load_snapshot(store, root, report.problems)
            if report.snapshot_loaded:
                report.changed += len(keys)
        elif store.meta("sync:backfill"):
            _backfill(store, root, json.loads(store.meta("sync:backfill")), report.problems)
        ops, moved = _read_devices(store, root, report.problems)
        report.changed += _apply(store, ops, moved, report)
        report.conflicts = store.conflict_count()
        if update_index:
            lib.flush_index()
        try:
            # A device that is catching up leaves snapshots to those that already had the data.
            if report.received < SNAPSHOT_EVERY and not report.snapshot_loaded:
                report.snapshot_written = _write_snapshot(store, root, own)
        except OSError as exc:
            report.problems.append(f"snapshot not written ({exc.strerror})")
        _clean_temp(root / "snapshots", f"snapshot-{store.device}.json.gz")
        _clean_temp(root, "FORMAT")
        _clean_temp(own, LEASE)
    report.seconds = time.perf_counter() - started
    return report


def sync_data_dir(data_dir: str | os.PathLike, folder: str | os.PathLike, *,
                  update_index: bool = True) -> SyncReport:
    """sync_now on a Library of its own: for a worker thread (a sqlite3 connection must not be
    used by two threads at once, so the app's own Library stays with the UI thread). Afterwards
    the app re-reads what it shows and opens a fresh searcher."""
    from index.library import Library

    with Library.open(data_dir) as lib:
        return sync_now(lib, folder, update_index=update_index)


def _apply(store, ops: list[Op], moved: list[tuple], report: SyncReport) -> int:
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
            store.heard_from(device, op.seq, op.hlc, _compact({"type": op.type, "key": op.key,
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


def pending_conflicts(lib) -> list[NoteConflict]:
    """Note conflicts waiting for the user, oldest paper key first."""
    store = lib.store
    if not store.has_sync_tables():
        return []
    found = []
    for key, heads, base in store.conflict_rows():
        graph = merge.note_graph(store, key)
        heads = [h for h in heads if h in graph.v]
        if len(heads) < 2:
            continue
        mine = [h for h in heads if h.rsplit("-", 1)[0] == store.device]
        local = mine[-1] if mine else heads[0]
        others = [h for h in heads if h != local]
        # With three or more concurrent versions, "remote" is all the others merged (with
        # markers where they disagree): settling the conflict supersedes every head, so
        # none of them may be left unseen.
        remote_text = graph.text(others[0])[0] if len(others) == 1 else graph.merge_of(others)[0]
        base_text = graph.text(base)[0] if base else ""
        local_text = graph.text(local)[0]
        merged, _ = merge.diff3(base_text, local_text, remote_text,
                                labels=("this device", "other device" if len(others) == 1
                                        else "other devices"))
        found.append(NoteConflict(key, store.title_of(key) or key, local_text, remote_text,
                                  merged, heads, base))
    return found


def unsettled_versions(lib, key: str) -> list[dict]:
    """The note versions of a paper's pending conflict (none when it has none): device, time
    and text of each, oldest first."""
    conflict = next((c for c in pending_conflicts(lib) if c.key == key), None)
    if conflict is None:
        return []
    graph = merge.note_graph(lib.store, key)
    return [{"version": head, "device": head.rsplit("-", 1)[0],
             "time": _hlc_time(graph.v[head].hlc), "text": graph.v[head].text}
            for head in conflict.heads if head in graph.v]


def resolve_conflict(lib, key: str, text: str) -> None:
    """Settle a note conflict with `text` (one new note version whose parents are every head)."""
    store = lib.store
    fold_local(lib)
    conflict = next((c for c in pending_conflicts(lib) if c.key == key), None)
    if conflict is None:
        raise SyncError(f"no note conflict for {key}")
    store.settle_note(key, text, conflict.heads)
    fold_local(lib)
    lib.flush_index()


def note_versions(lib, key: str) -> list[merge.NoteVersion]:
    """Every version of a paper's note this device has seen, oldest first."""
    store = lib.store
    key = merge.Aliases(store).resolve(key)
    versions: dict[str, merge.NoteVersion] = {}
    if store.has_sync_tables():
        versions.update(merge.note_graph(store, key).v)
    for op_id, hlc, value in store.note_ops(key):
        if op_id not in versions:
            rows = merge.state_rows(Op(op_id, "", 0, hlc, "set", key, "note", value))
            for row in rows:
                data = json.loads(row[4])
                versions[op_id] = merge.NoteVersion(op_id, hlc, data["text"], data["parents"])
    return sorted(versions.values(), key=lambda v: (v.hlc, v.op_id))


def sync_status(lib, folder: str | os.PathLike | None = None) -> dict:
    """Devices seen (with their last operation), pending conflicts, and what the folder holds."""
    store = lib.store
    devices = []
    for device, max_seq, last_hlc, last_op, seen in store.device_status_rows():
        devices.append({"device": device, "ops": max_seq, "last_hlc": last_hlc,
                        "last_op": json.loads(last_op) if last_op else None,
                        "last_time": _hlc_time(last_hlc), "received": seen})
    own_ops, own_hlc = store.newest_own_op()
    status = {
        "device": store.device, "ops": own_ops, "last_hlc": own_hlc,
        "last_time": _hlc_time(own_hlc),
        "published": None, "folder": str(folder) if folder else None, "devices": devices,
        "conflicts": [{"key": c.key, "title": c.title} for c in pending_conflicts(lib)],
        "forked_from": store.meta("sync:forked_from"),
    }
    if folder:
        root = Path(folder).expanduser() / "papershelf"
        status["folder_devices"] = sorted(
            n for n in (os.listdir(root / "devices") if (root / "devices").is_dir() else [])
            if not n.startswith("."))
        segments = _segments(root / "devices" / store.device)
        status["published"] = bool(segments)
    return status


def _hlc_time(hlc: str | None) -> str | None:
    if not hlc:
        return None
    try:
        ms = Timestamp.decode(hlc).ms
    except ValueError:
        return None
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000))
