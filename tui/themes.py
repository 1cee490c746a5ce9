"""Themes: the ones shipped in the `themes` package plus users' own TOML files.

    themes, errors = load_themes(config_dir() / "themes")   # user_dir may be None or missing
    for theme in themes:
        app.register_theme(theme)
    if errors:
        app.notify("\n".join(errors), severity="warning", markup=False)

A theme file is a Textual Theme written as TOML: `name`, `primary` (required), the other colours
(`secondary`, `accent`, `foreground`, `background`, `surface`, `panel`, `boost`, `warning`,
`error`, `success`), `dark`, and a `[variables]` table. papershelf's CSS uses the variables in
THEME_VARIABLE_DEFAULTS (`$star-color`, ...); a theme that leaves one out gets a value derived
from its own colours, so a minimal user theme still works. Every colour is checked with
`Color.parse` while loading; a file that fails (bad TOML, bad colour, missing name, unknown
key) gives one error string naming the file and is skipped, and the rest load. A user theme
with the name of a shipped one replaces it.

Textual's own BUILTIN_THEMES are never touched: themes are registered per App instance. An app
whose CSS uses the variables should also answer them for Textual's built-in themes:

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return theme_variable_defaults(self.current_theme)
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.css.constants import VALID_STYLE_FLAGS
from textual.theme import Theme

from index.config import describe_toml_error

COLOUR_KEYS = ("primary", "secondary", "accent", "foreground", "background", "surface", "panel",
               "boost", "warning", "error", "success")
_NUMBER_KEYS = ("luminosity_spread", "text_alpha")
_KNOWN_KEYS = {"name", "dark", "variables", *COLOUR_KEYS, *_NUMBER_KEYS}
# Names end up in config.toml and in the command palette: keep them plain (no markup, no quotes).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.+-]{0,63}")
_VARIABLE = re.compile(r"[a-z0-9][a-z0-9-]*")
_PERCENT = re.compile(r"\d+(\.\d+)?%")
MAX_THEME_FILE = 256 * 1024

# The app's own CSS variables, with values for a dark background. `theme_variable_defaults`
# derives better ones from a theme's own colours where it can.
THEME_VARIABLE_DEFAULTS: dict[str, str] = {
    "star-color": "#F2C94C",    # the star mark on starred papers
    "marked-color": "#C678DD",  # rows marked with space
    "match-color": "#FFA62B",   # words that matched the search
    "tag-color": "#56B6C2",     # tags in the list and the detail
    "unread-color": "#0178D4",  # status marks
    "reading-color": "#FFA62B",
    "read-color": "#808080",
}
# Which theme colour stands in for each variable when a theme does not set it.
_DERIVED = {"star-color": "warning", "marked-color": "secondary", "match-color": "accent",
            "tag-color": "success", "unread-color": "primary", "reading-color": "warning"}


def theme_variable_defaults(theme: Theme | None = None) -> dict[str, str]:
    """Values for the app variables, taken from `theme`'s colours where it has them."""
    values = dict(THEME_VARIABLE_DEFAULTS)
    if theme is not None:
        for variable, colour_key in _DERIVED.items():
            colour = getattr(theme, colour_key, None)
            if colour:
                values[variable] = colour
        if not theme.dark:
            values["read-color"] = "#6E7781"
    return values


class ThemeFileError(ValueError):
    pass


def load_themes(user_dir: Path | None) -> tuple[list[Theme], list[str]]:
    """(themes, errors): the shipped themes, then the user's, one error string per bad file.

    Never raises for a bad file or an unreadable directory; a user theme replaces a shipped or
    earlier one of the same name.
    """
    by_name: dict[str, Theme] = {}
    errors: list[str] = []
    for label, read in _shipped_files():
        _load_one(label, read, by_name, errors)
    if user_dir is not None:
        try:
            paths = sorted(p for p in Path(user_dir).iterdir()
                           if p.suffix.lower() == ".toml" and not p.name.startswith("."))
        except FileNotFoundError:
            paths = []
        except OSError as exc:
            errors.append(f"{user_dir}: cannot read the themes folder ({exc.strerror or exc})")
            paths = []
        for path in paths:
            _load_one(str(path), lambda path=path: _read_user_file(path), by_name, errors)
    return list(by_name.values()), errors


