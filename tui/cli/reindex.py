"""`papershelf reindex [--engine whoosh|sqlite]`: rebuild the full-text index."""

from __future__ import annotations

from tui.cli.output import EXIT_OK, ProgressBar


def add_parsers(subparsers) -> None:
    p = subparsers.add_parser("reindex", help="rebuild the full-text index from the library")
    p.add_argument("--engine", choices=("whoosh", "sqlite"),
                   help="switch to this search engine (whoosh: the default; sqlite: SQLite FTS5, "
                        "faster for very large libraries); remembered in config.toml")
    p.set_defaults(handler=run_reindex, flush_index=False)


def run_reindex(args, lib) -> int:
    engine = args.engine or lib.engine_name
    with ProgressBar(f"indexing ({engine})") as bar:
        count = lib.reindex(progress=bar.update, engine=args.engine)
    print(f"indexed {count} paper{'' if count == 1 else 's'} with the {engine} engine"
          + (" (now the engine in config.toml)" if args.engine else ""))
    return EXIT_OK
