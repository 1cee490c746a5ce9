"""Property tests: three devices edit one library and sync through a fake transport that
delays, reorders, duplicates, truncates files mid-line and makes each sync tool's conflict
copies. After a full exchange every device shows the same library, holds every operation ever
written, can show every note version, and every device's clock only ever moved forwards even
though wall clocks jump backwards."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from index import merge, sync
from index.clock import HybridClock
from index.library import Library
from index.model import STATUSES, PaperRecord
from sync_support import _fast_index, state

DEVICES = 3
POOL = [
    PaperRecord(title="Lantern: Sparse Routing for Low-Light Video", arxiv_id="2401.00001",
                authors=["Ada Kim"], year=2024, abstract="First abstract.", source="pool:a"),
    PaperRecord(title="Lantern: Sparse Routing for Low-Light Video", arxiv_id="2401.00001",
                authors=["Ada Kim"], year=2024, abstract="Other listing's abstract.",
                url="https://example.org/lantern", source="pool:b"),
    PaperRecord(title="Robust Training under Contamination", arxiv_id="2401.00002",
                authors=["Bo Kim"], year=2024, source="pool:a"),
    PaperRecord(title="Wavefunction Priors for Molecules", authors=["Cy Lee"], source="pool:c"),
    PaperRecord(title="Wavefunction Priors for Molecules", arxiv_id="2401.00003",
                authors=["Cy Lee"], abstract="Now with an id.", source="pool:d"),
    PaperRecord(title="Robust Things", doi="10.1000/xyz", authors=["Bo Kim"], year=2024,
                source="pool:e"),
]
CONFLICT_NAMES = [
    "{stem}.sync-conflict-20240101-120000-ABCDEFG.jsonl",
    "{stem} (Bob's conflicted copy 2024-01-01).jsonl",
    "{stem} 2.jsonl",
    "{stem} (1).jsonl",
]


class SyncMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="papershelf-sync-props-"))
        # Small snapshots, so that a device's first sync may start from one (moved, truncated
        # or damaged by the sync tool like any other file).
        self.snapshot_every = sync.SNAPSHOT_EVERY
        sync.SNAPSHOT_EVERY = 12
        self.wall = [1_700_000_000_000] * DEVICES
        self.libs = []
        self.replicas = []
        for i in range(DEVICES):
            lib = _fast_index(Library.open(self.tmp / f"dev{i}"))
            # Fixed device ids (a new library has no operations yet), so that clock ties and
            # hence every example replay the same way.
            lib.store.device = f"dev{i}" + "0" * 8
            with lib.store.transaction() as db:
                db.execute("UPDATE meta SET v = ? WHERE k = 'device_id'", (lib.store.device,))
            lib.store.clock = HybridClock(lib.store.device, lib.store.clock.last,
                                          wall_ms=lambda i=i: self.wall[i])
            replica = self.tmp / f"replica{i}"
            replica.mkdir()
            self.libs.append(lib)
            self.replicas.append(replica)
        self.counter = 0
        # A shared start (one device imported a page and everyone synced), so that from the
        # first step on the devices edit the same papers.
        self.libs[0].add([POOL[0], POOL[2], POOL[3]])
        self.relay_everything(0, 1)
        self.relay_everything(0, 2)

    def teardown(self):
        try:
            if getattr(self, "libs", None):
                self.full_exchange_agrees()
        finally:
            sync.SNAPSHOT_EVERY = getattr(self, "snapshot_every", sync.SNAPSHOT_EVERY)
            for lib in getattr(self, "libs", []):
                lib.close()
            if getattr(self, "tmp", None):
                shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- people ------------------------------------------------------------------------------

    def live(self, i):
        return self.libs[i].store.filtered_keys()

    @rule(i=st.integers(0, DEVICES - 1), picks=st.sets(st.integers(0, len(POOL) - 1), min_size=1))
    def add_papers(self, i, picks):
        self.libs[i].add([POOL[p] for p in sorted(picks)])

    @rule(i=st.integers(0, DEVICES - 1), data=st.data())
    def star(self, i, data):
        keys = self.live(i)
        if keys:
            self.libs[i].set_star(data.draw(st.sampled_from(keys)), data.draw(st.booleans()))

    @rule(i=st.integers(0, DEVICES - 1), data=st.data())
    def status(self, i, data):
        keys = self.live(i)
        if keys:
            self.libs[i].set_status(data.draw(st.sampled_from(keys)),
                                    data.draw(st.sampled_from(STATUSES)))

    @rule(i=st.integers(0, DEVICES - 1), data=st.data())
    def tag(self, i, data):
        keys = self.live(i)
        if keys:
            key = data.draw(st.sampled_from(keys))
            tag = data.draw(st.sampled_from(["alpha", "beta"]))
            if data.draw(st.booleans()):
                self.libs[i].add_tag(key, tag)
            else:
                self.libs[i].remove_tag(key, tag)

    @rule(i=st.integers(0, DEVICES - 1), data=st.data())
    def note(self, i, data):
        keys = self.live(i)
        if keys:
            key = data.draw(st.sampled_from(keys))
            lines = self.libs[i].get(key).note.splitlines(keepends=True)
            self.counter += 1
            where = data.draw(st.integers(0, len(lines)))
            new = f"line {self.counter} from device {i}\n"
            if where < len(lines) and data.draw(st.booleans()):
                lines[where] = new  # change a line (may conflict with another device)
            else:
                lines.insert(where, new)  # add a line (usually merges cleanly)
            self.libs[i].set_note(key, "".join(lines))

    @rule(i=st.integers(0, DEVICES - 1), data=st.data())
    def delete(self, i, data):
        keys = self.live(i)
        if keys:
            self.libs[i].delete(data.draw(st.sampled_from(keys)))

    @rule(i=st.integers(0, DEVICES - 1), step=st.integers(-3_600_000, 3_600_000))
    def wall_clock_jumps(self, i, step):
        self.wall[i] = max(0, self.wall[i] + step)

    @rule(i=st.integers(0, DEVICES - 1), data=st.data())
    def resolve(self, i, data):
        conflicts = sync.pending_conflicts(self.libs[i])
        if conflicts:
            c = data.draw(st.sampled_from(conflicts))
            sync.resolve_conflict(self.libs[i], c.key, keep="merged", text=c.local + c.remote)

    # ---- machines and the sync tool ------------------------------------------------------------

    @rule(i=st.integers(0, DEVICES - 1))
    def sync(self, i):
        sync.sync_now(self.libs[i], self.replicas[i])

    def files(self, i):
        root = self.replicas[i] / "papershelf"
        return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))

    @rule(src=st.integers(0, DEVICES - 1), dst=st.integers(0, DEVICES - 1), data=st.data(),
          mode=st.sampled_from(["full", "full", "truncate", "conflict-copy", "duplicate"]))
    def transfer(self, src, dst, data, mode):
        """The sync tool moves one file (delays and reorderings are files not moved yet)."""
        files = self.files(src)
        if src == dst or not files:
            return
        path = files[data.draw(st.integers(0, len(files) - 1))]
        rel = path.relative_to(self.replicas[src])
        if rel.parts[2:3] == (self.libs[dst].store.device,):
            return  # the owner's own log is never replaced by an older copy
        target = self.replicas[dst] / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        content = path.read_bytes()
        if mode == "truncate" and path.suffix in (".jsonl", ".gz") and content:
            content = content[:data.draw(st.integers(0, len(content) - 1))]
        if mode in ("conflict-copy", "duplicate") and path.suffix == ".jsonl" and \
                path.name.startswith("ops-") and len(path.stem) == 10:
            name = data.draw(st.sampled_from(CONFLICT_NAMES)).format(stem=path.stem)
            (target.parent / name).write_bytes(content)
            if mode == "conflict-copy":
                return
        target.write_bytes(content)

    @rule(src=st.integers(0, DEVICES - 1), dst=st.integers(0, DEVICES - 1))
    def relay_everything(self, src, dst):
        """The sync tool catches up from one machine to another, then both sync."""
        sync.sync_now(self.libs[src], self.replicas[src])
        for path in self.files(src):
            rel = path.relative_to(self.replicas[src])
            if src != dst and rel.parts[2:3] != (self.libs[dst].store.device,):
                target = self.replicas[dst] / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
        sync.sync_now(self.libs[dst], self.replicas[dst])

    @rule()
    def full_exchange_agrees(self):
        for _ in range(2):
            for i in range(DEVICES):
                sync.sync_now(self.libs[i], self.replicas[i])
            for i in range(DEVICES):  # each owner's files, complete, everywhere
                for path in self.files(i):
                    rel = path.relative_to(self.replicas[i])
                    owner = rel.parts[2] if rel.parts[1:2] == ("devices",) else None
                    mine = owner == self.libs[i].store.device
                    snapshot = rel.parts[1:2] == ("snapshots",) and self.libs[i].store.device in path.name
                    if mine or snapshot or rel.name == "FORMAT":
                        for j in range(DEVICES):
                            if j != i:
                                target = self.replicas[j] / rel
                                target.parent.mkdir(parents=True, exist_ok=True)
                                shutil.copyfile(path, target)
        for i in range(DEVICES):
            sync.sync_now(self.libs[i], self.replicas[i])
        states = [state(lib) for lib in self.libs]
        for other in states[1:]:
            assert other == states[0]
        written = {}
        for lib in self.libs:
            for op in lib.store.ops_since(lib.store.device, 0):
                written[op.op_id] = op
            hlcs = [op.hlc for op in lib.store.ops_since(lib.store.device, 0)]
            assert all(x < y for x, y in zip(hlcs, hlcs[1:])), "a device's clock went backwards"
        for lib in self.libs:
            held = {r[0] for r in lib.store.db.execute("SELECT op_id FROM ops")}
            assert set(written) <= held, "an operation was lost"
            aliases = merge.Aliases(lib.store)
            notes: dict[str, set[str]] = {}
            for op in written.values():
                if op.type == "set" and op.field == "note":
                    notes.setdefault(aliases.resolve(op.key), set()).add(op.op_id)
            for key, ids in notes.items():
                assert ids <= {v.op_id for v in sync.note_versions(lib, key)}
        # Every operation applied: each device's visible state is the fold of all of them.
        assert all(sync.sync_now(lib, self.replicas[i]).changed == 0
                   for i, lib in enumerate(self.libs))


SyncMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("PAPERSHELF_SYNC_EXAMPLES", "10")), stateful_step_count=20, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TestSyncConverges = SyncMachine.TestCase
