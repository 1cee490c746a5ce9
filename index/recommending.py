"""The Library's "for you" list: unread papers ranked by their likeness to the starred and read
ones (the model is in index/foryou.py; the postings come from the active search engine).

A mixin of `index.library.Library` (it uses `self.store`, `self.index`, `self._for_you`,
`self._profile` and the index methods of `index.indexing.IndexKeeping`).
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int], None]


class Recommending:
    """Library methods that rank unread papers for the reader."""

    def term_stats(self):
        """The index's term statistics (index.foryou.TermStats: doc_count, doc_frequencies,
        docs_with), from whichever engine is active."""
        return self.index

    def for_you(self, limit: int | None = None, progress: Progress | None = None):
        """Unread papers ranked by their likeness to the starred and read ones (and their
        tags): an index.foryou.Ranking, best first; `ranking.message` says why it is empty.
        Kept until the library changes, so switching to "for you" again costs nothing.
        `progress(done, total)` follows the ranking (and may raise to stop it; nothing is
        kept then)."""
        from index.foryou import NOTHING_LIKED, PaperText, Ranking, rank

        mark = self.store.change_mark()
        if self._for_you is None or self._for_you[0] != mark:
            liked = [PaperText(*row) for row in self.store.ranking_rows(liked=True)]
            if not liked:
                ranking = Ranking(message=NOTHING_LIKED)
            else:
                profile = self._with_index(lambda index: self._liked_profile(liked))
                found = self._with_index(lambda index: index.docs_with(profile.words))
                ranking = rank(profile, self.store.ranking_keys(), found, progress=progress)
                if not ranking.unread:
                    ranking.message = "no unread papers to rank"
            self._for_you = (mark, ranking)
        ranking = self._for_you[1]
        if limit is None or len(ranking.keys) <= limit:
            return ranking
        from dataclasses import replace

        return replace(ranking, keys=ranking.keys[:limit])

    def _liked_profile(self, liked):
        """The profile of the liked papers, rebuilt only when they (or the library's size,
        which moves every idf) changed."""
        from index.foryou import build_profile

        if self.store.has_dirty():
            self.try_flush_index()  # new papers count in the word statistics
        signature = hash((self.store.count(), *((p.key, *p.tags) for p in liked)))
        if self._profile is None or self._profile[0] != signature:
            self._profile = (signature, build_profile(liked, self.term_stats()))
        return self._profile[1]
