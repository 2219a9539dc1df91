"""The user's own watch list: aircraft (by hex or registration) with a label and tags.

Kept in ``paths.config_dir()/watchlist.yaml``::

    entries:
      - hex: 062F01
        label: Niger C-130
        tags: [sahel, c130]
      - registration: TZ-PRM
        label: Mali presidential jet

A ``watchlist.csv`` beside it (columns ``hex,registration,label,tags``, tags separated
by ``;``) is read too. Entries are merged with plane-alert-db by
:class:`~tailwatch.identity.core.Identity` (their tags join the database's).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import yaml

from tailwatch import paths
from tailwatch.errors import InputError
from tailwatch.identity.regnorm import compact
from tailwatch.schema import icao_of


@dataclass(frozen=True)
class WatchEntry:
    """One watched aircraft: a hex address or a registration (or both), label, tags."""

    hex: str | None = None
    registration: str | None = None
    label: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def key(self) -> str:
        """What the entry is known by: the hex address, else the compact registration."""
        return self.hex or compact(self.registration or "")


def default_path() -> Path:
    """``watchlist.yaml`` in the user's config folder."""
    return paths.config_dir() / "watchlist.yaml"


def _entry(raw: dict[str, object], where: str) -> WatchEntry:
    hx = raw.get("hex") or raw.get("icao24")
    reg = raw.get("registration")
    if not hx and not reg:
        raise InputError(where.split(" ")[0], where.split(" ", 1)[1], "entry needs a hex or a registration")
    hex_text = None
    if hx:
        try:
            hex_text = f"{icao_of(str(hx)):06X}"
        except ValueError as exc:
            raise InputError(where.split(" ")[0], where.split(" ", 1)[1], str(exc)) from None
    raw_tags = raw.get("tags") or []
    if isinstance(raw_tags, str):
        tags = [t.strip() for t in raw_tags.split(";") if t.strip()]
    elif isinstance(raw_tags, list | tuple):
        tags = [str(t) for t in raw_tags]
    else:
        tags = [str(raw_tags)]
    return WatchEntry(hex_text, str(reg).strip() if reg else None, str(raw.get("label") or ""), tuple(tags))


def read_watchlist(path: Path) -> list[WatchEntry]:
    """Entries of a YAML or CSV watch list (empty when the file does not exist).

    Raises :class:`~tailwatch.errors.InputError` naming the file and entry/line for a bad entry.
    """
    if not path.exists():
        return []
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as fh:
            return [_entry(dict(row), f"{path} line {i}") for i, row in enumerate(csv.DictReader(fh), start=2)]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise InputError(str(path), "line ?", f"not valid YAML: {exc}") from None
    items = data.get("entries", []) if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise InputError(str(path), "entries", "expected a list of entries")
    return [_entry(dict(e), f"{path} entry {i}") for i, e in enumerate(items, start=1)]


def write_watchlist(path: Path, entries: list[WatchEntry]) -> None:
    """Write entries as YAML (atomically: temp file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    items = []
    for e in entries:
        item: dict[str, object] = {}
        if e.hex:
            item["hex"] = e.hex
        if e.registration:
            item["registration"] = e.registration
        item["label"] = e.label
        item["tags"] = list(e.tags)
        items.append(item)
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(yaml.safe_dump({"entries": items}, sort_keys=False, allow_unicode=True), encoding="utf-8")
    tmp.replace(path)


def add_entry(path: Path, entry: WatchEntry) -> list[WatchEntry]:
    """Add (or replace the entry with the same key) and save."""
    entries = [e for e in read_watchlist(path) if e.key != entry.key]
    entries.append(entry)
    write_watchlist(path, entries)
    return entries


def remove_entry(path: Path, key: str) -> bool:
    """Remove the entry known by ``key`` (hex or registration in any spelling); True if found."""
    entries = read_watchlist(path)
    try:
        wanted = f"{icao_of(key):06X}" if len(key.strip().lstrip("~")) == 6 else None
    except ValueError:
        wanted = None
    keep = [e for e in entries if e.key not in {wanted, compact(key)}
            and compact(e.registration or "\0") != compact(key)]
    if len(keep) == len(entries):
        return False
    write_watchlist(path, keep)
    return True


def watch_table(entries: list[WatchEntry]) -> pa.Table:
    """Entries as Arrow: hex, registration, label, tags (``; ``-joined)."""
    return pa.table({
        "hex": pa.array([e.hex for e in entries], pa.string()),
        "registration": pa.array([e.registration for e in entries], pa.string()),
        "label": pa.array([e.label for e in entries], pa.string()),
        "tags": pa.array(["; ".join(e.tags) or None for e in entries], pa.string()),
    })
