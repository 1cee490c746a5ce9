"""The merge policy of the Whoosh index's small commits (an edit, a sync, a small import).

Whoosh's MERGE_SMALL merges the smallest segments once there are enough of them, and returns
the segments it leaves sorted by size. That moves a small segment (an import's hundred papers)
in front of the big ones and so renumbers every document behind it: "for you" keeps its sums
by document number and follows a renumbering only from the first segment that moved
(index/foryou_state.py), so at 100k papers every such merge meant ranking from scratch
(~0.6 s instead of ~50 ms). `merge_small_keeping_order` merges the same segments and leaves
the others where they were; the merged papers go to the commit's new segment at the end.
"""

from __future__ import annotations

from whoosh.reading import SegmentReader
from whoosh.util import fib


def merge_small_keeping_order(writer, segments: list) -> list:
    """A Whoosh merge policy: MERGE_SMALL's choice of segments, the rest in their order."""
    by_size = sorted(segments, key=lambda s: s.doc_count_all())
    to_merge = []
    total_docs = 0
    for i, segment in enumerate(by_size):  # MERGE_SMALL's Fibonacci heuristic, as it is
        total_docs += max(segment.doc_count_all(), 0)
        to_merge.append(segment)
        if i > 3 and total_docs < fib(i + 5):
            break
    else:
        return segments  # no merge point: nothing is merged
    if len(to_merge) < 2:
        return segments
    for segment in to_merge:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        writer.add_reader(reader)
        reader.close()
    merged = {id(segment) for segment in to_merge}
    return [segment for segment in segments if id(segment) not in merged]
