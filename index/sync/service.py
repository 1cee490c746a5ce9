"""The sync verbs the front ends share, handed out as `Library.sync`: sync now, what the folder
and this device hold, and the note conflicts waiting for the reader (one rule each, for the app
and `papershelf sync`)."""

from __future__ import annotations

import os

from index.sync.conflicts import NoteConflict


class SyncService:
    def __init__(self, lib):
        self.lib = lib

    def now(self, folder: str | os.PathLike, *, update_index: bool = True):
        """Publish, receive, merge, apply (index.sync.SyncReport); a one-line SyncError."""
        from index.sync import sync_now

        return sync_now(self.lib, folder, update_index=update_index)

    def status(self, folder: str | os.PathLike | None = None) -> dict:
        """Devices seen, pending conflicts, and what the folder holds."""
        from index.sync import sync_status

        return sync_status(self.lib, folder)

    def conflicts(self) -> list[NoteConflict]:
        """Note conflicts waiting for the reader, oldest paper key first."""
        from index.sync.conflicts import pending_conflicts

        return pending_conflicts(self.lib)

    def conflict(self, key: str) -> NoteConflict | None:
        """This paper's note conflict, or None (only this paper's versions are read)."""
        from index.sync.conflicts import pending_conflicts

        return next(iter(pending_conflicts(self.lib, key)), None)

    def resolve(self, key: str, *, keep: str, text: str | None = None) -> str:
        """Settle a paper's note conflict (keep: mine, theirs, both, or merged with `text`);
        returns the note kept."""
        from index.sync.conflicts import resolve_conflict

        return resolve_conflict(self.lib, key, keep=keep, text=text)

    def unsettled_versions(self, key: str) -> list[dict]:
        """The note versions of a paper's pending conflict: device, time and text of each."""
        from index.sync.conflicts import unsettled_versions

        return unsettled_versions(self.lib, key)
