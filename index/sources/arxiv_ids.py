"""Plain lists of arXiv ids: one per line, as ids, arxiv.org/abs|pdf URLs or
huggingface.co/papers/<id> URLs. `#` starts a comment (whole line or after the id); other
words on a line that starts with an id are taken as a note and ignored. A line with no id
is a problem with its line number.

A list names papers but says nothing about them, so parse() returns one record per id with
`title = "arXiv:<id>"` and extra["needs_fetch"] = True; the title is a placeholder that is
visible as such, never a guess. Whoever stores these records fetches the metadata first:
`papershelf add ID...` (tui/cli/add.py) and `Library.import_files` both call
`index.arxiv_api.fetch_arxiv`, which returns the real records and turns every id arXiv does
not know into a rejected problem. parse() itself stays offline, so detecting the format, the
fuzz tests and dry runs never touch the network.

The version is stripped from `arxiv_id` (the paper key must not change between versions) and
kept in extra["arxiv_version"]. The same id twice in one list is read once.
"""

from __future__ import annotations

import os
import re

from index.model import ParseResult, PaperRecord, Problem, strip_arxiv_version

FORMAT = "arxiv-ids"

_ID_BODY = r"(?:\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?"
_BARE = re.compile(rf"(?:arxiv:\s*)?({_ID_BODY})", re.I)
_URL = re.compile(
    rf"(?:https?://)?(?:www\.|export\.)?(?:arxiv\.org/(?:abs|pdf|html)|"
    rf"huggingface\.co/papers|hf\.co/papers|alphaxiv\.org/abs)/({_ID_BODY})(?:\.pdf)?/?"
    r"(?:[?#]\S*)?",
    re.I,
)


def extract_id(token: str) -> str | None:
    """The arXiv id (with its version, if given) in one id or URL; None if it is neither."""
    token = token.strip().strip("<>").rstrip(".,;")
    match = _URL.fullmatch(token) or _BARE.fullmatch(token)
    return match.group(1) if match else None


def _content(line: str) -> str:
    return line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""


def sniff(text: str) -> float:
    lines = [c for c in (_content(l) for l in text[:65536].splitlines()) if c]
    if not lines:
        return 0.0
    sample = lines[:200]
    good = sum(1 for c in sample if extract_id(c.split()[0]))
    if good == len(sample):
        return 0.9
    if good / len(sample) >= 0.5:  # a list with a few typos is still a list
        return 0.6
    return 0.0


def source_label(source: str) -> str:
    return f"{FORMAT}:{os.path.basename(source) or source}"


def record_for(arxiv_id: str, *, source: str = "", line: int | None = None) -> PaperRecord:
    """A placeholder record for an id whose metadata is still to be fetched."""
    extra: dict = {"needs_fetch": True}
    version = re.search(r"(v\d+)$", arxiv_id)
    if version:
        extra["arxiv_version"] = version.group(1)
    bare = strip_arxiv_version(arxiv_id)
    return PaperRecord(title=f"arXiv:{bare}", arxiv_id=bare, source=source, extra=extra, line=line)


def parse(text: str, source: str) -> ParseResult:
    result = ParseResult(format=FORMAT)
    label = source_label(source)
    seen: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        content = _content(raw)
        if not content:
            continue
        found_ids = [i for i in (extract_id(t) for t in content.split()) if i]
        if not found_ids:
            shown = content if len(content) <= 80 else content[:77] + "..."
            result.problems.append(Problem(f"not an arXiv id or URL: {shown!r}", number))
            continue
        for found in found_ids:  # other words on a line with an id are a note to oneself
            bare = strip_arxiv_version(found).lower()
            if bare in seen:
                continue
            seen.add(bare)
            result.records.append(record_for(found, source=label, line=number))
    return result
