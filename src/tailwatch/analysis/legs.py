"""Legs and stops: where each aircraft went, with airports only where the data shows them.

:func:`legs_and_stops` is a pure kernel (Arrow in, Arrow out, no I/O): it takes
``POSITIONS`` rows of one or many *complete* aircraft in any order, sorts them
by (icao24, time) when needed and works on all aircraft at once with NumPy
(no Python loop per aircraft or per flight), so the same function runs on a
DuckDB batch stream or a Spark ``applyInArrow`` group.

How a track becomes legs (every threshold is a field of :class:`LegParams`):

1. Sparse rows are forward-filled per aircraft (position, altitude, speed,
   ground flag), never across aircraft and never older than ``ffill_max_s``.
2. Each row is on the ground or airborne (``on_ground``; a ground flag faster
   than ``ground_max_gs_kt`` is noise; without any flag, slow rows with no
   altitude are ground).  A short airborne blip between two ground runs is ground.
3. Rows are cut into runs of one state; a silence longer than ``max_gap_s``
   also cuts.  Airborne runs are joined into one leg across a short ground
   contact (touch-and-go, ``touch_and_go_max_s``) and across a silence while
   airborne *unless* the aircraft was low (below ``low_height_ft`` above the
   nearest field) on either side or the silence exceeds ``long_gap_s``: a
   coverage gap at cruise never invents a landing.
4. Origin and destination come from evidence only (see :mod:`tailwatch.analysis.legs_evidence`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.analysis.airports import airport_index
from tailwatch.analysis.geo import EARTH_RADIUS_KM, haversine_km, ragged_arange
from tailwatch.analysis.legs_evidence import LegInfo, evidence_at, go_arounds
from tailwatch.analysis.legs_tables import build_legs_table, build_stops_table
from tailwatch.schema import LEGS, STOPS

US = 1_000_000
#: The columns the kernel reads (others are ignored, so callers may pass whole POSITIONS tables).
KERNEL_INPUT = ("time", "icao24", "lat", "lon", "alt_baro", "alt_geom", "gs", "track", "vrate", "callsign",
                "on_ground")
B = npt.NDArray[np.bool_]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
IX = npt.NDArray[np.signedinteger[Any]]  # row indices, int32 or int64


@dataclass(frozen=True)
class LegParams:
    """Thresholds of leg and airport reconstruction (all overridable from the CLI)."""

    #: A silence longer than this (s) cuts a run; it ends a leg only with evidence (see below).
    max_gap_s: float = 600.0
    #: A silence longer than this (s) ends a leg even at cruise (both ends then unknown).
    long_gap_s: float = 3 * 3600.0
    #: A silence also ends a leg when the straight line across it is flown slower than this
    #: fraction of the last known ground speed (the aircraft did something unseen, e.g. landed).
    gap_speed_ratio: float = 0.5
    #: A silence ends a leg when the aircraft was below this height above the nearest field (ft).
    low_height_ft: float = 3000.0
    #: Ground points within this distance (km) of an airport reference point are at that airport.
    ground_radius_km: float = 8.0
    #: An airborne first/last point below this height above field elevation (ft) can name an airport...
    approach_height_ft: float = 2000.0
    #: ...if the airport is this close (km) to the point or to its projected touchdown / lift-off point.
    approach_radius_km: float = 10.0
    #: Ground contacts shorter than this (s, airborne to airborne) are touch-and-go, not a stop.
    touch_and_go_max_s: float = 120.0
    #: An airborne dip below this height above a field (ft)...
    go_around_height_ft: float = 1000.0
    #: ...within this distance of it (km)...
    go_around_radius_km: float = 6.0
    #: ...preceded and followed by at least this much more altitude (ft) in the same leg is a go-around.
    go_around_climb_ft: float = 800.0
    #: Airborne runs this short (s) between two ground runs are ground-flag flicker.
    flicker_s: float = 30.0
    #: A ground flag of at most ``touch_and_go_max_s``, moving faster than ``taxi_speed_kt``,
    #: between airborne rows more than this (ft) above the nearest field is a bad flag.
    ground_glitch_ft: float = 1500.0
    #: Legs whose positions cover less than this path length (km) are dropped.
    min_leg_km: float = 1.0
    #: Legs with fewer airborne rows than this are dropped.
    min_leg_points: int = 2
    #: A ground flag faster than this (kt) is noise.
    ground_max_gs_kt: float = 250.0
    #: With no ground flag at all, slower rows (kt) without altitude are on the ground.
    taxi_speed_kt: float = 50.0
    #: Altitude changes faster than this (ft/min, and over 1,000 ft) are glitches, not flight.
    max_climb_fpm: float = 12000.0
    #: Forward-filled values older than this (s) are treated as unknown.
    ffill_max_s: float = 120.0


def _col(t: pa.Table, name: str) -> pa.ChunkedArray | None:
    return t.column(name) if name in t.column_names else None


def _f64(t: pa.Table, name: str, order: I64 | None = None) -> F64:
    """Column ``name`` as float64 with NaN for null (all NaN when absent), rows taken by ``order``."""
    c = _col(t, name)
    if c is None:
        return np.full(t.num_rows if order is None else len(order), np.nan)
    if pa.types.is_floating(c.type):
        x = c.to_numpy()  # nulls become NaN; take before widening (less memory to move)
    else:
        x = pc.fill_null(pc.cast(c, pa.float64()), np.nan).to_numpy()
    if order is not None:
        x = x[order]
    return np.asarray(x, dtype=np.float64)


def _order(ac: I64, t: I64) -> I64 | None:
    """Stable permutation sorting rows by (icao24, time); ``None`` when already sorted (O(n) check).

    One ``argsort`` of a packed key (24-bit address above a 40-bit time offset) when it fits,
    else ``lexsort``; both are stable, so ties keep input order and the permutation is the same.

    >>> _order(np.array([5, 1, 5]), np.array([2, 9, 1])).tolist()
    [1, 2, 0]
    >>> _order(np.array([1, 5]), np.array([9, 1])) is None
    True
    """
    if len(ac) < 2:
        return None
    head = np.diff(ac[:4096])  # unsorted input usually shows it at once: skip the full check
    if not bool(np.any((head < 0) | ((head == 0) & (np.diff(t[:4096]) < 0)))):
        dac = np.diff(ac)
        if bool(np.all((dac > 0) | ((dac == 0) & (np.diff(t) >= 0)))):
            return None
    t0 = int(t.min())
    if int(ac.min()) >= 0 and int(ac.max()) < 1 << 24 and int(t.max()) - t0 < 1 << 40:
        key = (ac.astype(np.uint64) << np.uint64(40)) | (t - t0).astype(np.uint64)
        return np.asarray(np.argsort(key, kind="stable"), dtype=np.int64)
    return np.asarray(np.lexsort((t, ac)), dtype=np.int64)


def _ffill_src(valid: B, row_start: IX, t: I64, max_us: int, arange: IX) -> tuple[B, IX]:
    """Where a forward fill from ``valid`` rows is allowed (same aircraft, at most ``max_us`` old),
    and the source row of each row; shared by every column with the same ``valid`` mask."""
    if max_us >= 0 and valid.all():  # every row is its own source
        return np.ones(len(valid), dtype=bool), arange - 1
    idx = arange * valid  # 1-based row of the last valid row so far (0: none); multiply beats where
    np.maximum.accumulate(idx, out=idx)
    ok = idx > row_start  # same aircraft (row_start is 0-based)
    idx -= 1
    np.maximum(idx, 0, out=idx)  # (rows that are not ok only need an index in range)
    ok &= (t - t[idx]) <= max_us
    return ok, idx


def _ffill(x: F64, valid: B, row_start: IX, t: I64, max_us: int, arange: IX) -> F64:
    """Forward-fill ``x`` from ``valid`` rows, within an aircraft, at most ``max_us`` old."""
    if max_us >= 0 and valid.all():  # nothing to fill (e.g. a ground flag on every row)
        return x.copy()
    ok, safe = _ffill_src(valid, row_start, t, max_us, arange)
    return _masked(x[safe], ok)


def _masked(x: F64, ok: B) -> F64:
    """``np.where(ok, x, nan)`` in place: ``ok`` is nearly all true, so index the few others."""
    x[np.flatnonzero(~ok)] = np.nan
    return x


def _despike(alt: F64, t: I64, new_ac: B, max_fpm: float, max_gap_us: int = 600 * US) -> F64:
    """Drop altitude plateaus entered *and* left (or ending the aircraft) by impossible jumps.

    A plateau is a run of identical consecutive reported values; a jump is impossible when
    faster than ``max_fpm`` and larger than 1,000 ft.  A single wrong value, or a wrong value
    repeated until the track ends or falls silent for ``max_gap_us`` (a stale state vector),
    is removed; a real climb is not.

    >>> a = np.array([1000.0, 1100.0, 34000.0, 34000.0, 1200.0])
    >>> _despike(a, np.arange(5) * 5_000_000, np.array([1, 0, 0, 0, 0], bool), 12000.0).tolist()
    [1000.0, 1100.0, nan, nan, 1200.0]
    """
    v = np.flatnonzero(np.isfinite(alt))
    if len(v) < 2:
        return alt
    a, tv = alt[v], t[v]
    ac_id = np.cumsum(new_ac, dtype=np.int32 if len(alt) < 2**31 - 1 else np.int64)[v]
    start = np.empty(len(v), dtype=bool)
    start[0] = True
    np.not_equal(a[1:], a[:-1], out=start[1:])
    start[1:] |= ac_id[1:] != ac_id[:-1]
    ps = np.flatnonzero(start)  # plateau starts (index into v); plateau i ends at ps[i + 1] - 1
    np_ = len(ps)
    # Jumps are rare, so only they are examined.  A jump into plateau i compares its first value
    # with the last of plateau i - 1, which is the valid row just before (v index ps[i] - 1).
    dv = np.abs(a[1:] - a[:-1])
    s = np.flatnonzero(dv > 1000.0) + 1  # (a change, so a plateau start)
    s = s[ac_id[s] == ac_id[s - 1]]
    dt_min = np.maximum((tv[s] - tv[s - 1]) / 60e6, 1.0 / 60.0)
    s = s[dv[s - 1] / dt_min > max_fpm]
    out = alt.copy()
    if len(s) == 0:
        return out
    jump = np.zeros(np_ + 1, dtype=bool)  # jump into plateau i (one spare slot at the end)
    ji = np.searchsorted(ps, s)
    jump[ji] = True
    # plateau i is left by a jump, or is the last of its aircraft / before a long silence
    nxt = np.minimum(ji + 1, np_ - 1)
    ends = (ji == np_ - 1) | (ac_id[ps[nxt]] != ac_id[ps[ji]]) | ((tv[ps[nxt]] - tv[ps[nxt] - 1]) > max_gap_us)
    # ...unless it just returns to where the aircraft was before the previous plateau (which was the spike)
    p2 = np.maximum(ji - 2, 0)
    e2 = ps[np.maximum(ji - 1, 0)] - 1  # last row of plateau i - 2
    dt2 = np.maximum((tv[ps[ji]] - tv[e2]) / 60e6, 1.0 / 60.0)
    d2 = np.abs(a[ps[ji]] - a[ps[p2]])
    back = (ji >= 2) & ((d2 <= 1000.0) | (d2 / dt2 <= max_fpm)) & (ac_id[ps[ji]] == ac_id[ps[p2]]) & jump[ji - 1]
    bad = ji[(jump[ji + 1] | ends) & ~back]
    if len(bad):
        stop = np.where(bad + 1 < np_, ps[np.minimum(bad + 1, np_ - 1)], len(v))
        rows, _ = ragged_arange(ps[bad], stop - ps[bad])
        out[v[rows]] = np.nan
    return out


def _ffill_at(x: F64, rows: I64, row_start: I64, t: I64, max_us: int, order: I64 | None = None) -> F64:
    """Forward-filled value of ``x`` at a few ``rows`` only (-1 rows give NaN): O(k log n).

    ``x`` is in input order when ``order`` (the sorting permutation) is given, so a column read
    at a few rows is never permuted whole.
    """
    fin = np.isfinite(x)
    vidx = np.flatnonzero(fin if order is None else fin[order])
    r = np.maximum(rows, 0)
    k = np.searchsorted(vidx, r, side="right") - 1
    src = vidx[np.maximum(k, 0)] if len(vidx) else np.zeros(len(r), np.int64)
    ok = (rows >= 0) & (k >= 0) & (src >= row_start[r]) & ((t[r] - t[src]) <= max_us)
    if not len(vidx):
        return np.full(len(r), np.nan)
    return np.where(ok, x[src] if order is None else x[order[src]], np.nan)


def _seg_reduce(ufunc: np.ufunc, x: F64, row0: I64, row1: I64) -> F64:
    """``ufunc.reduce`` of ``x`` over each non-empty row range [row0, row1) (NaN-aware for fmax/fmin)."""
    if len(row0) == 0:
        return np.zeros(0)
    xx = np.r_[x, np.nan]
    idx = np.empty(2 * len(row0), dtype=np.int64)
    idx[0::2], idx[1::2] = row0, row1
    return np.asarray(ufunc.reduceat(xx, idx)[0::2], dtype=np.float64)


def _path_km(row0: I64, row1: I64, has_pos: B, lat: F64, lon: F64) -> F64:
    """Path length (km) over the positioned rows of each row range [row0, row1).

    Consecutive reports are close, so the equirectangular formula is exact to well under 0.1%.
    """
    pidx = np.flatnonzero(has_pos)
    m = len(row0)
    if len(pidx) < 2 or m == 0:
        return np.zeros(m)
    la = np.radians(lat[pidx])
    lo = np.radians(lon[pidx])
    # (d + pi) % 2pi - pi, with the remainder only where it changes anything: fmod of a value
    # already in [0, 2pi) returns it exactly, so the result is bit-identical and 2 ms cheaper
    dlo = np.diff(lo)
    dlo += np.pi
    wrap = (dlo < 0.0) | (dlo >= 2 * np.pi)
    if wrap.any():
        dlo[wrap] %= 2 * np.pi
    dlo -= np.pi
    mid = la[1:] + la[:-1]
    mid *= 0.5
    np.cos(mid, out=mid)
    dlo *= mid
    step = np.hypot(np.diff(la), dlo, out=dlo)
    step *= EARTH_RADIUS_KM
    cum = np.empty(len(pidx))
    cum[0] = 0.0
    np.cumsum(step, out=cum[1:])
    j0 = np.searchsorted(pidx, row0)  # first positioned row of the range
    j1 = np.searchsorted(pidx, row1) - 1  # last positioned row of the range
    ok = j1 > j0
    return np.where(ok, cum[np.maximum(j1, 0)] - cum[np.minimum(j0, len(pidx) - 1)], 0.0)


def _runs(key: npt.NDArray[np.int8], cut: B) -> tuple[I64, I64]:
    n = len(key)
    start = cut.copy()
    start[1:] |= key[1:] != key[:-1]
    start[0] = True
    rs = np.flatnonzero(start)
    re = np.r_[rs[1:], n]
    return rs, re


def legs_and_stops(
    positions: pa.Table, airports: pa.Table, params: LegParams = LegParams()
) -> tuple[pa.Table, pa.Table]:
    """Legs (``schema.LEGS``) and stops (``schema.STOPS``) of every aircraft in ``positions``.

    ``positions`` follows ``schema.POSITIONS`` (only ``time, icao24, lat, lon`` are required;
    ``alt_baro, alt_geom, gs, track, vrate, callsign, on_ground`` are used when present) and
    holds complete aircraft in any order.  ``airports`` follows
    :func:`tailwatch.analysis.airports.load_airports`.
    """
    if positions.num_rows == 0:
        return LEGS.empty_table(), STOPS.empty_table()
    ac = positions.column("icao24").to_numpy().astype(np.int64)
    t = pc.cast(positions.column("time"), pa.int64()).to_numpy().astype(np.int64)
    order = _order(ac, t)

    def col(name: str) -> F64:
        return _f64(positions, name, order)

    if order is not None:
        ac, t = ac[order], t[order]
    n = len(ac)
    arange = np.arange(n)
    # forward-fill source rows as int32 when n allows: half the memory traffic, same values
    arange_ff: IX = np.arange(1, n + 1, dtype=np.int32 if n < 2**31 - 1 else np.int64)  # 1-based
    new_ac = np.ones(n, dtype=bool)
    new_ac[1:] = ac[1:] != ac[:-1]
    row_start = np.maximum.accumulate(arange * new_ac)
    row_start_ff: IX = row_start.astype(arange_ff.dtype)
    max_us = int(params.ffill_max_s * US)

    lat_raw, lon_raw = col("lat"), col("lon")
    gs_raw = col("gs")
    # a position repeated unchanged while moving is a stale copy (state-vector sources do that)
    frozen = np.zeros(n, dtype=bool)
    frozen[1:] = (lat_raw[1:] == lat_raw[:-1]) & (lon_raw[1:] == lon_raw[:-1]) & ~new_ac[1:]
    frozen &= gs_raw > params.taxi_speed_kt
    if frozen.any():
        lat_raw = np.where(frozen, np.nan, lat_raw)
        lon_raw = np.where(frozen, np.nan, lon_raw)
    has_pos = np.isfinite(lat_raw) & np.isfinite(lon_raw)
    ok_pos, src_pos = _ffill_src(has_pos, row_start_ff, t, max_us, arange_ff)
    not_pos = np.flatnonzero(~ok_pos)
    lat, lon = lat_raw[src_pos], lon_raw[src_pos]
    lat[not_pos] = np.nan
    lon[not_pos] = np.nan
    alt_raw = col("alt_baro")
    geom = _col(positions, "alt_geom")
    if geom is None or geom.null_count == len(geom):  # (no geometric altitude to fall back on)
        alt_raw = np.where(np.isinf(alt_raw), np.nan, alt_raw) if np.isinf(alt_raw).any() else alt_raw.copy()
    else:
        alt_raw = np.where(np.isfinite(alt_raw), alt_raw, col("alt_geom"))
    alt_raw[frozen] = np.nan  # a stale row's altitude is stale (or garbage) too
    alt_raw = _despike(alt_raw, t, new_ac, params.max_climb_fpm, int(params.max_gap_s * US))
    alt = _ffill(alt_raw, np.isfinite(alt_raw), row_start_ff, t, max_us, arange_ff)
    gs = _ffill(gs_raw, np.isfinite(gs_raw), row_start_ff, t, max_us, arange_ff)
    # track and vrate are read at a few rows only: left in input order (``order`` maps to it)
    track_raw, vrate_raw = _f64(positions, "track"), _f64(positions, "vrate")
    og_raw = col("on_ground")
    og = _ffill(og_raw, np.isfinite(og_raw), row_start_ff, t, max_us, arange_ff)

    # --- ground state per row
    ground = (og == 1.0) & ~(gs > params.ground_max_gs_kt)
    ground |= ~np.isfinite(og) & (gs < params.taxi_speed_kt) & ~np.isfinite(alt_raw)
    gap = np.zeros(n, dtype=bool)
    gap[1:] = (t[1:] - t[:-1]) > params.max_gap_s * US
    cut = new_ac | gap

    # flicker: a short airborne run between two ground runs (no silence) is ground
    rs, re = _runs(ground.astype(np.int8), cut)
    r_ground = ground[rs]
    r_cut = cut[rs]
    nr = len(rs)
    prev_g = np.zeros(nr, dtype=bool)
    prev_g[1:] = r_ground[:-1] & ~r_cut[1:]
    next_g = np.zeros(nr, dtype=bool)
    next_g[:-1] = r_ground[1:] & ~r_cut[1:]
    flick = ~r_ground & prev_g & next_g & ((t[re - 1] - t[rs]) <= params.flicker_s * US)
    # ...and a short ground run flanked by rows well above the nearest field is a bad flag
    index = airport_index(airports)
    elev = np.nan_to_num(pc.cast(airports["elevation_ft"], pa.float64()).to_numpy(zero_copy_only=False), nan=0.0)
    prev_a = np.zeros(nr, dtype=bool)
    prev_a[1:] = ~r_ground[:-1] & ~r_cut[1:]
    next_a = np.zeros(nr, dtype=bool)
    next_a[:-1] = ~r_ground[1:] & ~r_cut[1:]
    cand = np.flatnonzero(r_ground & prev_a & next_a & ((t[re - 1] - t[rs]) <= params.touch_and_go_max_s * US))
    high = np.zeros(nr, dtype=bool)
    if len(cand):
        near = index.nearest(lat[rs[cand]], lon[rs[cand]], max_km=50.0)
        fe = np.where(near.index >= 0, elev[np.maximum(near.index, 0)], 0.0)
        above = np.fmax(alt[rs[cand] - 1], alt[np.minimum(re[cand], n - 1)]) - fe
        high[cand] = (above > params.ground_glitch_ft) & (gs[rs[cand]] > params.taxi_speed_kt)
        high[cand] &= ~flick[cand - 1] & ~flick[cand + 1]  # flanked by real flight, not by blips
    if flick.any() or high.any():
        ground[np.repeat(flick, re - rs)] = True
        ground[np.repeat(high, re - rs)] = False
        rs, re = _runs(ground.astype(np.int8), cut)

    r_ground = ground[rs]
    r_ac = ac[rs]
    r_t0, r_t1 = t[rs], t[re - 1]
    r_gap_before = gap[rs] & ~new_ac[rs]
    r_same_prev = np.zeros(len(rs), dtype=bool)
    r_same_prev[1:] = r_ac[1:] == r_ac[:-1]

    # first / last row with a position in each run
    fin = np.flatnonzero(np.isfinite(lat))
    fin_end = np.r_[fin, n]  # (n: none after)
    r_first = fin_end[np.searchsorted(fin, rs)]
    r_first = np.where(r_first < re, r_first, -1)
    k_last = np.searchsorted(fin, re - 1, side="right") - 1
    r_last = np.where(k_last >= 0, fin_end[np.maximum(k_last, 0)], -1)
    r_last = np.where(r_last >= rs, r_last, -1)

    # --- join airborne runs into legs
    air = np.flatnonzero(~r_ground)
    if len(air) == 0:
        legs = LEGS.empty_table()
        stops = build_stops_table(
            legs_info=None, runs=(rs, re, r_ground, r_ac, r_t0, r_t1, r_first, r_last),
            lat=lat, lon=lon, index=index, airports=airports, params=params,
        )
        return legs, stops
    # heights of air-run ends above the nearest field, for the "silence while airborne" rule
    a_first, a_last = r_first[air], r_last[air]
    ends = np.r_[a_first, a_last]
    ok_end = ends >= 0
    near = index.nearest(np.where(ok_end, lat[ends], np.nan), np.where(ok_end, lon[ends], np.nan),
                         max_km=params.approach_radius_km * 5)
    field = np.where(near.index >= 0, elev[np.maximum(near.index, 0)], 0.0)
    h_end = np.where(ok_end, alt[np.maximum(ends, 0)] - field, np.nan)
    h_first, h_last = h_end[: len(air)], h_end[len(air):]
    low_first = ~(h_first >= params.low_height_ft)  # unknown height counts as low (no invention)
    low_last = ~(h_last >= params.low_height_ft)

    join = np.zeros(len(air), dtype=bool)
    tg_run = np.full(len(air), -1, dtype=np.int64)
    k = air
    has_prev = k >= 1
    p = np.maximum(k - 1, 0)
    same_p = has_prev & r_same_prev[k]
    # (a) silence while airborne: previous run is airborne too
    prev_air_pos = np.searchsorted(air, p)  # position of p in ``air`` when p is airborne
    prev_is_air = same_p & ~r_ground[p]
    silence = (r_t0[k] - r_t1[p]) / US
    pa_idx = np.minimum(prev_air_pos, len(air) - 1)
    # a silence that a direct flight at the last known speed would have crossed in far less time
    # hides something (a landing, a loiter): end the leg there, both ends unknown
    ra, rb = r_last[p], r_first[k]
    okab = (ra >= 0) & (rb >= 0)
    ra0, rb0 = np.maximum(ra, 0), np.maximum(rb, 0)
    direct_kt = haversine_km(lat[ra0], lon[ra0], lat[rb0], lon[rb0]) / 1.852 / np.maximum(silence / 3600.0, 1e-9)
    too_slow = okab & (direct_kt < params.gap_speed_ratio * gs[ra0])
    landing_gap = (silence > params.long_gap_s) | low_last[pa_idx] | low_first | too_slow
    join |= prev_is_air & ~landing_gap
    # (b) touch-and-go: air, short ground run, air — no silence in between
    pp = np.maximum(k - 2, 0)
    # (both airborne sides must carry fresh positions: a stale state vector after a landing
    # flips back to "airborne" without moving, which is no touch-and-go)
    pidx = np.flatnonzero(has_pos)
    r_npos = np.searchsorted(pidx, re) - np.searchsorted(pidx, rs)
    tg = (
        same_p & r_ground[p] & (k >= 2) & r_same_prev[p] & ~r_ground[pp]
        & ~r_gap_before[k] & ~r_gap_before[p]
        & ((r_t0[k] - r_t1[pp]) <= params.touch_and_go_max_s * US)
        & (r_npos[k] >= params.min_leg_points) & (r_npos[pp] >= params.min_leg_points)
    )
    join |= tg
    tg_run[tg] = p[tg]

    leg_of_air = np.cumsum(~join) - 1
    n_legs = int(leg_of_air[-1]) + 1
    first_air = air[~join]
    last_air = np.r_[air[np.flatnonzero(~join)[1:] - 1], air[-1]]
    l_row0, l_row1 = rs[first_air], re[last_air]  # leg row range [row0, row1)

    # airborne rows per leg (drop tiny legs)
    air_rows = np.bincount(leg_of_air, weights=(re[air] - rs[air]), minlength=n_legs)
    dist_km = _path_km(l_row0, l_row1, has_pos, lat, lon)
    # a "leg" that never moves is a ground flag glitch of a parked aircraft, not a flight
    keep = (air_rows >= params.min_leg_points) & (dist_km >= params.min_leg_km)
    # nor is one that never goes faster than a taxiing aircraft nor changes altitude
    top_gs = _seg_reduce(np.fmax, gs, l_row0, l_row1)
    alt_span = _seg_reduce(np.fmax, alt, l_row0, l_row1) - _seg_reduce(np.fmin, alt, l_row0, l_row1)
    keep &= ~((top_gs < 1.6 * params.taxi_speed_kt) & ~(alt_span >= 300.0))

    # --- evidence at both ends
    before = first_air - 1
    ground_before = (first_air >= 1) & r_same_prev[first_air] & r_ground[np.maximum(before, 0)] & ~r_gap_before[first_air]
    after = last_air + 1
    after_c = np.minimum(after, len(rs) - 1)
    ground_after = (after < len(rs)) & r_same_prev[after_c] & r_ground[after_c] & ~r_gap_before[after_c]
    b_idx = np.maximum(before, 0)
    origin = evidence_at(
        is_ground=ground_before,
        row=(o_row := np.where(ground_before, r_last[b_idx], r_first[first_air])),
        ground_s=np.where(ground_before, (r_t1[b_idx] - r_t0[b_idx]) / US, 0.0),
        lat=lat, lon=lon, alt=alt,
        track=_ffill_at(track_raw, o_row, row_start, t, max_us, order),
        vrate=_ffill_at(vrate_raw, o_row, row_start, t, max_us, order),
        index=index, airports=airports, elev=elev, params=params, end="origin",
    )
    dest = evidence_at(
        is_ground=ground_after,
        row=(d_row := np.where(ground_after, r_first[after_c], r_last[last_air])),
        ground_s=np.where(ground_after, (r_t1[after_c] - r_t0[after_c]) / US, 0.0),
        lat=lat, lon=lon, alt=alt,
        track=_ffill_at(track_raw, d_row, row_start, t, max_us, order),
        vrate=_ffill_at(vrate_raw, d_row, row_start, t, max_us, order),
        index=index, airports=airports, elev=elev, params=params, end="destination",
    )

    # --- touch-and-go airports
    tg_mask = tg_run >= 0
    tg_rows = r_first[tg_run[tg_mask]]
    tg_near = index.nearest(np.where(tg_rows >= 0, lat[np.maximum(tg_rows, 0)], np.nan),
                            np.where(tg_rows >= 0, lon[np.maximum(tg_rows, 0)], np.nan),
                            max_km=params.ground_radius_km)
    tg_leg = leg_of_air[tg_mask][tg_near.index >= 0]
    tg_ap = tg_near.index[tg_near.index >= 0]

    ga_leg, ga_ap = go_arounds(l_row0, l_row1, ground, lat, lon, alt, index, elev, params)
    # a go-around at an airport also touched in the same leg is the touch-and-go itself
    if len(tg_leg) and len(ga_leg):
        dup = np.isin(ga_leg * 1_000_000 + ga_ap, tg_leg * 1_000_000 + tg_ap)
        ga_leg, ga_ap = ga_leg[~dup], ga_ap[~dup]

    info = LegInfo(
        ac=ac[l_row0], t=t[l_row0], l_row0=l_row0, l_row1=l_row1, first_row=r_first[first_air], last_row=r_last[last_air],
        t_start=r_t0[first_air], t_end=r_t1[last_air], keep=keep, origin=origin, dest=dest, dist_km=dist_km,
        same_stop_next=ground_after & np.r_[ground_before[1:], False]
        & np.r_[(first_air[1:] - 1) == after[:-1], False],
    )
    legs = build_legs_table(
        callsign=_col(positions, "callsign"), order=order, info=info, lat=lat, lon=lon, alt=alt,
        tg=(tg_leg, tg_ap), ga=(ga_leg, ga_ap), airports=airports,
    )
    stops = build_stops_table(
        legs_info=info, runs=(rs, re, r_ground, r_ac, r_t0, r_t1, r_first, r_last),
        lat=lat, lon=lon, index=index, airports=airports, params=params,
    )
    return legs, stops
