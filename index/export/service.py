"""The export verbs the front ends share, handed out as `Library.exports`.

One rule each, whichever front end asks: which papers a `Selection` means, how many there are
(counted in SQL, never by loading papers), writing or rendering them in a format, and what a
copy puts on the clipboard.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from index.model import ExportOptions, Paper, PapershelfError, Selection

Progress = Callable[[int, int], None]
# What `copy` can put on the clipboard, and how the message names it.
COPY_KINDS = {"key": "citation key", "bibtex": "BibTeX entry", "markdown": "Markdown link"}


class Exports:
    def __init__(self, lib):
        self.lib = lib

    def papers(self, selection: Selection) -> list[Paper]:
        """The papers `selection` means, in the order the front ends list them."""
        lib = self.lib
        if selection.keys is not None:
            return lib.get_many(list(dict.fromkeys(selection.keys)))
        if selection.query is not None:
            return lib.get_many(lib.keys_matching(selection.query))
        if selection.starred:
            return lib.list_papers(starred=True)
        if selection.tag is not None:
            return lib.list_papers(tag=selection.tag)
        return list(lib.all_papers())

    def count(self, selection: Selection) -> int:
        """len(self.papers(selection)), without reading a paper."""
        lib = self.lib
        if selection.keys is not None:
            return len(set(selection.keys))
        if selection.query is not None:
            return lib.search(selection.query, limit=1).total
        if selection.starred:
            return lib.count(starred=True)
        if selection.tag is not None:
            return lib.count(tag=selection.tag)
        return lib.count()

    @staticmethod
    def render(papers: Sequence[Paper], fmt: str, options: ExportOptions | None = None,
               progress: Progress | None = None) -> str:
        """The text of a one-file format (bibtex, markdown)."""
        from index.export import render

        return render(papers, fmt, options, progress)

    @staticmethod
    def write(papers: Sequence[Paper], fmt: str, destination, options: ExportOptions | None = None,
              progress: Progress | None = None) -> str:
        """Write a file (bibtex, markdown) or a folder of notes (obsidian): a one-line summary.
        The caller then marks the papers' citation keys used (`Library.citekeys_used`)."""
        from index.export import write_export

        return write_export(papers, fmt, destination, options, progress)

    @staticmethod
    def clipboard_text(papers: Sequence[Paper], what: str) -> str:
        """What a copy of these papers as `what` (COPY_KINDS) puts on the clipboard."""
        if what == "key":
            from index.export.bibtex import citekey_for

            return ", ".join(citekey_for(paper) for paper in papers)
        if what == "bibtex":
            from index.export.bibtex import export_bibtex

            return export_bibtex(papers)
        if what == "markdown":
            from index.clipboard import markdown_link

            return "\n".join(markdown_link(paper) for paper in papers)
        raise PapershelfError(f"cannot copy as {what!r}; use {', '.join(COPY_KINDS)}")

    @staticmethod
    def copy(text: str, *, osc52: Callable[[str], None] | None = None) -> str:
        """Put `text` on the system clipboard, else send it through the terminal with `osc52`
        (the CLI: `Exports.osc52_to_terminal`; the app: Textual's copy_to_clipboard). Returns
        how it went (index.clipboard.SYSTEM or TERMINAL) for `copied_message`."""
        from index.clipboard import copy_text

        return copy_text(text, osc52=osc52)

    @staticmethod
    def copied_message(what: str, method: str) -> str:
        from index.clipboard import copied_message

        return copied_message(what, method)

    @staticmethod
    def osc52_to_terminal(text: str) -> None:
        from index.clipboard import osc52_to_terminal

        osc52_to_terminal(text)

    @staticmethod
    def uses_citekeys(what: str) -> bool:
        """A copied key or BibTeX entry gets cited: its citation key never changes again."""
        return what in ("key", "bibtex")
