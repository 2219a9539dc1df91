"""Rotation kernel: recurring circuits (A→B→C→D→A) and shuttles (A→B→A) in the legs.

Each aircraft's legs become a sequence of airfield *visits*.  Every transition into
a visit is one of:

* ``observed`` — a leg with known origin and destination;
* ``origin_unknown`` — a leg whose origin is null; its origin is taken to be the
  previous visit (coverage missed the take-off);
* ``gap`` — the aircraft vanished from one airfield and reappeared at another without
  an observed leg (coverage missed a whole leg).

A cycle of length L is L+1 visits returning to the first with L distinct airfields;
its canonical form starts at its smallest code, so every phase counts as one cycle.
A cycle also matches with one airfield missing when the transition that skipped it
is a ``gap`` or ``origin_unknown`` — the finding states that gap.
"""

from __future__ import annotations

from collections import defaultdict
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
from tailwatch.analysis.findings.config import RotationConfig
from tailwatch.schema import hex_of

OBSERVED, ORIGIN_UNKNOWN, GAP, FIRST, LONG, INFERRED = 0, 1, 2, 3, 4, 5
_STATUS = {OBSERVED: "observed", ORIGIN_UNKNOWN: "origin unknown", GAP: "leg not observed", FIRST: "start",
           LONG: "long enough to hide a stop", INFERRED: "airfield inferred from a low first/last point"}
_MAY_HIDE = (GAP, ORIGIN_UNKNOWN, LONG)

Arr = np.ndarray[Any, Any]


def visits(legs: pa.Table, airports: Airports | None = None, cfg: RotationConfig | None = None) -> dict[str, Arr]:
    """The visit sequence of every aircraft, as parallel arrays (vectorised).

    Keys: ``icao24``, ``code`` (airport code index into ``names``), ``status`` (of the
    transition into the visit), ``time`` (µs), ``leg`` (index of the leg that brought it), ``names``.
    """
    legs = legs.sort_by([("icao24", "ascending"), ("t_start", "ascending")])
    n = legs.num_rows
    ic = legs.column("icao24").to_numpy().astype(np.int64)
    origin = np.array(col_str(legs, "origin"), dtype=object)
    dest = np.array(col_str(legs, "destination"), dtype=object)
    inf_o = np.zeros(n, dtype=bool)
    inf_d = np.zeros(n, dtype=bool)
    if airports is not None and n:
        c = cfg or RotationConfig()
        origin, inf_o = infer_airfields(origin, legs, "first", airports, c)
        dest, inf_d = infer_airfields(dest, legs, "last", airports, c)
    names, inv = np.unique(np.r_[origin, dest].astype(str), return_inverse=True)
    none_code = np.flatnonzero(names == "None")
    codes = inv.astype(np.int64)
    if len(none_code):
        codes[codes == none_code[0]] = -1
    o_code, d_code = codes[:n], codes[n:]
    t0, t1 = col_time_us(legs, "t_start"), col_time_us(legs, "t_end")
    # Interleave origin/destination tokens: [o0, d0, o1, d1, ...].
    tok = np.empty(2 * n, dtype=np.int64)
    tok[0::2], tok[1::2] = o_code, d_code
    tic = np.repeat(ic, 2)
    ttime = np.empty(2 * n, dtype=np.int64)
    ttime[0::2], ttime[1::2] = t0, t1
    is_dest = np.tile([False, True], n)
    leg = np.repeat(np.arange(n), 2)
    keep = tok >= 0
    tok, tic, ttime, is_dest, leg = tok[keep], tic[keep], ttime[keep], is_dest[keep], leg[keep]
    # Drop a token equal to the previous token of the same aircraft (origin = previous destination).
    dup = np.r_[False, (tok[1:] == tok[:-1]) & (tic[1:] == tic[:-1])]
    tok, tic, ttime, is_dest, leg = tok[~dup], tic[~dup], ttime[~dup], is_dest[~dup], leg[~dup]
    first = np.r_[True, tic[1:] != tic[:-1]]
    origin_known = o_code[leg] >= 0
    status = np.where(is_dest, np.where(origin_known, OBSERVED, ORIGIN_UNKNOWN), GAP)
    status = np.where(is_dest & origin_known & (inf_o[leg] | inf_d[leg]), INFERRED, status)
    if airports is not None and len(leg):
        cfg = cfg or RotationConfig()
        idx = {c: i for i, c in enumerate(airports.icao.tolist())}
        ai = np.array([idx.get(str(c), -1) for c in names], dtype=np.int64)
        oa, da = ai[np.maximum(o_code, 0)][leg], ai[np.maximum(d_code, 0)][leg]
        ok = (oa >= 0) & (da >= 0) & origin_known & is_dest
        direct = haversine_km(airports.lat[oa], airports.lon[oa], airports.lat[da], airports.lon[da])
        budget_h = direct / (cfg.hidden_stop_kt * KT_KMH) + cfg.hidden_stop_slack_h
        long_leg = ok & ((t1[leg] - t0[leg]) / US / 3600.0 > budget_h)
        status = np.where(long_leg, LONG, status)
    status[first] = FIRST
    return {"icao24": tic, "code": tok, "status": status, "time": ttime, "leg": leg, "names": names,
            "leg_start": t0[leg],
            "leg_ids": np.array(col_str(legs, "leg_id"), dtype=object)}


