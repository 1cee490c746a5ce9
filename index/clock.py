"""Hybrid logical clock: (wall ms, counter, device) timestamps that order operations across
devices and never run backwards, even when a machine's wall clock does.

Encoded as a fixed-width string so that string order is clock order: "0001700000000000.00000.dev".
The counter has five digits: when it would reach 100,000 (a clock stuck behind for that many
operations), the logical milliseconds move on by one instead, as a hybrid clock may, so every
stamp a writer makes keeps the width that readers and string order rely on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Timestamp:
    ms: int
    counter: int
    device: str

    def encode(self) -> str:
        return f"{self.ms:016d}.{self.counter:05d}.{self.device}"

    @classmethod
    def decode(cls, text: str) -> Timestamp:
        """Also reads the wider counters older versions wrote past 99,999 (carried into ms)."""
        ms, counter, device = text.split(".", 2)
        carry, counter_value = divmod(int(counter), COUNTER_LIMIT)
        return cls(int(ms) + carry, counter_value, device)


COUNTER_LIMIT = 100_000  # five digits


def canonical(stamp: str) -> str:
    """A stamp in the five-digit form whatever counter it was written with."""
    return Timestamp.decode(stamp).encode()


class HybridClock:
    def __init__(self, device: str, last: Timestamp | None = None,
                 wall_ms: Callable[[], int] | None = None):
        self.device = device
        self.last = last or Timestamp(0, 0, device)
        self._wall_ms = wall_ms or (lambda: int(time.time() * 1000))

    def tick(self) -> Timestamp:
        """A timestamp for a local event, later than every one seen so far."""
        wall = self._wall_ms()
        if wall > self.last.ms:
            stamp = Timestamp(wall, 0, self.device)
        elif self.last.counter + 1 < COUNTER_LIMIT:  # wall clock stalled or went backwards
            stamp = Timestamp(self.last.ms, self.last.counter + 1, self.device)
        else:  # keep logical time moving without widening the counter
            stamp = Timestamp(self.last.ms + 1, 0, self.device)
        self.last = stamp
        return stamp

    def observe(self, remote: Timestamp) -> None:
        """Move past a timestamp received from another device."""
        if (remote.ms, remote.counter) > (self.last.ms, self.last.counter):
            self.last = Timestamp(remote.ms, remote.counter, self.device)
