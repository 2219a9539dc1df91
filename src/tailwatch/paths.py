"""Where tailwatch keeps things: XDG directories, overridable by environment.

* store: ``$TAILWATCH_STORE`` or ``$XDG_DATA_HOME/tailwatch/store``
* aircraft databases: ``$TAILWATCH_DB`` or ``$XDG_DATA_HOME/tailwatch/db`` (data, not a cache:
  a cache cleaner must not delete them); databases installed by older versions under
  ``$XDG_CACHE_HOME/tailwatch/db`` are still read when the new place has none
* user config (watch lists, thresholds): ``$XDG_CONFIG_HOME/tailwatch``

Nothing here creates a directory; the commands that write do.
"""

from __future__ import annotations

import os
from pathlib import Path


def _xdg(var: str, default: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value else Path.home() / default


def default_store() -> Path:
    """The store used when ``--store`` is not given."""
    env = os.environ.get("TAILWATCH_STORE")
    return Path(env) if env else _xdg("XDG_DATA_HOME", ".local/share") / "tailwatch" / "store"


def default_db_dir() -> Path:
    """Where ``tailwatch db update`` puts the aircraft databases."""
    env = os.environ.get("TAILWATCH_DB")
    return Path(env) if env else _xdg("XDG_DATA_HOME", ".local/share") / "tailwatch" / "db"


def legacy_db_dir() -> Path:
    """Where versions before 0.1 put the databases (the XDG cache, which cache cleaners empty)."""
    return _xdg("XDG_CACHE_HOME", ".cache") / "tailwatch" / "db"


def db_dir_to_read() -> tuple[Path, str | None]:
    """The database folder to read, and a note when it is the old cache location.

    ``$TAILWATCH_DB`` or the data folder, unless that has no databases and the old cache
    folder has (then the note says so and how to move them).
    """
    new = default_db_dir()
    if os.environ.get("TAILWATCH_DB") or (new / "manifest.json").exists():
        return new, None
    old = legacy_db_dir()
    if (old / "manifest.json").exists():
        return old, (f"reading the aircraft databases from the old location {old} (a cache folder that "
                     f"cache cleaners may empty); run `tailwatch db update --from {old}` to move them to {new}")
    return new, None


def config_dir() -> Path:
    """The user's tailwatch configuration folder (watch lists, thresholds)."""
    env = os.environ.get("TAILWATCH_CONFIG")
    return Path(env) if env else _xdg("XDG_CONFIG_HOME", ".config") / "tailwatch"