def infer_airfields(codes: Arr, legs: pa.Table, end: str, airports: Airports, cfg: RotationConfig) -> tuple[Arr, Arr]:
    """Fill null airport codes from a leg's first/last point when it is low and close to an airfield."""
    lat, lon, alt = col_f64(legs, f"{end}_lat"), col_f64(legs, f"{end}_lon"), col_f64(legs, f"{end}_alt")
    todo = np.array([c is None for c in codes.tolist()], dtype=bool) & ~np.isnan(lat)
    inferred = np.zeros(len(codes), dtype=bool)
    if not todo.any():
        return codes, inferred
    q = np.flatnonzero(todo)
    near, _ = airports.nearest(lat[q], lon[q], cfg.infer_km)
    elev = np.where(near >= 0, np.nan_to_num(airports.elevation[np.maximum(near, 0)]), 0.0)
    ok = (near >= 0) & (alt[q] - elev <= cfg.infer_agl_ft)
    out = codes.copy()
    out[q[ok]] = airports.icao[near[ok]]
    inferred[q[ok]] = True
    return out, inferred


def _windows(v: dict[str, Arr], length: int) -> tuple[Arr, Arr]:
    """Start indices of closed windows of ``length`` transitions with distinct inner airfields, and their canonical codes."""
    code, ic, st = v["code"], v["icao24"], v["status"]
    m = len(code) - length
    if m <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros((0, length), dtype=np.int64)
    ok = (code[length:] == code[:m]) & (ic[length:] == ic[:m])
    for k in range(1, length + 1):
        ok &= st[k:k + m] != FIRST
    for a in range(length):
        for b in range(a + 1, length):
            ok &= code[a:a + m] != code[b:b + m]
    starts = np.flatnonzero(ok)
    mat = np.stack([code[starts + k] for k in range(length)], axis=1) if len(starts) else np.zeros(
        (0, length), dtype=np.int64)
    shift = np.argmin(mat, axis=1) if len(starts) else np.zeros(0, dtype=np.int64)
    canon = mat[np.arange(len(starts))[:, None], (shift[:, None] + np.arange(length)) % length]
    return starts, canon


