"""`papershelf daily [--date YYYY-MM-DD] [--days N]`: fetch Hugging Face Daily Papers.

Offline, an HTTP error, a stalled server or an answer that is not Daily Papers JSON is one
line on stderr (PapershelfError, printed by the entry point) and nothing is stored. Fetching
the same day again changes nothing. New papers are ranked "for you" before the command ends
(saved for the app: index/foryou_saved.py).
"""

from __future__ import annotations

import argparse

from tui.cli.output import ProgressBar, print_report_problems, report_exit_code

DAILY_HELP = """\
Fetch the Hugging Face Daily Papers list of a day (default: today) or of the last N days,
and add its papers to the library (arXiv ids, authors, abstracts, dates, code links).

examples:
  papershelf daily
  papershelf daily --date 2026-11-27
  papershelf daily --days 3

$PAPERSHELF_HF_API overrides the API address (default https://huggingface.co/api/daily_papers).
"""


def add_parsers(subparsers) -> None:
    p = subparsers.add_parser("daily", help="fetch the Hugging Face Daily Papers of a day",
                              description=DAILY_HELP,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--date", type=_parse_date, metavar="YYYY-MM-DD",
                   help="the day to fetch (default: today)")
    p.add_argument("--days", type=_positive, default=1, metavar="N",
                   help="fetch the N days ending with --date (default 1)")
    p.add_argument("--timeout", type=float, default=15.0, metavar="SECONDS",
                   help="give up on the server after this long (default 15)")
    p.set_defaults(handler=run_daily)


def _parse_date(text: str):
    from datetime import date  # only when --date is given: not at every start-up

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in the form YYYY-MM-DD: {text!r}") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 60:
        raise argparse.ArgumentTypeError(f"a number of days from 1 to 60, not {text!r}")
    return value


def run_daily(args, lib) -> int:
    days = lib.recent_days(args.days, args.date)
    report, line = lib.fetch_daily(days, timeout=args.timeout)
    print_report_problems(report)
    print(line)
    if report.added:
        # the morning routine goes on in the app with "for you": rank the new papers now,
        # while the person reads this line; the app then shows the saved ranking at once
        with ProgressBar("ranking for you") as bar:
            lib.for_you(progress=bar.update)
    return report_exit_code(report)

