"""Assemble ``schema.LEGS`` and ``schema.STOPS`` tables from the per-leg arrays (vectorised)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.analysis.geo import AirportIndex, ragged_arange
from tailwatch.analysis.legs_evidence import LegInfo, _join, duration_text
from tailwatch.schema import LEGS, STOPS, TIME

if TYPE_CHECKING:
    from tailwatch.analysis.legs import LegParams

B = npt.NDArray[np.bool_]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
US = 1_000_000


def hex_array(ac: I64) -> npt.NDArray[np.str_]:
    """Six upper-case hex digits per address.

    >>> hex_array(np.array([405249])).tolist()
    ['062F01']
    """
    return np.char.mod("%06X", np.asarray(ac, dtype=np.int64) & 0xFFFFFF)


def _ids(ac: I64, t_us: I64, suffix: str = "") -> pa.Array:
    secs = (np.asarray(t_us) // US).astype(np.int64).astype(str)
    return pa.array(np.char.add(np.char.add(np.char.add(hex_array(ac), "-"), secs), suffix), pa.string())


def _names(airports: pa.Table, idx: I64) -> pa.Array:
    icao = airports["icao"].combine_chunks()
    taken = icao.take(pa.array(np.maximum(idx, 0)))
    return pc.if_else(pa.array(idx >= 0), taken, pa.scalar(None, pa.string()))


def _lists(leg: I64, ap: I64, keep: B, airports: pa.Table) -> pa.Array:
    """One list of airport codes per kept leg (empty when none), events in time order."""
    new_idx = np.cumsum(keep) - 1
    sel = keep[leg] if len(leg) else np.zeros(0, bool)
    legs, aps = new_idx[leg[sel]], ap[sel]
    order = np.argsort(legs, kind="stable")
    legs, aps = legs[order], aps[order]
    counts = np.bincount(legs, minlength=int(keep.sum()))
    offsets = np.r_[0, np.cumsum(counts)].astype(np.int32)
    values = _names(airports, aps) if len(aps) else pa.array([], pa.string())
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def _tf(x: F64) -> pa.Array:
    return pa.array(np.asarray(x, dtype=np.float64), mask=~np.isfinite(x))


def build_legs_table(
    *, callsign: pa.ChunkedArray | None, order: I64 | None, info: LegInfo, lat: F64, lon: F64, alt: F64,
    tg: tuple[I64, I64], ga: tuple[I64, I64], airports: pa.Table,
) -> pa.Table:
    """The ``LEGS`` table of the kept legs, sorted by (icao24, t_start).

    ``callsign`` is the input column in input order and ``order`` the permutation that sorted
    the rows (``None``: input was sorted): only the callsigns legs use are taken.
    """
    keep = info.keep
    k = np.flatnonzero(keep)
    row0, row1 = info.l_row0[k], info.l_row1[k]
    n = len(lat)
    # callsign: first non-null of the leg
    if callsign is not None:
        cs = callsign.combine_chunks()
        if cs.null_count == 0:
            first_cs = row0
        else:
            valid = pc.is_valid(cs).to_numpy(zero_copy_only=False)
            vidx = np.flatnonzero(valid if order is None else valid[order])
            first_cs = np.r_[vidx, n][np.searchsorted(vidx, row0)]  # first valid row at or after row0
        has_cs = first_cs < row1
        src = np.where(has_cs, first_cs, 0)
        cs_leg = pc.if_else(pa.array(has_cs), cs.take(pa.array(src if order is None else order[src])),
                            pa.scalar(None, pa.string()))
    else:
        cs_leg = pa.nulls(len(k), pa.string())
    dist = info.dist_km[k]
    rows, _ = ragged_arange(row0, row1 - row0)
    offs = np.r_[0, np.cumsum(row1 - row0)[:-1]]
    max_alt = np.fmax.reduceat(alt[rows], offs) if len(rows) else np.zeros(0)

    fr, lr = info.first_row[k], info.last_row[k]

    def at(x: F64, r: I64) -> F64:
        return np.where(r >= 0, x[np.maximum(r, 0)], np.nan)

    o, d_ = info.origin, info.dest
    dest_ap = d_.airport[k]
    # diverted: the last go-around airport of the leg, when the leg landed somewhere else
    ga_leg, ga_ap = ga
    last_ga = np.full(len(keep), -1, dtype=np.int64)
    if len(ga_leg):
        last_ga[ga_leg] = ga_ap  # time order: later assignments win
    lg = last_ga[k]
    diverted = np.where((lg >= 0) & (dest_ap >= 0) & (lg != dest_ap), lg, -1)
    if len(ga_leg):
        # the abandoned approach of a diversion is reported as diverted_from, not as a go-around
        is_last = np.r_[ga_leg[1:] != ga_leg[:-1], True]
        div_all = np.full(len(keep), False)
        div_all[k] = diverted >= 0
        drop = is_last & div_all[ga_leg]
        ga_leg, ga_ap = ga_leg[~drop], ga_ap[~drop]

    cols = {
        "leg_id": _ids(info.ac[k], info.t_start[k]),
        "icao24": pa.array(info.ac[k].astype(np.int32)),
        "callsign": cs_leg,
        "t_start": pa.array(info.t_start[k], TIME),
        "t_end": pa.array(info.t_end[k], TIME),
        "origin": _names(airports, o.airport[k]),
        "origin_confidence": _tf(o.confidence[k]).cast(pa.float32()),
        "origin_reason": o.reason.take(pa.array(k)),
        "destination": _names(airports, dest_ap),
        "destination_confidence": _tf(d_.confidence[k]).cast(pa.float32()),
        "destination_reason": d_.reason.take(pa.array(k)),
        "diverted_from": _names(airports, diverted),
        "touch_and_go": _lists(tg[0], tg[1], keep, airports),
        "go_around": _lists(ga_leg, ga_ap, keep, airports),
        "n_points": pa.array((row1 - row0).astype(np.int32)),
        "first_lat": _tf(at(lat, fr)),
        "first_lon": _tf(at(lon, fr)),
        "first_alt": _tf(at(alt, fr)).cast(pa.float32()),
        "last_lat": _tf(at(lat, lr)),
        "last_lon": _tf(at(lon, lr)),
        "last_alt": _tf(at(alt, lr)).cast(pa.float32()),
        "max_alt": _tf(max_alt).cast(pa.float32()),
        "distance_km": pa.array(dist, pa.float64()).cast(pa.float32()),
    }
    return pa.table(cols, schema=LEGS)


def build_stops_table(
    *, legs_info: LegInfo | None, runs: tuple[I64, I64, B, I64, I64, I64, I64, I64],
    lat: F64, lon: F64, index: AirportIndex, airports: pa.Table, params: LegParams,
) -> pa.Table:
    """The ``STOPS`` table: ground time between legs, and at the ends of the data."""
    _rs, _re, r_ground, r_ac, r_t0, r_t1, _r_first, r_last = runs
    parts: list[pa.Table] = []
    ac_with_legs = np.zeros(0, np.int64)
    if legs_info is not None and legs_info.keep.any():
        info = legs_info
        k = np.flatnonzero(info.keep)
        ac = info.ac[k]
        ac_with_legs = np.unique(ac)
        o_ap, d_ap = info.origin.airport[k], info.dest.airport[k]
        o_c, d_c = info.origin.confidence[k], info.dest.confidence[k]
        o_r, d_r = info.origin.reason.take(pa.array(k)), info.dest.reason.take(pa.array(k))
        ts, te = info.t_start[k], info.t_end[k]
        ids = _ids(ac, ts)
        m = len(k)
        nxt_same = np.r_[ac[1:] == ac[:-1], False]
        prv_same = np.r_[False, ac[1:] == ac[:-1]]
        cont = info.same_stop_next[k] & np.r_[(k[1:] - k[:-1]) == 1, False]
        i = np.arange(m)
        j = np.minimum(i + 1, m - 1)
        # (1) both sides name the same airport
        both = nxt_same & (d_ap >= 0) & (d_ap == o_ap[j])
        # (2) arrival only
        arr_only = (d_ap >= 0) & ~both
        # (3) departure only: leg i+1's origin not matched by leg i's destination, or first leg
        dep_prev_match = np.r_[False, both[:-1]]
        dep_only = (o_ap >= 0) & ~dep_prev_match
        silent = duration_text((ts[j] - te) / US)
        note = pc.if_else(pa.array(cont), pa.scalar(""),
                          _join("; no data for ", silent, " in between"))
        nxt_or = o_r.take(pa.array(j))
        prv_dr = d_r.take(pa.array(np.maximum(i - 1, 0)))
        arr_tail = pc.if_else(pa.array(nxt_same), _join("; departure not seen (next leg: ", nxt_or, ")"),
                              pa.scalar("; departure after the data ends"))
        dep_tail = pc.if_else(pa.array(prv_same), _join("; arrival not seen (previous leg: ", prv_dr, ")"),
                              pa.scalar("; arrival before the data starts"))
        null_t = pa.nulls(m, TIME)
        null_s = pa.nulls(m, pa.string())
        f_both = 1.0 * cont + 0.8 * ~cont
        tables = [
            (both, _names(airports, d_ap), pa.array(te, TIME), pa.array(ts[j], TIME),
             pa.array((ts[j] - te) / US), ids, ids.take(pa.array(j)), info.dest.lat[k], info.dest.lon[k],
             np.fmin(d_c, o_c[j]) * f_both, _join("arrived: ", d_r, "; departed: ", nxt_or, note), te, "-S"),
            (arr_only, _names(airports, d_ap), pa.array(te, TIME), null_t, pa.nulls(m, pa.float64()),
             ids, null_s, info.dest.lat[k], info.dest.lon[k], d_c * 0.9, _join("arrived: ", d_r, arr_tail),
             te, "-A"),
            (dep_only, _names(airports, o_ap), null_t, pa.array(ts, TIME), pa.nulls(m, pa.float64()),
             null_s, ids, info.origin.lat[k], info.origin.lon[k], o_c * 0.9, _join("departed: ", o_r, dep_tail),
             ts, "-D"),
        ]
        for mask, ap, arr, dep, dwell, al, dl, la, lo, conf, reason, tid, suf in tables:
            sel = pa.array(mask)
            parts.append(pa.table({
                "stop_id": _ids(ac, tid, suf).filter(sel),
                "icao24": pa.array(ac.astype(np.int32)).filter(sel),
                "airport": ap.filter(sel),
                "arrival": arr.filter(sel),
                "departure": dep.filter(sel),
                "dwell_s": dwell.filter(sel),
                "arrival_leg_id": al.filter(sel),
                "departure_leg_id": dl.filter(sel),
                "lat": pa.array(la).filter(sel),
                "lon": pa.array(lo).filter(sel),
                "confidence": pa.array(np.nan_to_num(conf), pa.float32()).filter(sel),
                "reason": reason.filter(sel),
            }, schema=STOPS))
    # aircraft seen only on the ground: one stop each, at their last ground position
    gr = np.flatnonzero(r_ground & (r_last >= 0))
    if len(gr):
        last_of_ac = np.r_[r_ac[gr][1:] != r_ac[gr][:-1], True]
        first_of_ac = np.r_[True, r_ac[gr][1:] != r_ac[gr][:-1]]
        g_last, g_first = gr[last_of_ac], gr[first_of_ac]
        only = ~np.isin(r_ac[g_last], ac_with_legs)
        g_last, g_first = g_last[only], g_first[only]
        rows = r_last[g_last]
        near = index.nearest(lat[rows], lon[rows])
        at_ap = near.index >= 0
        at_ap &= near.dist_km <= params.ground_radius_km
        ap = np.where(at_ap, near.index, -1)
        seen = duration_text((r_t1[g_last] - r_t0[g_first]) / US)
        nm = _names(airports, near.index)
        d_txt = pc.cast(pa.array(np.round(near.dist_km, 1)), pa.string())
        reason = pc.if_else(
            pa.array(at_ap),
            _join("on ground throughout the data (", seen, " seen), ", d_txt, " km from ", nm),
            _join("on ground throughout the data (", seen, " seen), ", d_txt, " km from the nearest airport ",
                  pc.fill_null(nm, "?"), ": no airport within ", str(params.ground_radius_km), " km"),
        )
        g = len(g_last)
        parts.append(pa.table({
            "stop_id": _ids(r_ac[g_last], r_t0[g_first], "-G"),
            "icao24": pa.array(r_ac[g_last].astype(np.int32)),
            "airport": _names(airports, ap),
            "arrival": pa.nulls(g, TIME),
            "departure": pa.nulls(g, TIME),
            "dwell_s": pa.nulls(g, pa.float64()),
            "arrival_leg_id": pa.nulls(g, pa.string()),
            "departure_leg_id": pa.nulls(g, pa.string()),
            "lat": pa.array(lat[rows]),
            "lon": pa.array(lon[rows]),
            "confidence": pa.array(np.where(at_ap, 0.9, 0.5), pa.float32()),
            "reason": reason,
        }, schema=STOPS))
    if not parts:
        return STOPS.empty_table()
    out = pa.concat_tables(parts)
    key = pc.fill_null(pc.cast(pc.coalesce(out["arrival"], out["departure"]), pa.int64()), 0)
    return out.take(pc.sort_indices(pa.table({"a": out["icao24"], "k": key}),
                                     sort_keys=[("a", "ascending"), ("k", "ascending")]))
