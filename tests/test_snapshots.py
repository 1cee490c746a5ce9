"""Snapshot tests of the app (pytest-textual-snapshot): fixed data, fixed size, no clock.

Update after an intended change with: pytest tests/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

from test_tui_support import make_app, settle, wait_for

SIZE = (120, 36)


def app_with(tmp_path, records=None, note: str | None = None):
    app, lib = make_app(tmp_path, records)
    if note is not None:
        lib.set_note(lib.search("", limit=1).keys[0], note)
    return app, lib


def test_main_screen_with_results(tmp_path, snap_compare):
    app, lib = app_with(tmp_path, note="Worth a **second** read.\n\n- check the *sheep* count")
    lib.set_star(lib.search("", limit=None).keys[1])

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("slash", *"quant*", "escape")
        await settle(pilot)

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
    finally:
        lib.close()


def test_empty_library_welcome(tmp_path, snap_compare):
    app, lib = app_with(tmp_path, records=[])
    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=settle)
    finally:
        lib.close()


def test_help_over_the_main_screen(tmp_path, snap_compare):
    app, lib = app_with(tmp_path)

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.3)

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
    finally:
        lib.close()


def test_note_editor_over_the_main_screen(tmp_path, snap_compare):
    app, lib = app_with(tmp_path, note="First thoughts: the *lullabies* are still tuneful.")

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: pilot.app.focused is not None
                       and pilot.app.focused.id == "note-text")
        area = pilot.app.focused
        area.cursor_blink = False  # a blinking cursor is a clock: show it steadily
        area.refresh()  # its line cache does not notice the change
        await pilot.pause(0.1)

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
    finally:
        lib.close()


def test_main_screen_at_80x24(tmp_path, snap_compare):
    app, lib = app_with(tmp_path, note="Compare with the *counting* baseline.")

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("slash", *"quant*", "escape")
        await settle(pilot)

    try:
        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
    finally:
        lib.close()


def test_export_dialog_at_80x24(tmp_path, snap_compare, monkeypatch):
    app, lib = app_with(tmp_path)
    lib.add_tags(lib.search("", limit=1).keys[0], ["sheep"])
    monkeypatch.chdir("/")  # the dialog suggests a file in the current folder

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause(0.3)
        for _ in range(5):  # down to "Save to": the dialog scrolls, its buttons stay
            await pilot.press("tab")
        await pilot.pause(0.3)
        pilot.app.focused.cursor_blink = False
        pilot.app.focused.refresh()
        await pilot.pause(0.1)

    try:
        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
    finally:
        lib.close()
