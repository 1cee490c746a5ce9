"""The `papershelf` command line. Bare `papershelf` opens the app.

This module must stay light: `papershelf search` runs as a whole process in well under a
quarter of a second, so Textual and Rich are imported only by the commands that need them.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from index.model import STATUSES, PapershelfError
from index.textsafe import TerminalSafeWriter, json_safe, terminal_safe

# Modules that add their own subcommands: each defines register(subparsers) and sets
# `handler=func(args, lib) -> int` on its parsers.
COMMAND_MODULES = ["tui.cli_export", "tui.cli_sources", "tui.cli_sync", "tui.cli_care",
                   "tui.cli_resolve", "tui.cli_completion", "tui.cli_daily"]

EXIT_OK, EXIT_USER_ERROR, EXIT_USAGE = 0, 1, 2
# Commands that bring in many changes at once start with the day's automatic backup.
DAILY_BACKUP_COMMANDS = {"import", "add", "sync", "resolve", "daily"}
# Commands that read or write the search index: when it has to be built first (a new engine,
# a library from an older version), they show that with a progress bar.
INDEX_COMMANDS = {"search", "import", "add", "export", "copy", "resolve", "daily"}


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("papershelf")
    except PackageNotFoundError:
        return "0+unknown"


class _VersionAction(argparse.Action):
    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="show the version and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"papershelf {version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="papershelf",
        description="A keyboard-driven reading list for research papers. "
                    "Run with no command to open the app.",
    )
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument("--data-dir", metavar="DIR",
                        help="library location (default: $PAPERSHELF_DATA_DIR or the per-user data dir)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("import", help="import Daily Papers pages and other files",
                       description="Import files; the format is detected from the content.")
    p.add_argument("files", nargs="*", metavar="FILE",
                   help="files to import; a folder imports the files in it")
    p.add_argument("-r", "--recursive", action="store_true",
                   help="with a folder, also import the files in its subfolders")
    p.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")
    p.add_argument("--watch", metavar="FOLDER", help="keep importing files dropped into FOLDER")
    p.add_argument("--resolve", action="store_true",
                   help="then look the imported titles up on arXiv (see `papershelf resolve -h`)")
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("search", help="full-text search", description=SEARCH_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("query", nargs="+", help="the query (several words are joined with spaces)")
    p.add_argument("--limit", type=int, default=20, metavar="N",
                   help="show at most N results (default 20)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_search)

    p = sub.add_parser("list", help="list papers, newest first (or --for-you)")
    p.add_argument("--starred", action="store_true", help="only starred papers")
    p.add_argument("--tag", metavar="T", help="only papers tagged T")
    p.add_argument("--status", choices=STATUSES, help="only papers with this read status")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="list at most N papers")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--for-you", action="store_true",
                   help="unread papers ranked by what you starred and read (default limit 20)")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("show", help="show one paper")
    p.add_argument("key", help="paper key, citation key, or a unique prefix")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_show)

    for name, value in (("star", True), ("unstar", False)):
        p = sub.add_parser(name, help=f"{name} papers")
        p.add_argument("keys", nargs="+", metavar="KEY",
                       help="papers: citation keys, arXiv ids, keys, or unique prefixes")
        p.set_defaults(handler=cmd_star, value=value)

    for name, adding in (("tag", True), ("untag", False)):
        p = sub.add_parser(name, help=("add tags to" if adding else "remove tags from") + " a paper")
        p.add_argument("key", help=KEY_HELP)
        p.add_argument("tags", nargs="+", metavar="TAG",
                       help="tags to " + ("add" if adding else "remove"))
        p.set_defaults(handler=cmd_tag, adding=adding)

    p = sub.add_parser("status", help="set read status")
    p.add_argument("key", help=KEY_HELP)
    p.add_argument("status", choices=STATUSES, help="the new read status")
    p.set_defaults(handler=cmd_status)

    p = sub.add_parser("note", help="edit a paper's note in $EDITOR (or set it with --text)")
    p.add_argument("key", help=KEY_HELP)
    p.add_argument("--text", help="the new note (use - to read standard input)")
    p.set_defaults(handler=cmd_note)

    p = sub.add_parser("reindex", help="rebuild the full-text index from the library")
    p.add_argument("--engine", choices=("whoosh", "sqlite"),
                   help="switch to this search engine (whoosh: the default; sqlite: SQLite FTS5, "
                        "faster for very large libraries); remembered in config.toml")
    p.set_defaults(handler=cmd_reindex, flush_index=False)

    p = sub.add_parser("stats", help="counts and locations")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_stats)

    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # that command group is not built yet
                continue
            raise
        module.register(sub)
    return parser


KEY_HELP = "paper: citation key, arXiv id, key, or a unique prefix of one"

SEARCH_HELP = """\
Search the library. Query language:
  words            all words, ranked (title counts most, then authors, tags, abstract, notes)
  "a phrase"       exact phrase
  trans*           prefix (on titles and authors)
  a OR b, NOT c    boolean operators; parentheses group
  title:x author:x year:2024 source:bibtex     field filters
  is:starred  is:unread|reading|read  tag:x    your own state