def rotation(legs: pa.Table, aircraft: pa.Table | None = None, config: RotationConfig | None = None,
             airports: pa.Table | Airports | None = None) -> pa.Table:
    """``rotation`` findings (``FINDINGS``) from ``LEGS``.

    ``aircraft`` (optional: icao24, operator, registration) enables fleet-level rotations
    and names aircraft in summaries; ``airports`` enables spotting legs long enough to hide
    an unseen stop (GAGO→DRRN in four hours stands for GAGO→GATS→DRRN).

    >>> from tailwatch.schema import LEGS
    >>> rotation(LEGS.empty_table()).num_rows
    0
    """
    cfg = config or RotationConfig()
    out = FindingRows("rotation")
    if legs.num_rows == 0:
        return out.table()
    ap = airports if isinstance(airports, Airports) or airports is None else Airports.from_table(airports)
    v = visits(legs, ap, cfg)
    names = v["names"]
    reg, operator = _aircraft_maps(aircraft)
    th = config_dict(cfg)
    # occurrences: key (icao24, cycle tuple, start phase) -> list of (visit start index, length, gap note)
    occ: dict[tuple[int, tuple[int, ...]], list[tuple[int, int, str | None]]] = defaultdict(list)
    exact_cycles: set[tuple[int, ...]] = set()
    for length in range(2, cfg.max_len + 1):
        starts, canon = _windows(v, length)
        for s, c in zip(starts.tolist(), map(tuple, canon.tolist()), strict=True):
            occ[(int(v["icao24"][s]), c)].append((s, length, None))
            exact_cycles.add(c)
    # Cycles with one airfield missing behind a gap / unknown-origin transition.
    by_short: dict[tuple[int, ...], list[tuple[tuple[int, ...], int]]] = defaultdict(list)
    for c in exact_cycles:
        if len(c) < 3:
            continue
        for j in range(len(c)):
            short = c[:j] + c[j + 1:]
            m = min(range(len(short)), key=lambda i: short[i])
            by_short[short[m:] + short[:m]].append((c, c[j]))
    absorbed: set[tuple[int, int]] = set()
    for length in range(2, cfg.max_len):
        starts, canon = _windows(v, length)
        for s, c in zip(starts.tolist(), map(tuple, canon.tolist()), strict=True):
            for full, missing in by_short.get(c, []):
                seq = [int(x) for x in v["code"][s:s + length + 1]]
                for k in range(length):  # transition k: seq[k] -> seq[k+1]
                    a_, b_ = seq[k], seq[k + 1]
                    ia = full.index(a_)
                    if full[(ia + 1) % len(full)] == missing and full[(ia + 2) % len(full)] == b_ \
                            and v["status"][s + k + 1] in _MAY_HIDE:
                        note = f"{names[missing]} not observed between {names[a_]} and {names[b_]}"
                        occ[(int(v["icao24"][s]), full)].append((s, length, note))
                        absorbed.add((s, length))
                        break
    per_aircraft: dict[tuple[int, ...], list[tuple[int, int, list[tuple[int, int, str | None]]]]] = defaultdict(list)
    for (icao, cyc), all_items in occ.items():
        # A window that stands for a longer cycle with a hidden stop no longer counts as its own.
        items = [it for it in all_items if it[2] is not None or (it[0], it[1]) not in absorbed]
        if not items:
            continue
        items = _best_phase(v, items)
        per_aircraft[cyc].append((icao, len(items), items))
        _emit(out, v, icao, None, cyc, items, cfg, th, names, reg)
    if cfg.fleet and operator:
        fleets: dict[tuple[str, tuple[int, ...]], list[tuple[int, int, str | None]]] = defaultdict(list)
        members: dict[tuple[str, tuple[int, ...]], set[int]] = defaultdict(set)
        for cyc, lst in per_aircraft.items():
            for icao, _n, items in lst:
                op = operator.get(icao)
                if op:
                    fleets[(op, cyc)].extend(items)
                    members[(op, cyc)].add(icao)
        for (op, cyc), items in fleets.items():
            if len(members[(op, cyc)]) >= 2:
                _emit(out, v, None, op, cyc, sorted(items, key=lambda x: int(v["leg_start"][x[0] + 1])), cfg, th, names, reg)
    return out.table()


def _best_phase(v: dict[str, Arr], items: list[tuple[int, int, str | None]]) -> list[tuple[int, int, str | None]]:
    """Keep the occurrences starting at the most common first airfield (one per completed cycle)."""
    by_start: dict[int, list[tuple[int, int, str | None]]] = defaultdict(list)
    for it in items:
        by_start[int(v["code"][it[0]])].append(it)
    best = max(by_start.values(), key=lambda lst: (len(lst), -min(int(v["leg_start"][i[0] + 1]) for i in lst)))
    return sorted(best, key=lambda x: int(v["leg_start"][x[0] + 1]))


