"""Parquet parts of the store: names, atomic writes, listing and clean-up.

A positions part is ``positions/day=YYYY-MM-DD/f<file_id>-<n>.parquet``; the
file id in the name lets a reader pick the parts of finished files without
opening them, and lets recovery delete the parts of an interrupted ingest.
Every write goes to a hidden temporary name, is fsynced, then renamed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

POSITIONS_DIR = "positions"
DERIVED_DIR = "derived"
_PART = re.compile(r"^f(\d+)-(\d+)\.parquet$")
_DAY = re.compile(r"^day=(\d{4}-\d{2}-\d{2})$")
_TMP_SUFFIX = ".tmp"
#: Columns worth dictionary-encoding (few distinct values); numbers are not (it costs ~20% of write time).
_DICT_COLUMNS = ("callsign", "squawk", "source", "receiver", "kind", "subject", "origin", "destination",
                 "airport", "origin_reason", "destination_reason", "reason")


@dataclass(frozen=True)
class Part:
    """One positions part file."""

    path: Path
    day: str
    file_id: int
    n: int


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(table: pa.Table, final: Path, row_group_size: int = 1 << 20, sync_dir: bool = True) -> None:
    """Write ``table`` as Parquet (zstd, statistics) to ``final`` via a temporary name, fsync, rename.

    With ``sync_dir=False`` the caller must :func:`sync_dirs` the folder before relying on the rename.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name("." + final.name + _TMP_SUFFIX)
    with open(tmp, "wb") as fh:
        pq.write_table(table, fh, compression="zstd", row_group_size=row_group_size, write_statistics=True,
                       use_dictionary=[c for c in _DICT_COLUMNS if c in table.column_names] or False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    if sync_dir:
        _fsync_dir(final.parent)


def sync_dirs(dirs: set[Path]) -> None:
    """fsync folders so the renames into them are durable (one call per folder, not per file)."""
    for d in sorted(dirs):
        _fsync_dir(d)


def part_path(root: Path, day: str, file_id: int, n: int) -> Path:
    """Where part ``n`` of file ``file_id`` for ``day`` (``YYYY-MM-DD``) lives.

    >>> part_path(Path("/s"), "2023-08-20", 7, 0).as_posix()
    '/s/positions/day=2023-08-20/f7-0.parquet'
    """
    return root / POSITIONS_DIR / f"day={day}" / f"f{file_id}-{n}.parquet"


def list_parts(root: Path, days: set[str] | None = None) -> list[Part]:
    """All positions parts (optionally only for ``days``), sorted by day, file id and number."""
    base = root / POSITIONS_DIR
    if not base.is_dir():
        return []
    parts: list[Part] = []
    for day_entry in os.scandir(base):
        m = _DAY.match(day_entry.name)
        if not m or not day_entry.is_dir() or (days is not None and m.group(1) not in days):
            continue
        for entry in os.scandir(day_entry.path):
            p = _PART.match(entry.name)
            if p:
                parts.append(Part(Path(entry.path), m.group(1), int(p.group(1)), int(p.group(2))))
    parts.sort(key=lambda p: (p.day, p.file_id, p.n))
    return parts


def remove_leftovers(root: Path, keep_ids: set[int]) -> int:
    """Delete temporary files and the parts of any file not in ``keep_ids``; return how many went.

    Call only while holding the writer lock.
    """
    removed = 0
    for part in list_parts(root):
        if part.file_id not in keep_ids:
            part.path.unlink(missing_ok=True)
            removed += 1
    for sub in (POSITIONS_DIR, DERIVED_DIR):
        base = root / sub
        if not base.is_dir():
            continue
        for dirpath, _dirs, files in os.walk(base):
            for name in files:
                if name.startswith(".") and name.endswith(_TMP_SUFFIX):
                    (Path(dirpath) / name).unlink(missing_ok=True)
                    removed += 1
    return removed
