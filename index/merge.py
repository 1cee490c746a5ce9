"""Merging operations from several devices into one state (a state-based CRDT in SQLite).

Every operation (local or received) is *folded* into `sync_state`, one row per (paper, field)
holding the winning (hlc, op_id, value) under that field's rule:

    a:<op>       the metadata of one paper.add           kept; with m:<name> (paper.update), each
    m:<name>     one metadata field                      field's last writer wins (empty never wins)
    starred, status, citekey, deleted                    last writer wins
    tag:<name>   one register per (paper, tag)           last writer wins, add wins a tie
    src:<name>   the sources a paper was seen in         kept, ordered by first sighting
    added        the paper exists (first paper.add)      first writer
    note:<op>    every note version, with its parents    kept forever (a set)

Folding is a per-row maximum (or a set union), so it is commutative, associative and
idempotent: any order, any duplicates, same state. Touched papers are then *projected* from
their rows into the store's `papers` / `tags` / `registers` tables (writing only what changed),
so the visible library is a function of the set of operations seen, identical on every device.

Notes form a version graph (each version names its parent). One head: that text. Several heads
(concurrent edits): a line-based three-way merge against their latest common ancestor; clean ->
the merged text (a virtual version `merge:<a>+<b>` that later local edits name as parent, so no
operation is written on anyone's behalf); not clean -> the newest head's text is shown, every
version is kept, and a row in `sync_conflicts` waits for the user (`resolve_conflict`).
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from index.model import STATUSES, normalise_title
from index.store import PROJECTED_COLUMNS, Op, Store
from index.store.rows import to_json as _to_json

META_FIELDS = ("title", "abstract", "authors", "year", "listing_date", "arxiv_id", "doi", "url",
               "links", "venue", "extra")
JSON_META = ("authors", "links", "extra")
META_DEFAULTS = {"abstract": "", "authors": [], "links": [], "extra": {}}
OP_TYPES = ("paper.add", "paper.source", "paper.update", "paper.merge", "paper.delete", "set", "tag")
SET_FIELDS = ("starred", "status", "citekey", "note")

def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


# ---- folding -------------------------------------------------------------------------------------

def state_rows(op: Op) -> list[tuple]:
    """The sync_state rows one operation contributes (before alias resolution)."""
    key, hlc, oid, value = op.key, op.hlc, op.op_id, op.value
    rows: list[tuple] = []
    if op.type == "paper.add":
        if not isinstance(value, dict):
            return rows
        rows.append((key, "added", hlc, oid, None))
        rows.append((key, "deleted", hlc, oid, "false"))
        # One row per add holding its non-empty metadata; each field's winner is picked when
        # projecting, among these rows and the m:<field> rows of paper.update.
        record = {name: value[name] for name in META_FIELDS if not _empty(value.get(name))}
        rows.append((key, "a:" + oid, hlc, oid, _to_json(record)))
        if isinstance(value.get("citekey"), str) and value["citekey"]:
            rows.append((key, "citekey", hlc, oid, _to_json(value["citekey"])))
        if isinstance(value.get("source"), str) and value["source"]:
            rows.append((key, "src:" + value["source"], hlc, oid, None))
    elif op.type == "paper.source":
        if isinstance(value, str) and value:
            rows.append((key, "src:" + value, hlc, oid, None))
    elif op.type == "paper.update":
        if op.field in META_FIELDS and not _empty(value):
            rows.append((key, "m:" + op.field, hlc, oid, _to_json(value)))
    elif op.type == "paper.delete":
        rows.append((key, "deleted", hlc, oid, "true"))
    elif op.type == "set":
        if op.field == "starred":
            rows.append((key, "starred", hlc, oid, _to_json(bool(value))))
        elif op.field == "status" and value in STATUSES:
            rows.append((key, "status", hlc, oid, _to_json(value)))
        elif op.field == "citekey" and isinstance(value, str) and value:
            rows.append((key, "citekey", hlc, oid, _to_json(value)))
        elif op.field == "note":
            if isinstance(value, dict):
                text = value.get("text")
                parents = value.get("parents")
                if not isinstance(parents, list):
                    parents = [value["parent"]] if value.get("parent") else []
            else:  # a bare string (older writers): a version with no known parent
                text, parents = value, []
            if isinstance(text, str):
                parents = [p for p in parents if isinstance(p, str)]
                rows.append((key, "note:" + oid, hlc, oid,
                             _to_json({"text": text, "parents": parents})))
    elif op.type == "tag":
        if isinstance(op.field, str) and op.field.startswith("tag:") and len(op.field) > 4:
            rows.append((key, op.field, hlc, oid, _to_json(bool(value))))
    return rows


class Aliases:
    """old key -> new key (papers re-keyed when a title-only paper gained an arXiv id)."""

    def __init__(self, store: Store):
        self.store = store
        self.map = store.alias_map()

    def resolve(self, key: str) -> str:
        seen = {key}
        while key in self.map:
            key = self.map[key]
            if key in seen:  # a cycle (never written by papershelf): stop anywhere stable
                return min(seen)
            seen.add(key)
        return key

    def add(self, old: str, new: str) -> bool:
        if old == new or self.resolve(new) == old or self.map.get(old) == new:
            return False
        self.map[old] = new
        self.store.add_alias(old, new)
        return True


def fold(store: Store, ops: Iterable[Op]) -> set[str]:
    """Inside a transaction: fold operations into the merge state. Returns the (resolved) keys
    whose state may have changed."""
    ops = list(ops)
    aliases = Aliases(store)
    touched: set[str] = set()
    # Re-keyings first, so that every other operation lands on the paper's current key. (The
    # result does not depend on this: moving a paper's rows is itself a merge.)
    for op in ops:
        if op.type == "paper.merge" and isinstance(op.value, str) and op.value:
            old, new = op.key, aliases.resolve(op.value)
            if old == new or aliases.resolve(new) == old:
                continue
            aliases.add(old, new)  # (the store already wrote it when the re-keying was local)
            for key in {old, aliases.resolve(old)} - {new}:
                store.move_state(key, new)
            touched.update((old, new))
    rows = []
    for op in ops:
        if op.type == "paper.merge":
            continue
        for row in state_rows(op):
            key = aliases.resolve(row[0])
            rows.append((key, *row[1:]))
            touched.add(key)
    store.upsert_state(rows)
    return touched


# ---- three-way merge -------------------------------------------------------------------------------

def _matches(base: list[str], other: list[str]) -> dict[int, int]:
    found = {}
    matcher = difflib.SequenceMatcher(None, base, other, autojunk=False)
    for block in matcher.get_matching_blocks():
        for i in range(block.size):
            found[block.a + i] = block.b + i
    return found


def diff3(base: str, mine: str, theirs: str, labels=("mine", "theirs")) -> tuple[str, bool]:
    """Line-based three-way merge. Returns (text, clean); unclean text carries conflict markers."""
    if mine == theirs or theirs == base:
        return mine, True
    if mine == base:
        return theirs, True
    o, a, b = (t.splitlines(keepends=True) for t in (base, mine, theirs))
    ma, mb = _matches(o, a), _matches(o, b)
    out: list[str] = []
    clean = True
    io = ia = ib = 0
    while True:
        sync = None
        for oi in range(io, len(o)):
            if oi in ma and oi in mb and ma[oi] >= ia and mb[oi] >= ib:
                sync = oi
                break
        if sync is None:
            co, ca, cb = o[io:], a[ia:], b[ib:]
        else:
            co, ca, cb = o[io:sync], a[ia:ma[sync]], b[ib:mb[sync]]
        if ca == cb or cb == co:
            out += ca
        elif ca == co:
            out += cb
        else:
            clean = False
            out.append(f"<<<<<<< {labels[0]}\n")
            out += [line if line.endswith("\n") else line + "\n" for line in ca]
            out.append("=======\n")
            out += [line if line.endswith("\n") else line + "\n" for line in cb]
            out.append(f">>>>>>> {labels[1]}\n")
        if sync is None:
            break
        out.append(o[sync])
        io, ia, ib = sync + 1, ma[sync] + 1, mb[sync] + 1
    return "".join(out), clean


# ---- note version graph ------------------------------------------------------------------------------

@dataclass
class NoteVersion:
    op_id: str
    hlc: str
    text: str
    parents: list[str]


@dataclass
class NoteResult:
    text: str
    head_id: str  # what a local edit names as its parent: a version, or a virtual merge id
    hlc: str
    heads: list[str]  # more than one when concurrent versions exist
    base: str | None
    conflict: bool
    merged: str  # the merge (with conflict markers when not clean)


def _virtual_parents(node: str) -> list[str]:
    return node[len("merge:"):].split("+") if node.startswith("merge:") else []


class NoteGraph:
    def __init__(self, versions: Iterable[NoteVersion]):
        self.v = {x.op_id: x for x in versions}
        self._anc: dict[str, frozenset[str]] = {}
        self._text: dict[str, tuple[str, bool]] = {}

    def parents(self, node: str) -> list[str]:
        if node in self.v:
            return self.v[node].parents
        return _virtual_parents(node)

    def ancestors(self, node: str) -> frozenset[str]:
        """node and everything before it (through virtual merge nodes too)."""
        if node in self._anc:
            return self._anc[node]
        stack, seen = [node], set()
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            if n in self._anc and n != node:
                seen |= self._anc[n]
                continue
            stack += self.parents(n)
        result = frozenset(seen)
        self._anc[node] = result
        return result

    def heads(self) -> list[str]:
        below: set[str] = set()
        for node in self.v:
            for parent in self.parents(node):
                below |= self.ancestors(parent)
        return sorted((n for n in self.v if n not in below), key=lambda n: (self.v[n].hlc, n))

    def hlc(self, node: str) -> str:
        if node in self.v:
            return self.v[node].hlc
        return max((self.hlc(p) for p in _virtual_parents(node)), default="")

    def merge_of(self, heads: list[str]) -> tuple[str, bool, str | None]:
        """Merge several versions against their latest common ancestor: (text, clean, base)."""
        common = None
        for h in heads:
            common = set(self.ancestors(h)) if common is None else common & self.ancestors(h)
        known = [n for n in (common or ()) if n in self.v or n.startswith("merge:")]
        base = max(known, key=lambda n: (self.hlc(n), n)) if known else None
        base_text = self.text(base)[0] if base else ""
        merged, clean = self.text(heads[0])[0], True
        for h in heads[1:]:
            merged, ok = diff3(base_text, merged, self.text(h)[0])
            clean = clean and ok
        return merged, clean, base

    def text(self, node: str) -> tuple[str, bool]:
        if node in self.v:
            return self.v[node].text, True
        if node in self._text:
            return self._text[node]
        parents = [p for p in _virtual_parents(node) if p in self.v or p.startswith("merge:")]
        if not parents:
            result = ("", True)
        else:
            parents.sort(key=lambda n: (self.hlc(n), n))
            merged, clean, _ = self.merge_of(parents)
            result = (merged, clean)
        self._text[node] = result
        return result

    def result(self) -> NoteResult | None:
        if not self.v:
            return None
        heads = self.heads()
        if len(heads) == 1:
            h = heads[0]
            return NoteResult(self.v[h].text, h, self.v[h].hlc, heads, None, False, self.v[h].text)
        merged, clean, base = self.merge_of(heads)
        newest = heads[-1]
        hlc = self.v[newest].hlc
        if clean:
            return NoteResult(merged, "merge:" + "+".join(sorted(heads)), hlc, heads, base, False,
                              merged)
        return NoteResult(self.v[newest].text, newest, hlc, heads, base, True, merged)


def note_graph(store: Store, key: str) -> NoteGraph:
    versions = []
    for _field, hlc, op_id, value in store.note_state(key):
        data = json.loads(value)
        versions.append(NoteVersion(op_id, hlc, data["text"], data["parents"]))
    return NoteGraph(versions)


# ---- projection ----------------------------------------------------------------------------------

def _loser_citekey(citekey: str, key: str) -> str:
    return f"{citekey}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:4]}"


def project(store: Store, keys: Iterable[str]) -> set[str]:
    """Inside a transaction: write the papers / tags / registers / conflicts of `keys` from the
    merge state. Returns the keys whose visible state changed (also marked for the index)."""
    aliases = Aliases(store)
    keys = set(keys)
    gone = {k for k in keys if aliases.resolve(k) != k}  # re-keyed: the row lives on elsewhere
    keys = {aliases.resolve(k) for k in keys}
    changed = {key for key in gone if store.drop_paper(key)}
    # Citation keys are unique: the earliest claim keeps a key, later claims get a suffix. Every
    # paper that claims (or holds) a key one of ours claims is projected again.
    key_list = sorted(keys)
    state: dict[str, dict[str, tuple] | None] = dict(store.state_of(key_list))
    claimed = {json.loads(s["citekey"][2]) for s in state.values() if "citekey" in s}
    held = store.held_citekeys(key_list)
    winners: dict[str, tuple[str, str]] = {}  # citekey -> (hlc, key) of the earliest claim
    for k, hlc, ck in store.citekey_claims(sorted(claimed | held)):
        if ck not in winners or (hlc, k) < winners[ck]:
            winners[ck] = (hlc, k)
        if k not in state:
            state[k] = None  # loaded below: its citekey may change
    extra = [k for k, s in state.items() if s is None]
    state.update(store.state_of(extra))

    all_keys = sorted(state)
    current, tags_now = store.rows_and_tags(all_keys)
    updates, inserts, registers, tag_writes, conflicts = [], [], [], [], []
    for key in all_keys:
        s = state[key]
        if "added" not in s:
            continue  # its paper.add has not arrived yet; the rows wait
        row = _paper_row(key, s, winners)
        reg = [(key, "deleted", s["deleted"][0], s["deleted"][1])] if "deleted" in s else []
        for name in ("starred", "status", "citekey"):
            if name in s:
                reg.append((key, name, s[name][0], s[name][1]))
        tags = sorted(f[4:] for f, v in s.items() if f.startswith("tag:") and v[2] == "true")
        reg += [(key, f, v[0], v[1]) for f, v in s.items() if f.startswith("tag:")]
        note = row.pop("_note")
        if note is not None:
            reg.append((key, "note", note.hlc, note.head_id))
        registers += reg
        if note is not None and note.conflict:
            conflicts.append((key, _to_json(note.heads), note.base, note.hlc))
        old = current.get(key)
        values = tuple(row[c] for c in PROJECTED_COLUMNS)
        if old is None:
            ms, counter = s["added"][0].split(".")[:2]
            inserts.append((key, *values, int(ms) / 1000 + int(counter) * 1e-6))
            changed.add(key)
        elif tuple(old[c] for c in PROJECTED_COLUMNS) != values:
            updates.append((*values, key))
            changed.add(key)
        if sorted(tags_now.get(key, [])) != tags:
            tag_writes.append((key, tags))
            changed.add(key)
    settled = [key for key in all_keys if "added" in state[key]]
    store.write_projection(inserts=inserts, updates=updates, tag_writes=tag_writes,
                           registers=registers, settled=settled, conflicts=conflicts,
                           changed=changed, loser_citekey=_loser_citekey)
    return changed


def _paper_row(key: str, s: dict, winners: dict) -> dict:
    row: dict = {}
    adds = [(v[0], v[1], json.loads(v[2])) for f, v in s.items() if f.startswith("a:")]
    for name in META_FIELDS:
        best = None  # (hlc, op_id, value): the last writer among adds and updates
        for hlc, op_id, record in adds:
            if name in record and (best is None or (hlc, op_id) > best[:2]):
                best = (hlc, op_id, record[name])
        stored = s.get("m:" + name)
        if stored and (best is None or (stored[0], stored[1]) > best[:2]):
            best = (stored[0], stored[1], json.loads(stored[2]))
        value = best[2] if best else META_DEFAULTS.get(name)
        row[name] = _to_json(value) if name in JSON_META else value
    if not row["title"]:
        row["title"] = key
    row["title_norm"] = normalise_title(row["title"])
    sources = sorted(((v[0], f[4:]) for f, v in s.items() if f.startswith("src:")))
    row["sources"] = _to_json([name for _, name in sources])
    citekey = json.loads(s["citekey"][2]) if "citekey" in s else None
    if citekey is not None and winners.get(citekey, (None, key))[1] != key:
        citekey = _loser_citekey(citekey, key)
    row["citekey"] = citekey
    row["starred"] = int(json.loads(s["starred"][2])) if "starred" in s else 0
    row["status"] = json.loads(s["status"][2]) if "status" in s else "unread"
    row["deleted"] = int(json.loads(s["deleted"][2])) if "deleted" in s else 0
    note = None
    if any(f.startswith("note:") for f in s):
        versions = []
        for f, (hlc, op_id, value) in s.items():
            if f.startswith("note:"):
                data = json.loads(value)
                versions.append(NoteVersion(op_id, hlc, data["text"], data["parents"]))
        note = NoteGraph(versions).result()
    row["note"] = note.text if note else ""
    row["_note"] = note
    return row
