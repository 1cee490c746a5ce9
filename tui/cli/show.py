"""`papershelf show KEY`: one paper in full, with any unsettled versions of its note."""

from __future__ import annotations

from tui.textsafe import terminal_safe
from tui.cli.output import EXIT_OK, paper_json, print_json


def add_parsers(subparsers) -> None:
    p = subparsers.add_parser("show", help="show one paper")
    p.add_argument("key", help="paper key, citation key, or a unique prefix")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run_show)


def run_show(args, lib) -> int:
    paper = lib.get(lib.resolve(args.key))
    versions = lib.sync.unsettled_versions(paper.key)
    if args.json:
        print_json(paper_json(paper) | {"abstract": paper.abstract,
                                        "unsettled_note_versions": versions,
                                        "citekey_provisional":
                                            bool(lib.provisional_citekeys([paper.key]))})
        return EXIT_OK
    print("\n".join(_lines(lib, paper, versions)))
    return EXIT_OK


def _lines(lib, paper, versions) -> list[str]:
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
    return lines
