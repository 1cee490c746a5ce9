"""Checks for the `[keys]` table of config.toml, before the app applies it with set_keymap.

Textual accepts any binding id and any key name in a keymap and silently ignores what matches
nothing, so a typo would leave a key unmapped without a word. `check_keymap` stops on an unknown
binding id or a key Textual could never report (one line naming the file and line, as other
config mistakes do), and returns warnings for keys that take `q` away from quitting.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import lru_cache

from textual.binding import Binding
from textual.keys import KEY_ALIASES, REPLACED_KEYS, Keys, key_to_character

from index.config import Config, ConfigError

MODIFIERS = {"ctrl", "shift", "alt", "meta", "super", "hyper"}
# Modules whose classes carry the app's bindings (screens and widgets are found by package).
BINDING_PACKAGES = ("tui.screens", "tui.widgets")


@lru_cache(1)
def known_binding_ids() -> frozenset[str]:
    """Every binding id the app defines: what a user may remap in [keys]."""
    from tui.app import PapershelfApp

    modules = [importlib.import_module("tui.app")]
    for package_name in BINDING_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__, package_name + "."):
            modules.append(importlib.import_module(info.name))
    ids = {b.id for b in PapershelfApp.BINDINGS if isinstance(b, Binding) and b.id}
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == module.__name__:
                for binding in getattr(value, "BINDINGS", []):
                    if isinstance(binding, Binding) and binding.id:
                        ids.add(binding.id)
    return frozenset(ids)


@lru_cache(1)
def _named_keys() -> frozenset[str]:
    names = {key.value.rpartition("+")[2] for key in Keys}
    names |= set(KEY_ALIASES) | set(REPLACED_KEYS) | {"space", "tab", "enter", "backspace"}
    names |= {f"f{n}" for n in range(1, 25)}
    return frozenset(names)


def key_problem(key: str) -> str | None:
    """Why `key` (one key such as "ctrl+s") can never be pressed, or None when it can."""
    if not key:
        return "an empty key"
    *modifiers, name = key.split("+")
    for modifier in modifiers:
        if modifier not in MODIFIERS:
            return f"{modifier!r} is not a modifier (use ctrl, shift, alt, super)"
    if len(set(modifiers)) != len(modifiers):
        return "a modifier is repeated"
    if len(name) == 1 or name in _named_keys() or key_to_character(name) is not None:
        return None
    return f"{name!r} is not a key name"


def _line_of(text: str, binding_id: str) -> int | None:
    """The line of `binding_id = ...` inside [keys], for the error message."""
    in_keys = False
    assignment = re.compile(r"""^\s*(?:"|')?%s(?:"|')?\s*=""" % re.escape(binding_id))
    for number, line in enumerate(text.splitlines(), 1):
        header = re.match(r"^\s*\[\s*([^\]]+?)\s*\]", line)
        if header:
            in_keys = header[1] == "keys"
        elif in_keys and assignment.match(line):
            return number
    return None


def check_keymap(config: Config) -> list[str]:
    """Raise ConfigError for an unknown binding id or an impossible key; return warnings."""
    keymap = config.keymap
    if not keymap:
        return []
    try:
        text = config.path.read_text(encoding="utf-8")
    except OSError:
        text = ""

    def where(binding_id: str) -> str:
        line = _line_of(text, binding_id)
        return f"{config.path}: line {line}" if line else f"{config.path}"

    known = known_binding_ids()
    for binding_id, keys in keymap.items():
        if binding_id not in known:
            close = [k for k in sorted(known) if k.split("-")[0] == binding_id.split("-")[0]]
            hint = f" (did you mean {', '.join(close[:3])}?)" if close else \
                " (the help screen, ?, lists the ids)"
            raise ConfigError(f"{where(binding_id)}: [keys] {binding_id}: no such binding id{hint}")
        for key in keys.split(","):
            problem = key_problem(key.strip())
            if problem:
                raise ConfigError(f"{where(binding_id)}: [keys] {binding_id} = {keys!r}: "
                                  f"{problem}")
    quit_keys = {k.strip() for k in keymap.get("quit", "q").split(",")}
    warnings = []
    for binding_id, keys in keymap.items():
        if binding_id != "quit" and "q" in {k.strip() for k in keys.split(",")} \
                and "q" in quit_keys:
            warnings.append(f"{where(binding_id)}: [keys] {binding_id} takes q, so q no longer "
                            "quits; map quit to another key (quit = \"ctrl+q\")")
    return warnings


def key_for(app, binding_id: str, default: str) -> str:
    """The first key a binding answers to now: the user's from [keys] (PapershelfApp keeps what
    it gave set_keymap), else `default`."""
    keys = getattr(app, "keymap", {}).get(binding_id)
    return keys.split(",")[0] if keys else default
