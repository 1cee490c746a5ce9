"""Fetch Hugging Face Daily Papers lists from their JSON API (stdlib urllib).

    fetch_days([date(2026, 11, 29)]) -> DailyFetch(records, days)

The API answers `GET <endpoint>?date=YYYY-MM-DD&limit=100` with a JSON list of items
(`{"paper": {"id", "title", "summary", "authors", "publishedAt", ...}, "title", ...}`); an
empty day is `[]`. A full page asks for the next one (`&p=1`, `&p=2`, ...: pages count from
0), up to MAX_PAGES. Each answer is read by index.sources.dailypapers_json, so the importer and
this fetcher agree on every field. The endpoint comes from $PAPERSHELF_HF_API.

All days are fetched before anything is returned: a failure on any day raises DailyUnavailable
(one line) and the caller stores nothing. A stalled server cannot hang the caller: each socket
operation has `timeout`, and the whole answer must arrive within `timeout` too (a server
dribbling one byte at a time would otherwise never time out).
"""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from index.model import PapershelfError, PaperRecord

DEFAULT_URL = "https://huggingface.co/api/daily_papers"
ENV_VAR = "PAPERSHELF_HF_API"
USER_AGENT = "papershelf/0.1 (terminal reading-list manager; daily list fetch)"
DAY_LIMIT = 100  # the API's largest page; a day lists 50-150 papers
MAX_PAGES = 10
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
CHUNK = 64 * 1024


class DailyUnavailable(PapershelfError):
    """The Daily Papers list could not be fetched (offline, timeout, HTTP error, not JSON)."""


@dataclass
class DailyFetch:
    records: list[PaperRecord] = field(default_factory=list)
    days: list[date] = field(default_factory=list)


def endpoint(base_url: str | None = None) -> str:
    return base_url or os.environ.get(ENV_VAR) or DEFAULT_URL


def day_label(days: Sequence[date]) -> str:
    """"Nov 29", or "Nov 27 to Nov 29" for several days."""
    def short(day: date) -> str:
        return f"{day:%b} {day.day}"

    ordered = sorted(days)
    if not ordered:
        return ""
    if len(ordered) == 1:
        return short(ordered[0])
    return f"{short(ordered[0])} to {short(ordered[-1])}"


def fetch_days(days: Sequence[date], *, base_url: str | None = None,
               timeout: float = 15.0) -> DailyFetch:
    """The papers listed on each day, in the order of `days`."""
    from index.sources import dailypapers_json

    url = endpoint(base_url)
    result = DailyFetch(days=list(days))
    for day in days:
        seen: set[str] = set()
        for page in range(MAX_PAGES):
            params = {"date": day.isoformat(), "limit": DAY_LIMIT} | ({"p": page} if page else {})
            query = urllib.parse.urlencode(params)
            text = _get(f"{url}{'&' if '?' in url else '?'}{query}", timeout)
            count = _check_json(text, day)
            parsed = dailypapers_json.parse(text, f"hf-daily-{day.isoformat()}")
            if parsed.problems:
                first = parsed.problems[0]
                raise DailyUnavailable(
                    f"the Daily Papers list of {day.isoformat()} has an item that cannot be "
                    f"read ({first.message}); nothing imported")
            new = [r for r in parsed.records if (r.arxiv_id or r.title) not in seen]
            seen.update(r.arxiv_id or r.title for r in new)
            result.records += new
            if count < DAY_LIMIT or not new:  # the last page (or a server that repeats one)
                break
    return result


def _check_json(text: str, day: date) -> int:
    """The number of items in the answer; DailyUnavailable when it is not a JSON list."""
    what = f"Hugging Face sent a Daily Papers answer for {day.isoformat()} that is not"
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise DailyUnavailable(f"{what} valid JSON; nothing imported, try again later") from None
    if not isinstance(value, list):
        raise DailyUnavailable(f"{what} a list of papers; nothing imported, try again later")
    return len(value)


def _get(url: str, timeout: float) -> str:
    request = urllib.request.Request(
        url, headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
    where = urllib.parse.urlsplit(url).netloc or url
    timed_out = DailyUnavailable(
        f"cannot reach {where} (no answer within {timeout:g} s); check your connection")
    deadline = time.monotonic() + timeout
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            chunks, size = [], 0
            while chunk := response.read(CHUNK):
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise DailyUnavailable(
                        f"{where} sent an answer too large to be a Daily Papers list; not read")
                if time.monotonic() > deadline:
                    raise timed_out
    except urllib.error.HTTPError as exc:
        hint = "try again later" if exc.code in (429, 500, 502, 503, 504) else "check $" + ENV_VAR
        raise DailyUnavailable(f"{where} answered HTTP {exc.code} ({exc.reason}); {hint}") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, (socket.timeout, TimeoutError)):
            raise timed_out from None
        text = getattr(exc.reason, "strerror", None) or str(exc.reason)
        raise DailyUnavailable(f"cannot reach {where} ({text}); check your connection") from None
    except (socket.timeout, TimeoutError):
        raise timed_out from None
    except DailyUnavailable:
        raise
    except (OSError, ValueError) as exc:
        raise DailyUnavailable(f"cannot reach {where} ({exc}); check your connection") from None
    return b"".join(chunks).decode("utf-8", errors="replace")


def recent_days(count: int, today: date | None = None) -> list[date]:
    """The last `count` days, oldest first, ending today."""
    from datetime import timedelta

    today = today or date.today()
    return [today - timedelta(days=back) for back in range(max(count, 1) - 1, -1, -1)]


def summary_line(added: int, known: int, days: Sequence[date]) -> str:
    """What a fetch brought, in one line: "12 new papers from Nov 29"."""
    when = day_label(days)
    if added:
        return f"{added} new paper{'s' if added != 1 else ''} from {when}"
    if known:
        return f"no new papers from {when} ({known} already in your library)"
    return f"no papers listed for {when}"
