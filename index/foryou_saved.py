"""The last "for you" ranking, saved in the data dir, so that a process that has ranked nothing
yet (the app just opened, `papershelf list --for-you`) shows it at once when the library has
not changed since: ranking 100,000 papers from scratch takes a second, reading this file a few
tens of ms.

The file names the library state it was ranked at (`stamp`: the last operation of the op log,
which every change to the library adds to, and the search engine); a file of another state is
never used. It is JSON, derived data only: deleting it costs one ranking. The scores are the
bytes of an array of doubles, in base64: exact, and ~1 ms for 100,000 where JSON's float text
takes ~80 ms to write.
"""

from __future__ import annotations

import base64
import json
import sys
from array import array
from pathlib import Path

from index.fileio import write_atomic
from index.foryou import Profile, Ranking

FILE_NAME = "for-you.json"
FORMAT = 2


def save(data_dir: Path, stamp: str, ranking: Ranking) -> None:
    """Replace the saved ranking (quietly: it is only a head start)."""
    record = {
        "format": FORMAT, "stamp": stamp, "keys": ranking.keys,
        "scores": _packed(ranking.score_list()),
        "units": ranking.profile.units, "tag_counts": ranking.profile.tag_counts,
        "liked": ranking.profile.liked, "unread": ranking.unread, "message": ranking.message,
    }
    try:
        write_atomic(Path(data_dir) / FILE_NAME, json.dumps(record).encode())
    except OSError:
        pass


def exists(data_dir: Path) -> bool:
    """Whether a ranking was saved: the reader uses "for you" in this library."""
    return (Path(data_dir) / FILE_NAME).is_file()


def load(data_dir: Path, stamp: str) -> Ranking | None:
    """The saved ranking when it was made at `stamp`; None otherwise (or unreadable)."""
    try:
        record = json.loads((Path(data_dir) / FILE_NAME).read_bytes())
        if record.get("format") != FORMAT or record.get("stamp") != stamp:
            return None
        keys, scores = record["keys"], _unpacked(record["scores"])
        profile = Profile(units=dict(record["units"]), tag_counts=dict(record["tag_counts"]),
                          liked=int(record["liked"]))
        if len(keys) != len(scores):
            return None
        return Ranking(keys=list(keys), scores=dict(zip(keys, scores)), profile=profile,
                       unread=int(record["unread"]), message=str(record["message"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _packed(scores: list[float]) -> str:
    data = array("d", scores)
    if sys.byteorder != "little":  # the file reads the same on every machine
        data.byteswap()
    return base64.b64encode(data.tobytes()).decode("ascii")


def _unpacked(text: str) -> list[float]:
    data = array("d")
    data.frombytes(base64.b64decode(text, validate=True))  # ValueError when damaged
    if sys.byteorder != "little":
        data.byteswap()
    return data.tolist()
