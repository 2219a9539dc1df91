"""Foreign-operation kernel: an aircraft working the airfields of a country other than its
state of registry (the seed's case: a Niger Air Force C-130 flying between Malian airfields).

An aircraft is reported for a foreign country when it flew at least
``min_domestic_legs`` legs with both ends in that country ("flies between"), or spent
``min_dwell_h`` hours on the ground there ("stays at").  An airliner's ordinary
international turn-around (one foreign airport, an hour on the ground) is neither.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.analysis.findings.common import (
    Airports,
    FindingRows,
    col_f64,
    col_str,
    col_time_us,
    config_dict,
    iso,
)
from tailwatch.analysis.findings.config import ForeignConfig, RotationConfig
from tailwatch.analysis.findings.rotation import infer_airfields
from tailwatch.schema import hex_of


def _country_lookup(codes: pa.ChunkedArray | pa.Array, ap: Airports) -> pa.Array:
    keys = pa.array(ap.icao.tolist(), pa.string())
    vals = pa.array(ap.country.tolist(), pa.string())
    idx = pc.index_in(codes, value_set=keys)
    return pc.take(vals, idx)


def eligible(aircraft: pa.Table, classes: list[str], unknown: bool = False) -> pa.Table:
    """Rows of ``aircraft`` whose ``aircraft_class`` is one of ``classes`` (all rows if none given or no column).

    ``unknown``: also keep aircraft whose class is null or ``"unknown"``.
    """
    if not classes or "aircraft_class" not in aircraft.column_names:
        return aircraft
    cls = pc.utf8_lower(aircraft.column("aircraft_class").cast(pa.string()))
    wanted = [c.lower() for c in classes] + (["unknown"] if unknown else [])
    keep = pc.is_in(cls, value_set=pa.array(wanted))
    return aircraft.filter(pc.fill_null(keep, unknown))


def foreign_operation(legs: pa.Table, stops: pa.Table, aircraft: pa.Table, airports: pa.Table | Airports,
                      config: ForeignConfig | None = None) -> pa.Table:
    """``foreign_operation`` findings (``FINDINGS``).

    ``aircraft``: icao24 and ``country_iso2`` (state of registry, from the address block or a
    database); optional registration, operator, aircraft_class.
    """
    cfg = config or ForeignConfig()
    ap = airports if isinstance(airports, Airports) else Airports.from_table(airports)
    out = FindingRows("foreign_operation")
    ac = eligible(aircraft, cfg.classes, cfg.include_unknown_class)
    ac = ac.filter(pc.is_valid(ac.column("country_iso2")))
    if ac.num_rows == 0 or (legs.num_rows == 0 and stops.num_rows == 0):
        return out.table()
    ac_ic = ac.column("icao24").cast(pa.int32())

    def reg_country(ic: pa.ChunkedArray) -> pa.Array:
        return pc.take(ac.column("country_iso2").cast(pa.string()), pc.index_in(ic, value_set=ac_ic))

    # Legs: one event per (leg, foreign country touched).
    lg = legs.filter(pc.is_in(legs.column("icao24"), value_set=ac_ic))
    inferred: set[str] = set()
    if cfg.infer_km > 0 and lg.num_rows:
        # A leg lost (or first seen) low near an airfield worked there too (stated as inferred).
        rc = RotationConfig(infer_km=cfg.infer_km, infer_agl_ft=cfg.infer_agl_ft)
        for col, end in (("origin", "first"), ("destination", "last")):
            codes, was = infer_airfields(np.array(col_str(lg, col), dtype=object), lg, end, ap, rc)
            lg = lg.set_column(lg.schema.get_field_index(col), col, pa.array(codes.tolist(), pa.string()))
            inferred |= {f"{lid}:{c}" for lid, c, w in zip(col_str(lg, "leg_id"), codes.tolist(), was.tolist(),
                                                           strict=True) if w}
    home = reg_country(lg.column("icao24"))
    oc = _country_lookup(lg.column("origin"), ap)
    dc = _country_lookup(lg.column("destination"), ap)
    dom = pc.fill_null(pc.and_(pc.equal(oc, dc), pc.not_equal(oc, home)), False)
    ev_tables = []
    for cc, code in ((oc, lg.column("origin")), (dc, lg.column("destination"))):
        foreign = pc.fill_null(pc.not_equal(cc, home), False)
        ev_tables.append(pa.table({
            "icao24": lg.column("icao24"), "country": cc, "t0": col_time_us(lg, "t_start"),
            "t1": col_time_us(lg, "t_end"), "leg_id": lg.column("leg_id"), "domestic": dom,
            "dwell_s": pa.nulls(lg.num_rows, pa.float64()), "airport": code, "is_stop": pa.nulls(lg.num_rows, pa.bool_()),
        }).filter(foreign))
    # Stops in a foreign country.
    st = stops.filter(pc.is_in(stops.column("icao24"), value_set=ac_ic))
    sc = _country_lookup(st.column("airport"), ap)
    s_home = reg_country(st.column("icao24"))
    s_foreign = pc.fill_null(pc.not_equal(sc, s_home), False)
    arr = col_time_us(st, "arrival")
    dep = col_time_us(st, "departure")
    nul = np.iinfo(np.int64).min
    t0 = np.where(arr == nul, dep, arr)
    t1 = np.where(dep == nul, t0, dep)
    ev_tables.append(pa.table({
        "icao24": st.column("icao24"), "country": sc, "t0": t0, "t1": t1,
        "leg_id": pa.nulls(st.num_rows, pa.string()), "domestic": pa.nulls(st.num_rows, pa.bool_()),
        "dwell_s": st.column("dwell_s").cast(pa.float64()), "airport": st.column("airport"),
        "is_stop": pa.array(np.ones(st.num_rows, dtype=bool)),
    }).filter(s_foreign))
    ev = pa.concat_tables([t.cast(ev_tables[0].schema) for t in ev_tables])
    ev = ev.filter(pc.and_(pc.is_valid(ev.column("t0")), pc.not_equal(ev.column("t0"), nul)))
    if ev.num_rows == 0:
        return out.table()
    ev = ev.append_column("dom_leg", pc.if_else(pc.fill_null(ev.column("domestic"), False), ev.column("leg_id"),
                                                pa.scalar(None, pa.string())))
    g = ev.group_by(["icao24", "country"]).aggregate([
        ("t0", "min"), ("t1", "max"), ("leg_id", "count_distinct"), ("dom_leg", "count_distinct"),
        ("dwell_s", "sum"),
    ])
    dwell_h = np.nan_to_num(col_f64(g, "dwell_s_sum")) / 3600.0
    legs_n = g.column("leg_id_count_distinct").to_numpy()
    dom_n = g.column("dom_leg_count_distinct").to_numpy()
    keep = np.flatnonzero(((dom_n >= cfg.min_domestic_legs) & (dom_n > 0)) | (dwell_h >= cfg.min_dwell_h))
    info = {r["icao24"]: r for r in ac.to_pylist()}
    th = config_dict(cfg)
    rows = g.take(pa.array(keep)).to_pylist()
    # Events sorted by (aircraft, country) so each finding reads its own slice.
    ev = ev.sort_by([("icao24", "ascending"), ("country", "ascending")])
    e_ic = ev.column("icao24").to_numpy().astype(np.int64)
    e_cc = np.array(col_str(ev, "country"), dtype=object)
    starts = np.flatnonzero(np.r_[True, (e_ic[1:] != e_ic[:-1]) | (e_cc[1:] != e_cc[:-1])])
    bounds = {(int(e_ic[b]), str(e_cc[b])): (int(b), int(e)) for b, e in zip(starts, np.r_[starts[1:], len(e_ic)],
                                                                            strict=True)}
    for r, k in zip(rows, keep.tolist(), strict=True):
        icao = int(r["icao24"])
        a = info.get(icao, {})
        cc = r["country"]
        home_cc = a.get("country_iso2")
        lo, hi = bounds[(icao, cc)]
        sub = ev.slice(lo, hi - lo)
        leg_ids = sorted({x for x in col_str(sub, "leg_id") if x})
        places = sorted({x for x in col_str(sub, "airport") if x})
        who = hex_of(icao) + "".join(f", {a[f]}" for f in ("registration", "operator") if a.get(f))
        n_dom = int(dom_n[k])
        summary = (f"{who} (registered in {home_cc}) worked {cc} airfields {', '.join(places[:6])} from "
                   f"{iso(int(r['t0_min']))[:10]} to {iso(int(r['t1_max']))[:10]}: {int(legs_n[k])} legs "
                   f"({n_dom} within {cc}), {dwell_h[k]:.0f} h on the ground there.")
        conf = min(0.95, 0.5 + 0.1 * n_dom + 0.05 * min(dwell_h[k] / 24.0, 4))
        evidence = {"registry_country": home_cc, "registry_source": a.get("country_iso2_source", "address block"),
                    "country": cc, "legs": leg_ids, "domestic_legs": n_dom, "dwell_h": round(float(dwell_h[k]), 2),
                    "airports": places, "first_seen": iso(int(r["t0_min"])), "last_seen": iso(int(r["t1_max"])),
                    "stops": _stop_ranges(sub), "thresholds": th,
                    "inferred_airports": sorted(x for x in inferred if x.split(":")[0] in set(leg_ids))}
        out.add(subject=hex_of(icao), icao24=icao, t_start=int(r["t0_min"]), t_end=int(r["t1_max"]),
                places=[cc, *places], confidence=conf, summary=summary, evidence=evidence)
    return out.table()


def _stop_ranges(sub: pa.Table) -> list[list[str]]:
    st = sub.filter(pc.fill_null(sub.column("is_stop"), False))
    t0 = st.column("t0").to_numpy()
    t1 = st.column("t1").to_numpy()
    ap = col_str(st, "airport")
    return [[a or "", iso(int(x)), iso(int(y))] for a, x, y in zip(ap, t0, t1, strict=True)][:100]

