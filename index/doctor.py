"""`papershelf doctor`: check the library and, where it is safe, repair it.

Checks (each finding has a severity, a one-line message and whether `repair` can fix it):

- sqlite: `PRAGMA integrity_check` and the schema version of the canonical store.
- oplog: this device's operations are numbered 1..N with no gap or duplicate, every op id is
  `<device>-<seq>`, every op value decodes as JSON, each operation's clock is later than the
  one before it, and the stored clock is not behind the newest operation (else new
  operations could sort before old ones).
- consistency: tags, registers, aliases and pending index updates that point at no paper;
  statuses outside the known set. Reported, never deleted: they may be someone's data.
- index: the search index opens, and holds every live paper exactly once and nothing else.
  Keys still waiting in `index_dirty` are "index catching up" (info), not an error.

Severities: "error" (something is wrong), "warning" (degraded but no data at risk), "info"
(normal transient state). `DoctorReport.problems` is errors and warnings; `papershelf doctor`
exits 1 while any remain.

Repairs (`repair`) never delete user data: they rebuild the search index from the store
(`Library.reindex`), write pending index updates (`Library.flush_index`), move a stored
clock that fell behind up to the newest operation, and run SQLite
`REINDEX` when integrity_check only complains about SQLite's own indexes (which are derived
from the tables). Anything else (damaged tables, gaps in the operation log) is reported with
what to do instead: restore the newest good backup (`papershelf restore`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field

from index.clock import Timestamp
from index.store import SCHEMA_VERSION, StoreError

ERROR, WARNING, INFO = "error", "warning", "info"

# integrity_check lines that only concern SQLite indexes (rebuildable with REINDEX).
_INDEX_ONLY = re.compile(
    r"(missing from index|wrong # of entries in index|row \d+ missing from index|"
    r"non-unique entry in index|out of order in index)", re.I)


@dataclass
class Finding:
    check: str  # sqlite | oplog | consistency | index
    severity: str  # error | warning | info
    message: str
    repairable: bool = False
    fix: str = ""  # which repair applies: reindex | flush | sqlite-reindex | ""

    def __str__(self) -> str:
        return f"{self.severity}: [{self.check}] {self.message}"


@dataclass
class DoctorReport:
    findings: list[Finding] = field(default_factory=list)

    def add(self, check: str, severity: str, message: str, *, fix: str = "") -> None:
        self.findings.append(Finding(check, severity, message, bool(fix), fix))

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.severity in (ERROR, WARNING)]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict:
        return {"ok": self.ok, "findings": [asdict(f) for f in self.findings]}


# ---- checks ------------------------------------------------------------------------------------

def check(lib, *, index: bool = True) -> DoctorReport:
    """Run every check. Opens the search index only when it can be opened as it is (a damaged
    index is reported, not silently rebuilt: that is `repair`'s job)."""
    report = DoctorReport()
    if not _check_sqlite(lib.store, report):
        return report  # a damaged database makes every further query unreliable
    _check_oplog(lib.store, report)
    _check_consistency(lib.store, report)
    if index:
        _check_index(lib, report)
    return report


def _check_sqlite(store, report: DoctorReport) -> bool:
    try:
        rows = store.integrity_problems(100)
    except StoreError as exc:
        report.add("sqlite", ERROR, f"integrity check could not run ({exc}); restore a backup")
        return False
    if rows != ["ok"]:
        index_only = all(_INDEX_ONLY.search(r) for r in rows)
        more = f" (and {len(rows) - 1} more)" if len(rows) > 1 else ""
        if index_only:
            report.add("sqlite", ERROR, f"database index damaged: {rows[0]}{more}",
                       fix="sqlite-reindex")
        else:
            report.add("sqlite", ERROR, f"database damaged: {rows[0]}{more}; "
                       "restore the newest good backup (papershelf restore)")
            return False
    version = store.schema_version()
    if version != SCHEMA_VERSION:
        report.add("sqlite", ERROR, f"schema version {version}, expected {SCHEMA_VERSION}")
    else:
        report.add("sqlite", INFO, "integrity check ok")
    return True


def _check_oplog(store, report: DoctorReport) -> None:
    device = store.device
    rows = store.own_op_clocks()
    seqs = [r[1] for r in rows]
    problems = 0
    expected = 1
    gaps: list[str] = []
    for seq in seqs:
        if seq != expected:
            gaps.append(f"{expected}..{seq - 1}" if seq > expected else f"duplicate {seq}")
        expected = seq + 1
    if gaps:
        shown = ", ".join(gaps[:5]) + (" ..." if len(gaps) > 5 else "")
        report.add("oplog", ERROR, f"this device's operation log has gaps: missing {shown}")
        problems += 1
    wrong_ids = [r[0] for r in rows if r[0] != f"{device}-{r[1]}"]
    if wrong_ids:
        report.add("oplog", ERROR, f"{len(wrong_ids)} operations have ids that do not match "
                   f"their device and sequence number (first: {wrong_ids[0]})")
        problems += 1
    bad_json = 0
    first_bad = None
    for op_id, value in store.op_values():
        if value is None:
            continue
        try:
            json.loads(value)
        except (ValueError, TypeError):
            bad_json += 1
            first_bad = first_bad or op_id
    if bad_json:
        report.add("oplog", ERROR, f"{bad_json} operations have a value that is not valid JSON "
                   f"(first: {first_bad})")
        problems += 1
    wide = [r[1] for r in rows if _counter_digits(r[2]) != 5]
    if wide:
        report.add("oplog", WARNING, f"{len(wide)} operations carry a clock stamp that is not "
                   f"in the five-digit form (first: seq {wide[0]}); papershelf before 0.3 "
                   "skips them when it syncs, so update papershelf on every machine")
        problems += 1
    backwards = [(a[1], b[1]) for a, b in zip(rows, rows[1:])
                 if _clock_key(b[2]) <= _clock_key(a[2])]
    if backwards:
        report.add("oplog", WARNING, f"{len(backwards)} operations carry a clock no later than "
                   f"the operation before them (first: seq {backwards[0][1]}); sync may order "
                   "them wrongly")
        problems += 1
    if rows:
        newest = max((r[2] for r in rows), key=_clock_key)
        stored = store.meta("hlc")
        if stored is None or _clock_key(stored) < _clock_key(newest):
            report.add("oplog", WARNING, "the stored clock is behind the newest operation",
                       fix="clock")
            problems += 1
    if not problems:
        report.add("oplog", INFO, f"operation log continuous: {len(seqs)} operations from "
                   f"this device")


def _counter_digits(stamp: str) -> int:
    parts = stamp.split(".", 2)
    return len(parts[1]) if len(parts) == 3 else 0


def _clock_key(text: str) -> tuple[int, int]:
    try:
        ms, counter, _ = text.split(".", 2)
        return int(ms), int(counter)
    except ValueError:
        return (-1, -1)


def _check_consistency(store, report: DoctorReport) -> None:
    counts = store.orphan_counts()
    if counts["tags"]:
        report.add("consistency", WARNING, f"{counts['tags']} tags belong to no paper (kept)")
    if counts["registers"]:
        # Sync may hold a register for a paper whose add has not arrived yet: not an error.
        report.add("consistency", INFO, f"{counts['registers']} change registers name papers "
                   "not in this library (yet)")
    if counts["aliases"]:
        report.add("consistency", WARNING, f"{counts['aliases']} key aliases point at no paper "
                   "(kept)")
    if counts["status"]:
        report.add("consistency", WARNING, f"{counts['status']} papers have an unknown read "
                   "status")


def _check_index(lib, report: DoctorReport) -> None:
    store = lib.store
    if lib.index_stale():  # readable as a file, but perhaps of the library a restore replaced
        report.add("index", WARNING, "search index is stale (the library was replaced by a "
                   "restore); it is rebuilt from the library on next use", fix="reindex")
        return
    try:
        ready = lib.index_ready()
    except ModuleNotFoundError:
        report.add("index", WARNING, "the search module is not installed; index not checked")
        return
    except Exception as exc:  # noqa: BLE001 - a broken index must not stop the doctor
        ready = False
        detail = f" ({type(exc).__name__}: {exc})"
    else:
        detail = ""
    if not ready:
        report.add("index", WARNING, f"search index ({lib.engine_name}) missing or unreadable" + detail
                   + "; it is rebuilt from the library on next use", fix="reindex")
        return
    try:
        indexed = Counter(index_keys(lib))
    except Exception as exc:  # noqa: BLE001
        report.add("index", WARNING, f"search index unreadable ({type(exc).__name__}: "
                   f"{exc}); it can be rebuilt from the library", fix="reindex")
        return
    dirty = set(store.dirty_keys())
    live = store.live_keys()
    missing = sorted(k for k in live - set(indexed) if k not in dirty)
    extra = sorted(k for k in set(indexed) - live if k not in dirty)
    twice = sorted(k for k, n in indexed.items() if n > 1)
    found = False
    if missing:
        report.add("index", ERROR, f"{len(missing)} papers are missing from the search index "
                   f"(first: {missing[0]})", fix="reindex")
        found = True
    if extra:
        report.add("index", ERROR, f"{len(extra)} search index entries are deleted or unknown "
                   f"papers (first: {extra[0]})", fix="reindex")
        found = True
    if twice:
        report.add("index", ERROR, f"{len(twice)} papers are in the search index more than "
                   f"once (first: {twice[0]})", fix="reindex")
        found = True
    if dirty:
        report.add("index", INFO, f"index catching up: {len(dirty)} pending updates",
                   fix="flush")
    if not found:
        report.add("index", INFO, f"search index ({lib.engine_name}) agrees with the library "
                                  f"({len(live)} papers)")


def index_keys(lib) -> list[str]:
    """Every paper key in the search index, once per indexed copy ("<unknown>" for an entry
    that has lost its key)."""
    return [key if key is not None else "<unknown>" for key in lib.index.all_keys()]


# ---- repairs -----------------------------------------------------------------------------------

def repair(lib, report: DoctorReport) -> list[str]:
    """Apply the safe repairs the report asks for. Returns one line per action taken (or
    attempted and failed). Never deletes user data."""
    done: list[str] = []
    fixes = {f.fix for f in report.findings if f.repairable}
    if "sqlite-reindex" in fixes:
        try:
            lib.store.rebuild_sqlite_indexes()
            done.append("rebuilt the database's own indexes (REINDEX)")
        except StoreError as exc:
            done.append(f"could not rebuild the database's indexes ({exc})")
    if "clock" in fixes:
        try:
            store = lib.store
            newest = max(store.op_clocks(), key=_clock_key)
            clock = getattr(store, "clock", None)
            if clock is not None:  # the store saves its clock when a transaction commits
                clock.observe(Timestamp.decode(newest))
            with store.transaction():
                stored = clock.last.encode() if clock is not None else newest
                store.set_meta("hlc", stored)
            done.append("moved the stored clock up to the newest operation")
        except Exception as exc:  # noqa: BLE001
            done.append(f"could not update the stored clock ({exc})")
    if "reindex" in fixes:
        try:
            count = lib.reindex()
            done.append(f"rebuilt the search index from the library ({count} papers)")
        except Exception as exc:  # noqa: BLE001 - report, keep going
            done.append(f"could not rebuild the search index ({type(exc).__name__}: {exc})")
    elif "flush" in fixes:
        try:
            count = lib.flush_index()
            done.append(f"wrote {count} pending index updates")
        except Exception as exc:  # noqa: BLE001
            done.append(f"could not write pending index updates ({type(exc).__name__}: {exc})")
    return done
