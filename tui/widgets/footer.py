"""ShelfFooter: Textual's Footer, where the keys that do not fit give way to "q Quit" and "? Help".

Textual's footer cuts whatever passes the right edge, and quit and help come last, so an
80-column terminal lost exactly the two keys a new user looks for. Here the keys that do not
fit are hidden from the right, skipping the essential ones, so those always stay visible.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

ESSENTIAL_ACTIONS = frozenset({"quit", "help", "app.quit", "app.help"})


def key_width(key: FooterKey) -> int:
    """Cells a footer key takes: " k description " plus its right margin (Textual's layout)."""
    if key.has_class("-command-palette"):
        return cell_len(key.key_display) + cell_len(key.description) + 4
    return cell_len(key.key_display) + cell_len(key.description) + 3


class ShelfFooter(Footer):
    def on_resize(self) -> None:
        self.fit_keys()

    async def recompose(self) -> None:
        await super().recompose()
        self.fit_keys()

    def fit_keys(self) -> None:
        """Show as many keys as fit, hiding the others from the right; never quit or help."""
        keys = list(self.query(FooterKey))
        if not keys or not self.size.width:
            return
        room = self.size.width
        widths = {key: key_width(key) for key in keys}
        used = sum(widths.values())
        # the command palette key goes first, then the keys from the right
        order = [k for k in keys if k.has_class("-command-palette")]
        order += [k for k in reversed(keys) if not k.has_class("-command-palette")]
        hidden = set()
        for key in order:
            if used <= room:
                break
            if key.action in ESSENTIAL_ACTIONS:
                continue
            hidden.add(key)
            used -= widths[key]
        for key in keys:
            key.display = key not in hidden
