"""The Library's "for you" list: unread papers ranked by their likeness to the starred and read
ones (the model is in index/foryou.py; the postings come from the active search engine).

A ranking is kept (index/foryou_state.py) and brought up to date from what changed since: a
star or a status change, by this process or another (the store's op log says which), updates
the liked papers' counts and only the words whose weight moved; anything that makes the search
index rewrite, add or remove papers (a tag, a note, an import, a deletion) is followed from the
papers the index renumbered (`RankingState.follow_index`), unless that is more than a few
thousand papers or a rebuild: then the ranking starts again from the postings.

A mixin of `index.library.Library` (it uses `self.store`, `self.data_dir`, `self.engine_name`,
`self._for_you`, `self._for_you_saved`, `self._for_you_unsaved` and the index methods of
`index.indexing.IndexKeeping`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

Progress = Callable[[int, int], None]
UPDATE_AT_CLOSE_AT_MOST = 200  # papers rewritten or added that a closing Library still follows


class Recommending:
    """Library methods that rank unread papers for the reader."""

    def term_stats(self):
        """The index's term statistics (index.foryou.TermStats: doc_count, doc_frequencies,
        docs_with), from whichever engine is active."""
        return self.index

    def for_you(self, limit: int | None = None, progress: Progress | None = None, *,
                saved: bool = True):
        """Unread papers ranked by their likeness to the starred and read ones (and their
        tags): an index.foryou.Ranking, best first; `ranking.message` says why it is empty.
        Kept until the library changes, and then updated from what changed.
        `progress(done, total)` follows the ranking and may raise to stop it; what was done
        is kept, and the next call goes on from there. Before this process has ranked, the
        ranking saved by the last one is used when the library has not changed since
        (index/foryou_saved.py), unless `saved` is False (ranking ahead: what is kept here
        makes the next change quick to follow). A ranking made here is saved when the
        library closes (save_for_you)."""
        from index.foryou import NOTHING_LIKED, Ranking
        from index.foryou_state import IndexMoved, RankingState

        if self._for_you is None:
            self._for_you = RankingState()
        state = self._for_you
        if saved and state.ranking is None:
            found = self._saved_ranking()
            if found is not None:
                return _limited(found, limit)
        dirty = self.store.has_dirty()
        index_waits = dirty and self._index_may_wait(state)
        if dirty and not index_waits:
            self.try_flush_index()  # new papers count in the word statistics
        self._follow_changes(state, progress)
        if state.ranking is None or state.ranking_mark != state.mark:
            if not state.liked:
                state.ranking = Ranking(message=NOTHING_LIKED)
            else:
                stats = self.term_stats()
                if state.index_rewrote and not index_waits:  # followed once it is written
                    try:
                        state.follow_index(stats)
                    except IndexMoved:
                        state.forget_index()
                profile = state.profile(stats, progress)
                try:
                    state.apply(profile, stats, progress)
                except IndexMoved:
                    state.forget_index()
                    profile = state.profile(stats, progress)
                    state.apply(profile, stats, progress)
                state.ranking = state.ranked(profile)
                if not state.ranking.unread:
                    state.ranking.message = "no unread papers to rank"
            state.ranking_mark = state.mark
            self._for_you_unsaved = (self._ranking_stamp(state.mark), state.ranking)
        return _limited(state.ranking, limit)

    def follow_written_index(self) -> None:
        """After the pending edits were written to the index (the app does it in a worker a
        moment after the last tag or note): follow the papers the commit renumbered, and read
        the document frequencies it moved, now, so that the next ranking (after a star, say)
        does not (~30-50 ms at 100k papers)."""
        from index.foryou_state import IndexMoved

        state = self._for_you
        if state is None or state.keys is None or not state.index_rewrote \
                or self.store.has_dirty():
            return
        stats = self.term_stats()
        try:
            state.follow_index(stats)
        except IndexMoved:
            state.forget_index()
            return
        if state.liked:
            state.profile(stats)

    def _index_may_wait(self, state) -> bool:
        """Whether the ranking may read the index as the kept ranking left it, before the
        pending tags and notes are written to it (a commit, ~20-100 ms at 100k papers, and
        the papers it renumbers to follow, ~30 ms): they change no paper's words, and the
        tags come from the store. Not when anything else changed since, or another process
        wrote the index meanwhile. The next ranking after the index is written follows it
        (`index_rewrote` stays set)."""
        if state.keys is None or state.mark is None \
                or self.store.words_changed_after(state.mark):
            return False
        return self.term_stats().docs_with([]).keys is state.keys

    def ranking_left_behind(self) -> bool:
        """Whether this process changed the library while the reader uses "for you" (a
        ranking is saved): a command that did should rank before it ends, as `daily` does,
        so that the next app launch shows "for you" at once from the saved ranking instead of
        ranking from scratch (~1 s at 100,000 papers) when `5` is pressed."""
        from index import foryou_saved

        return self.store.changed_here and foryou_saved.exists(self.data_dir)

    def rank_after_import(self, progress: Progress | None = None) -> bool:
        """After papers were imported here (the app's `D` or `i`, in the import's worker),
        when the reader uses "for you" (a ranking made here, or one saved): rank now, so that
        `5` shows the new papers ranked at once (following 100 new papers takes ~0.3 s at
        100,000 papers; a ranking from scratch ~1 s). Returns whether it ranked."""
        from index import foryou_saved

        state = self._for_you
        if (state is None or state.ranking is None) and not foryou_saved.exists(self.data_dir):
            return False
        self.for_you(progress=progress, saved=False)
        return True

    def update_kept_ranking(self) -> None:
        """Before the ranking made here is saved at close: when the library changed since it
        was made (a star, a tag, then quit), update it (~0.1-0.3 s at 100,000 papers), so
        that the saved one holds for the next launch. Not after a big import (more than
        UPDATE_AT_CLOSE_AT_MOST papers): a close must not wait for that."""
        state = self._for_you
        if state is None or state.ranking is None or state.mark is None:
            return
        mark, changed, rewritten = self.store.ranking_changes(state.mark)
        if changed is not None and state.ranking_mark != mark \
                and len(rewritten) <= UPDATE_AT_CLOSE_AT_MOST:
            self.for_you(saved=False)

    def _saved_ranking(self):
        """The saved ranking when it is of the library as it is now; the file is read once
        a state (the app asks at every search on the "for you" list: ~5 MB at 100k papers)."""
        from index import foryou_saved

        stamp = self._ranking_stamp(self.store.change_mark())
        if self._for_you_saved is None or self._for_you_saved[0] != stamp:
            self._for_you_saved = (stamp, foryou_saved.load(self.data_dir, stamp))
        return self._for_you_saved[1]

    def save_for_you(self) -> None:
        """Save the last ranking made here for the next process (when the library closes:
        writing 100,000 keys takes ~50 ms, which a switch to "for you" must not wait for)."""
        from index import foryou_saved

        if self._for_you_unsaved is not None:
            stamp, ranking = self._for_you_unsaved
            self._for_you_unsaved = None
            foryou_saved.save(self.data_dir, stamp, ranking)

    def _ranking_stamp(self, mark: int) -> str:
        """The library state a ranking is made at: its change mark and the engine."""
        return f"{self.store.mark_stamp(mark)}:{self.engine_name}"

    def _follow_changes(self, state, progress: Progress | None) -> None:
        """Bring the kept liked and unread papers to the store's state: only the papers whose
        star or status changed when nothing else did, else all of them (and the index's part
        from scratch)."""
        from index.foryou import PaperText

        if state.mark is not None:
            mark, changed, rewritten = self.store.ranking_changes(state.mark)
            if changed is not None:
                if changed:
                    keys = sorted(changed)
                    liked = {row[0]: PaperText(*row)
                             for row in self.store.ranking_rows(liked=True, keys=keys)}
                    for key in keys:
                        state.set_liked(key, liked.get(key))
                    state.drop_candidates(keys)  # and back with their tags as they are now
                    state.add_candidates(self.store.ranking_keys(keys))
                state.index_rewrote = state.index_rewrote or bool(rewritten)
                state.mark = mark
                return
        mark = self.store.change_mark()  # changes after it are followed next time
        step = None if progress is None else lambda: progress(0, 1)
        candidates = self.store.ranking_keys(between=step)  # may stop: nothing is changed yet
        if step is not None:
            step()
        liked = [PaperText(*row) for row in self.store.ranking_rows(liked=True)]
        state.start_over(mark)
        for paper in liked:
            state.set_liked(paper.key, paper)
        state.set_candidates(candidates)


def _limited(ranking, limit: int | None):
    if limit is None or len(ranking.keys) <= limit:
        return ranking
    return replace(ranking, keys=ranking.keys[:limit])
