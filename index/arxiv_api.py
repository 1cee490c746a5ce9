"""Fetch paper metadata from the arXiv API (stdlib urllib; the Atom answer is read by
index.sources.arxiv_atom).

    fetch_arxiv(["2101.01234", "hep-th/9901001v2"]) -> ParseResult

- Ids go in batches (`batch_size`, 50 by default) as `id_list=...&max_results=N`, with `delay`
  seconds between requests (arXiv asks for about 3 s; tests pass 0).
- The endpoint: the `base_url` argument when given, else $PAPERSHELF_ARXIV_API, else
  https://export.arxiv.org/api/query.
- Offline, a timeout, an HTTP error or an answer that is not an Atom feed raise
  ArxivUnavailable (a PapershelfError) with one clear line ("cannot reach arXiv (timeout after 10 s); check your
  connection"). Nothing is half-returned: the caller either gets every batch or the error.
- An id arXiv answers with an error entry, or does not answer for at all, becomes a Problem
  ("arXiv has no paper 2101.99999"): the caller reports it as rejected with that reason.
- Fetched records carry source "arxiv:api" and, when given, the line of the id in the list it
  came from (`lines`), so problems point at the list. `fetch_pending(result)` turns a parsed
  id list into real records whose source is the list ("arxiv-ids:reading.txt").
"""

from __future__ import annotations

import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence

from index.model import ParseResult, PapershelfError, PaperRecord, Problem, strip_arxiv_version

DEFAULT_URL = "https://export.arxiv.org/api/query"
ENV_VAR = "PAPERSHELF_ARXIV_API"
USER_AGENT = "papershelf/0.1 (terminal reading-list manager; polite batch metadata fetch)"
MAX_RESPONSE_BYTES = 16 * 1024 * 1024


DELAY_VAR = "PAPERSHELF_ARXIV_DELAY"  # seconds between requests: for a mirror, or tests


def request_delay() -> float:
    """Seconds between two requests: arXiv asks for 3; $PAPERSHELF_ARXIV_DELAY overrides."""
    try:
        return max(0.0, float(os.environ.get(DELAY_VAR) or 3.0))
    except ValueError:
        return 3.0


class ArxivUnavailable(PapershelfError):
    """arXiv could not be asked (offline, timeout, HTTP error): worth trying again later."""


def endpoint(base_url: str | None = None) -> str:
    return base_url or os.environ.get(ENV_VAR) or DEFAULT_URL


def _get(url: str, timeout: float) -> str:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        hint = "try again later" if exc.code in (429, 500, 502, 503, 504) else "check the id"
        raise ArxivUnavailable(f"arXiv answered HTTP {exc.code} ({exc.reason}); {hint}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (socket.timeout, TimeoutError)):
            raise ArxivUnavailable(
                f"cannot reach arXiv (timeout after {timeout:g} s); check your connection"
            ) from None
        text = getattr(reason, "strerror", None) or str(reason)
        raise ArxivUnavailable(f"cannot reach arXiv ({text}); check your connection") from None
    except (socket.timeout, TimeoutError):
        raise ArxivUnavailable(
            f"cannot reach arXiv (timeout after {timeout:g} s); check your connection"
        ) from None
    except (OSError, ValueError) as exc:
        raise ArxivUnavailable(f"cannot reach arXiv ({exc}); check your connection") from None
    if len(data) > MAX_RESPONSE_BYTES:
        raise PapershelfError("arXiv sent an answer too large to be metadata; not read")
    return data.decode("utf-8", errors="replace")


def fetch_arxiv(
    ids: Sequence[str],
    *,
    base_url: str | None = None,
    timeout: float = 10,
    batch_size: int = 50,
    delay: float = 3.0,
    lines: Sequence[int | None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    path: str | None = "arXiv API",
) -> ParseResult:
    """Metadata for arXiv ids (versions allowed) as records, plus a problem per unknown id."""
    from index.sources import arxiv_atom

    url = endpoint(base_url)
    result = ParseResult(format="arxiv")
    wanted: list[tuple[str, int | None]] = []
    seen: set[str] = set()
    for n, raw in enumerate(ids):
        arxiv_id = raw.strip()
        bare = strip_arxiv_version(arxiv_id).lower()
        if not arxiv_id or bare in seen:
            continue
        seen.add(bare)
        wanted.append((arxiv_id, lines[n] if lines is not None and n < len(lines) else None))
    for start in range(0, len(wanted), max(1, batch_size)):
        if start and delay > 0:
            time.sleep(delay)
        batch = wanted[start:start + max(1, batch_size)]
        query = urllib.parse.urlencode(
            {"id_list": ",".join(i for i, _ in batch), "max_results": len(batch)}
        )
        text = _get(f"{url}{'&' if '?' in url else '?'}{query}", timeout)
        if arxiv_atom.sniff(text) < 0.5:
            raise ArxivUnavailable("arXiv sent an answer that is not an Atom feed; try again later")
        parsed = arxiv_atom.parse(text, "api")
        found: dict[str, PaperRecord] = {}
        for record in parsed.records:
            if record.arxiv_id:
                found.setdefault(record.arxiv_id.lower(), record)
        for arxiv_id, line in batch:
            record = found.get(strip_arxiv_version(arxiv_id).lower())
            if record is None:
                detail = next((p.message for p in parsed.problems if arxiv_id in p.message), None)
                why = f" ({detail})" if detail else ""
                result.problems.append(
                    Problem(f"arXiv has no paper {arxiv_id}{why}", line, path))
                continue
            record.line = line
            result.records.append(record)
        if progress is not None:
            progress(min(start + len(batch), len(wanted)), len(wanted))
    return result


def search_arxiv(search_query: str, max_results: int, *, base_url: str | None = None,
                 timeout: float = 10) -> ParseResult:
    """One `search_query` request (e.g. `ti:"scaling laws"`): the entries arXiv answers with.
    Raises ArxivUnavailable like fetch_arxiv."""
    from index.sources import arxiv_atom

    url = endpoint(base_url)
    query = urllib.parse.urlencode({"search_query": search_query, "start": 0,
                                    "max_results": max_results})
    text = _get(f"{url}{'&' if '?' in url else '?'}{query}", timeout)
    if arxiv_atom.sniff(text) < 0.5:
        raise ArxivUnavailable("arXiv sent an answer that is not an Atom feed; try again later")
    return arxiv_atom.parse(text, "api")


def fetch_pending(result: ParseResult, **kwargs) -> ParseResult:
    """Replace records marked extra["needs_fetch"] by fetched ones (others are kept).

    For importers: an id list parsed offline becomes real records here; ids arXiv does not
    know become problems. Network errors raise PapershelfError (nothing is stored half-way).
    """
    pending = [r for r in result.records if r.extra.get("needs_fetch") and r.arxiv_id]
    if not pending:
        return result
    ids = [r.arxiv_id + r.extra.get("arxiv_version", "") for r in pending]
    kwargs.setdefault("path", next((p.path for p in result.problems if p.path), None)
                      or pending[0].source.split(":", 1)[-1] or None)
    fetched = fetch_arxiv(ids, lines=[r.line for r in pending], **kwargs)
    by_id = {r.arxiv_id.lower(): r for r in pending}
    for record in fetched.records:  # provenance: the list the id came from
        placeholder = by_id.get((record.arxiv_id or "").lower())
        if placeholder is not None and placeholder.source:
            record.source = placeholder.source
    kept = [r for r in result.records if not r.extra.get("needs_fetch")]
    return ParseResult(
        records=kept + fetched.records,
        problems=result.problems + fetched.problems,
        format=result.format,
        notices=list(result.notices),
    )
