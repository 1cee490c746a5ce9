"""Every test runs against its own data and config directories, never the user's."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory, monkeypatch):
    base = tmp_path_factory.mktemp("papershelf-home")
    monkeypatch.setenv("PAPERSHELF_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("PAPERSHELF_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("PAPERSHELF_ARXIV_API", "http://127.0.0.1:9/unreachable")  # never online
    monkeypatch.setenv("PAPERSHELF_HF_API", "http://127.0.0.1:9/unreachable")
    monkeypatch.setenv("EDITOR", "false")  # an editor that fails instead of waiting for a person
    return base


@pytest.fixture
def lib(tmp_path):
    from index.library import Library

    library = Library.open(tmp_path / "lib")
    yield library
    library.close()
