"""Incident kernel: emergency squawks, DF17 emergency states, tracks that end low and
descending away from any runway (possible crash or forced landing), abrupt descents.

A track that simply ends at cruise level is ordinary loss of coverage and is not an
incident; a track ending low near an airfield reference point is an ordinary landing
seen until the receiver lost it.  Only a track ending below ``low_agl_ft`` above the
nearest airfield's elevation, descending, farther than ``runway_km`` from any airfield,
and not seen again elsewhere, is reported.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.analysis.findings.common import (
    US,
    Airports,
    FindingRows,
    angle_diff_deg,
    bearing_deg,
    col_f64,
    config_dict,
    fmt_place,
    haversine_km,
    iso,
    sort_positions,
)
from tailwatch.analysis.findings.config import IncidentConfig
from tailwatch.schema import hex_of

SQUAWKS = {"7500": "unlawful interference (hijack)", "7600": "radio failure", "7700": "general emergency"}
EMERGENCY_STATES = {1: "general emergency", 2: "lifeguard / medical", 3: "minimum fuel", 4: "no communications",
                    5: "unlawful interference", 6: "downed aircraft"}

Arr = np.ndarray[Any, Any]


def squawk_codes(col: pa.ChunkedArray | pa.Array) -> Arr:
    """Squawk column (string, or integer from careless sources) as int codes 7500/7600/7700, else 0.

    >>> squawk_codes(pa.array(["7700", None, " 7600", "1000"])).tolist()
    [7700, 0, 7600, 0]
    >>> squawk_codes(pa.array([7500, 1200])).tolist()
    [7500, 0]
    """
    if pa.types.is_integer(col.type):
        v = np.asarray(pc.fill_null(col.cast(pa.int64()), 0).to_numpy(zero_copy_only=False))
    else:
        s = pc.utf8_trim_whitespace(col.cast(pa.string()))
        num = pc.if_else(pc.match_substring_regex(s, r"^[0-7]{1,4}$"), s, None)
        v = np.asarray(pc.fill_null(num.cast(pa.int64()), 0).to_numpy(zero_copy_only=False))
    return np.where(np.isin(v, [7500, 7600, 7700]), v, 0).astype(np.int64)


def _runs(ic: Arr, t: Arr, code: Arr, merge_us: int) -> tuple[Arr, Arr]:
    """Episodes of equal non-zero ``code`` per aircraft: (start, stop) row-index bounds into the flagged rows."""
    idx = np.flatnonzero(code)
    if len(idx) == 0:
        return idx, idx
    i2, t2, c2 = ic[idx], t[idx], code[idx]
    new = np.r_[True, (i2[1:] != i2[:-1]) | (c2[1:] != c2[:-1]) | ((t2[1:] - t2[:-1]) > merge_us)]
    b = np.flatnonzero(new)
    return idx, np.r_[b, len(idx)]


def incident(positions: pa.Table, airports: pa.Table | Airports, config: IncidentConfig | None = None,
             data_end: int | None = None) -> pa.Table:
    """``incident`` findings (``FINDINGS``) from ``POSITIONS`` of whole aircraft.

    ``data_end`` (epoch µs): when the whole dataset ends.  A track ending shortly before it
    may simply have run out of data, which lowers the confidence and is said.  Without it
    nothing is assumed, so an aircraft's findings never depend on the other aircraft of the batch.

    >>> from tailwatch.schema import POSITIONS
    >>> ap = pa.table({"icao": ["GAGO"], "name": ["Gao"], "country": ["ML"], "lat": [16.25],
    ...                "lon": [0.0], "elevation": [870.0]})
    >>> incident(POSITIONS.empty_table(), ap).num_rows
    0
    """
    cfg = config or IncidentConfig()
    ap = airports if isinstance(airports, Airports) else Airports.from_table(airports)
    out = FindingRows("incident")
    pos = sort_positions(positions)
    if pos.num_rows == 0:
        return out.table()
    ic = pos.column("icao24").to_numpy().astype(np.int64)
    t = pos.column("time").cast(pa.int64()).to_numpy().astype(np.int64)
    lat, lon = col_f64(pos, "lat"), col_f64(pos, "lon")
    alt = col_f64(pos, "alt_baro")
    alt = np.where(np.isnan(alt), col_f64(pos, "alt_geom"), alt)
    vr = col_f64(pos, "vrate")
    ground = pos.column("on_ground").fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
    th = config_dict(cfg)
    merge = int(cfg.merge_s * US)

    sq = squawk_codes(pos.column("squawk"))
    _code_findings(out, ap, "squawk", sq, cfg.min_squawk_rows, ic, t, lat, lon, alt, merge, th)
    em = col_f64(pos, "emergency")
    em = np.where(np.isnan(em) | (em < 1) | (em > 6), 0, em).astype(np.int64)
    _code_findings(out, ap, "emergency", em, cfg.min_emergency_rows, ic, t, lat, lon, alt, merge, th)
    _track_ends(out, ap, cfg, ic, t, lat, lon, alt, vr, ground, sq, col_f64(pos, "track"), th, data_end)
    _abrupt(out, ap, cfg, ic, t, lat, lon, alt, vr, ground, th)
    return out.table()


def _place(ap: Airports, la: float, lo: float, km: float) -> tuple[str | None, float]:
    i, d = ap.nearest(np.array([la]), np.array([lo]), km)
    return (str(ap.icao[i[0]]), float(d[0])) if i[0] >= 0 else (None, float("nan"))


def _first_pos(rows: Arr, lat: Arr, lon: Arr) -> int:
    ok = rows[~np.isnan(lat[rows]) & ~np.isnan(lon[rows])]
    return int(ok[0]) if len(ok) else -1


def _code_findings(out: FindingRows, ap: Airports, what: str, code: Arr, min_rows: int, ic: Arr, t: Arr,
                   lat: Arr, lon: Arr, alt: Arr, merge: int, th: dict[str, Any]) -> None:
    idx, b = _runs(ic, t, code, merge)
    for k in range(len(b) - 1):
        rows = idx[b[k]:b[k + 1]]
        if len(rows) < min_rows:
            continue
        c = int(code[rows[0]])
        icao = int(ic[rows[0]])
        p = _first_pos(rows, lat, lon)
        near, km = (None, float("nan")) if p < 0 else _place(ap, lat[p], lon[p], 50.0)
        where = "" if p < 0 else f" near {fmt_place(near, lat[p], lon[p])}"
        if what == "squawk":
            label = f"squawked {c} ({SQUAWKS[str(c)]})"
            conf = 0.9 if c != 7500 else 0.8
        else:
            label = f"broadcast the ADS-B emergency state {c} ({EMERGENCY_STATES[c]})"
            conf = 0.85
        summary = (f"{hex_of(icao)} {label} from {iso(int(t[rows[0]]))} to {iso(int(t[rows[-1]]))}"
                   f"{where} ({len(rows)} reports).")
        ev = {"type": what, "code": c, "n_rows": len(rows),
              "point_time_range": [iso(int(t[rows[0]])), iso(int(t[rows[-1]]))],
              "first_position": None if p < 0 else [round(float(lat[p]), 5), round(float(lon[p]), 5),
                                                      None if np.isnan(alt[p]) else float(alt[p])],
              "nearest_airport": near, "nearest_airport_km": None if np.isnan(km) else round(km, 1),
              "thresholds": th}
        out.add(subject=hex_of(icao), icao24=icao, t_start=int(t[rows[0]]), t_end=int(t[rows[-1]]),
                places=[near] if near else [], confidence=conf, summary=summary, evidence=ev)


def _track_ends(out: FindingRows, ap: Airports, cfg: IncidentConfig, ic: Arr, t: Arr, lat: Arr, lon: Arr,
                alt: Arr, vr: Arr, ground: Arr, sq: Arr, trk_col: Arr, th: dict[str, Any],
                data_end: int | None) -> None:
    has = np.flatnonzero(~np.isnan(lat) & ~np.isnan(lon))
    if len(has) == 0:
        return
    pi, pt = ic[has], t[has]
    nxt_gap = np.r_[pt[1:] - pt[:-1], np.iinfo(np.int64).max]
    last_of_ac = np.r_[pi[1:] != pi[:-1], True]
    is_end = last_of_ac | (nxt_gap > cfg.end_gap_min * 60 * US)
    ends = has[is_end]
    # Altitude: the last known altitude of the track (within the descent window).
    e_alt = alt[ends]
    e_ground = ground[ends]
    cand = ~e_ground & ~np.isnan(e_alt)
    ends, e_alt = ends[cand], e_alt[cand]
    if len(ends) == 0:
        return
    e_lat, e_lon = lat[ends], lon[ends]
    near, dist = ap.nearest(e_lat, e_lon, cfg.airport_search_km)
    elev = np.where(near >= 0, ap.elevation[np.maximum(near, 0)], 0.0)
    elev = np.where(np.isnan(elev), 0.0, elev)
    agl = e_alt - elev
    low = agl < cfg.low_agl_ft
    away = (near < 0) | (dist > cfg.runway_km)
    # Heading at the end: last reported track of the track's final window, else the bearing
    # from the previous position of the same aircraft.
    pos_rank = np.searchsorted(has, ends)
    prev = has[np.maximum(pos_rank - 1, 0)]
    e_trk = _last_valid(trk_col, ic, ends, 60 * US, t)
    fallback = bearing_deg(lat[prev], lon[prev], e_lat, e_lon)
    e_trk = np.where(np.isnan(e_trk) & (ic[prev] == ic[ends]) & (prev != ends), fallback, e_trk)
    pp, pa_, _pd = ap.pairs(e_lat, e_lon, cfg.approach_km)
    to_ap = bearing_deg(e_lat[pp], e_lon[pp], ap.lat[pa_], ap.lon[pa_])
    aligned = angle_diff_deg(to_ap, e_trk[pp]) <= cfg.approach_deg
    on_approach = np.zeros(len(ends), dtype=bool)
    on_approach[pp[aligned]] = True
    short_final = (on_approach & (near >= 0) & (dist <= cfg.short_final_km) & (dist > cfg.short_final_min_km)
                   & (agl >= cfg.short_final_min_agl_ft) & (agl <= cfg.short_final_max_agl_ft))
    away &= ~on_approach
    away |= short_final
    # Descending: last vertical rate, or altitude lost over the last descent_window_s.
    rank = np.cumsum(np.r_[0, ic[1:] != ic[:-1]])
    span = int(t.max() - t.min()) + 1 + int(cfg.descent_window_s * US)
    key = rank * span + (t - t.min())
    w0 = np.searchsorted(key, key[ends] - int(cfg.descent_window_s * US), "left")
    alt_before = np.full(len(ends), np.nan)
    vr_end = np.full(len(ends), np.nan)
    for_alt = np.flatnonzero(low & away)  # only the few candidates need the window scan
    for k in for_alt:
        seg = slice(int(w0[k]), int(ends[k]) + 1)
        a = alt[seg]
        a = a[~np.isnan(a)]
        alt_before[k] = a[0] if len(a) else np.nan
        v = vr[seg]
        v = v[~np.isnan(v)]
        vr_end[k] = v[-1] if len(v) else np.nan
    descending = (vr_end <= cfg.descent_fpm) | ((e_alt - alt_before) <= -cfg.descent_drop_ft)
    hit = np.flatnonzero(low & away & descending)
    for k in hit:
        e = int(ends[k])
        icao = int(ic[e])
        r = int(pos_rank[k]) + 1
        nx = int(has[r]) if r < len(has) and ic[has[r]] == icao else -1
        seen_again = nx >= 0  # a later position of the same aircraft (after the end gap)
        data_left_s = None if data_end is None else (int(data_end) - int(t[e])) / US
        if short_final[k] and seen_again:
            continue  # on short final and seen again: it landed
        later = ""
        conf = 0.35 if short_final[k] else 0.6
        if seen_again:
            moved = float(haversine_km(lat[e], lon[e], lat[nx], lon[nx]))
            if moved > 20.0:
                continue  # flew on: the end was loss of coverage, not a landing
            later = f"; seen again {iso(int(t[nx]))} {moved:.0f} km away"
            conf = 0.4
        if not seen_again and data_left_s is not None and data_left_s < cfg.end_gap_min * 60:
            later = f"; the data ends {data_left_s / 60:.0f} min later"
            conf -= 0.15
        if sq[max(e - 50, 0):e + 1].any():
            conf += 0.2
        code = str(ap.icao[near[k]]) if near[k] >= 0 else None
        rel = (f"{dist[k]:.1f} km from {code}" if code else
               f"no airfield within {cfg.airport_search_km:.0f} km")
        what = ("on short final, never seen again: possible crash short of the runway (or loss of coverage)"
                if short_final[k] else "away from any runway: possible crash or forced landing")
        summary = (f"{hex_of(icao)}'s track ends airborne at {iso(int(t[e]))}, {agl[k]:.0f} ft above field "
                   f"elevation and descending, {rel}, {what}{later}.")
        ev = {"type": "track_end_short_final" if short_final[k] else "track_end_low", "last_point": [iso(int(t[e])), round(float(lat[e]), 5),
                                                       round(float(lon[e]), 5), float(e_alt[k])],
              "height_above_field_ft": round(float(agl[k])), "field_elevation_ft": float(elev[k]),
              "nearest_airport": code, "nearest_airport_km": None if np.isnan(dist[k]) else round(float(dist[k]), 2),
              "vrate_end_fpm": None if np.isnan(vr_end[k]) else float(vr_end[k]),
              "alt_window_before_ft": None if np.isnan(alt_before[k]) else float(alt_before[k]),
              "seen_again": bool(seen_again), "data_after_s": None if data_left_s is None else round(data_left_s, 1), "point_time_range": [iso(int(t[w0[k]])), iso(int(t[e]))],
              "thresholds": th}
        out.add(subject=hex_of(icao), icao24=icao, t_start=int(t[w0[k]]), t_end=int(t[e]),
                places=[code] if code else [], confidence=min(conf, 0.9), summary=summary, evidence=ev)


def _last_valid(values: Arr, ic: Arr, rows: Arr, window_us: int, t: Arr) -> Arr:
    """The last non-NaN ``values`` at or before each of ``rows`` within ``window_us``, same aircraft (vectorised)."""
    idx = np.where(~np.isnan(values), np.arange(len(values)), -1)
    last = np.maximum.accumulate(idx)[rows]
    ok = (last >= 0) & (ic[np.maximum(last, 0)] == ic[rows]) & (t[rows] - t[np.maximum(last, 0)] <= window_us)
    return np.where(ok, values[np.maximum(last, 0)], np.nan)


def _abrupt(out: FindingRows, ap: Airports, cfg: IncidentConfig, ic: Arr, t: Arr, lat: Arr, lon: Arr,
            alt: Arr, vr: Arr, ground: Arr, th: dict[str, Any]) -> None:
    flag = (~ground & (vr <= cfg.abrupt_fpm)).astype(np.int64)
    idx, b = _runs(ic, t, flag, 30 * US)
    for k in range(len(b) - 1):
        rows = idx[b[k]:b[k + 1]]
        t0, t1 = int(t[rows[0]]), int(t[rows[-1]])
        if t1 - t0 < cfg.abrupt_min_s * US:
            continue
        lo_i, hi_i = int(rows[0]), int(rows[-1])
        a = alt[lo_i:hi_i + 1]
        a = a[~np.isnan(a)]
        if len(a) < 2 or a[0] - a[-1] < cfg.abrupt_drop_ft:
            continue
        icao = int(ic[lo_i])
        p = _first_pos(np.arange(lo_i, hi_i + 1), lat, lon)
        near, _ = (None, 0.0) if p < 0 else _place(ap, lat[p], lon[p], 50.0)
        where = "" if p < 0 else f" near {fmt_place(near, lat[p], lon[p])}"
        summary = (f"{hex_of(icao)} descended abruptly from {a[0]:.0f} to {a[-1]:.0f} ft between "
                   f"{iso(t0)} and {iso(t1)}{where} (vertical rate down to {np.nanmin(vr[rows]):.0f} ft/min).")
        ev = {"type": "abrupt_descent", "alt_from_ft": float(a[0]), "alt_to_ft": float(a[-1]),
              "min_vrate_fpm": float(np.nanmin(vr[rows])), "n_rows": len(rows),
              "point_time_range": [iso(t0), iso(t1)], "thresholds": th}
        out.add(subject=hex_of(icao), icao24=icao, t_start=t0, t_end=t1, places=[near] if near else [],
                confidence=0.5, summary=summary, evidence=ev)
