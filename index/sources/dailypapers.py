"""Hugging Face Daily Papers pages saved as text (copy-paste or "save as text").

Two shapes occur (see docs/ARCHITECTURE.md, "Daily Papers page text"):

* dense: no blank lines; banner lines, then "Subscribe" glued to the first title
  ("SubscribeBRIO: ..."), then title and abstract lines alternate;
* spaced: a blank line between all lines; banner lines ("new", "Subscribe", "Daily Papers",
  "byAK and the research community"), a listing date such as "Aug 20" (no year), then title
  and abstract lines alternate.

Blank lines carry no meaning here, so both shapes (and a mix of them, e.g. pages pasted one
after another) go through the same path: drop blank and banner lines, remember the latest
listing date, then label every remaining line "title" or "abstract".

Labelling is a two-state Viterbi pass. The alternation title, abstract, title, abstract ... is
free; each break in it (a title followed by a title, an abstract with no title before it, a
page that starts with an abstract or ends with a title) costs a fixed penalty. Each line also
carries a score saying how title-like it is (length, a full stop at the end, sentence breaks,
word count, Title Case). So a short or cut-off abstract in an abstract's place stays an
abstract, and only clear evidence over several lines makes the parser report a break. Every
break becomes a `Problem` with its line number, and every intact pair still becomes a record.
"""

from __future__ import annotations

import re
from pathlib import Path

from index.model import ParseResult, PaperRecord, Problem

FORMAT = "dailypapers"

# Page chrome. Compared after stripping surrounding whitespace, case-sensitively.
BANNER_LINES = frozenset(
    {
        "new",
        "Get trending papers in your email inbox once a day!",
        "Get trending papers in your email inbox!",
        "Subscribe",
        "Daily Papers",
        "byAK and the research community",
    }
)
_SUBSCRIBE = "Subscribe"
# "Subscriber ...", "Subscribed ..." are words, not the button glued to a title.
_SUBSCRIBE_WORD = re.compile(r"Subscribe(?:rs?|d|s)\b")

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
_MONTH_NAMES = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
)
# The listing date the page prints above the papers, e.g. "Aug 20" (a year is allowed if a
# page ever shows one; it is kept as printed and never turned into a paper's year).
# "20 Aug" (day first) is accepted too.
DATE_LINE = re.compile(
    rf"(?:(?:{_MONTH}\.?|{_MONTH_NAMES})\s+\d{{1,2}}|\d{{1,2}}\s+(?:{_MONTH}\.?|{_MONTH_NAMES}))"
    rf"(?:,?\s+\d{{4}})?"
)

# The host must start with a letter or digit (or "[" for an IPv6 literal). A URL ends at a
# brace, angle bracket or quote: arXiv listings replace links by `{this http URL}`, and what
# follows the brace is that placeholder, not part of the address.
_URL = re.compile(r"https?://[\w\[][^\s<>\"'`{}]*")
_URL_ANY_CASE = re.compile(_URL.pattern, re.IGNORECASE)  # 6x slower: only when needed
# Trailing characters that end a sentence rather than a URL.
_URL_TRAILING = ".,;:!?)]'\"*…>"
_URL_PAIRS = {")": "(", "]": "["}

# A sentence break: a lowercase word of 3+ letters, a full stop, space, a capital. Skips
# "vs. Incremental" (2 letters), "et al. In" (2 letters) and "Dr. No" (capital first).
_SENTENCE_BREAK = re.compile(r"(?<=[a-z][a-z][a-z])\.\s+[A-Z]")

# Words that Title Case leaves in lower case; ignored when measuring capitalisation.
_SMALL_WORDS = frozenset(
    "with from into onto over upon than that this when what without within towards toward "
    "through across under between beyond using via about after before during".split()
)

# Viterbi costs (log-odds units). PENALTY is the cost of one break in the alternation.
PENALTY = 4.0
_TITLE, _ABSTRACT = 0, 1
_MAX_QUOTE = 60
NO_PAPERS = "not a Hugging Face Daily Papers page: it has no papers (no titles or abstracts)"
_MAX_PROBLEMS_WITHOUT_RECORDS = 20
_SNIFF_CHARS = 64 * 1024


