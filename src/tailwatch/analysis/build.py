"""Materialise legs and stops in the store, recomputing only what new data touched.

The store records which (aircraft, day) pairs each ingest touched (``Store.dirty()``).
:func:`build_legs` streams the positions of exactly those aircraft, over their dirty days
plus one day on each side (so a leg crossing midnight is seen whole), through the pure
kernel :func:`tailwatch.analysis.legs.legs_and_stops`, batch by batch (each batch holds
whole aircraft, so memory stays bounded however large the store is).  For each aircraft,
the old legs and stops overlapping its dirty span are replaced by the new ones overlapping
it; everything else of that aircraft is kept.  The dirty pairs that were read are then
cleared (pairs added by an ingest running meanwhile stay dirty).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.analysis.airports import load_airports
from tailwatch.analysis.legs import LegParams, legs_and_stops
from tailwatch.schema import LEGS, STOPS

ProgressFn = Callable[[int, int], None]
DEFAULT_PARAMS = LegParams()
US_PER_DAY = 86_400 * 1_000_000

#: Columns the kernel reads (everything else stays on disk).
KERNEL_COLUMNS = ["time", "icao24", "lat", "lon", "alt_baro", "alt_geom", "gs", "track", "vrate",
                  "callsign", "on_ground"]


class _StoreLike(Protocol):
    def dirty(self) -> pa.Table: ...

    def clear_dirty(self, table: pa.Table | None = None) -> None: ...

    def derived(self, name: str, icao24: Any = None) -> pa.Table: ...

    def write_derived(self, name: str, table: pa.Table, icao24: Any = None) -> None: ...

    def iter_aircraft_batches(self, rows: int = ..., since: Any = None, until: Any = None, icao24: Any = None,
                              columns: Any = None) -> Any: ...


def _day_us(days: pa.Array) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Start of each day (date32 or ISO text) in microseconds since the epoch."""
    if pa.types.is_string(days.type) or pa.types.is_large_string(days.type):
        days = pc.cast(pc.strptime(days, format="%Y-%m-%d", unit="s"), pa.date32())
    d: np.ndarray[Any, np.dtype[np.int64]] = (
        pc.cast(pc.cast(days, pa.date32()), pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)
    )
    return d * US_PER_DAY


def dirty_spans(dirty: pa.Table) -> pa.Table:
    """Per dirty aircraft, the span ``[start, end)`` (µs) of its dirty days.

    >>> import datetime as dt
    >>> t = pa.table({"icao24": pa.array([5, 5, 7], pa.int32()),
    ...               "day": pa.array([dt.date(2023, 8, 20), dt.date(2023, 8, 22), dt.date(2023, 8, 21)])})
    >>> [(r["icao24"], (r["end"] - r["start"]) // 86_400_000_000) for r in dirty_spans(t).to_pylist()]
    [(5, 3), (7, 1)]
    """
    start = pa.array(_day_us(dirty.column("day").combine_chunks()))
    t = pa.table({"icao24": dirty.column("icao24").combine_chunks(), "start": start})
    g = t.group_by("icao24").aggregate([("start", "min"), ("start", "max")])
    return pa.table({
        "icao24": pc.cast(g["icao24"], pa.int32()),
        "start": g["start_min"],
        "end": pc.add(g["start_max"], US_PER_DAY),
    }).sort_by("icao24")


def _span_of(icao: pa.ChunkedArray | pa.Array, spans: pa.Table) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Dirty span of each row's aircraft (an empty span for aircraft that are not dirty)."""
    ids = spans["icao24"].to_numpy()
    want = pc.cast(icao, pa.int32()).to_numpy(zero_copy_only=False)
    pos = np.minimum(np.searchsorted(ids, want), len(ids) - 1)
    found = ids[pos] == want
    return (np.where(found, spans["start"].to_numpy()[pos], 0),
            np.where(found, spans["end"].to_numpy()[pos], 0))


def _overlaps(t0: pa.ChunkedArray, t1: pa.ChunkedArray, icao: pa.ChunkedArray, spans: pa.Table) -> pa.Array:
    """Rows whose [t0, t1] meets their aircraft's dirty span (null times count as overlapping)."""
    s, e = _span_of(icao, spans)
    a = pc.fill_null(pc.cast(t0, pa.int64()), np.iinfo(np.int64).min).to_numpy()
    b = pc.fill_null(pc.cast(t1, pa.int64()), np.iinfo(np.int64).max).to_numpy()
    return pa.array((b >= s) & (a < e))


def _stop_times(stops: pa.Table) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    return pc.coalesce(stops["arrival"], stops["departure"]), pc.coalesce(stops["departure"], stops["arrival"])