def theme_from_toml(text: str) -> Theme:
    """A Theme from the text of a theme file; ThemeFileError says what is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ThemeFileError(describe_toml_error(exc)) from None
    return theme_from_dict(data)


def theme_from_dict(data: dict) -> Theme:
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise ThemeFileError(f"unknown key {unknown[0]!r} (known: name, dark, variables, "
                             f"{', '.join(COLOUR_KEYS)})")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ThemeFileError("missing name (add a line such as name = \"my-theme\")")
    if not _NAME.fullmatch(name):
        raise ThemeFileError(f"name {name!r} may hold only letters, digits, space and _ . + -")
    if "primary" not in data:
        raise ThemeFileError("missing primary colour")
    colours: dict[str, str] = {}
    for key in COLOUR_KEYS:
        if key in data:
            colours[key] = _check_colour(key, data[key])
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeFileError("dark must be true or false")
    numbers: dict[str, float] = {}
    for key in _NUMBER_KEYS:
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ThemeFileError(f"{key} must be a number from 0 to 1")
            numbers[key] = float(value)
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise ThemeFileError("variables must be a table: [variables]")
    checked = {str(k): _check_variable(str(k), v) for k, v in variables.items()}
    theme = Theme(name=name, dark=dark, variables={}, **colours, **numbers)
    # Fill the app's variables from this theme's colours so the file is complete on its own.
    theme.variables = {**theme_variable_defaults(theme), **checked}
    return theme


def _check_colour(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise ThemeFileError(f"{key} must be a colour in quotes, such as \"#1e90ff\"")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeFileError(f"{key} = {value!r} is not a colour") from None
    return value


def _check_variable(name: str, value: object) -> str:
    """A variable is substituted into CSS: accept only what cannot break the stylesheet."""
    if not _VARIABLE.fullmatch(name):
        raise ThemeFileError(f"variable name {name!r} may hold only a-z, 0-9 and -")
    if not isinstance(value, str) or not value.strip():
        raise ThemeFileError(f"variables.{name} must be a string")
    if name.endswith("text-style"):
        if all(word in VALID_STYLE_FLAGS for word in value.split()):
            return value
        raise ThemeFileError(f"variables.{name} = {value!r} is not a text style "
                             "(such as \"bold\", \"reverse\" or \"none\")")
    # A colour, optionally with an alpha percentage: "#81a1c1", "#81a1c1 35%", "auto 90%".
    colour, _, alpha = value.strip().rpartition(" ")
    if not (colour and _PERCENT.fullmatch(alpha)):
        colour = value.strip()
    if colour == "auto" and colour != value.strip():
        return value
    try:
        Color.parse(colour)
        return value
    except ColorParseError:
        pass
    raise ThemeFileError(f"variables.{name} = {value!r} is not a colour")


def _load_one(label: str, read, by_name: dict[str, Theme], errors: list[str]) -> None:
    try:
        theme = theme_from_toml(read())
    except ThemeFileError as exc:
        errors.append(f"{label}: {exc}")
        return
    except OSError as exc:
        errors.append(f"{label}: cannot read ({exc.strerror or exc})")
        return
    except UnicodeDecodeError:
        errors.append(f"{label}: not UTF-8 text")
        return
    by_name.pop(theme.name, None)  # a replacement goes to the end, after what it replaces
    by_name[theme.name] = theme


def _read_user_file(path: Path) -> str:
    with open(path, "rb") as handle:
        data = handle.read(MAX_THEME_FILE + 1)
    if len(data) > MAX_THEME_FILE:
        raise ThemeFileError(f"larger than {MAX_THEME_FILE // 1024} KiB: not a theme file")
    return data.decode("utf-8")


def _shipped_files():
    folder = resources.files("themes")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            yield f"themes/{entry.name}", lambda entry=entry: entry.read_text(encoding="utf-8")
