"""Turn a decoded table (traffic, OpenSky, ...) into ``POSITIONS`` batches."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.errors import InputError, Rejects
from tailwatch.schema import Quality
from tailwatch.sources._arrow import (
    callsign_text,
    epoch_us,
    icao_ints,
    numeric,
    positions_batch,
    reject_rows,
    squawk_text,
)

#: POSITIONS column -> kind of conversion.
_NUMERIC = ("lat", "lon", "alt_baro", "alt_geom", "gs", "track", "vrate")


def require(table: pa.Table, names: list[str], path: str) -> None:
    """Raise ``InputError`` naming every missing required column."""
    missing = [n for n in names if n not in table.column_names]
    if missing:
        raise InputError(path, "header", f"missing required column(s): {', '.join(missing)} "
                         f"(found: {', '.join(table.column_names[:20])})")


def _bool(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_boolean(arr.type):
        return arr
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        low = pc.utf8_lower(pc.utf8_trim_whitespace(arr))
        true = pc.is_in(low, pa.array(["true", "1", "t", "yes", "-1"]))
        known = pc.is_in(low, pa.array(["true", "1", "t", "yes", "-1", "false", "0", "f", "no"]))
        return pc.if_else(known, true, pa.scalar(None, pa.bool_()))
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), pa.bool_())
    return pc.not_equal(arr.cast(pa.float64()), 0.0)


def tabular_positions(
    table: pa.Table,
    columns: Mapping[str, str],
    scale: Mapping[str, float],
    source: str,
    path: str,
    rejects: Rejects,
    *,
    unit: str = "record",
    first: int = 1,
    quality: int | np.ndarray = int(Quality.NONE),
    time_override: Any = None,
    chunk_rows: int = 500_000,
) -> Iterator[pa.RecordBatch]:
    """Map ``table`` columns (``columns``: POSITIONS name -> source name) to POSITIONS batches.

    ``scale`` multiplies numeric columns (unit conversion). Rows without a time
    or with a bad address are rejected with their location ``"{unit} {first+i}"``.
    """
    n = table.num_rows
    where = np.arange(first, first + n, dtype=np.int64)
    t = epoch_us(table.column(columns["time"])) if time_override is None else time_override
    icao_col = table.column(columns["icao24"]).combine_chunks()
    icao, ok, non_icao = icao_ints(icao_col)
    bad_time = ~np.isfinite(t)
    reject_rows(bad_time, "missing or bad time", path, unit, where, rejects)
    reject_rows(~ok & ~bad_time, "bad icao24 address", path, unit, where, rejects, icao_col)
    keep_mask = ok & ~bad_time
    cols: dict[str, Any] = {}
    for name, src in columns.items():
        if name in ("time", "icao24") or src not in table.column_names:
            continue
        col = table.column(src)
        if name in _NUMERIC:
            a = numeric(col)
            if a is not None and name in scale:
                a = pc.multiply(a, scale[name])
            cols[name] = a
        elif name == "callsign":
            cols[name] = callsign_text(col)
        elif name == "squawk":
            cols[name] = squawk_text(col)
        elif name == "on_ground":
            cols[name] = _bool(col)
        elif name == "emergency":
            cols[name] = numeric(col, pa.int8())
    lat, lon = cols.get("lat"), cols.get("lon")
    if lat is not None and lon is not None:
        la = np.asarray(lat.to_numpy(zero_copy_only=False), dtype=np.float64)
        lo = np.asarray(lon.to_numpy(zero_copy_only=False), dtype=np.float64)
        bad_pos = ((np.abs(la) > 90) | (np.abs(lo) > 180)) & keep_mask
        reject_rows(bad_pos, "position out of range", path, unit, where, rejects)
        keep_mask &= ~bad_pos
    qual = (np.full(n, quality, np.uint16) if isinstance(quality, int)
            else np.asarray(quality, np.uint16).copy())
    qual[non_icao] |= int(Quality.TISB)
    cols["quality"] = qual
    cols["time"] = np.round(np.where(bad_time, 0.0, t)).astype(np.int64)
    cols["icao24"] = icao
    keep = np.nonzero(keep_mask)[0]
    full = keep_mask.all()
    idx = pa.array(keep)
    for i in range(0, len(keep), chunk_rows):
        sel = idx[i : i + chunk_rows]
        part = {}
        for k, v in cols.items():
            if v is None:
                continue
            if isinstance(v, np.ndarray):
                part[k] = v[keep[i : i + chunk_rows]] if not full or len(keep) > chunk_rows else v
            else:
                part[k] = v.take(sel) if not full or len(keep) > chunk_rows else v
        yield positions_batch(part, source, len(sel))
