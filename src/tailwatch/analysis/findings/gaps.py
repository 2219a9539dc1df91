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
    haversine_km,
    iso,
)
from tailwatch.analysis.findings.config import GapConfig
from tailwatch.schema import hex_of

Arr = np.ndarray[Any, Any]


def _resolve(codes: list[str | None], lat: Arr, lon: Arr, ap: Airports, near_km: float) -> tuple[Arr, Arr, Arr, Arr]:
    """Airport code per row (given, else nearest within near_km, else ''), its lat/lon, and whether it was given."""
    idx = {c: i for i, c in enumerate(ap.icao.tolist())}
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
    flow = pa.table({"icao24": np.r_[ic[ok], ic[ok]], "airport": np.r_[d[ok], o[ok]].astype(str),
                     "n": np.r_[np.ones(ok.sum(), np.int64), -np.ones(ok.sum(), np.int64)]})
    fb = flow.group_by(["icao24", "airport"]).aggregate([("n", "sum")])
    balance = {(int(i), str(x)): int(v) for i, x, v in zip(fb.column("icao24").to_pylist(),
                                                           fb.column("airport").to_pylist(),
                                                           fb.column("n_sum").to_pylist(), strict=True) if v}
    for r in g.filter(pa.array(diff >= cfg.min_imbalance)).to_pylist():
        icao = int(r["icao24"])
        a, b, n_ab, n_ba = r["lo"], r["hi"], int(r["fwd_sum"]), int(r["bwd_sum"])
        if n_ab < n_ba:
            a, b, n_ab, n_ba = b, a, n_ba, n_ab
        if balance.get((icao, b), 0) < cfg.min_imbalance:
            continue
        who = hex_of(icao) + (f" ({regs[icao]})" if icao in regs else "")
        summary = (f"{who} was seen flying {a}→{b} {n_ab} times but {b}→{a} only {n_ba} times between "
                   f"{iso(int(r['t0_min']))[:10]} and {iso(int(r['t1_max']))[:10]}: {n_ab - n_ba} return flights "
                   f"(or other ways back) were not observed.")
        ev = {"type": "out_back_imbalance", "pair": [a, b], "count_out": n_ab, "count_back": n_ba,
              "legs": sorted(r["leg_id_list"]), "thresholds": th}
        out.add(subject=hex_of(icao), icao24=icao, t_start=int(r["t0_min"]), t_end=int(r["t1_max"]), places=[a, b],
                confidence=min(0.9, 0.4 + 0.1 * (n_ab - n_ba)), summary=summary, evidence=ev)
