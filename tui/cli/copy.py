"""`papershelf copy KEY [--as key|bibtex|markdown]`: to the system clipboard, or through
the terminal (OSC 52) where there is none."""

from __future__ import annotations

import sys

from tui.textsafe import terminal_safe
from tui.cli.output import EXIT_OK


def add_parsers(subparsers) -> None:
    p = subparsers.add_parser("copy", help="copy a paper's citation key, BibTeX or Markdown link",
                              description="Copy to the system clipboard, or through the terminal "
                                          "(OSC 52) where there is none, e.g. over SSH.")
    p.add_argument("key", help="paper key, citation key, or a unique prefix")
    p.add_argument("--as", dest="what", choices=("key", "bibtex", "markdown"), default="key",
                   help="what to copy: the citation key (default), the BibTeX entry, or a "
                        "Markdown link")
    p.set_defaults(handler=run_copy, flush_index=False)


def run_copy(args, lib) -> int:
    exports = lib.exports
    paper = lib.get(lib.resolve(args.key))
    text = exports.clipboard_text([paper], args.what)
    method = exports.copy(text, osc52=exports.osc52_to_terminal)
    if exports.uses_citekeys(args.what):
        lib.citekeys_used([paper.key])
    shown = {"key": "citation key", "bibtex": "BibTeX entry", "markdown": "Markdown link"}
    what = shown[args.what] + (f" {text}" if args.what == "key" else "")
    print(exports.copied_message(terminal_safe(what, single_line=True), method), file=sys.stderr)
    return EXIT_OK