def build_legs(store: _StoreLike, airports: pa.Table | None = None, params: LegParams = DEFAULT_PARAMS,
               progress: ProgressFn | None = None, batch_rows: int = 1_000_000) -> int:
    """Bring the store's ``legs`` and ``stops`` up to date; returns how many aircraft were rebuilt.

    ``progress(done, total)`` is called with aircraft counts as batches finish.
    """
    dirty = store.dirty()
    if dirty.num_rows == 0:
        return 0
    airports = load_airports() if airports is None else airports
    spans = dirty_spans(dirty)
    ids = spans["icao24"].to_pylist()
    total = len(ids)
    lo = int(pc.min(spans["start"]).as_py()) - US_PER_DAY
    hi = int(pc.max(spans["end"]).as_py()) + US_PER_DAY
    since = datetime.fromtimestamp(lo / 1e6, tz=UTC)
    until = datetime.fromtimestamp(hi / 1e6, tz=UTC)

    new_legs: list[pa.Table] = []
    new_stops: list[pa.Table] = []
    done = 0
    if progress:
        progress(0, total)
    for batch in store.iter_aircraft_batches(rows=batch_rows, since=since, until=until, icao24=ids,
                                             columns=KERNEL_COLUMNS):
        if batch.num_rows == 0:
            continue
        # the whole neighbourhood is read for every aircraft; keep what meets each one's own span
        batch = batch.filter(_in_window(batch, spans))
        legs, stops = legs_and_stops(batch, airports, params)
        new_legs.append(legs.filter(_overlaps(legs["t_start"], legs["t_end"], legs["icao24"], spans)))
        new_stops.append(stops)  # kept below if they meet the span widened by the new legs
        done += len(pc.unique(batch["icao24"]))
        if progress:
            progress(min(done, total), total)

    fresh_legs = pa.concat_tables([LEGS.empty_table(), *[t.cast(LEGS) for t in new_legs]])
    # rows to replace: those meeting the dirty span *or* any new leg of the aircraft (a leg
    # still in the air at the end of yesterday's data is superseded by its whole version,
    # although it lies outside today's dirty span; so are the stops at its ends)
    wide = _widen(spans, fresh_legs)
    all_stops = pa.concat_tables([STOPS.empty_table(), *[t.cast(STOPS) for t in new_stops]])
    n0, n1 = _stop_times(all_stops)
    fresh_stops = all_stops.filter(_overlaps(n0, n1, all_stops["icao24"], wide))
    old_legs = store.derived("legs", icao24=ids)
    keep_legs = old_legs.filter(pc.invert(_overlaps(old_legs["t_start"], old_legs["t_end"], old_legs["icao24"], wide)))
    old_stops = store.derived("stops", icao24=ids)
    s0, s1 = _stop_times(old_stops)
    keep_stops = old_stops.filter(pc.invert(_overlaps(s0, s1, old_stops["icao24"], wide)))
    legs_all = pa.concat_tables([keep_legs.cast(LEGS), fresh_legs])
    stops_all = pa.concat_tables([keep_stops.cast(STOPS), fresh_stops])
    store.write_derived("legs", legs_all, icao24=ids)
    store.write_derived("stops", stops_all, icao24=ids)
    store.clear_dirty(dirty)
    if progress:
        progress(total, total)
    return total


def _widen(spans: pa.Table, legs: pa.Table) -> pa.Table:
    """Each aircraft's dirty span stretched to cover its new legs."""
    schema = pa.schema([("icao24", pa.int32()), ("a", pa.int64()), ("b", pa.int64())])
    t = pa.concat_tables([
        pa.table({"icao24": spans["icao24"], "a": spans["start"], "b": pc.subtract(spans["end"], 1)}).cast(schema),
        pa.table({"icao24": legs["icao24"], "a": pc.cast(legs["t_start"], pa.int64()),
                  "b": pc.cast(legs["t_end"], pa.int64())}).cast(schema),
    ])
    g = t.group_by("icao24").aggregate([("a", "min"), ("b", "max")])
    return pa.table({"icao24": pc.cast(g["icao24"], pa.int32()), "start": g["a_min"],
                     "end": pc.add(g["b_max"], 1)}).sort_by("icao24")


def _in_window(batch: pa.Table, spans: pa.Table) -> pa.Array:
    """Rows within one day of their aircraft's dirty span."""
    s, e = _span_of(batch["icao24"], spans)
    t = pc.cast(batch["time"], pa.int64()).to_numpy()
    return pa.array((t >= s - US_PER_DAY) & (t < e + US_PER_DAY))


def stale_aircraft(store: _StoreLike) -> int:
    """How many aircraft have data newer than their legs (the CLI builds before listing)."""
    d = store.dirty()
    return len(pc.unique(d["icao24"])) if d.num_rows else 0


__all__ = ["KERNEL_COLUMNS", "build_legs", "dirty_spans", "stale_aircraft"]