def _quote(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > _MAX_QUOTE:
        text = text[: _MAX_QUOTE - 3].rstrip() + "..."
    return repr(text)


def title_score(line: str) -> float:
    """How title-like a (stripped, non-empty) line is: > 0 title, < 0 abstract.

    Titles on the page are up to ~160 characters, Title Case or sentence case, with no full
    stop at the end. Abstracts are sentences: usually hundreds of characters, full stops,
    sentence breaks. Page-truncated abstracts can be short, which is why this is only a
    score and the alternation decides when the evidence is weak.
    """
    n = len(line)
    if n >= 600:
        return -12.0
    if n < 160:
        score = 2.0
    elif n < 260:
        score = 0.0
    elif n < 400:
        score = -3.0
    else:
        score = -6.0
    last = line[-1]
    if last == "." or last == "\u2026":  # a full stop, or the ellipsis of a cut abstract
        score -= 3.0
    elif last not in "?!":
        score += 0.5
    if n >= 400:
        return score  # clearly an abstract already
    if len(line.split(None, 2)) < 3:
        score += 6.0  # one or two words: an odd title, but not an abstract, even a cut one
    breaks = len(_SENTENCE_BREAK.findall(line))
    score -= min(breaks, 2) * 3.0
    if n >= 260:
        return score  # long enough that word shape adds nothing
    words = line.split()
    if len(words) > 30:
        score -= 2.0
    long_words = [
        w for w in words if len(w) >= 4 and w[0].isalpha() and w.casefold() not in _SMALL_WORDS
    ]
    if len(long_words) >= 3:
        capital = sum(1 for w in long_words if w[0].isupper()) / len(long_words)
        if capital >= 0.75 and long_words[-1][0].isupper():
            # Title Case to the end: a title. (An abstract cut short can start in capitals,
            # "Large Language Models (LLMs) have", but then ends in a lower-case word.)
            score += 7.0
        elif capital >= 0.5:
            score += 3.0
        elif capital < 0.25 and len(words) >= 6:
            score -= 1.0
    return score


def extract_links(text: str) -> list[str]:
    """http(s) URLs in `text`, in order, without duplicates.

    Sentence punctuation after a URL is dropped ("see https://x.org/a." -> "https://x.org/a"),
    as is a closing bracket the URL did not open ("(https://x.org/a)"), but balanced brackets
    inside a URL stay ("https://en.wikipedia.org/wiki/Foo_(bar)").
    """
    links: list[str] = []
    if "://" not in text:
        return links
    seen: set[str] = set()
    pattern = _URL_ANY_CASE if ("HTTP" in text or "Http" in text) else _URL
    for match in pattern.finditer(text):
        url = match.group(0)
        while url[-1] in _URL_TRAILING:
            closer = url[-1]
            opener = _URL_PAIRS.get(closer)
            if opener is not None and url.count(opener) >= url.count(closer):
                break  # balanced: part of the URL
            url = url[:-1]
        if url not in seen:
            seen.add(url)
            links.append(url)
    return links


def _split_lines(text: str) -> list[str]:
    # Line numbers count "\n" like every editor; "\r\n" leaves a "\r" that strip() removes.
    # A file that uses lone "\r" (classic Mac) has no "\n" at all: split on "\r" then.
    if "\n" not in text and "\r" in text:
        return text.split("\r")
    return text.split("\n")


def _content_lines(text: str) -> tuple[list[tuple[int, str, str | None]], int]:
    """(line number, stripped text, listing date in force) for every content line.

    Drops blank lines, banner lines and date lines, and the "Subscribe" glued to a title.
    Also returns how many banner/date lines were seen.
    """
    out: list[tuple[int, str, str | None]] = []
    date: str | None = None
    banners = 0
    after_banner = True  # the page start counts as "after the banner" for a glued Subscribe
    for number, raw in enumerate(_split_lines(text), 1):
        line = raw.strip()
        if not line:
            continue
        if line in BANNER_LINES:
            banners += 1
            after_banner = True
            continue
        if len(line) <= 20 and DATE_LINE.fullmatch(line):
            banners += 1
            date = line
            after_banner = True
            continue
        if (
            after_banner
            and line.startswith(_SUBSCRIBE)
            and len(line) > len(_SUBSCRIBE)
            and not _SUBSCRIBE_WORD.match(line)
        ):
            banners += 1
            line = line[len(_SUBSCRIBE) :].strip()
        after_banner = False
        out.append((number, line, date))
    return out, banners


def _label(scores: list[float]) -> list[int]:
    """Most likely title/abstract labels given per-line title scores (two-state Viterbi)."""
    n = len(scores)
    if n == 0:
        return []
    # best[s]: best total when the current line has label s. Emission: +score for a title,
    # 0 for an abstract (only the difference matters: every line gets exactly one label).
    back: list[tuple[int, int]] = []
    t = scores[0]  # start -> title: free
    a = -PENALTY  # start -> abstract: an abstract with no title before it
    for s in scores[1:]:
        # into title: from abstract (free) or from title (title had no abstract)
        if a >= t - PENALTY:
            new_t, bt = a + s, _ABSTRACT
        else:
            new_t, bt = t - PENALTY + s, _TITLE
        # into abstract: from title (free) or from abstract (abstract with no title)
        if t >= a - PENALTY:
            new_a, ba = t, _TITLE
        else:
            new_a, ba = a - PENALTY, _ABSTRACT
        back.append((bt, ba))
        t, a = new_t, new_a
    state = _ABSTRACT if a >= t - PENALTY else _TITLE  # ending on a title costs a break
    labels = [state] * n
    for i in range(n - 1, 0, -1):
        state = back[i - 1][state]
        labels[i - 1] = state
    return labels


def parse(text: str, source: str = "") -> ParseResult:
    """Records for every title/abstract pair on the page; problems for what does not pair."""
    if isinstance(text, bytes | bytearray):  # be forgiving; the contract says text
        text = bytes(text).decode("utf-8", errors="replace")
    text = text.removeprefix("\ufeff")
    source_tag = f"{FORMAT}:{Path(source).name}" if source else f"{FORMAT}:"
    result = ParseResult(format=FORMAT)
    lines, _ = _content_lines(text)
    if not lines:
        result.problems.append(Problem(NO_PAPERS))
        return result

    labels = _label([title_score(line) for _, line, _ in lines])
    problems: list[Problem] = []
    last = len(lines) - 1
    for i, (number, line, date) in enumerate(lines):
        if labels[i] == _TITLE:
            if i < last and labels[i + 1] == _ABSTRACT:
                abstract = lines[i + 1][1]
                result.records.append(
                    PaperRecord(
                        title=line,
                        abstract=abstract,
                        listing_date=date,
                        links=extract_links(abstract),
                        source=source_tag,
                        line=number,
                    )
                )
            elif i == last:
                problems.append(
                    Problem(
                        f"title with no abstract after it (the page ends here; it may be cut "
                        f"off): {_quote(line)}",
                        number,
                    )
                )
            else:
                problems.append(Problem(f"title with no abstract after it: {_quote(line)}", number))
        elif i == 0 or labels[i - 1] != _TITLE:
            problems.append(
                Problem(
                    f"abstract with no title before it (where a title should be): {_quote(line)}",
                    number,
                )
            )

    if not result.records:
        result.problems.append(
            Problem("not a Hugging Face Daily Papers page: no title/abstract pairs found")
        )
        if len(problems) > _MAX_PROBLEMS_WITHOUT_RECORDS:
            more = len(problems) - _MAX_PROBLEMS_WITHOUT_RECORDS
            problems = problems[:_MAX_PROBLEMS_WITHOUT_RECORDS]
            problems.append(Problem(f"... and {more} more lines that do not pair up"))
    result.problems.extend(problems)
    return result


_OTHER_FORMAT_START = re.compile(r"\s*(?:<|\{|\[\s*[{\[\"\]]|%|@[A-Za-z]+\s*[{(])")
_BIBTEX_ENTRY = re.compile(r"^\s*@[A-Za-z]+\s*[{(]", re.MULTILINE)


def sniff(text: str) -> float:
    """0.0 .. 1.0: how sure we are this is a Daily Papers page, from the content only."""
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8", errors="replace")
    head = text[:_SNIFF_CHARS].removeprefix("\ufeff")
    if not head.strip():
        return 0.0
    lines, banners = _content_lines(head)
    lines = lines[:60]
    if _OTHER_FORMAT_START.match(head) and banners < 2:
        return 0.02  # XML/HTML, JSON, BibTeX, a TeX/BibTeX comment
    if banners >= 2 and lines:
        return 0.95
    if _BIBTEX_ENTRY.search(head):
        return 0.05
    if banners == 1 and lines:
        score = 0.6
    else:
        score = 0.0
    # Alternation: the lines pair up as title, abstract with clear evidence on both sides.
    if len(lines) >= 2:
        if len(text) > _SNIFF_CHARS and len(lines) > 2:
            lines = lines[:-1]  # the last line may be cut by the sniff window
        scores = [title_score(line) for _, line, _ in lines]
        labels = _label(scores)
        clear = sum(
            1
            for i in range(len(lines) - 1)
            if labels[i] == _TITLE
            and labels[i + 1] == _ABSTRACT
            and scores[i] > 0
            and scores[i + 1] < -2.0
        )
        coverage = 2 * clear / len(lines)
        if clear >= 3 and coverage >= 0.75:
            score = max(score, 0.6 + 0.3 * coverage)
        elif clear >= 1 and coverage >= 0.99:
            score = max(score, 0.55)
        elif clear >= 1 and coverage >= 0.5:
            score = max(score, 0.3)
    return min(score + (0.1 if banners == 1 and score >= 0.6 else 0.0), 0.95)
