"""Canonical library state in SQLite (WAL). The search index is derived from this.

Every change is one transaction that also appends an operation to this device's log (the `ops`
table), stamped with a hybrid logical clock, so that sync can publish and merge it later.
Registers remember the clock of the last write to each (paper, field) for last-writer-wins.

Every SQL statement on the library database lives in this package, one module per job:

    schema       the tables, creating and upgrading them
    connection   the connection, write transactions, meta values
    oplog        the operation log
    papers       reading papers, filters and counts
    edits        a person's changes, re-keying
    imports      importing records, merging identities
    sync_state   the merge state sync keeps, and projecting it into papers
    care         integrity checks and copies (doctor, backup)
    files        the database file: copies, checks, exclusive locks (backup, restore)
"""

from __future__ import annotations

from index.store.care import Care
from index.store.connection import Connection
from index.store.edits import PaperEdits
from index.store.imports import Imports
from index.store.oplog import OpLog
from index.store.papers import PaperReads
from index.store.rows import Op, StoreError
from index.store.schema import DB_NAME, SCHEMA_VERSION
from index.store.sync_state import PROJECTED_COLUMNS, SyncState

__all__ = ["DB_NAME", "PROJECTED_COLUMNS", "SCHEMA_VERSION", "Op", "Store", "StoreError"]


class Store(Connection, OpLog, PaperReads, PaperEdits, Imports, SyncState, Care):
    """The library database: open it with `Store(data_dir)`."""
