"""What a sync reports, and its one error."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from index.clock import Timestamp
from index.model import PapershelfError


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


def hlc_time(hlc: str | None) -> str | None:
    if not hlc:
        return None
    try:
        ms = Timestamp.decode(hlc).ms
    except ValueError:
        return None
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000))
