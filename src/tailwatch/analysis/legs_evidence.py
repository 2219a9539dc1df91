"""Airport evidence at the ends of legs, and go-arounds — vectorised, with human reasons.

An end of a leg names an airport only when the data shows it:

* **on the ground**: the ground run next to the leg is within ``ground_radius_km``
  of an airport: ``"on ground 3 min, 0.4 km from GAGO"`` (confidence 0.95 down to 0.7);
* **low and close**: the first/last airborne point is below ``approach_height_ft`` above the
  field elevation, and the airport is within ``ground_radius_km`` of the point projected
  along the track down a 3° slope to the field (or within ``approach_radius_km`` of the
  point itself when there is no track): ``"descending through 1200 ft above field
  elevation, 3 km from GAGO"`` (confidence 0.3-0.85);
* otherwise it is unknown, and says why: ``"unknown (first seen at FL250, 180 km from
  the nearest airport GAGO)"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.analysis.geo import AirportIndex, destination_point

if TYPE_CHECKING:
    from tailwatch.analysis.legs import LegParams

B = npt.NDArray[np.bool_]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
FT = 0.3048
GLIDE = np.tan(np.radians(3.0))


@dataclass(frozen=True)
class EndEvidence:
    """What one end (origin or destination) of each leg shows."""

    airport: I64  # row of the airport table, -1 when not evidenced
    confidence: F64  # NaN when not evidenced
    reason: pa.Array  # string, never null
    lat: F64
    lon: F64


@dataclass(frozen=True)
class LegInfo:
    """Per-leg arrays the table builders need (all legs, ``keep`` says which are reported)."""

    ac: I64
    t: I64
    l_row0: I64
    l_row1: I64
    first_row: I64
    last_row: I64
    t_start: I64
    t_end: I64
    keep: B
    origin: EndEvidence
    dest: EndEvidence
    dist_km: F64
    #: True when leg i's landing ground run is the same run leg i+1 took off from.
    same_stop_next: B


def _s(x: F64 | I64) -> pa.Array:
    """Integers as text (``NaN`` becomes "?")."""
    v = np.asarray(x, dtype=np.float64)
    fin = np.isfinite(v)
    if fin.all():
        return pa.array(np.round(v).astype(np.int64)).cast(pa.string())
    arr = pa.array(np.round(np.nan_to_num(v, nan=0.0)).astype(np.int64)).cast(pa.string())
    return pc.if_else(pa.array(fin), arr, pa.scalar("?"))


def _km(x: F64) -> pa.Array:
    """Distance text: one decimal below 10 km, whole km above."""
    v = np.nan_to_num(np.asarray(x, dtype=np.float64), nan=0.0, posinf=0.0)
    one = pc.cast(pa.array(np.round(v, 1)), pa.string())
    whole = _s(v)
    return pc.if_else(pa.array(v < 10.0), one, whole)


def _join(*parts: pa.Array | str) -> pa.Array:
    cols = [p if isinstance(p, pa.Array) else pa.scalar(p) for p in parts]
    return pc.binary_join_element_wise(*cols, "")


def alt_text(alt: F64) -> pa.Array:
    """``FL250`` at or above 10,000 ft, ``3400 ft`` below, ``unknown altitude`` when NaN.

    >>> alt_text(np.array([25000.0, 3420.0, np.nan])).to_pylist()
    ['FL250', '3400 ft', 'unknown altitude']
    """
    a = np.asarray(alt, dtype=np.float64)
    fl = _join("FL", pc.utf8_lpad(_s(a / 100.0), width=3, padding="0"))
    ft = _join(_s(np.round(a / 100.0) * 100.0), " ft")
    out = pc.if_else(pa.array(a >= 10000.0), fl, ft)
    return pc.if_else(pa.array(np.isfinite(a)), out, pa.scalar("unknown altitude"))


def duration_text(seconds: F64) -> pa.Array:
    """``45 s``, ``3 min``, ``2 h 05 min``.

    >>> duration_text(np.array([45.0, 185.0, 7500.0])).to_pylist()
    ['45 s', '3 min', '2 h 05 min']
    """
    s = np.asarray(seconds, dtype=np.float64)
    sec = _join(_s(s), " s")
    mins = _join(_s(s / 60.0), " min")
    hrs = _join(_s(np.floor(s / 3600.0)), " h ", pc.utf8_lpad(_s(np.floor((s % 3600.0) / 60.0)), width=2, padding="0"),
                " min")
    return pc.if_else(pa.array(s < 60.0), sec, pc.if_else(pa.array(s < 3600.0), mins, hrs))


def evidence_at(
    *, is_ground: B, row: I64, ground_s: F64, lat: F64, lon: F64, alt: F64, track: F64, vrate: F64,
    index: AirportIndex, airports: pa.Table, elev: F64, params: LegParams,
    end: Literal["origin", "destination"],
) -> EndEvidence:
    """Airport (or not) shown by one end of each leg; ``row`` is the evidence row (-1: none).

    ``lat, lon, alt`` are per-row (forward-filled); ``track, vrate`` are already taken at ``row``.
    """
    m = len(row)
    ok = row >= 0
    r = np.maximum(row, 0)
    plat = np.where(ok, lat[r], np.nan)
    plon = np.where(ok, lon[r], np.nan)
    palt = np.where(ok, alt[r], np.nan)
    ptrk = np.where(ok, track, np.nan)
    pvr = np.where(ok, vrate, np.nan)
    icao = airports["icao"].combine_chunks()

    n0 = index.nearest(plat, plon)
    i0 = np.maximum(n0.index, 0)
    has0 = n0.index >= 0
    d0 = n0.dist_km
    h0 = palt - np.where(has0, elev[i0], 0.0)

    # airborne: project to the field along a 3° slope (forwards for a landing, backwards for a take-off)
    moving_away = (pvr > 300.0) if end == "destination" else (pvr < -300.0)
    bearing = ptrk if end == "destination" else (ptrk + 180.0) % 360.0
    ext_ok = ~is_ground & np.isfinite(ptrk) & (h0 > 0) & ~moving_away
    dist_ext = np.clip(np.nan_to_num(h0) * FT / GLIDE / 1000.0, 0.0, params.approach_radius_km)
    tlat, tlon = destination_point(np.where(ext_ok, plat, np.nan), plon, np.nan_to_num(bearing), dist_ext)
    n1 = index.nearest(tlat, tlon, max_km=params.ground_radius_km)
    use1 = n1.index >= 0
    cand = np.where(use1, n1.index, np.where(has0 & (d0 <= params.approach_radius_km), n0.index, -1))
    c = np.maximum(cand, 0)
    from tailwatch.analysis.geo import haversine_km

    dc = np.where(cand >= 0, haversine_km(plat, plon, index.lat[c], index.lon[c]), np.nan)
    hc = palt - elev[c]
    air_ok = ~is_ground & (cand >= 0) & (hc < params.approach_height_ft) & (hc > -1000.0)
    gnd_ok = is_ground & has0 & (d0 <= params.ground_radius_km)

    airport = np.full(m, -1, dtype=np.int64)
    airport[gnd_ok] = n0.index[gnd_ok]
    airport[air_ok] = cand[air_ok]
    conf = np.full(m, np.nan)
    conf[gnd_ok] = 0.95 - 0.25 * np.clip(d0[gnd_ok] / params.ground_radius_km, 0, 1)
    hfrac = np.clip(np.nan_to_num(hc, nan=1.0) / params.approach_height_ft, 0, 1)
    dfrac = np.clip(np.nan_to_num(dc, nan=1.0) / params.approach_radius_km, 0, 1)
    conf_air = 0.85 * (1 - 0.5 * hfrac) * (1 - 0.4 * dfrac)
    conf[air_ok] = conf_air[air_ok]

    name0 = pc.fill_null(icao.take(pa.array(i0)), "?")
    namec = pc.fill_null(icao.take(pa.array(c)), "?")
    dur = duration_text(ground_s)
    gnd_reason = _join("on ground ", dur, ", ", _km(d0), " km from ", name0)
    seen = "first seen" if end == "origin" else "last seen"
    if end == "destination":
        verb = pc.if_else(pa.array(pvr < -100.0), pa.scalar("descending through "), pa.scalar("at "))
    else:
        verb = pc.if_else(pa.array(pvr > 100.0), pa.scalar("climbing through "), pa.scalar("at "))
    height = pc.if_else(
        pa.array(hc >= 100.0),
        _join(_s(hc), " ft above field elevation"),
        _join("field elevation (", _s(palt), " ft baro, field at ", _s(elev[c]), " ft)"),
    )
    air_reason = _join(verb, height, ", ", _km(dc), " km from ", namec)
    where = pc.if_else(pa.array(has0), _join(_km(d0), " km from the nearest airport ", name0),
                       pa.scalar("no airport known"))
    unk_ground = _join("unknown (on ground ", dur, ", ", where, ")")
    unk_air = _join("unknown (", seen, " at ", alt_text(palt), ", ", where, ")")
    unk = pc.if_else(pa.array(is_ground), unk_ground, unk_air)
    unk = pc.if_else(pa.array(ok), unk, pa.scalar(f"unknown ({seen} without a position)"))
    reason = pc.if_else(pa.array(gnd_ok), gnd_reason, pc.if_else(pa.array(air_ok), air_reason, unk))
    return EndEvidence(airport, conf, reason, plat, plon)


def go_arounds(
    row0: I64, row1: I64, ground: B, lat: F64, lon: F64, alt: F64,
    index: AirportIndex, elev: F64, params: LegParams,
) -> tuple[I64, I64]:
    """(leg, airport) pairs of go-arounds / low approaches, in time order within each leg.

    A go-around is an airborne dip below ``go_around_height_ft`` above a field within
    ``go_around_radius_km`` of it, with at least ``go_around_climb_ft`` more altitude both
    earlier and later in the same leg (so neither the take-off nor the final landing counts).
    """
    nl = len(row0)
    if nl == 0 or not bool(np.any(row1 > row0)):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    # Every row is scanned (legs are disjoint row ranges in row order): a row is owned by its leg,
    # or by the next leg when between legs, where it weighs -1e5 like a row without altitude and
    # so never raises a running maximum: the same maxima as scanning the legs' rows alone.
    n = len(alt)
    owner = np.repeat(np.arange(nl + 1, dtype=np.int64), np.diff(np.r_[0, row1, n]))
    edges = np.empty(2 * nl + 2, dtype=np.int64)
    edges[0], edges[1:-1:2], edges[2:-1:2], edges[-1] = 0, row0, row1, n
    in_leg = np.repeat(np.arange(2 * nl + 1) % 2 == 1, np.diff(edges))
    a = alt
    good = np.isfinite(a) & ~ground & in_leg
    val = np.where(good, a, -1e5)
    big = 1e7
    ob = owner * big
    pre = np.maximum.accumulate(val + ob) - ob
    rv = val[::-1]
    rob = (nl - owner[::-1]).astype(np.float64) * big
    suf = (np.maximum.accumulate(rv + rob) - rob)[::-1]
    cand = good & (pre - val >= params.go_around_climb_ft) & (suf - val >= params.go_around_climb_ft)
    ci = np.flatnonzero(cand)
    if len(ci) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    cr = ci
    near = index.nearest(lat[cr], lon[cr], max_km=params.go_around_radius_km)
    ap = near.index
    hit = (ap >= 0) & ((a[ci] - elev[np.maximum(ap, 0)]) < params.go_around_height_ft)
    legs = owner[ci][hit]
    aps = ap[hit]
    key = legs * 1_000_000 + aps
    _, first = np.unique(key, return_index=True)
    first.sort()
    return legs[first], aps[first]
