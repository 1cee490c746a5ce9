"""Clipboard: pyperclip first, OSC 52 when there is no backend, a clear error when neither."""

from __future__ import annotations

import base64

import pyperclip
import pytest

from index import clipboard
from index.model import Paper, PapershelfError


def _no_backend(text):
    raise pyperclip.PyperclipException("Pyperclip could not find a copy/paste mechanism")


def test_system_clipboard_first(monkeypatch):
    copied = []
    monkeypatch.setattr(pyperclip, "copy", copied.append)
    sent = []
    assert clipboard.copy_text("key2024", osc52=sent.append) == clipboard.SYSTEM
    assert copied == ["key2024"] and sent == []


def test_falls_back_to_osc52(monkeypatch):
    monkeypatch.setattr(pyperclip, "copy", _no_backend)
    sent = []
    assert clipboard.copy_text("@misc{k,}", osc52=sent.append) == "terminal (OSC 52)"
    assert sent == ["@misc{k,}"]


def test_neither_works_is_a_one_line_error(monkeypatch):
    monkeypatch.setattr(pyperclip, "copy", _no_backend)
    with pytest.raises(PapershelfError) as info:
        clipboard.copy_text("x")
    assert "\n" not in str(info.value)

    def refuse(text):
        raise OSError("no terminal to send OSC 52 to")

    with pytest.raises(PapershelfError) as info:
        clipboard.copy_text("x", osc52=refuse)
    assert "\n" not in str(info.value)


def test_osc52_sequence(monkeypatch):
    monkeypatch.delenv("TMUX", raising=False)
    seq = clipboard.osc52_sequence("naïve π")
    assert seq.startswith("\x1b]52;c;") and seq.endswith("\x07")
    assert base64.b64decode(seq[7:-1]).decode("utf-8") == "naïve π"
    monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,1,0")
    # tmux drops the passthrough-wrapped form by default (allow-passthrough off): plain OSC 52,
    # which tmux takes itself with `set-clipboard on`
    assert clipboard.osc52_sequence("x") == "\x1b]52;c;eA==\x07"
    with pytest.raises(ValueError):
        clipboard.osc52_sequence("x" * 200_000)


def test_markdown_link():
    paper = Paper(key="arxiv:2401.00001", title="A [weird] *title*", arxiv_id="2401.00001")
    assert clipboard.markdown_link(paper) == (
        r"[A \[weird\] \*title\*](<https://arxiv.org/abs/2401.00001>)")
    bad = Paper(key="t:x", title="No link", url="javascript:alert(1)")
    assert clipboard.markdown_link(bad) == "No link"
