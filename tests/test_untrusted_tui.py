"""Untrusted text through the running app (issue 7): generated titles, abstracts, notes and
tags full of markup look-alikes, control characters, ANSI escapes and RTL marks are shown
without firing an action, without crashing, and without an escape byte in any rendered line."""

from __future__ import annotations

import re

from index.model import PaperRecord, normalise_tag
from tui.screens.note_editor import NoteEditor
from test_tui_support import make_app, settle, wait_for
from untrusted import untrusted_strings

RAW = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# What Textual itself writes for a frame: cursor moves (CSI row;col H), colours (CSI ... m)
# and a newline closing each screen line.
OWN_SEQUENCES = re.compile(r"\x1b\[[0-9;]*[Hm]")
UNSAFE_IN_FRAME = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_bytes(app) -> str:
    """The bytes the app's driver would write to the terminal for a full frame of the screen
    (what App._display sends; the headless driver itself writes nothing)."""
    update = app.screen._compositor.render_update(full=True)
    return update.render_segments(app.console)


def assert_frame_inert(app) -> None:
    frame = terminal_bytes(app)
    left = OWN_SEQUENCES.sub("", frame)
    found = UNSAFE_IN_FRAME.search(left)
    assert found is None, repr(left[max(0, found.start() - 40):found.start() + 40])


def evil_records(strings):
    records = []
    for i in range(0, len(strings) - 3, 3):
        title, abstract, _ = strings[i:i + 3]
        records.append(PaperRecord(title=(title[:500] or "x") + f" {i}", abstract=abstract,
                                   authors=[strings[i + 2][:50] or "x"], source="test:evil"))
    return records


def strip_text(strip) -> str:
    return "".join(segment.text for segment in strip)


async def test_generated_untrusted_text_renders_inert(tmp_path):
    strings = untrusted_strings()
    app, lib = make_app(tmp_path, evil_records(strings))
    keys = [p.key for p in lib.list_papers()]
    for key, note, tag in zip(keys, strings[1::3], strings[2::3]):
        lib.set_note(key, note)
        clean_tag = " ".join(tag.split())[:90]
        if clean_tag.strip(" -"):
            # the store directly: papershelf now refuses such tags, but a library written by
            # an older version, or another device's sync, may still hold them
            lib.store.set_tags(key, [normalise_tag(clean_tag)], True)
    quit_called = []
    app.action_quit = lambda: quit_called.append(True)  # any [@click=app.quit] firing shows here
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen_stack[0]
        results = screen.query_one("ResultsList")
        detail = screen.query_one("DetailPane")
        for start in range(0, len(keys), 200):
            papers = lib.get_many(keys[start:start + 200])
            for paper in papers:
                row = strip_text(results._render_row(paper, 120, False, False))
                assert not RAW.search(row), repr(row[:80])
            for paper in papers[::20]:
                detail.show(paper, {"model"})
                shown = detail.text()
                assert not RAW.search(shown.replace("\n", "")), repr(shown[:80])
                for literal in ("[@click=app.quit]", "[bold]", "[/]", "[Re]"):
                    if literal in paper.title[:400]:  # markup look-alikes show as written
                        assert literal in shown
            await pilot.pause()
            assert_frame_inert(app)
            await pilot.click("DetailPane", offset=(5, 2))
            await pilot.click("ResultsList", offset=(10, 1))
        await pilot.press("j", "j", "k", "G", "g")
        await settle(pilot)
        assert_frame_inert(app)
        await pilot.press("n")  # the note editor, over the main screen, holding a hostile note
        await wait_for(pilot, lambda: isinstance(app.screen, NoteEditor))
        await pilot.pause()
        assert_frame_inert(app)
        await pilot.press("escape")
        assert app.is_running and not quit_called
    lib.close()
