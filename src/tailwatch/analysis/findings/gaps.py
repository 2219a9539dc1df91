"""Transponder-gap kernel: the aircraft went dark between two airfields.

Between consecutive legs of an aircraft, let P be where leg k ended (its destination, or
its last position) and Q where leg k+1 began (its origin, or its first position).  When P
and Q both resolve to airfields A ≠ B (an airport code, or within ``near_km`` of one),
at least ``min_distance_km`` apart, after at least ``min_gap_min``, and the time allows a
flight (mean speed ≤ ``max_speed_kt``; and ≥ ``min_speed_kt`` when both ends were airborne,
since then the gap is the flight itself), the aircraft "was last seen near A and reappeared
at B": one ``transponder_gap`` finding.

Per aircraft and airfield pair, observed legs A→B and B→A whose counts differ by
``min_imbalance`` or more are also reported (the missing direction was flown unseen).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from tailwatch.analysis.findings.common import (
    KT_KMH,
    US,
    Airports,
    FindingRows,
    col_f64,
    col_str,
    col_time_us,
    config_dict,
    fmt_place,
    haversine_km,
    iso,
    sort_positions,
)
from tailwatch.analysis.findings.config import GapConfig
from tailwatch.schema import hex_of

Arr = np.ndarray[Any, Any]


def _resolve(codes: list[str | None], lat: Arr, lon: Arr, ap: Airports, near_km: float) -> tuple[Arr, Arr, Arr, Arr]:
    """Airport code per row (given, else nearest within near_km, else ''), its lat/lon, and whether it was given."""
    idx = ap.index()
    given = np.array([c is not None and c in idx for c in codes], dtype=bool)
    near, _ = ap.nearest(lat, lon, near_km)
    gi = np.array([idx.get(c, -1) if c is not None else -1 for c in codes], dtype=np.int64)
    k = np.where(given, gi, near)
    code = np.where(k >= 0, ap.icao[np.maximum(k, 0)], "").astype(object)
    la = np.where(k >= 0, ap.lat[np.maximum(k, 0)], lat)
    lo = np.where(k >= 0, ap.lon[np.maximum(k, 0)], lon)
    return code, la, lo, given


def transponder_gap(legs: pa.Table, airports: pa.Table | Airports, aircraft: pa.Table | None = None,
                    config: GapConfig | None = None) -> pa.Table:
    """``transponder_gap`` findings (``FINDINGS``) from ``LEGS``.

    >>> from tailwatch.schema import LEGS
    >>> ap = pa.table({"icao": ["GAGO"], "name": ["Gao"], "country": ["ML"], "lat": [16.25],
    ...                "lon": [0.0], "elevation": [870.0]})
    >>> transponder_gap(LEGS.empty_table(), ap).num_rows
    0
    """
    cfg = config or GapConfig()
    ap = airports if isinstance(airports, Airports) else Airports.from_table(airports)
    out = FindingRows("transponder_gap")
    if legs.num_rows == 0:
        return out.table()
    lg = legs.sort_by([("icao24", "ascending"), ("t_start", "ascending")])
    ic = lg.column("icao24").to_numpy().astype(np.int64)
    t0, t1 = col_time_us(lg, "t_start"), col_time_us(lg, "t_end")
    org, dst = col_str(lg, "origin"), col_str(lg, "destination")
    end_code, end_lat, end_lon, end_ground = _resolve(dst, col_f64(lg, "last_lat"), col_f64(lg, "last_lon"), ap,
                                                      cfg.near_km)
    beg_code, beg_lat, beg_lon, beg_ground = _resolve(org, col_f64(lg, "first_lat"), col_f64(lg, "first_lon"), ap,
                                                      cfg.near_km)
    ids = np.array(col_str(lg, "leg_id"), dtype=object)
    regs = {} if aircraft is None else {int(i): r for i, r in zip(
        aircraft.column("icao24").to_pylist(), col_str(aircraft, "registration"), strict=True) if r}
    th = config_dict(cfg)
    k = np.arange(len(ic) - 1)
    same = ic[1:] == ic[:-1]
    gap_s = (t0[1:] - t1[:-1]) / US
    a_code, b_code = end_code[:-1], beg_code[1:]
    dist = haversine_km(end_lat[:-1], end_lon[:-1], beg_lat[1:], beg_lon[1:])
    speed = dist / np.maximum(gap_s, 1.0) * 3600.0 / KT_KMH
    airborne_both = ~end_ground[:-1] & ~beg_ground[1:]
    hit = (same & (a_code != "") & (b_code != "") & (a_code != b_code) & (gap_s >= cfg.min_gap_min * 60)
           & (dist >= cfg.min_distance_km) & (speed <= cfg.max_speed_kt)
           & (~airborne_both | (speed >= cfg.min_speed_kt)))
    for j in k[hit]:
        icao = int(ic[j])
        a, b = str(a_code[j]), str(b_code[j])
        how_a = "landed at" if end_ground[j] else "last seen near"
        how_b = "took off from" if beg_ground[j + 1] else "reappeared near"
        who = hex_of(icao) + (f" ({regs[icao]})" if icao in regs else "")
        summary = (f"{who} was {how_a} {a} at {iso(int(t1[j]))} and {how_b} {b} at {iso(int(t0[j + 1]))}, "
                   f"{dist[j]:.0f} km away after {gap_s[j] / 3600:.1f} h dark: a flight between them not "
                   f"seen by any receiver.")
        conf = 0.5 + 0.15 * int(end_ground[j]) + 0.15 * int(beg_ground[j + 1])
        ev = {"from": a, "to": b, "legs": [str(ids[j]), str(ids[j + 1])],
              "point_time_range": [iso(int(t1[j])), iso(int(t0[j + 1]))], "distance_km": round(float(dist[j]), 1),
              "gap_h": round(float(gap_s[j]) / 3600, 2), "mean_speed_kt": round(float(speed[j]), 0),
              "from_is_destination": bool(end_ground[j]), "to_is_origin": bool(beg_ground[j + 1]),
              "thresholds": th}
        out.add(subject=hex_of(icao), icao24=icao, t_start=int(t1[j]), t_end=int(t0[j + 1]), places=[a, b],
                confidence=conf, summary=summary, evidence=ev)
    _imbalance(out, ic, org, dst, t0, t1, ids, regs, cfg, th)
    return out.table()


def _imbalance(out: FindingRows, ic: Arr, org: list[str | None], dst: list[str | None], t0: Arr, t1: Arr,
               ids: Arr, regs: dict[int, str], cfg: GapConfig, th: dict[str, Any]) -> None:
    o = np.array([x or "" for x in org], dtype=object)
    d = np.array([x or "" for x in dst], dtype=object)
    ok = (o != "") & (d != "") & (o != d)
    if not ok.any():
        return
    lo = np.where(o < d, o, d)[ok]
    hi = np.where(o < d, d, o)[ok]
    fwd = (o < d)[ok]
    t = pa.table({"icao24": ic[ok], "lo": lo.astype(str), "hi": hi.astype(str), "fwd": fwd.astype(np.int64),
                  "bwd": (~fwd).astype(np.int64), "t0": t0[ok], "t1": t1[ok], "leg_id": ids[ok].astype(str)})
    g = t.group_by(["icao24", "lo", "hi"]).aggregate([("fwd", "sum"), ("bwd", "sum"), ("t0", "min"), ("t1", "max"),
                                                      ("leg_id", "list")])
    diff = np.abs(g.column("fwd_sum").to_numpy() - g.column("bwd_sum").to_numpy())
    # Flow balance per (aircraft, airfield): a circuit A→B→C→A is unbalanced per pair but
    # balanced per airfield; only an airfield the aircraft arrives at more often than it is
    # seen leaving (or the reverse) shows flights missing.
    # Every observed arrival and departure counts, even on a leg whose other end is unknown.
    arr_ok, dep_ok = d != "", o != ""
    flow = pa.table({"icao24": np.r_[ic[arr_ok], ic[dep_ok]], "airport": np.r_[d[arr_ok], o[dep_ok]].astype(str),
                     "arr": np.r_[np.ones(arr_ok.sum(), np.int64), np.zeros(dep_ok.sum(), np.int64)],
                     "dep": np.r_[np.zeros(arr_ok.sum(), np.int64), np.ones(dep_ok.sum(), np.int64)]})
    fb = flow.group_by(["icao24", "airport"]).aggregate([("arr", "sum"), ("dep", "sum")])
    counts = {(int(i), str(x)): (int(a), int(b)) for i, x, a, b in zip(
        fb.column("icao24").to_pylist(), fb.column("airport").to_pylist(), fb.column("arr_sum").to_pylist(),
        fb.column("dep_sum").to_pylist(), strict=True)}
    for r in g.filter(pa.array(diff >= cfg.min_imbalance)).to_pylist():
        icao = int(r["icao24"])
        a, b, n_ab, n_ba = r["lo"], r["hi"], int(r["fwd_sum"]), int(r["bwd_sum"])
        if n_ab < n_ba:
            a, b, n_ab, n_ba = b, a, n_ba, n_ab
        n_arr, n_dep = counts.get((icao, b), (0, 0))
        missing = min(n_ab - n_ba, n_arr - n_dep)
        if missing < cfg.min_imbalance:
            continue
        who = hex_of(icao) + (f" ({regs[icao]})" if icao in regs else "")
        summary = (f"{who} was seen flying {a}→{b} {n_ab} times but {b}→{a} only {n_ba} times between "
                   f"{iso(int(r['t0_min']))[:10]} and {iso(int(r['t1_max']))[:10]}, and seen arriving at {b} "
                   f"{n_arr} times but leaving only {n_dep}: {missing} departures from {b} were not observed "
                   f"(transponder off or no coverage there).")
        ev = {"type": "out_back_imbalance", "pair": [a, b], "count_out": n_ab, "count_back": n_ba,
              "arrivals_at_b": n_arr, "departures_from_b": n_dep, "legs": sorted(r["leg_id_list"]),
              "thresholds": th}
        out.add(subject=hex_of(icao), icao24=icao, t_start=int(r["t0_min"]), t_end=int(r["t1_max"]), places=[a, b],
                confidence=min(0.9, 0.4 + 0.1 * missing), summary=summary, evidence=ev)


def coverage_cells(positions: pa.Table, cell_deg: float = 0.25) -> pa.Table:
    """Where positions were received: one row per grid cell with the lowest altitude seen there.

    Merge the tables of several batches with :func:`merge_coverage`.

    Cell of (12.6N, 7.9W) at 0.25°: row (12.6 + 90) / 0.25 → 410, column (−7.9 + 180) / 0.25 → 688,
    1440 columns: 410 × 1440 + 688 = 591088.

    >>> t = coverage_cells(pa.table({"lat": [12.6, 12.61, None], "lon": [-7.9, -7.91, 1.0],
    ...                              "alt_baro": [3000.0, 1000.0, 500.0]}))
    >>> t.to_pylist()
    [{'cell': 591088, 'min_alt': 1000.0}]
    """
    lat, lon = col_f64(positions, "lat"), col_f64(positions, "lon")
    alt = col_f64(positions, "alt_baro")
    ok = ~(np.isnan(lat) | np.isnan(lon))
    cells = _cells(lat[ok], lon[ok], cell_deg)
    t = pa.table({"cell": cells, "min_alt": np.nan_to_num(alt[ok], nan=0.0)})
    return t.group_by("cell").aggregate([("min_alt", "min")]).rename_columns(["cell", "min_alt"])


def merge_coverage(tables: list[pa.Table]) -> pa.Table:
    """Union of :func:`coverage_cells` tables (lowest altitude per cell)."""
    t = pa.concat_tables(tables)
    return t.group_by("cell").aggregate([("min_alt", "min")]).rename_columns(["cell", "min_alt"])


def _cells(lat: Arr, lon: Arr, cell_deg: float) -> Arr:
    n = round(360 / cell_deg)
    i = np.floor((np.asarray(lat) + 90.0) / cell_deg).astype(np.int64)
    j = np.floor((np.asarray(lon) + 180.0) / cell_deg).astype(np.int64) % n
    return np.asarray(i * n + j, dtype=np.int64)


def silence_candidates(positions: pa.Table, config: GapConfig | None = None) -> pa.Table:
    """In-flight silences worth judging: airborne on both sides, long, far, at a flyable mean speed.

    Columns: icao24, t0, t1 (µs), lat0, lon0, alt0, lat1, lon1, alt1, dist_km, gap_s, speed_kt.
    Small, so :func:`judge_silences` can run once the whole store's coverage is known.
    """
    cfg = config or GapConfig()
    pos = sort_positions(positions)
    lat, lon = col_f64(pos, "lat"), col_f64(pos, "lon")
    has = np.flatnonzero(~np.isnan(lat) & ~np.isnan(lon))
    ic = pos.column("icao24").to_numpy().astype(np.int64)[has]
    t = pos.column("time").cast(pa.int64()).to_numpy().astype(np.int64)[has]
    la, lo = lat[has], lon[has]
    alt = col_f64(pos, "alt_baro")[has]
    ground = pos.column("on_ground").fill_null(False).to_numpy(zero_copy_only=False).astype(bool)[has]
    if len(has) < 2:
        hit = np.zeros(0, dtype=np.int64)
        gap_s = dist = speed = np.zeros(0)
    else:
        gap_s = (t[1:] - t[:-1]) / US
        dist = haversine_km(la[:-1], lo[:-1], la[1:], lo[1:])
        speed = dist / np.maximum(gap_s, 1.0) * 3600.0 / KT_KMH
        air = ~ground & (alt > 1000.0)
        hit = np.flatnonzero((ic[1:] == ic[:-1]) & air[:-1] & air[1:] & (gap_s >= cfg.min_gap_min * 60)
                             & (dist >= cfg.min_distance_km) & (speed >= cfg.min_speed_kt)
                             & (speed <= cfg.max_speed_kt))
    return pa.table({
        "icao24": pa.array(ic[hit], pa.int64()), "t0": pa.array(t[hit], pa.int64()),
        "t1": pa.array(t[hit + 1], pa.int64()), "lat0": la[hit], "lon0": lo[hit], "alt0": alt[hit],
        "lat1": la[hit + 1], "lon1": lo[hit + 1], "alt1": alt[hit + 1], "dist_km": dist[hit],
        "gap_s": gap_s[hit], "speed_kt": speed[hit],
    })


def judge_silences(cands: pa.Table, coverage: pa.Table, airports: pa.Table | Airports,
                   config: GapConfig | None = None) -> pa.Table:
    """``transponder_gap`` findings for the :func:`silence_candidates` that crossed covered airspace."""
    cfg = config or GapConfig()
    ap = airports if isinstance(airports, Airports) else Airports.from_table(airports)
    out = FindingRows("transponder_gap")
    if cands.num_rows == 0:
        return out.table()
    c = {name: cands.column(name).to_numpy() for name in cands.column_names}
    covered_km = _covered_km(c["lat0"], c["lon0"], c["lat1"], c["lon1"], np.minimum(c["alt0"], c["alt1"]),
                             c["dist_km"], coverage, cfg)
    keep = np.flatnonzero(covered_km >= cfg.min_covered_km)
    if len(keep) == 0:
        return out.table()
    na, _ = ap.nearest(c["lat0"][keep], c["lon0"][keep], cfg.near_km)
    nb, _ = ap.nearest(c["lat1"][keep], c["lon1"][keep], cfg.near_km)
    th = config_dict(cfg)
    for j, i in enumerate(keep.tolist()):
        icao = int(c["icao24"][i])
        la0, lo0, la1, lo1 = (float(c[k][i]) for k in ("lat0", "lon0", "lat1", "lon1"))
        a = str(ap.icao[na[j]]) if na[j] >= 0 else fmt_place(None, la0, lo0)
        b = str(ap.icao[nb[j]]) if nb[j] >= 0 else fmt_place(None, la1, lo1)
        t0, t1 = int(c["t0"][i]), int(c["t1"][i])
        dist, gap, speed = float(c["dist_km"][i]), float(c["gap_s"][i]), float(c["speed_kt"][i])
        summary = (f"{hex_of(icao)} went silent in flight at {iso(t0)} near {a} ({c['alt0'][i]:.0f} ft) and "
                   f"reappeared at {iso(t1)} near {b}, {dist:.0f} km on after {gap / 60:.0f} min "
                   f"({speed:.0f} kt), crossing {covered_km[i]:.0f} km of airspace where receivers hear "
                   f"aircraft at that height: transponder likely off.")
        ev = {"type": "in_flight", "from": a, "to": b, "point_time_range": [iso(t0), iso(t1)],
              "last_point": [round(la0, 5), round(lo0, 5), float(c["alt0"][i])],
              "next_point": [round(la1, 5), round(lo1, 5), float(c["alt1"][i])],
              "distance_km": round(dist, 1), "gap_min": round(gap / 60, 1), "mean_speed_kt": round(speed),
              "covered_km": round(float(covered_km[i])), "thresholds": th}
        places = [x for x in (a, b) if len(x) == 4]
        out.add(subject=hex_of(icao), icao24=icao, t_start=t0, t_end=t1, places=places,
                confidence=min(0.85, 0.4 + float(covered_km[i]) / 500.0), summary=summary, evidence=ev)
    return out.table()


def dark_periods(positions: pa.Table, airports: pa.Table | Airports, config: GapConfig | None = None,
                 coverage: pa.Table | None = None) -> pa.Table:
    """In-flight ``transponder_gap`` findings from ``POSITIONS``: silent where receivers normally hear.

    A silence of at least ``min_gap_min`` with the aircraft airborne on both sides, over at least
    ``min_distance_km`` at a mean speed within [``min_speed_kt``, ``max_speed_kt``], is reported
    only if at least ``min_covered_km`` of the straight path between the two points crosses
    grid cells where positions at or below the aircraft's altitude were received (``coverage``,
    from :func:`coverage_cells` over the whole store; by default over ``positions`` alone), not
    counting the cells of the two end points.  A hole in coverage — the same place every flight
    goes silent — crosses no covered cell and is not reported.
    """
    cfg = config or GapConfig()
    cov = coverage if coverage is not None else coverage_cells(positions, cfg.cell_deg)
    return judge_silences(silence_candidates(positions, cfg), cov, airports, cfg)


def _covered_km(lat0: Arr, lon0: Arr, lat1: Arr, lon1: Arr, alt: Arr, dist: Arr, cov: pa.Table,
                cfg: GapConfig) -> Arr:
    """Path length (km) through covered cells, sampled every ``step`` km (vectorised over all gaps)."""
    step = 5.0
    n = np.maximum(np.ceil(dist / step).astype(np.int64), 1)
    g = np.repeat(np.arange(len(n)), n)
    f = (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n) + 0.5) / np.repeat(n, n)
    s_lat = lat0[g] + (lat1[g] - lat0[g]) * f
    s_lon = lon0[g] + (lon1[g] - lon0[g]) * f
    cells = _cells(s_lat, s_lon, cfg.cell_deg)
    ends = (cells == _cells(lat0, lon0, cfg.cell_deg)[g]) | (cells == _cells(lat1, lon1, cfg.cell_deg)[g])
    cov_cell = cov.column("cell").to_numpy()
    cov_alt = cov.column("min_alt").to_numpy()
    order = np.argsort(cov_cell)
    cov_cell, cov_alt = cov_cell[order], cov_alt[order]
    k = np.searchsorted(cov_cell, cells)
    found = (k < len(cov_cell)) & (cov_cell[np.minimum(k, len(cov_cell) - 1)] == cells) if len(cov_cell) else \
        np.zeros(len(cells), dtype=bool)
    low_enough = found & (cov_alt[np.minimum(k, max(len(cov_cell) - 1, 0))] <= alt[g] + 1000.0) if len(cov_cell) \
        else found
    covered = low_enough & ~ends
    return np.bincount(g, weights=covered * (dist[g] / n[g]), minlength=len(n))
