"""Importing records: one transaction per batch, each record added, merged into the paper it
repeats, or (a paper first seen by DOI or title that gains an arXiv id) merged with its earlier
identity under the new key. A dry run rolls the transaction back and keeps the report."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable

from index.citekey import CitekeyAllocator, base_citekey, check_citekey, citekey_base, is_provisional
from index.model import (ImportReport, PaperRecord, Problem, has_control_characters, normalise_tag,
                         normalise_title, paper_key)
from index.store.rows import FILLABLE_FIELDS, JSON_COLUMNS, to_json


class Imports:
    def add_records(self, records: Iterable[PaperRecord], *, dry_run: bool = False,
                    progress=None) -> ImportReport:
        """Upsert records by paper key in one transaction. Re-adding what is known writes nothing."""
        report = ImportReport()
        records = list(records)
        try:
            self._add_records(records, report, dry_run, progress)
        except _DryRun:
            pass  # rolled back: a dry run reports what would happen and writes nothing
        finally:
            self._op_buffer = None
            self._paper_buffer = None
            self._provisional_buffer = []
            self._citekeys = None
        return report

    def _add_records(self, records, report, dry_run, progress) -> None:
        with self.transaction():
            seq = self.next_seq()
            self._citekeys = CitekeyAllocator(
                r[0] for r in self.db.execute("SELECT citekey FROM papers WHERE citekey IS NOT NULL"))
            # Loaded once per batch so most records cost no extra query.
            self._has_aliases = self.db.execute("SELECT 1 FROM aliases LIMIT 1").fetchone() is not None
            self._title_only = {r[0] for r in self.db.execute(
                "SELECT key FROM papers WHERE key LIKE 'title:%' AND deleted = 0")}
            live = {r[0] for r in self.db.execute("SELECT key FROM papers WHERE deleted = 0")}
            self._op_buffer = []
            self._paper_buffer = {}
            now = time.time()
            for done, record in enumerate(records, 1):
                problem = _validate(record)
                if problem:
                    report.rejected.append(problem)
                    continue
                key = self.resolve_alias(record.key) if self._has_aliases else record.key
                if key in self._paper_buffer:
                    self._flush_inserts()  # a repeat within this batch must see the first copy
                existing = self._get_row(key) if key in live else None
                if existing is None and record.arxiv_id:
                    existing, seq = self._merge_earlier_identity(record, key, seq, live)
                if existing is None:
                    citekey = record.citekey if record.citekey and not check_citekey(
                        record.citekey) and self._citekeys.claim(record.citekey) else None
                    if citekey is None:  # none of the source's own: we make one
                        citekey = self._citekeys.allocate(
                            citekey_base(record.authors, record.year, record.title))
                        if is_provisional(record.authors, record.year):
                            self._provisional_buffer.append((key, citekey))
                    self._insert(key, record, citekey, now + done * 1e-6)
                    live.add(key)
                    if key.startswith("title:"):
                        self._title_only.add(key)
                    value = record.to_dict() | {"citekey": citekey}
                    self.record_op("paper.add", key, None, value, seq)
                    seq += 1
                    for tag in record.tags:
                        self._set_tag(key, normalise_tag(tag), True, seq)
                        seq += 1
                    report.added.append(key)
                else:
                    seq, changed = self._merge_into(existing, record, seq)
                    (report.merged if changed else report.unchanged).append(key)
                if progress and (done % 200 == 0 or done == len(records)):
                    progress(done, len(records))
            self._flush_inserts()
            self.db.executemany("INSERT INTO ops VALUES (?, ?, ?, ?, ?, ?, ?, ?)", self._op_buffer)
            self._op_buffer = None
            if dry_run:
                raise _DryRun(report)



    _INSERT_PAPER = (
        "INSERT OR REPLACE INTO papers (key, title, title_norm, abstract, authors, year, "
        "listing_date, arxiv_id, doi, url, links, venue, extra, sources, citekey, added) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")

    def _insert(self, key: str, record: PaperRecord, citekey: str, added: float) -> None:
        row = (key, record.title, normalise_title(record.title), record.abstract,
               to_json(record.authors), record.year, record.listing_date,
               record.arxiv_id, record.doi, record.url, to_json(record.links), record.venue,
               to_json(record.extra), to_json([record.source] if record.source else []),
               citekey, added)
        if self._paper_buffer is not None:  # batch import: one executemany at the end
            self._paper_buffer[key] = row
            return
        self.db.execute(self._INSERT_PAPER, row)
        self.db.execute("INSERT OR IGNORE INTO index_dirty VALUES (?)", (key,))

    def _flush_inserts(self) -> None:
        if self._provisional_buffer:
            self.db.executemany("INSERT OR REPLACE INTO provisional_citekeys VALUES (?, ?)",
                                self._provisional_buffer)
            self._provisional_buffer.clear()
        if self._paper_buffer:
            self.db.executemany(self._INSERT_PAPER, self._paper_buffer.values())
            self.db.executemany("INSERT OR IGNORE INTO index_dirty VALUES (?)",
                                [(k,) for k in self._paper_buffer])
            self._paper_buffer.clear()

    def _merge_into(self, row: sqlite3.Row, record: PaperRecord, seq: int) -> tuple[int, bool]:
        """Add a new source and fill fields the stored paper lacks. Returns (seq, changed)."""
        key = row["key"]
        changed = False
        sources = json.loads(row["sources"])
        if record.source and record.source not in sources:
            sources.append(record.source)
            self.db.execute("UPDATE papers SET sources = ? WHERE key = ?",
                            (to_json(sources), key))
            self.record_op("paper.source", key, None, record.source, seq)
            seq += 1
            changed = True
        for name in FILLABLE_FIELDS:
            new = getattr(record, name)
            old = json.loads(row[name]) if name in JSON_COLUMNS else row[name]
            if new and not old:
                stored = to_json(new) if name in JSON_COLUMNS else new
                self.db.execute(f"UPDATE papers SET {name} = ? WHERE key = ?", (stored, key))
                self.record_op("paper.update", key, name, new, seq)
                seq += 1
                changed = True
        old_extra = json.loads(row["extra"])
        if any(name not in old_extra for name in record.extra):  # e.g. arXiv version, categories
            extra = record.extra | old_extra
            self.db.execute("UPDATE papers SET extra = ? WHERE key = ?", (to_json(extra), key))
            self.record_op("paper.update", key, "extra", extra, seq)
            seq += 1
            changed = True
        if changed:
            self.db.execute("INSERT OR IGNORE INTO index_dirty VALUES (?)", (key,))
            seq = self._settle_provisional_citekey(key, seq)
        return seq, changed

    def _settle_provisional_citekey(self, key: str, seq: int) -> int:
        """A provisional key becomes the regular one once the paper has authors and a year."""
        held = self.db.execute("SELECT p.citekey, c.citekey, p.authors, p.year, p.title FROM "
                               "papers p JOIN provisional_citekeys c ON c.key = p.key "
                               "WHERE p.key = ?", (key,)).fetchone()
        if held is None:
            return seq
        current, provisional, authors, year, title = held
        authors = json.loads(authors)
        if current != provisional:  # renamed meanwhile (by hand or by a sync): frozen
            self.db.execute("DELETE FROM provisional_citekeys WHERE key = ?", (key,))
            return seq
        if is_provisional(authors, year) or self._citekeys is None:
            return seq
        self._citekeys.release(current)
        new = self._citekeys.allocate(base_citekey(authors, year, title))
        self.db.execute("UPDATE papers SET citekey = ? WHERE key = ?", (new, key))
        self.db.execute("DELETE FROM provisional_citekeys WHERE key = ?", (key,))
        self.record_op("set", key, "citekey", new, seq)
        return seq + 1

    def _merge_earlier_identity(self, record: PaperRecord, key: str, seq: int,
                                live: set[str]) -> tuple[sqlite3.Row | None, int]:
        """A paper first seen by DOI or by title only gains an arXiv id: re-key it, keeping
        the user's state. The merge is an operation, so it syncs."""
        old_key = None
        if record.doi:
            doi_key = paper_key(title="", doi=record.doi)
            if doi_key in live:
                old_key = doi_key
        if old_key is None:
            title_key = paper_key(title=record.title)
            if title_key in self._title_only:
                old_key = title_key
                self._title_only.discard(title_key)
        if old_key is None:
            return None, seq
        self._has_aliases = True
        if self._paper_buffer and old_key in self._paper_buffer:
            self._flush_inserts()  # first seen earlier in this same batch
        self.rekey(old_key, key, seq)
        self.record_op("paper.merge", old_key, None, key, seq)
        live.discard(old_key)
        live.add(key)
        return self._get_row(key), seq + 1



class _DryRun(Exception):
    """Raised inside the import transaction to roll it back while keeping the report."""

    def __init__(self, report: ImportReport):
        self.report = report


def _validate(record: PaperRecord) -> Problem | None:
    where = record.source.split(":", 1)[-1] if record.source else None
    if not record.title or not record.title.strip():
        return Problem("record has no title", record.line, where)
    if len(record.title) > 2000:
        return Problem("title is longer than 2,000 characters", record.line, where)
    if record.extra.get("needs_fetch"):  # a placeholder from an id list is never stored as a paper
        return Problem(f"metadata for arXiv:{record.arxiv_id} was not fetched", record.line, where)
    # Identifiers become paper keys and are echoed by every command: never with control
    # characters (an ESC in a DOI would reach the terminal as an escape sequence).
    for name, label in (("arxiv_id", "arXiv id"), ("doi", "DOI")):
        value = getattr(record, name)
        if value and has_control_characters(value):
            return Problem(f"the {label} holds control characters; skipped", record.line, where)
    if any(has_control_characters(tag) for tag in record.tags):
        return Problem("a tag holds control characters; skipped", record.line, where)
    return None
