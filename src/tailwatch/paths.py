"""Where tailwatch keeps things: XDG directories, overridable by environment.

* store: ``$TAILWATCH_STORE`` or ``$XDG_DATA_HOME/tailwatch/store``
* aircraft databases: ``$TAILWATCH_DB`` or ``$XDG_CACHE_HOME/tailwatch/db``
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
    return Path(env) if env else _xdg("XDG_CACHE_HOME", ".cache") / "tailwatch" / "db"


def config_dir() -> Path:
    """The user's tailwatch configuration folder (watch lists, thresholds)."""
    env = os.environ.get("TAILWATCH_CONFIG")
    return Path(env) if env else _xdg("XDG_CONFIG_HOME", ".config") / "tailwatch"
