"""Sync through a folder that Dropbox, Syncthing, Nextcloud or iCloud replicates.

Layout (see docs/ARCHITECTURE.md, "Sync folder format"):

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

One sync (`sync_now`): check the folder, check that this device's log is ours (a copied data
directory or a restored backup forks a new device id), publish new local operations, load a
snapshot when this is a new device (the operations it covers are copied into the ops table by
the next sync), read every other device's new lines, then in one transaction store the new
operations (deduplicated by id), fold them and this device's new operations into the merge state
(index/merge.py), project the touched papers, and remember the read positions. Then the search
index is brought up to date, and now and then a snapshot is written.

    folder      the folder's format: layout, log lines, leases
    own_log     this device's log: publish, fork, repair
    receive     other devices' logs, and merging what arrived
    snapshots   the merged state for fast starts
    conflicts   note conflicts and the rule that settles them
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from index.sync.conflicts import (
    BOTH_MARKER,
    NoteConflict,
    keep_both,
    note_versions,
    pending_conflicts,
    resolve_conflict,
    unsettled_versions,
)
from index.sync.folder import (
    LEASE,
    clean_temp,
    check_lease,
    encode_line,
    machine_nonce,
    open_root,
    parse_line,
    segment_files,
    sync_lock,
    write_lease,
)
from index.sync.own_log import fork, last_published, note_published, publish, repair_own
from index.sync.receive import apply, fold_local, read_devices
from index.sync.report import SyncError, SyncReport, hlc_time
from index.sync.snapshots import backfill, load_snapshot, write_snapshot

__all__ = ["BOTH_MARKER", "NoteConflict", "SyncError", "SyncReport", "encode_line", "fold_local",
           "keep_both", "note_versions", "parse_line", "pending_conflicts", "resolve_conflict",
           "sync_now", "sync_status", "unsettled_versions"]

SNAPSHOT_EVERY = 2000  # write a snapshot when the newest one misses this many operations


def sync_now(lib, folder: str | os.PathLike, *, update_index: bool = True) -> SyncReport:
    """Publish, receive, merge, apply and index. Raises SyncError with a one-line reason.

    update_index=False leaves the search index to a later `lib.flush_index()` (the changed
    papers stay marked), so the app can show a big first sync before the index catches up."""
    started = time.perf_counter()
    store = lib.store
    if store.read_only:
        raise SyncError(f"{store.data_dir}: the data directory is read-only; cannot sync")
    root = open_root(folder)
    report = SyncReport(str(folder), store.device)
    with sync_lock(store.data_dir):
        store.ensure_sync_tables()
        nonce = machine_nonce(store.data_dir)
        own = root / "devices" / store.device
        why = check_lease(own, store.device, nonce)
        published = 0
        if not why:
            try:
                repair_own(store, own, report)
            except OSError as exc:
                report.problems.append(f"could not republish this device's log ({exc.strerror})")
            published, why = last_published(store, own)
        if why:
            report.forked_from = store.device
            report.messages.append(fork(store, own, why))
            own = root / "devices" / store.device
            published = 0
        try:
            written: dict[str, tuple[int, int]] = {}
            report.published = publish(store, own, published, written)
            note_published(store, own, written)
            write_lease(own, store.device, nonce)
        except OSError as exc:
            raise SyncError(f"sync folder {folder}: cannot write ({exc.strerror}); nothing was "
                            "sent") from None
        report.device = store.device
        if not store.sync_started():
            report.snapshot_loaded, keys = load_snapshot(store, root, report.problems)
            if report.snapshot_loaded:
                report.changed += len(keys)
        elif store.meta("sync:backfill"):
            backfill(store, root, json.loads(store.meta("sync:backfill")), report.problems)
        ops, moved = read_devices(store, root, report.problems)
        report.changed += apply(store, ops, moved, report)
        report.conflicts = store.conflict_count()
        if update_index:
            lib.flush_index()
        try:
            # A device that is catching up leaves snapshots to those that already had the data.
            if report.received < SNAPSHOT_EVERY and not report.snapshot_loaded:
                report.snapshot_written = write_snapshot(store, root, own, SNAPSHOT_EVERY)
        except OSError as exc:
            report.problems.append(f"snapshot not written ({exc.strerror})")
        clean_temp(root / "snapshots", f"snapshot-{store.device}.json.gz")
        clean_temp(root, "FORMAT")
        clean_temp(own, LEASE)
    report.seconds = time.perf_counter() - started
    return report


def sync_status(lib, folder: str | os.PathLike | None = None) -> dict:
    """Devices seen (with their last operation), pending conflicts, and what the folder holds."""
    store = lib.store
    devices = []
    for device, max_seq, last_hlc, last_op, seen in store.device_status_rows():
        devices.append({"device": device, "ops": max_seq, "last_hlc": last_hlc,
                        "last_op": json.loads(last_op) if last_op else None,
                        "last_time": hlc_time(last_hlc), "received": seen})
    own_ops, own_hlc = store.newest_own_op()
    status = {
        "device": store.device, "ops": own_ops, "last_hlc": own_hlc,
        "last_time": hlc_time(own_hlc),
        "published": None, "folder": str(folder) if folder else None, "devices": devices,
        "conflicts": [{"key": c.key, "title": c.title} for c in pending_conflicts(lib)],
        "forked_from": store.meta("sync:forked_from"),
    }
    if folder:
        root = Path(folder).expanduser() / "papershelf"
        status["folder_devices"] = sorted(
            n for n in (os.listdir(root / "devices") if (root / "devices").is_dir() else [])
            if not n.startswith("."))
        segments = segment_files(root / "devices" / store.device)
        status["published"] = bool(segments)
    return status
