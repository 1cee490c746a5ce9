"""Generated untrusted strings for the fuzz tests: markup-like brackets, control characters,
ANSI escape sequences, right-to-left marks, path tricks and huge lines.

`untrusted_strings(n, seed)` is deterministic. CI runs a few thousand; set
PAPERSHELF_UNTRUSTED_STRINGS=20000 for the full-size run.
"""

from __future__ import annotations

import os
import random

PIECES = [
    "[bold]", "[/]", "[/bold]", "[@click=app.quit]", "[@click=app.bell]", "[ @click=app.quit]",
    "[link=https://evil.example]", "[on red]", "[Re]", "[2016]", "[", "]", "[[", "]]", "\\[",
    "\x1b[31m", "\x1b[2J", "\x1b]52;c;aGVsbG8=\x07", "\x1b]8;;https://evil.example\x1b\\",
    "\x9b31m", "\x07", "\x08", "\x00", "\r", "\n", "\t", "\x7f", "\u202e", "\u2066", "\u200f",
    "../", "..\\", "/etc/passwd", "C:\\Windows\\", "CON", "NUL.txt", "~", "$HOME", "%s%n",
    "{", "}", "\\", "%", "&", "#", "_", "$", "^", "{\\epsilon}", "na\\\"{\\i}ve", "\\mone",
    "π", "Ü", "Ψ", "漢字", "🙂", "e\u0301", "<script>", "*", "`", "|", "---", ":", "'", '"',
]
WORDS = ["attention", "model", "sparse", "graph", "learning", "diffusion", "agent", "data"]


def untrusted_strings(n: int | None = None, seed: int = 7) -> list[str]:
    n = n if n is not None else int(os.environ.get("PAPERSHELF_UNTRUSTED_STRINGS", "2000"))
    rng = random.Random(seed)
    out = []
    for i in range(n):
        parts = [rng.choice(PIECES if rng.random() < 0.6 else WORDS) for _ in range(rng.randint(1, 12))]
        text = " ".join(parts) if rng.random() < 0.5 else "".join(parts)
        if i % 500 == 0:
            text = text + " " + "x" * rng.randint(5_000, 50_000)  # a huge line
        out.append(text)
    return out
