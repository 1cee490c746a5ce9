"""Find the arXiv paper for titles that came without an id (Daily Papers listings).

    resolve_on_arxiv(lib, papers, delay=3.0) -> ResolveReport

- Only titles are sent: several per request, as one arXiv API title search
  (`ti:"..." OR ti:"..."`), one request every `delay` seconds (arXiv asks for 3 s; tests and
  benchmarks pass less, or set $PAPERSHELF_ARXIV_DELAY).
- A paper matches an arXiv entry only when their normalised titles are equal (LaTeX read as
  text, case and punctuation ignored) and exactly one arXiv paper has that title. Nothing
  else is ever guessed: no fuzzy match, no author or year taken from anything but the entry.
- A match is added as an arXiv record: the store merges it into the paper as it merges an
  arXiv import (the paper keeps its title, abstract, stars, tags, notes and sources, and gains
  authors, year, arXiv id and version, categories, DOI and the abstract page).
- A title without a match is remembered for a week (`MISS_TTL`); runs within that week do
  not ask again. A failed request caches nothing.
- Each batch is saved as it arrives: an interrupt (Ctrl+C) or a server that fails halfway
  keeps what was already resolved, and the report says where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from index.model import Paper, PaperRecord, normalise_title

MISS_TTL = 7 * 24 * 3600  # seconds a "not on arXiv" answer is trusted
BATCH_SIZE = 10  # titles per request: short enough URLs, few enough requests
RESULTS_PER_TITLE = 3  # arXiv ranks the exact title first; a few more allow for namesakes


@dataclass
class ResolveReport:
    resolved: list[tuple[str, str]] = field(default_factory=list)  # (title, arXiv id)
    unmatched: list[str] = field(default_factory=list)  # titles arXiv has no exact match for
    ambiguous: list[str] = field(default_factory=list)  # titles several arXiv papers share
    cached: int = 0  # titles skipped: no match within the last week
    already: int = 0  # papers that have an arXiv id already
    asked: int = 0  # titles sent
    requests: int = 0
    error: str | None = None  # why it stopped early (one line)
    interrupted: bool = False

    @property
    def finished(self) -> bool:
        return self.error is None and not self.interrupted

    def summary(self) -> str:
        parts = [f"resolved {len(self.resolved)}", f"not on arXiv {len(self.unmatched)}"]
        if self.ambiguous:
            parts.append(f"several matches {len(self.ambiguous)}")
        if self.cached:
            parts.append(f"skipped {self.cached} not found within the last week")
        return ", ".join(parts)


def title_query(title: str) -> str | None:
    """The arXiv title search for one title: its words as quoted phrases, ANDed.

    Words with characters arXiv may index differently (Ψ is `$\\Psi$` there) split the
    phrase instead of being sent; a title with no plain words cannot be asked (None)."""
    phrases, current = [], []
    for word in normalise_title(title).split():
        if word.isascii():
            current.append(word)
        elif current:
            phrases.append(current)
            current = []
    if current:
        phrases.append(current)
    if not phrases:
        return None
    return " AND ".join(f'ti:"{" ".join(words)}"' for words in phrases)


def resolve_on_arxiv(
    lib,
    papers: Sequence[Paper],
    *,
    base_url: str | None = None,
    delay: float | None = None,
    batch_size: int = BATCH_SIZE,
    timeout: float = 10,
    retry_misses: bool = False,
    progress: Callable[[int, int], None] | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> ResolveReport:
    """Look the papers without an arXiv id up by title; merge exact matches into them."""
    from index.arxiv_api import ArxivUnavailable, request_delay

    delay = request_delay() if delay is None else delay
    report = ResolveReport()
    wanted: dict[str, list[Paper]] = {}  # normalised title -> papers with it
    for paper in papers:
        if paper.arxiv_id:
            report.already += 1
        else:
            wanted.setdefault(normalise_title(paper.title), []).append(paper)
    if not retry_misses and wanted:
        recent = lib.store.recent_misses(list(wanted), clock() - MISS_TTL)
        report.cached = sum(len(wanted.pop(norm)) for norm in recent)
    asks = []
    for norm, group in wanted.items():
        query = title_query(group[0].title)
        if query is None:
            report.unmatched.append(group[0].title)
        else:
            asks.append((norm, query, group))
    total = len(asks)
    if progress:
        progress(0, total)
    try:
        for start in range(0, total, max(1, batch_size)):
            batch = asks[start:start + max(1, batch_size)]
            if start and delay > 0:
                sleep(delay)
            _resolve_batch(lib, batch, report, base_url=base_url, timeout=timeout, now=clock())
            if progress:
                progress(start + len(batch), total)
    except ArxivUnavailable as exc:
        report.error = str(exc)
    except KeyboardInterrupt:
        report.interrupted = True
    return report


def _resolve_batch(lib, batch, report: ResolveReport, *, base_url, timeout, now: float) -> None:
    from index.arxiv_api import search_arxiv

    query = " OR ".join(f"({q})" for _, q, _ in batch) if len(batch) > 1 else batch[0][1]
    answer = search_arxiv(query, RESULTS_PER_TITLE * len(batch), base_url=base_url,
                          timeout=timeout)
    report.requests += 1
    report.asked += len(batch)
    entries: dict[str, dict[str, PaperRecord]] = {}  # normalised title -> arXiv id -> entry
    for record in answer.records:
        if record.arxiv_id:
            entries.setdefault(normalise_title(record.title), {}).setdefault(
                record.arxiv_id.lower(), record)
    found, misses = [], []
    for norm, _, group in batch:
        matches = entries.get(norm, {})
        if len(matches) > 1:  # namesakes: never pick one
            report.ambiguous.append(group[0].title)
            continue
        if not matches:
            misses.append(norm)
            report.unmatched.append(group[0].title)
            continue
        entry = next(iter(matches.values()))
        for paper in group:
            found.append(_as_match(entry, paper))
            report.resolved.append((paper.title, entry.arxiv_id))
    if found:
        lib.add(found)
    if misses:
        lib.store.remember_misses(misses, now)


def _as_match(entry: PaperRecord, paper: Paper) -> PaperRecord:
    """The arXiv entry, carrying the paper's own title (and DOI) so the store recognises the
    paper it belongs to: its key is the title's (or the DOI's) until it gains the id."""
    record = PaperRecord.from_dict(entry.to_dict())
    record.title = paper.title
    if paper.doi:
        record.doi = paper.doi
    record.source = "arxiv:api"
    return record
