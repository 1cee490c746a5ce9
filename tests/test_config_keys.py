"""Issue 14: mistakes in config.toml [keys] stop `papershelf` with one line naming file and line;
a key that takes q from quit is a clear warning in the app."""

from __future__ import annotations

import pytest
from test_tui_support import make_app, settle

from tui.cli import main

CONFIG = """\
[ui]
debounce_ms = 100

[keys]
cursor-down = "j,down"
{line}
"""


def run_app_with(tmp_path, monkeypatch, capsys, line: str):
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "config.toml").write_text(CONFIG.format(line=line), encoding="utf-8")
    monkeypatch.setenv("PAPERSHELF_CONFIG_DIR", str(config_dir))
    started = []
    monkeypatch.setattr("tui.app.PapershelfApp.run", lambda self: started.append(self))
    code = main(["--data-dir", str(tmp_path / "data")])  # bare papershelf opens the app
    return code, capsys.readouterr().err, started, config_dir / "config.toml"


@pytest.mark.parametrize("line, says", [
    ('nonexistent-binding = "x"', "[keys] nonexistent-binding: no such binding id"),
    ('star = "ctrl+shift+alt+nonsense"', "'nonsense' is not a key name"),
    ('star = "ctlr+s"', "'ctlr' is not a modifier"),
    ('star = "s,,x"', "an empty key"),
])
def test_a_keys_mistake_stops_the_app_in_one_line(tmp_path, monkeypatch, capsys, line, says):
    code, err, started, path = run_app_with(tmp_path, monkeypatch, capsys, line)
    assert code == 1 and not started
    assert err.count("\n") == 1
    assert err.startswith(f"papershelf: {path}: line 6: ")
    assert says in err


def test_good_keys_open_the_app(tmp_path, monkeypatch, capsys):
    code, err, started, _ = run_app_with(tmp_path, monkeypatch, capsys,
                                         'star = "f"\nhelp = "question_mark,f1"\nquit = "ctrl+q"')
    assert code == 0 and len(started) == 1 and err == ""
    assert started[0].key_warnings == []


async def test_taking_q_from_quit_is_a_warning_on_screen(tmp_path):
    app, lib = make_app(tmp_path, config_text='[keys]\nstar = "q"\n')
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        shown = [n.message for n in app._notifications]
        assert any("star takes q, so q no longer quits" in m and "line 2" in m for m in shown)
    lib.close()


@pytest.mark.parametrize("key", ["s", "S", "ctrl+s", "f5", "pageup", "question_mark", "comma",
                                 "minus", "slash", "ctrl+shift+up", "space", "enter", "escape"])
def test_keys_textual_knows_are_accepted(key):
    from tui.keymap import key_problem

    assert key_problem(key) is None
