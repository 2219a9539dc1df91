"""Co-location kernel: two or more watched or military/government aircraft on the ground
at the same airfield at overlapping times.

Stops of the eligible aircraft are swept per airfield (vectorised: a running maximum of
departure times splits each airfield's stops into clusters of overlapping stays, and a
cumulative sum of arrival/departure events measures how long two or more were there
together).  A cluster with at least two aircraft together for ``min_overlap_min`` is one
``co_location`` finding, subject ``airport:<ICAO>``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.analysis.findings.common import US, FindingRows, col_str, col_time_us, config_dict, iso
from tailwatch.analysis.findings.config import CoLocationConfig
from tailwatch.analysis.findings.foreign import eligible
from tailwatch.schema import hex_of


def co_location(stops: pa.Table, aircraft: pa.Table | None = None, watch: list[int] | None = None,
                config: CoLocationConfig | None = None) -> pa.Table:
    """``co_location`` findings (``FINDINGS``) from ``STOPS``.

    Eligible aircraft: those in ``watch``, those of ``aircraft`` marked ``watched`` (the user's
    watch list), and those whose ``aircraft_class`` is in ``config.classes``.  With neither, nothing is eligible (every airliner at a hub
    is not news).
    """
    cfg = config or CoLocationConfig()
    out = FindingRows("co_location")
    keep: set[int] = set(watch or [])
    info: dict[int, dict[str, object]] = {}
    if aircraft is not None and aircraft.num_rows:
        if "aircraft_class" in aircraft.column_names and cfg.classes:
            keep |= {int(x) for x in eligible(aircraft, cfg.classes).column("icao24").to_pylist()}
        if "watched" in aircraft.column_names:
            w = aircraft.filter(pc.fill_null(aircraft.column("watched"), False))
            keep |= {int(x) for x in w.column("icao24").to_pylist()}
        info = {int(r["icao24"]): r for r in aircraft.to_pylist()}
    if not keep or stops.num_rows == 0:
        return out.table()
    st = stops.filter(pc.and_(pc.is_valid(stops.column("airport")),
                              pc.is_in(stops.column("icao24"), value_set=pa.array(sorted(keep), pa.int32()))))
    if st.num_rows < 2:
        return out.table()
    nul = np.iinfo(np.int64).min
    cap = int(cfg.open_stop_h * 3600 * US)
    arr, dep = col_time_us(st, "arrival"), col_time_us(st, "departure")
    ok = ~((arr == nul) & (dep == nul))
    arr = np.where(arr == nul, dep - cap, arr)
    dep = np.where(dep == nul, arr + cap, dep)
    apc, ap_codes = np.unique(np.array(col_str(st, "airport"), dtype=str), return_inverse=True)
    idx = np.flatnonzero(ok)
    o = idx[np.lexsort((arr[idx], ap_codes[idx]))]
    a, d, g = arr[o], dep[o], ap_codes[o]
    # Clusters: within an airfield, a stop starts a new cluster when it arrives after all earlier ones left.
    span = int(d.max() - a.min()) + 1
    off = g.astype(np.int64) * span * 2
    run_max = np.maximum.accumulate(d - a.min() + off)
    new = np.r_[True, (g[1:] != g[:-1]) | (a[1:] - a.min() + off[1:] > run_max[:-1])]
    cl = np.cumsum(new) - 1
    # Overlap time with >= 2 present: events sorted by (cluster, time), departures first on ties.
    ev_t = np.r_[a, d]
    ev_c = np.r_[cl, cl]
    ev_s = np.r_[np.ones(len(a), np.int64), -np.ones(len(d), np.int64)]
    eo = np.lexsort((ev_s, ev_t, ev_c))
    ev_t, ev_c, ev_s = ev_t[eo], ev_c[eo], ev_s[eo]
    present = np.cumsum(ev_s)  # clusters balance to zero, so the running count resets itself
    dt = np.r_[ev_t[1:] - ev_t[:-1], 0]
    same = np.r_[ev_c[1:] == ev_c[:-1], False]
    together = np.bincount(ev_c, weights=np.where(same & (present >= 2), dt, 0), minlength=cl.max() + 1)
    ic = st.column("icao24").to_numpy().astype(np.int64)[o]
    sid = np.array(col_str(st, "stop_id"), dtype=object)[o]
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], len(o)]
    th = config_dict(cfg)
    for c in np.flatnonzero(together >= cfg.min_overlap_min * 60 * US):
        s, e = int(starts[c]), int(ends[c])
        members = sorted(set(ic[s:e].tolist()))
        if len(members) < 2:
            continue
        airport = str(apc[g[s]])
        t0, t1 = int(a[s:e].min()), int(d[s:e].max())
        names = []
        for m in members:
            r = info.get(m, {})
            extra = ", ".join(str(r[k]) for k in ("registration", "operator") if r.get(k))
            names.append(hex_of(m) + (f" ({extra})" if extra else ""))
        hours = together[c] / US / 3600.0
        summary = (f"{len(members)} watched aircraft were on the ground together at {airport} between "
                   f"{iso(t0)} and {iso(t1)} ({hours:.1f} h with two or more present): {'; '.join(names)}.")
        ev = {"airport": airport, "icao24": [hex_of(m) for m in members], "stops": sorted(sid[s:e].tolist()),
              "stays": [[hex_of(int(ic[k])), iso(int(a[k])), iso(int(d[k]))] for k in range(s, e)],
              "together_h": round(float(hours), 2), "thresholds": th}
        out.add(subject=f"airport:{airport}", icao24=None, t_start=t0, t_end=t1, places=[airport],
                confidence=min(0.95, 0.6 + 0.1 * (len(members) - 2) + 0.05 * min(hours, 4)), summary=summary,
                evidence=ev)
    return out.table()
