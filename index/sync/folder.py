"""The sync folder's format: its layout, one operation per log line (with a checksum), each
device's lease on its own log, and the locks and temp files around them. See
docs/ARCHITECTURE.md, "Sync folder format"."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import time
import zlib
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from index import merge
from index.clock import canonical
from index.fileio import write_atomic
from index.store import Op
from index.sync.report import SyncError


FORMAT_NAME = "papershelf-oplog"
FORMAT_MAJOR = 1
SEGMENT_BYTES = 1 << 20
LEASE = "DEVICE.json"


compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
SEGMENT = re.compile(r"^ops-(\d{6})\.jsonl$")
# Segments and the copies sync tools make of them: ".sync-conflict-...", "(... conflicted
# copy ...)", " 2", " (1)". Temp files (".syncthing.x.tmp", "~x.tmp", "x.tmp") never match.
ANY_SEGMENT = re.compile(r"^ops-\d{6}[^/]*\.jsonl$")
_CRC = re.compile(rb',"crc":"([0-9a-f]{8})"\}\s*$')
_HLC = re.compile(r"^\d{16}\.\d{5,12}\.[^\s]+$")  # wider counters: older writers, read carried


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


def open_root(folder: str | os.PathLike, *, create: bool = True) -> Path:
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
        write_atomic(fmt, compact({"format": FORMAT_NAME, "major": FORMAT_MAJOR}).encode())
    except OSError as exc:
        raise SyncError(f"sync folder {folder}: cannot write ({exc.strerror})") from None
    return root


def encode_line(op: Op) -> bytes:
    body = compact(op.to_json()).encode("utf-8")
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


def segment_files(directory: Path) -> list[tuple[int, Path]]:
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return sorted((int(m[1]), directory / n) for n in names if (m := SEGMENT.match(n)))


def same_op(a: Op, b: Op) -> bool:
    """The same operation, not only the same id and clock: two copies of one data directory
    number their operations alike, and changes made in the same millisecond on both also get
    the same clock reading."""
    return (a.type, a.key, a.field, a.value) == (b.type, b.key, b.field, b.value) and (
        a.hlc == b.hlc or canonical(a.hlc) == canonical(b.hlc))  # (older wide counters)


@contextmanager
def sync_lock(data_dir: Path):
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


def check_lease(own: Path, device: str, nonce: str) -> str | None:
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


def write_lease(own: Path, device: str, nonce: str) -> None:
    lease = own / LEASE
    body = compact({"device": device, "nonce": nonce, "host": socket.gethostname()}).encode()
    try:
        if lease.read_bytes() == body:
            return
    except OSError:
        pass
    own.mkdir(parents=True, exist_ok=True)
    write_atomic(lease, body)


def clean_temp(directory: Path, target: str) -> None:
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
