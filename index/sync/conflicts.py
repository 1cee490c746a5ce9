"""Note conflicts: what waits for the user, every version of a note, and the one rule that
settles a conflict (`resolve_conflict(lib, key, keep=...)`), used by the app and the CLI."""

from __future__ import annotations

import json
from dataclasses import dataclass

from index import merge
from index.store import Op
from index.sync.receive import fold_local
from index.sync.report import SyncError, hlc_time


@dataclass
class NoteConflict:
    key: str
    title: str
    local: str  # this device's newest version (or the older one when neither is ours)
    remote: str  # the other device's version (several: merged, with conflict markers)
    merged: str  # a three-way merge with conflict markers
    heads: list[str]
    base: str | None


def pending_conflicts(lib, key: str | None = None) -> list[NoteConflict]:
    """Note conflicts waiting for the user (or this paper's), oldest paper key first."""
    store = lib.store
    if not store.has_sync_tables():
        return []
    found = []
    for key, heads, base in store.conflict_rows(key):
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
    conflict = next(iter(pending_conflicts(lib, key)), None)
    if conflict is None:
        return []
    graph = merge.note_graph(lib.store, key)
    return [{"version": head, "device": head.rsplit("-", 1)[0],
             "time": hlc_time(graph.v[head].hlc), "text": graph.v[head].text}
            for head in conflict.heads if head in graph.v]


# A plain line between the two versions "keep both" keeps: not a Markdown rule or heading
# underline.
BOTH_MARKER = "----- other device's version -----"
KEEP = ("mine", "theirs", "both", "merged")


def keep_both(local: str, remote: str) -> str:
    """This device's version, the marker line, then the other device's."""
    return f"{local.rstrip()}\n\n{BOTH_MARKER}\n\n{remote.strip()}\n"


def resolve_conflict(lib, key: str, *, keep: str, text: str | None = None) -> str:
    """Settle a paper's note conflict by keeping `mine`, `theirs`, `both` (keep_both) or
    `merged`: the three-way merge, or `text` when given (the app's editor). Writes one new note
    version whose parents are every head, and returns its text. SyncError when there is no
    conflict for `key`."""
    if keep not in KEEP:
        raise ValueError(f"keep must be one of {', '.join(KEEP)}, not {keep!r}")
    store = lib.store
    fold_local(lib)
    conflict = next(iter(pending_conflicts(lib, key)), None)
    if conflict is None:
        raise SyncError(f"no note conflict for {key}")
    if keep == "merged" and text is not None:
        settled = text
    else:
        settled = {"mine": conflict.local, "theirs": conflict.remote,
                   "both": keep_both(conflict.local, conflict.remote),
                   "merged": conflict.merged}[keep]
    store.settle_note(key, settled, conflict.heads)
    fold_local(lib)
    lib.flush_index()
    return settled


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
