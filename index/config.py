"""Where things live, config.toml (read with tomllib; one key changed at a time with tomlkit,
which keeps every other byte of the user's file), and the app's remembered state (state.toml
in the data dir: config.toml is the user's, papershelf never rewrites it wholesale).

Data dir:   --data-dir, else $PAPERSHELF_DATA_DIR, else platformdirs' user data dir.
Config dir: $PAPERSHELF_CONFIG_DIR, else platformdirs' user config dir.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from index.fileio import umask_mode, write_atomic
from index.model import PapershelfError

APP_NAME = "papershelf"

DEFAULT_CONFIG = """\
# papershelf configuration. Lines starting with # are defaults you can uncomment and change.
# When you pick a theme or a sync folder in the app, papershelf changes only that one line.

[ui]
# theme = "papershelf-dark"      # or papershelf-light, papershelf-solarized, or one of yours
# debounce_ms = 120              # wait after a keystroke before searching

[keys]
# Remap any key by its binding id, e.g.:
# star = "s"
# tag-add = "t"

[search]
# engine = "whoosh"              # or "sqlite" (SQLite FTS5): faster for very large libraries;
#                                # switch with `papershelf reindex --engine sqlite`

[sync]
# folder = "~/Sync"              # a folder Dropbox, Syncthing or iCloud replicates
# interval_minutes = 5

[backup]
# keep = 5                       # automatic backups kept in the data directory

[daily]
# fetch_on_start = false         # fetch today's Hugging Face Daily Papers when the app opens
"""

STATE_FILE = "state.toml"

# section -> key -> accepted types (for clear errors on wrong values). The ui.last_* keys are
# where versions before 0.3 kept the app's state: still read, never written.
_SCHEMA: dict[str, dict[str, tuple[type, ...]]] = {
    "ui": {"theme": (str,), "debounce_ms": (int,), "last_query": (str,),
           "last_filter": (str,), "last_selected": (str,)},
    "keys": {},  # any binding id -> str, checked below
    "search": {"engine": (str,)},
    "sync": {"folder": (str,), "interval_minutes": (int, float)},
    "backup": {"keep": (int,)},
    "daily": {"fetch_on_start": (bool,)},
}


SEARCH_ENGINES = ("whoosh", "sqlite")


class ConfigError(PapershelfError):
    pass


def data_dir(override: str | os.PathLike | None = None) -> Path:
    if override:
        return Path(override).expanduser()
    if env := os.environ.get("PAPERSHELF_DATA_DIR"):
        return Path(env).expanduser()
    import platformdirs  # imported here: only needed when no override is given

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    if env := os.environ.get("PAPERSHELF_CONFIG_DIR"):
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


@dataclass
class Config:
    path: Path
    data: dict = field(default_factory=dict)

    def get(self, section: str, key: str, default=None):
        return self.data.get(section, {}).get(key, default)

    @property
    def keymap(self) -> dict[str, str]:
        return dict(self.data.get("keys", {}))

    def set(self, section: str, key: str, value) -> None:
        """Change one key in the file as it is on disk now (a hand edit made while the app
        ran stays), every other byte as it was; written atomically, keeping the file's mode."""
        import tomlkit

        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = DEFAULT_CONFIG
        try:
            document = tomlkit.parse(text)
        except Exception as exc:  # tomlkit's parse errors share no public base class
            raise ConfigError(f"{self.path}: {exc}; {key} was not saved") from None
        table = document.get(section)
        if table is None:
            table = tomlkit.table()
            document[section] = table
        table[key] = value
        updated = tomlkit.dumps(document)
        data = tomllib.loads(updated)
        _check(self.path, data)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, updated.encode("utf-8"), mode=umask_mode(self.path))
        self.data = data  # only once the file says so too


def load_state(data_dir: Path) -> dict[str, str]:
    """What the app remembered at its last quit (query, filter, selected paper); {} when
    there is nothing usable."""
    try:
        state = tomllib.loads((data_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # (TOMLDecodeError and UnicodeDecodeError are ValueErrors)
        return {}
    if not isinstance(state, dict):
        return {}
    return {k: v for k, v in state.items() if isinstance(k, str) and isinstance(v, str)}


def save_state(data_dir: Path, state: dict[str, str]) -> None:
    """Written whole with tomli-w: papershelf's own file, never the user's config.toml."""
    import tomli_w

    write_atomic(data_dir / STATE_FILE, tomli_w.dumps(state).encode("utf-8"),
                 mode=umask_mode(data_dir / STATE_FILE))


def load_config(directory: Path | None = None, *, create: bool = True) -> Config:
    """Read config.toml, creating it with commented defaults on first use."""
    path = (directory or config_dir()) / "config.toml"
    if not path.exists():
        if create:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(path, DEFAULT_CONFIG.encode("utf-8"), mode=umask_mode(path))
            except OSError:
                pass  # a read-only config dir still runs, on defaults
        return Config(path, {})
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {describe_toml_error(exc)}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    _check(path, data)
    return Config(path, data)


def describe_toml_error(exc: tomllib.TOMLDecodeError) -> str:
    """"line 3, column 7: Expected ..." (config.toml and theme files say it the same way)."""
    # Python 3.11-3.13 put the place only in the message: "Expected '=' ... (at line 3, column 7)"
    message = str(exc)
    match = re.search(r"^(.*) \(at line (\d+), column (\d+)\)$", message)
    if match:
        return f"line {match[2]}, column {match[3]}: {match[1]}"
    return message


def _check(path: Path, data: dict) -> None:
    for section, value in data.items():
        if section not in _SCHEMA:
            raise ConfigError(f"{path}: unknown section [{section}] (known: {', '.join(_SCHEMA)})")
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        for key, item in value.items():
            if section == "keys":
                if not isinstance(item, str):
                    raise ConfigError(f"{path}: [keys] {key} must be a string such as \"s\"")
                continue
            accepted = _SCHEMA[section].get(key)
            if accepted is None:
                raise ConfigError(f"{path}: unknown setting {key} in [{section}]")
            if not isinstance(item, accepted) or (isinstance(item, bool) and bool not in accepted):
                raise ConfigError(f"{path}: [{section}] {key} has the wrong type "
                                  f"({type(item).__name__})")
            if (section, key) == ("search", "engine") and item not in SEARCH_ENGINES:
                raise ConfigError(f"{path}: [search] engine must be \"whoosh\" or \"sqlite\", "
                                  f"not {item!r}")


def remember_sync_folder(config: Config, folder: str | os.PathLike) -> str:
    """Save `folder` as [sync] folder (absolute, `~` expanded) unless it is already there;
    returns it. `papershelf sync FOLDER` and the app's folder prompt both remember it here."""
    remembered = str(Path(folder).expanduser().resolve())
    if config.get("sync", "folder") != remembered:
        config.set("sync", "folder", remembered)
    return remembered
