"""Basing kernel: where an aircraft spends its nights, its ground time there, and base changes.

A *night* is counted at an airfield when a stop there covers ``night_hour`` local solar
time (UTC + longitude / 15 h) — no time-zone database needed, and right for any airfield.
Nights are grouped in blocks of ``period_days`` days; the base of a block is the airfield
with the most nights, if it has at least ``min_nights``.  Consecutive blocks with the same
base form one ``basing`` finding; a different base after a block is a base change, stated
in the summary and in ``evidence.change_from``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.analysis.findings.common import (
    US,
    Airports,
    FindingRows,
    col_f64,
    col_str,
    col_time_us,
    config_dict,
    iso,
)
from tailwatch.analysis.findings.config import BasingConfig
from tailwatch.schema import hex_of

DAY = 86400 * US


def nights(stops: pa.Table, airports: Airports | None = None, night_hour: float = 2.0,
           open_stop_h: float = 12.0) -> pa.Table:
    """One row per (stop, night): icao24, airport, night (local solar date, days since epoch), stop_id.

    >>> from tailwatch.schema import STOPS
    >>> nights(STOPS.empty_table()).num_rows
    0
    """
    st = stops.filter(pc.is_valid(stops.column("airport")))
    nul = np.iinfo(np.int64).min
    arr = col_time_us(st, "arrival")
    dep = col_time_us(st, "departure")
    cap = int(open_stop_h * 3600 * US)
    arr = np.where(arr == nul, dep - cap, arr)
    dep = np.where(dep == nul, arr + cap, dep)
    lon = col_f64(st, "lon")
    if airports is not None and np.isnan(lon).any():
        codes = col_str(st, "airport")
        lookup = dict(zip(airports.icao.tolist(), airports.lon.tolist(), strict=True))
        lon = np.where(np.isnan(lon), np.array([lookup.get(c, np.nan) for c in codes], dtype=float), lon)
    lon = np.nan_to_num(lon)
    shift = (lon / 15.0 * 3600 * US).astype(np.int64) - int(night_hour * 3600 * US)
    # Local solar instants of ``night_hour`` in (arrival, departure]: days d with d*DAY in (a', b'].
    a = np.floor_divide(arr + shift, DAY)
    b = np.floor_divide(dep + shift, DAY)
    count = np.maximum(b - a, 0)
    rep = np.repeat(np.arange(st.num_rows), count)
    first = np.repeat(a + 1, count)
    offs = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    return pa.table({
        "icao24": st.column("icao24").take(pa.array(rep, pa.int64())),
        "airport": st.column("airport").take(pa.array(rep, pa.int64())),
        "night": pa.array(first + offs, pa.int64()),
        "stop_id": st.column("stop_id").take(pa.array(rep, pa.int64())),
        "ground_s": pa.array((dep - arr)[rep] / US, pa.float64()),
    })


def basing(stops: pa.Table, airports: pa.Table | Airports | None = None, aircraft: pa.Table | None = None,
           config: BasingConfig | None = None) -> pa.Table:
    """``basing`` findings (``FINDINGS``) from ``STOPS``."""
    cfg = config or BasingConfig()
    ap = airports if isinstance(airports, Airports) or airports is None else Airports.from_table(airports)
    out = FindingRows("basing")
    nt = nights(stops, ap, cfg.night_hour, cfg.open_stop_h)
    if nt.num_rows == 0:
        return out.table()
    nt = nt.sort_by([("icao24", "ascending"), ("night", "ascending")])
    nt = nt.append_column("block", pa.array(np.floor_divide(nt.column("night").to_numpy(), cfg.period_days)))
    g = nt.group_by(["icao24", "block", "airport"]).aggregate([("night", "count_distinct"), ("night", "min"),
                                                               ("night", "max")])
    g = g.sort_by([("icao24", "ascending"), ("block", "ascending"), ("night_count_distinct", "descending"),
                   ("airport", "ascending")])
    ic = g.column("icao24").to_numpy().astype(np.int64)
    blk = g.column("block").to_numpy()
    top = np.r_[True, (ic[1:] != ic[:-1]) | (blk[1:] != blk[:-1])]
    cnt = g.column("night_count_distinct").to_numpy()
    base = g.filter(pa.array(top & (cnt >= cfg.min_nights)))
    if base.num_rows == 0:
        return out.table()
    b_ic = base.column("icao24").to_numpy().astype(np.int64)
    b_ap = np.array(col_str(base, "airport"), dtype=object)
    b_blk = base.column("block").to_numpy()
    # Runs: same aircraft, same base, consecutive blocks.
    new = np.r_[True, (b_ic[1:] != b_ic[:-1]) | (b_ap[1:] != b_ap[:-1]) | (b_blk[1:] != b_blk[:-1] + 1)]
    starts = np.flatnonzero(new)
    n0 = base.column("night_min").to_numpy()
    n1 = base.column("night_max").to_numpy()
    names = dict(zip(ap.icao.tolist(), ap.name.tolist(), strict=True)) if ap is not None else {}
    regs = _regs(aircraft)
    th = config_dict(cfg)
    # Nights per aircraft in each run span, for "N of M nights".
    nt_ic = nt.column("icao24").to_numpy().astype(np.int64)
    nt_n = nt.column("night").to_numpy()
    nt_ap = np.array(col_str(nt, "airport"), dtype=object)
    ground = nt.column("ground_s").to_numpy()
    sid = np.array(col_str(nt, "stop_id"), dtype=object)
    for r, s in enumerate(starts.tolist()):
        e = int(starts[r + 1]) if r + 1 < len(starts) else len(b_ic)
        icao, airport = int(b_ic[s]), str(b_ap[s])
        first_n, last_n = int(n0[s:e].min()), int(n1[s:e].max())
        lo = int(np.searchsorted(nt_ic, icao, "left"))
        hi = int(np.searchsorted(nt_ic, icao, "right"))
        lo, hi = lo + int(np.searchsorted(nt_n[lo:hi], first_n, "left")), lo + int(
            np.searchsorted(nt_n[lo:hi], last_n, "right"))
        at = np.flatnonzero(nt_ap[lo:hi] == airport) + lo
        n_at = len(np.unique(nt_n[at]))
        n_all = len(np.unique(nt_n[lo:hi]))
        per_stop = dict(zip(sid[at].tolist(), ground[at].tolist(), strict=True))
        stop_ids = sorted(per_stop)
        ground_h = sum(per_stop.values()) / 3600.0
        prev = r - 1 if r > 0 and b_ic[starts[r - 1]] == icao else None
        change_from = str(b_ap[starts[prev]]) if prev is not None and b_ap[starts[prev]] != airport else None
        t0 = first_n * DAY
        t1 = (last_n + 1) * DAY
        who = hex_of(icao) + (f" ({regs[icao]})" if icao in regs else "")
        nm = f" ({names[airport]})" if names.get(airport) else ""
        moved = f"; it moved there from {change_from}" if change_from else ""
        summary = (f"{who} spent {n_at} of its {n_all} observed nights between {iso(t0)[:10]} and "
                   f"{iso(t1 - DAY)[:10]} at {airport}{nm}, {ground_h:.0f} h on the ground there{moved}.")
        conf = min(0.95, 0.4 + 0.05 * n_at) * (n_at / max(n_all, 1))
        ev = {"base": airport, "nights_at_base": n_at, "nights_observed": n_all, "ground_h": round(ground_h, 2),
              "stops": stop_ids[:200], "change_from": change_from, "blocks": int(e - s),
              "period": [iso(t0), iso(t1)], "thresholds": th}
        out.add(subject=hex_of(icao), icao24=icao, t_start=t0, t_end=t1,
                places=[airport] if not change_from else [airport, change_from], confidence=conf,
                summary=summary, evidence=ev)
    return out.table()


def _regs(aircraft: pa.Table | None) -> dict[int, str]:
    if aircraft is None or "registration" not in aircraft.column_names:
        return {}
    return {int(i): r for i, r in zip(aircraft.column("icao24").to_pylist(), col_str(aircraft, "registration"),
                                       strict=True) if r}
