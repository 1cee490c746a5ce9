"""config.toml: created with commented defaults, one-line errors naming file and line."""

from __future__ import annotations

import tomllib

import pytest

from index.config import ConfigError, data_dir, load_config


def test_created_with_commented_defaults(tmp_path):
    config = load_config(tmp_path)
    text = (tmp_path / "config.toml").read_text()
    assert "# theme =" in text and "[sync]" in text
    assert tomllib.loads(text) == {"ui": {}, "keys": {}, "search": {}, "sync": {}, "backup": {},
                                   "daily": {}}
    assert "# engine = \"whoosh\"" in text
    assert "# fetch_on_start = false" in text
    assert config.get("ui", "theme") is None


def test_daily_fetch_on_start_is_a_true_or_false(tmp_path):
    (tmp_path / "config.toml").write_text("[daily]\nfetch_on_start = true\n")
    assert load_config(tmp_path).get("daily", "fetch_on_start") is True
    (tmp_path / "config.toml").write_text('[daily]\nfetch_on_start = "yes"\n')
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert "[daily] fetch_on_start has the wrong type (str)" in str(err.value)
    (tmp_path / "config.toml").write_text("[backup]\nkeep = true\n")  # still refused there
    with pytest.raises(ConfigError):
        load_config(tmp_path)


def test_set_writes_toml_that_reads_back(tmp_path):
    load_config(tmp_path).set("ui", "theme", "papershelf-light")
    load_config(tmp_path).set("sync", "folder", "/tmp/Sync")
    config = load_config(tmp_path)
    assert config.get("ui", "theme") == "papershelf-light"
    assert config.get("sync", "folder") == "/tmp/Sync"
    assert not list(tmp_path.glob("*.tmp"))


def test_malformed_toml_names_file_and_line(tmp_path):
    (tmp_path / "config.toml").write_text('[ui]\ntheme = "dark"\ndebounce_ms = = 3\n')
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    message = str(err.value)
    assert str(tmp_path / "config.toml") in message and "line 3" in message
    assert "\n" not in message


def test_wrong_type_and_unknown_setting(tmp_path):
    (tmp_path / "config.toml").write_text("[ui]\ndebounce_ms = \"fast\"\n")
    with pytest.raises(ConfigError, match="debounce_ms has the wrong type"):
        load_config(tmp_path)
    (tmp_path / "config.toml").write_text("[ui]\ncolour = 1\n")
    with pytest.raises(ConfigError, match="unknown setting colour"):
        load_config(tmp_path)


def test_data_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("PAPERSHELF_DATA_DIR", str(tmp_path / "env"))
    assert data_dir() == tmp_path / "env"
    assert data_dir(tmp_path / "flag") == tmp_path / "flag"
    monkeypatch.delenv("PAPERSHELF_DATA_DIR")
    assert "papershelf" in str(data_dir())