"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if "_ARGCOMPLETE" in os.environ:  # the shell asks what to complete (completion script)
        from tui.cli_completion import complete

        complete(parser)
    # Every string a command prints, argparse's errors echoing arguments included, passes one
    # terminal-safe filter. The app draws the terminal itself: it gets the real streams.
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = TerminalSafeWriter(sys.stdout), TerminalSafeWriter(sys.stderr)
    try:
        args = parser.parse_args(argv)
        if args.command is not None:
            return run_command(args)
    finally:
        sys.stdout, sys.stderr = streams
    return open_app(args)


def run_command(args) -> int:
    from index.library import Library

    try:
        if not getattr(args, "needs_library", True):  # restore works on a damaged library
            return args.handler(args, None)
        with Library.open(args.data_dir) as lib:
            backup_warning = None
            if args.command in DAILY_BACKUP_COMMANDS:
                backup_warning = take_daily_backup(lib)
            if args.command in INDEX_COMMANDS and not getattr(args, "dry_run", False):
                prepare_index(lib)
            code = args.handler(args, lib)
            if backup_warning and code == EXIT_OK:  # a failed command's own error says enough
                print(backup_warning, file=sys.stderr)
            if (getattr(args, "flush_index", True) and (reason := lib.try_flush_index())
                    and not lib.index_problem_reported):
                print(f"papershelf: saved; the search index was not updated ({reason}); "
                      "it catches up on the next run", file=sys.stderr)
            return code
    except PapershelfError as exc:
        print(f"papershelf: {terminal_safe(str(exc), single_line=True)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("papershelf: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `papershelf list | head` closed our output early: normal, not an error. Point stdout
        # at /dev/null so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def prepare_index(lib) -> None:
    """Open the search index, building it first (with a progress bar) when it is missing,
    damaged or of another version."""
    if lib.index_ready():
        return
    with progress_bar(f"building the search index ({lib.engine_name})") as bar:
        lib.reindex(progress=bar.update)


def take_daily_backup(lib) -> str | None:
    """The day's automatic backup. Failing to take it never blocks the command: returns a
    warning to show once the command has succeeded, or None."""
    from index.backup import daily_backup

    try:
        daily_backup(lib)
    except Exception as exc:  # noqa: BLE001 - a backup problem must not stop an import
        reason = terminal_safe(str(exc), single_line=True)
        return f"papershelf: warning: no automatic backup today ({reason})"
    return None


def open_app(args) -> int:
    try:
        from tui.app import run_app
    except ModuleNotFoundError as exc:
        if exc.name != "tui.app":
            raise
        build_parser().print_help()
        return EXIT_OK
    try:
        return run_app(args.data_dir)
    except PapershelfError as exc:
        print(f"papershelf: {terminal_safe(str(exc), single_line=True)}", file=sys.stderr)
        return EXIT_USER_ERROR


# ---- output helpers ----------------------------------------------------------------------------

def progress_bar(description: str, then: str | None = None):
    """A Rich progress bar on stderr (silent when stderr is not a terminal)."""
    from tui.cli_progress import ProgressBar

    return ProgressBar(description, then=then)


def paper_json(paper) -> dict:
    return {
        "key": paper.key, "citekey": paper.citekey, "title": paper.title, "authors": paper.authors,
        "year": paper.year, "listing_date": paper.listing_date, "arxiv_id": paper.arxiv_id,
        "doi": paper.doi, "url": paper.best_url, "links": paper.links, "sources": paper.sources,
        "starred": paper.starred, "status": paper.status, "tags": paper.tags, "note": paper.note,
    }


def paper_line(paper) -> str:
    star = "*" if paper.starred else " "
    tags = f"  [{', '.join(paper.tags)}]" if paper.tags else ""
    title = terminal_safe(paper.display_title, single_line=True)
    return f"{star} {paper.citekey or paper.key:<24} {title}{terminal_safe(tags)}  ({paper.status})"


def describe(paper, width: int = 60) -> str:
    """How a message names a paper: its citation key and title (shortened), terminal-safe."""
    title = terminal_safe(paper.title, single_line=True)
    if len(title) > width:
        title = title[:width - 1].rstrip() + "…"
    name = terminal_safe(paper.citekey or paper.key, single_line=True)
    return f"{name} “{title}”"


def print_json(data) -> None:
    """JSON for scripts: readable non-ASCII, but C1 controls and bidi overrides as \\u escapes."""
    print(json_safe(json.dumps(data, ensure_ascii=False, indent=2)))


def print_report_problems(report) -> None:
    for notice in report.notices:
        print(f"note: {terminal_safe(str(notice), single_line=True)}", file=sys.stderr)
    for problem in report.rejected:
        print(f"rejected: {terminal_safe(str(problem), single_line=True)}", file=sys.stderr)


def print_report(report, *, dry_run: bool = False) -> None:
    print_report_problems(report)
    prefix = "dry run, would have: " if dry_run else ""
    print(prefix + report.summary())


# ---- commands ----------------------------------------------------------------------------------

def cmd_import(args, lib) -> int:
    if args.watch:
        from index.watch import watch_folder

        def show(path, report):
            print(f"{terminal_safe(str(path))}: {report.summary()}", flush=True)
            print_report_problems(report)

        print(f"watching {terminal_safe(args.watch)} (ctrl+c to stop)", file=sys.stderr)
        try:
            watch_folder(lib, Path(args.watch), on_report=show)
        except KeyboardInterrupt:  # the normal way to stop watching
            print("stopped watching", file=sys.stderr)
        return EXIT_OK
    if not args.files:
        print("papershelf import: give one or more files (or --watch FOLDER)", file=sys.stderr)
        return EXIT_USAGE
    # once every paper is stored, the search index is updated: seconds for a big import
    with progress_bar("importing", then="indexing") as bar:
        report = lib.import_files(args.files, dry_run=args.dry_run, progress=bar.update,
                                   recursive=args.recursive)
    print_report(report, dry_run=args.dry_run)
    if args.resolve and not args.dry_run and (report.added or report.merged or report.unchanged):
        from tui.cli_resolve import resolve_and_report

        return resolve_and_report(lib, report.added + report.merged + report.unchanged)
    return EXIT_USER_ERROR if report.rejected and not (report.added or report.merged or report.unchanged) else EXIT_OK


def cmd_search(args, lib) -> int:
    from index.highlight import snippet

    hits = lib.search(" ".join(args.query), limit=args.limit)
    if hits.error or hits.hint:
        raise PapershelfError(f"bad query: {hits.error or hits.hint}")
    papers = lib.get_many(hits.keys)
    if args.json:
        print_json({"total": hits.total, "suggestion": hits.suggestion,
                    "results": [paper_json(p) for p in papers]})
        return EXIT_OK
    bold = sys.stdout.isatty()
    for paper in papers:
        print(paper_line(paper))
        text, spans = snippet(terminal_safe(paper.display_abstract, single_line=True), hits.terms, width=150)
        if text:
            print("      " + _mark(text, spans, bold))
    shown = f"{len(papers)} of {hits.total}" if hits.total > len(papers) else str(hits.total)
    print(f"{shown} result{'s' if hits.total != 1 else ''}", file=sys.stderr)
    if hits.suggestion:
        print(f"did you mean: {terminal_safe(hits.suggestion, single_line=True)}", file=sys.stderr)
    return EXIT_OK


def _mark(text: str, spans, bold: bool) -> str:
    start_mark, end_mark = ("\x1b[1m", "\x1b[0m") if bold else ("", "")
    if not bold:
        return text
    out, last = [], 0
    for start, end in spans:
        out += [text[last:start], start_mark, text[start:end], end_mark]
        last = end
    out.append(text[last:])
    return "".join(out)


def cmd_list(args, lib) -> int:
    if args.for_you:
        from tui.cli_foryou import list_for_you

        return list_for_you(args, lib)
    papers = lib.list_papers(starred=True if args.starred else None, tag=args.tag,
                             status=args.status, limit=args.limit)
    if args.json:
        print_json([paper_json(p) for p in papers])
    else:
        for paper in papers:
            print(paper_line(paper))
    return EXIT_OK


def cmd_show(args, lib) -> int:
    from index.sync import unsettled_versions

    paper = lib.get(lib.resolve(args.key))
    versions = unsettled_versions(lib, paper.key)
    if args.json:
        print_json(paper_json(paper) | {"abstract": paper.abstract,
                                        "unsettled_note_versions": versions,
                                        "citekey_provisional":
                                            bool(lib.provisional_citekeys([paper.key]))})
        return EXIT_OK
    safe = lambda s: terminal_safe(s or "")  # noqa: E731
    provisional = " (provisional: becomes author+year+word when resolved, until used)" \
        if lib.provisional_citekeys([paper.key]) else ""
    date = " ".join(str(part) for part in (paper.year, safe(paper.listing_date)) if part)
    lines = [
        safe(paper.display_title),
        f"  key:      {paper.key}   citekey: {safe(paper.citekey)}{provisional}",
        f"  authors:  {safe(', '.join(paper.authors)) or '-'}",
        f"  date:     {date or '-'}",
        f"  status:   {paper.status}{'   starred' if paper.starred else ''}",
        f"  tags:     {safe(', '.join(paper.tags)) or '-'}",
        f"  url:      {safe(paper.best_url) or '-'}",
        f"  sources:  {safe(', '.join(paper.sources))}",
    ]
    if paper.links:
        lines.append(f"  links:    {safe(' '.join(paper.links))}")
    abstract = paper.display_abstract
    if abstract and abstract.strip():  # no empty paragraph for a missing abstract
        lines += ["", safe(abstract).strip()]
    if paper.note and not versions:
        lines += ["", "Note:", safe(paper.note).rstrip("\n")]  # ends with exactly one newline
    if versions:
        lines += ["", f"Note: {len(versions)} unsettled versions"]
        for version in versions:
            lines += ["", f"  from device {version['device']} at {version['time']}:",
                      safe(version["text"]).rstrip("\n")]
        lines += ["", f"Settle them with `papershelf sync --resolve {paper.key} --keep "
                  "mine|theirs|both|merged`, or press n on the paper in the app."]
    print("\n".join(lines))
    return EXIT_OK


def cmd_star(args, lib) -> int:
    keys = [lib.resolve(key) for key in args.keys]  # every key checked before anything changes
    lib.set_star_many(keys, args.value)
    for paper in lib.get_many(list(dict.fromkeys(keys))):
        print(f"{'starred' if args.value else 'unstarred'} {describe(paper)}")
    return EXIT_OK


def cmd_tag(args, lib) -> int:
    key = lib.resolve(args.key)
    if args.adding:
        lib.add_tags(key, args.tags)
    else:
        lib.remove_tags(key, args.tags)
    paper = lib.get(key)
    print(f"{describe(paper)}: tags {terminal_safe(', '.join(paper.tags)) or '(none)'}")
    return EXIT_OK


def cmd_status(args, lib) -> int:
    key = lib.resolve(args.key)
    lib.set_status(key, args.status)
    print(f"{describe(lib.get(key))}: {args.status}")
    return EXIT_OK


def cmd_note(args, lib) -> int:
    key = lib.resolve(args.key)
    if args.text is not None:
        text = sys.stdin.read() if args.text == "-" else args.text
        changed = lib.set_note(key, text)
        print(f"{describe(lib.get(key))}: note {'saved' if changed else 'unchanged'}")
        return EXIT_OK
    opened = lib.note_version(key)  # the editor may stay open while another process saves
    text = _edit_in_editor(lib.get(key).note)
    if text is None:
        print("note unchanged", file=sys.stderr)
        return EXIT_OK
    outcome = lib.save_note(key, text, opened)
    named = describe(lib.get(key))
    if outcome == "conflict":
        print(f"{named}: the note changed while you edited it; both versions are kept "
              f"(see `papershelf show {key}`)")
        return EXIT_OK
    if outcome == "merged":
        print(f"{named}: note saved, merged with a change made meanwhile")
        return EXIT_OK
    print(f"{named}: note {outcome}")
    return EXIT_OK


def _edit_in_editor(current: str) -> str | None:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False, encoding="utf-8") as handle:
        handle.write(current)
        path = Path(handle.name)
    try:
        try:
            result = subprocess.run([*editor.split(), str(path)])
        except FileNotFoundError:
            raise PapershelfError(f"editor {editor!r} not found; set $EDITOR or use --text") from None
        if result.returncode != 0:
            raise PapershelfError(f"editor exited with status {result.returncode}; note not saved")
        text = path.read_text(encoding="utf-8")
    finally:
        path.unlink(missing_ok=True)
    return None if text == current else text


def cmd_reindex(args, lib) -> int:
    engine = args.engine or lib.engine_name
    with progress_bar(f"indexing ({engine})") as bar:
        count = lib.reindex(progress=bar.update, engine=args.engine)
    print(f"indexed {count} paper{'' if count == 1 else 's'} with the {engine} engine"
          + (" (now the engine in config.toml)" if args.engine else ""))
    return EXIT_OK


def cmd_stats(args, lib) -> int:
    stats = lib.stats()
    if args.json:
        print_json(stats)
        return EXIT_OK
    status = stats["status"]
    print(f"papers:   {stats['papers']}  (starred {stats['starred']}, unread {status['unread']}, "
          f"reading {status['reading']}, read {status['read']})")
    print(f"tags:     {stats['tags']}")
    print(f"engine:   {stats['engine']} (search index)")
    print(f"data dir: {stats['data_dir']}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
