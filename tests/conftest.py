"""Every test runs against its own data and config directories, never the user's; `-n auto`
starts two workers a core."""

from __future__ import annotations

import os

import pytest


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config):
    """`-n auto` starts two workers a core: most of a test's time goes in waiting (for the app
    to go idle between key presses, for a subprocess, for a timer), so on 2 cores four workers
    finished the suite in 141 s where two took 204 s."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 2 * (cores or 1)


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
