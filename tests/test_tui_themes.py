"""Themes: shipped files load and apply, user files are validated, a bad one is reported once."""

from __future__ import annotations

import copy

import pytest
from textual.app import App, ComposeResult
from textual.theme import BUILTIN_THEMES, Theme
from textual.widgets import Static

from index.config import config_dir
from tui.themes import (
    THEME_VARIABLE_DEFAULTS,
    load_themes,
    theme_from_toml,
    theme_variable_defaults,
)

SHIPPED = {"papershelf-dark", "papershelf-light", "papershelf-solarized"}

GOOD = """\
name = "my-theme"
primary = "#112233"
background = "#000000"
dark = true
[variables]
star-color = "#ffcc00"
"""


class ThemedApp(App[None]):
    """Uses every app variable the way papershelf's CSS does."""

    CSS = "\n".join(f"#v-{name} {{ color: ${name}; }}" for name in THEME_VARIABLE_DEFAULTS)

    def __init__(self, themes: list[Theme]) -> None:
        super().__init__()
        self._themes = themes

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return theme_variable_defaults(self.current_theme)

    def compose(self) -> ComposeResult:
        for name in THEME_VARIABLE_DEFAULTS:
            yield Static(name, id=f"v-{name}")

    def on_mount(self) -> None:
        for theme in self._themes:
            self.register_theme(theme)


def write(folder, name, text):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


def test_shipped_themes_load_without_errors():
    themes, errors = load_themes(None)
    assert errors == []
    names = {t.name for t in themes}
    assert SHIPPED <= names
    for theme in themes:
        assert set(THEME_VARIABLE_DEFAULTS) <= set(theme.variables)
        assert theme.background and theme.foreground and theme.surface and theme.panel
    assert {t.name: t.dark for t in themes}["papershelf-light"] is False


def test_missing_user_dir_is_fine(tmp_path):
    themes, errors = load_themes(tmp_path / "nope")
    assert errors == [] and SHIPPED <= {t.name for t in themes}


async def test_shipped_themes_register_and_apply():
    themes, _ = load_themes(None)
    app = ThemedApp(themes)
    async with app.run_test() as pilot:
        for theme in themes:
            app.theme = theme.name
            await pilot.pause()
            assert app.current_theme.name == theme.name
            star = app.query_one("#v-star-color", Static)
            assert star.styles.color.hex.upper() == theme.variables["star-color"].upper()
        # Textual's own themes lack the app variables: the defaults fill them in.
        app.theme = "textual-light"
        await pilot.pause()
        assert app.query_one("#v-marked-color", Static).styles.color is not None


async def test_bad_user_file_is_reported_by_name_and_skipped(tmp_path):
    folder = tmp_path / "themes"
    write(folder, "good.toml", GOOD)
    write(folder, "broken.toml", 'name = "broken"\nprimary = "#fff\n')  # unterminated string
    write(folder, "badcolour.toml", 'name = "bad"\nprimary = "not-a-colour"\n')
    write(folder, "noname.toml", 'primary = "#ffffff"\n')
    write(folder, "badvar.toml", 'name = "v"\nprimary = "red"\n[variables]\nstar-color = "red; }"\n')
    write(folder, "notes.txt", "ignored: not a .toml file")
    write(folder, "binary.toml", "").write_bytes(b"\xff\xfe\x00name")

    themes, errors = load_themes(folder)
    names = {t.name for t in themes}
    assert "my-theme" in names and SHIPPED <= names
    assert not names & {"broken", "bad", "v"}
    assert len(errors) == 5
    text = "\n".join(errors)
    for bad in ("broken.toml", "badcolour.toml", "noname.toml", "badvar.toml", "binary.toml"):
        assert sum(bad in e for e in errors) == 1, bad
    broken = next(e for e in errors if "broken.toml" in e)
    assert "line 2" in broken
    assert "not-a-colour" in next(e for e in errors if "badcolour.toml" in e)
    assert "missing name" in next(e for e in errors if "noname.toml" in e)
    assert "good.toml" not in text

    app = ThemedApp(themes)
    async with app.run_test() as pilot:
        app.theme = "my-theme"
        await pilot.pause()
        assert app.query_one("#v-star-color", Static).styles.color.hex.upper() == "#FFCC00"
        # Not set in the file: derived from the theme's own colours.
        assert app.query_one("#v-unread-color", Static).styles.color.hex.upper() == "#112233"


def test_user_theme_from_config_dir_replaces_shipped_one():
    folder = config_dir() / "themes"  # PAPERSHELF_CONFIG_DIR points at a temp dir (conftest)
    write(folder, "dark.toml", 'name = "papershelf-dark"\nprimary = "#010203"\n')
    themes, errors = load_themes(folder)
    assert errors == []
    dark = [t for t in themes if t.name == "papershelf-dark"]
    assert len(dark) == 1 and dark[0].primary == "#010203"


@pytest.mark.parametrize("text, message", [
    ('name = "x"\n', "missing primary"),
    ('name = ""\nprimary = "red"\n', "missing name"),
    ('name = "[@click=app.quit]x[/]"\nprimary = "red"\n', "may hold only"),
    ('name = "x"\nprimary = "red"\nprimay = "blue"\n', "unknown key 'primay'"),
    ('name = "x"\nprimary = 12\n', "primary must be a colour"),
    ('name = "x"\nprimary = "red"\ndark = "yes"\n', "dark must be"),
    ('name = "x"\nprimary = "red"\nvariables = 3\n', "variables must be a table"),
    ('name = "x"\nprimary = "red"\n[variables]\nblock-cursor-text-style = "blink-ish"\n', "text style"),
])
def test_validation_messages(text, message):
    with pytest.raises(ValueError, match=None) as info:
        theme_from_toml(text)
    assert message in str(info.value)


def test_variables_accept_textual_forms():
    theme = theme_from_toml('name = "x"\nprimary = "red"\n[variables]\n'
                            'input-selection-background = "#81a1c1 35%"\n'
                            'button-focus-text-style = "reverse"\n'
                            'block-cursor-foreground = "rgb(1, 2, 3)"\n')
    assert theme.variables["input-selection-background"] == "#81a1c1 35%"


def test_builtin_themes_untouched():
    before = copy.deepcopy(BUILTIN_THEMES)
    load_themes(None)
    assert BUILTIN_THEMES == before
    assert not SHIPPED & set(BUILTIN_THEMES)