def _aircraft_maps(aircraft: pa.Table | None) -> tuple[dict[int, str], dict[int, str]]:
    if aircraft is None or aircraft.num_rows == 0:
        return {}, {}
    ic = aircraft.column("icao24").to_pylist()
    reg = col_str(aircraft, "registration")
    op = col_str(aircraft, "operator")
    return ({i: r for i, r in zip(ic, reg, strict=True) if r},
            {i: o for i, o in zip(ic, op, strict=True) if o})


def _emit(out: FindingRows, v: dict[str, Arr], icao: int | None, operator: str | None, cyc: tuple[int, ...],
          items: list[tuple[int, int, str | None]], cfg: RotationConfig, th: dict[str, Any], names: Arr,
          reg: dict[int, str]) -> None:
    times = np.array([int(v["leg_start"][s + 1]) for s, _, _ in items], dtype=np.int64)
    ends = np.array([int(v["time"][s + ln]) for s, ln, _ in items], dtype=np.int64)
    if len(times) < cfg.min_count:
        return
    win = int(cfg.window_days * 86400 * US)
    in_window = np.searchsorted(times, times + win, "right") - np.arange(len(times))
    best = int(in_window.max())
    if best < cfg.min_count:
        return
    s0 = items[0][0]
    start = int(v["code"][s0])
    k = cyc.index(start)
    ordered = [*cyc[k:], *cyc[:k], start]
    route = "–".join(str(names[c]) for c in ordered)
    gaps = [note for _, _, note in items if note]
    unknown_origin: list[str] = []
    long_legs: list[str] = []
    inferred_legs: list[str] = []
    legs_ev: list[list[str]] = []
    for s, ln, note in items:
        ids: list[str] = []
        for q in range(s + 1, s + ln + 1):
            lid = str(v["leg_ids"][int(v["leg"][q])])
            if v["status"][q] == ORIGIN_UNKNOWN:
                unknown_origin.append(lid)
            if v["status"][q] == INFERRED:
                inferred_legs.append(lid)
            if v["status"][q] == LONG and not note:
                long_legs.append(f"{names[int(v['code'][q - 1])]}→{names[int(v['code'][q])]}:{lid}")
            if v["status"][q] == GAP and not note:
                gaps.append(f"leg {names[int(v['code'][q - 1])]}→{names[int(v['code'][q])]} not observed "
                            f"(reappeared {iso(int(v['time'][q]))})")
            ids.append(lid if v["status"][q] != GAP else f"gap-before:{lid}")
        legs_ev.append(ids)
    shape = "shuttle" if len(cyc) == 2 else "circuit"
    who = (f"{hex_of(icao)}" + (f" ({reg[icao]})" if icao in reg else "")) if icao is not None else \
        f"the {operator} fleet"
    gap_txt = f"; {len(gaps)} with a leg not observed" if gaps else ""
    hops = sorted({x.split(":")[0] for x in long_legs})
    if hops:
        gap_txt += f"; {', '.join(hops)} legs last long enough to hide an unseen stop"
    if inferred_legs:
        gap_txt += f"; {len(inferred_legs)} legs with an airfield inferred from a low point near it"
    summary = (f"{who} flew the {shape} {route} {len(items)} times between {iso(int(times[0]))[:10]} and "
               f"{iso(int(ends[-1]))[:10]} (up to {best} within {cfg.window_days:g} days{gap_txt}).")
    conf = min(0.95, 0.5 + 0.1 * (best - cfg.min_count + 1) - 0.05 * len(gaps))
    ev = {"cycle": [str(names[c]) for c in ordered], "count": len(items), "max_in_window": best,
          "first": iso(int(times[0])), "last": iso(int(ends[-1])), "legs": legs_ev, "gaps": gaps,
          "origin_unknown_legs": unknown_origin, "hidden_stop_legs": long_legs, "inferred_airfield_legs": inferred_legs, "thresholds": th,
          "occurrences": [[iso(int(a)), iso(int(b))] for a, b in zip(times, ends, strict=True)]}
    if icao is None:
        ev["aircraft"] = sorted({hex_of(int(v["icao24"][s])) for s, _, _ in items})
    out.add(subject=hex_of(icao) if icao is not None else f"operator:{operator}", icao24=icao,
            t_start=int(times[0]), t_end=int(ends[-1]), places=[str(names[c]) for c in ordered[:-1]],
            confidence=conf, summary=summary, evidence=ev)
