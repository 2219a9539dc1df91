"""Run a scenario: fly every aircraft, transmit, hear it at the receivers, keep the truth.

>>> r = simulate(load_scenario("sahel-2023"))          # doctest: +SKIP
>>> r.positions.num_rows, r.truth.legs.num_rows      # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from tailwatch.schema import hex_of
from tailwatch.sim import messages as msg
from tailwatch.sim.flight import Knots, LegTruth, Timeline, destination, distance_km, fly_leg, sample
from tailwatch.sim.messages import Messages, encode_messages, positions_table
from tailwatch.sim.scenario import AircraftSpec, Airport, Event, Scenario
from tailwatch.sim.truth import Truth, build_truth

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SimResult:
    """What a simulation produced.

    * ``positions``: ``POSITIONS`` rows as the receivers heard them (one row per
      message per receiver, ``receiver`` set, ``quality`` = SIMULATED), values
      exactly as a correct decoder recovers them from the frames.
    * ``frames``: every received frame: ``time`` (TIME), ``msg`` (binary),
      ``signal`` (uint8 Beast RSSI byte), ``receiver``, ``icao24``, ``kind``; sorted by receiver, time.
    * ``truth``: legs, stops, events, coverage, identity records.
    """

    scenario: Scenario
    positions: pa.Table
    frames: pa.Table
    truth: Truth
    seed: int


@dataclass(frozen=True)
class _Flown:
    spec: AircraftSpec
    timeline: Timeline
    legs: list[LegTruth]
    windows: list[tuple[float, float]]


def _leg_events(events: list[Event], n: int) -> dict[int, list[Event]]:
    out: dict[int, list[Event]] = {}
    for e in events:
        if e.leg is not None and e.kind in ("touch_and_go", "go_around", "divert", "track_lost"):
            out.setdefault(e.leg % n if n else 0, []).append(e)
        elif e.kind == "track_lost" and n:
            out.setdefault(n - 1, []).append(e)
    return out


def _fly_aircraft(ac: AircraftSpec, events: list[Event], airports: dict[str, Airport],
                  runways: dict[str, float]) -> _Flown:
    k = Knots()
    legs: list[LegTruth] = []
    windows: list[tuple[float, float]] = []
    by_leg = _leg_events(events, len(ac.legs))
    here: str | None = None
    last_on = -np.inf
    for i, plan in enumerate(ac.legs):
        origin = here if here is not None else plan.origin
        t0 = plan.depart if plan.ground_s is None else last_on + plan.ground_s
        t0 = max(t0, last_on + 600.0)
        route: list[tuple[Airport, str]] = [(airports[origin], "start")]
        lost: float | None = None
        dest = plan.destination
        for e in by_leg.get(i, []):
            if e.kind == "touch_and_go":
                route.append((airports[e.airport or dest], "touch"))
            elif e.kind == "go_around":
                route.append((airports[e.airport or dest], "low"))
            elif e.kind == "divert":
                route.append((airports[dest], "approach"))
                dest = e.to or dest
            elif e.kind == "track_lost":
                lost = e.distance_km
        route.append((airports[dest], "land"))
        lt = fly_leg(k, t0, route, ac, lost, runways)
        legs.append(lt)
        windows.append((lt.block_off, lt.block_on))
        if lost is not None:
            break
        here, last_on = dest, lt.block_on
    return _Flown(ac, Timeline.of(k), legs, windows)


def _times(windows: list[tuple[float, float]], dt: float, rng: np.random.Generator) -> F64:
    """Regular instants every ``dt`` s inside each window (random phase), vectorised over windows."""
    if dt <= 0 or not windows:
        return np.zeros(0)
    w = np.asarray(windows, dtype=np.float64)
    start = w[:, 0] + rng.uniform(0, dt, len(w))
    counts = np.maximum(np.floor((w[:, 1] - start) / dt).astype(np.int64) + 1, 0)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    k = np.arange(int(counts.sum())) - first
    return np.asarray(np.repeat(start, counts) + k * dt, dtype=np.float64)


def _in_windows(t: F64, spans: list[tuple[float, float]]) -> npt.NDArray[np.bool_]:
    out = np.zeros(t.shape, dtype=np.bool_)
    for a, b in spans:
        out |= (t >= a) & (t <= b)
    return out


def _transmissions(f: _Flown, scn: Scenario, rng: np.random.Generator) -> Messages:
    """Every message this aircraft sends (before reception)."""
    ac, rates = f.spec, scn.rates
    plan = [
        (msg.IDENT, rates.identification), (msg.AIRPOS, rates.position), (msg.SURFACE, rates.surface),
        (msg.VELOCITY, rates.velocity), (msg.GNSS, rates.gnss), (msg.STATUS, rates.status),
        (msg.ALT_REPLY, rates.altitude_reply), (msg.ID_REPLY, rates.identity_reply), (msg.ALL_CALL, rates.all_call),
    ]
    kinds, times = [], []
    for code, dt in plan:
        t = _times(f.windows, dt, rng)
        kinds.append(np.full(t.size, code, dtype=np.int8))
        times.append(t)
    t_all = np.concatenate(times)
    kind = np.concatenate(kinds)
    t_all = t_all + rng.uniform(0, scn.jitter_s, t_all.size)
    hi = f.timeline.t[-1]
    t_all = np.minimum(t_all, hi)
    st = sample(f.timeline, t_all)
    keep = np.ones(t_all.size, dtype=np.bool_)
    keep &= ~((kind == msg.AIRPOS) & st.ground) & ~((kind == msg.GNSS) & st.ground)
    keep &= ~((kind == msg.VELOCITY) & st.ground) & ~((kind == msg.SURFACE) & ~st.ground)
    mine = [e for e in scn.events if e.icao24 == ac.icao24]
    off = [(e.start or -np.inf, e.end or np.inf) for e in mine if e.kind == "transponder_off"]
    keep &= ~_in_windows(t_all, off)
    squawk = np.full(t_all.size, ac.squawk, dtype="<U4")
    for e in mine:
        if e.kind == "squawk" and e.code:
            squawk[_in_windows(t_all, [(e.start or -np.inf, e.end or np.inf)])] = e.code
    lat, lon = st.lat, st.lon
    for e in mine:
        if e.kind == "spoof" and e.lat is None:
            w = _in_windows(t_all, [(e.start or -np.inf, e.end or np.inf)])
            dn, de = e.offset_km
            brg = float(np.degrees(np.arctan2(de, dn)) % 360.0)
            la, lo = destination(lat[w], lon[w], brg, float(np.hypot(dn, de)))
            lat, lon = lat.copy(), lon.copy()
            lat[w], lon[w] = la, lo
    order = np.argsort(t_all[keep], kind="stable")
    idx = np.flatnonzero(keep)[order]
    n = idx.size
    odd = np.zeros(n, dtype=np.int64)
    for kd in (msg.AIRPOS, msg.SURFACE, msg.GNSS):
        sel = kind[idx] == kd
        odd[sel] = np.arange(int(sel.sum())) % 2
    return Messages(
        time=t_all[idx], icao24=np.full(n, ac.icao24, dtype=np.int64), kind=kind[idx],
        lat=lat[idx], lon=lon[idx], alt=st.alt[idx], gs=st.gs[idx], track=st.track[idx], vrate=st.vrate[idx],
        ground=st.ground[idx], squawk=squawk[idx],
        callsign=np.full(n, (ac.callsign or "")[:8], dtype="<U8"),
        category=np.full(n, ac.category, dtype=np.int64), odd=odd,
    )


def _twin(e: Event, ac: AircraftSpec, scn: Scenario, rng: np.random.Generator) -> Messages:
    """A second transmitter using ``e.icao24`` that orbits (lat, lon) during the spoof window."""
    a, b = float(e.start or 0.0), float(e.end or 0.0)
    t = np.sort(np.concatenate([_times([(a, b)], scn.rates.position, rng), _times([(a, b)], scn.rates.velocity, rng)]))
    kind = np.where(np.arange(t.size) % 2 == 0, msg.AIRPOS, msg.VELOCITY).astype(np.int8)
    gs = 250.0
    omega = gs * 1.852 / 3600.0 / 10.0  # 10 km radius orbit, rad/s
    ang = (t - a) * omega
    lat, lon = destination(e.lat or 0.0, e.lon or 0.0, np.degrees(ang), 10.0)
    n = t.size
    odd = np.zeros(n, dtype=np.int64)
    sel = kind == msg.AIRPOS
    odd[sel] = np.arange(int(sel.sum())) % 2
    return Messages(
        time=t, icao24=np.full(n, e.icao24, dtype=np.int64), kind=kind, lat=lat, lon=lon,
        alt=np.full(n, e.alt_ft or 20000.0), gs=np.full(n, gs), track=np.mod(np.degrees(ang) + 90.0, 360.0),
        vrate=np.zeros(n), ground=np.zeros(n, dtype=np.bool_), squawk=np.full(n, ac.squawk, dtype="<U4"),
        callsign=np.full(n, (ac.callsign or "")[:8], dtype="<U8"), category=np.full(n, ac.category, dtype=np.int64),
        odd=odd,
    )


def _receive(m: Messages, scn: Scenario, rng: np.random.Generator) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], F64]:
    """(message index, receiver index, distance km) of every reception."""
    mi, ri, dd = [], [], []
    alt_m = np.maximum(m.alt, 0.0) * 0.3048
    for j, r in enumerate(scn.receivers):
        d = distance_km(r.lat, r.lon, m.lat, m.lon)
        # radio horizon with 4/3 earth: 4.12 km * (sqrt(h_rx m) + sqrt(h_ac m)), ground level ~ field elevation
        agl = np.where(m.ground, 3.0, np.maximum(alt_m - 300.0, 3.0))
        horizon = 4.12 * (np.sqrt(max(r.alt_m, 1.0)) + np.sqrt(agl))
        ok = (d <= np.minimum(horizon, r.range_km)) & ~_in_windows(m.time, [(o.start, o.end) for o in r.outages])
        ok &= rng.uniform(0, 1, len(m)) >= r.dropout
        sel = np.flatnonzero(ok)
        mi.append(sel)
        ri.append(np.full(sel.size, j, dtype=np.int64))
        dd.append(d[sel])
    return np.concatenate(mi), np.concatenate(ri), np.concatenate(dd)


def simulate(scenario: Scenario, seed: int | None = None) -> SimResult:
    """Fly ``scenario`` and return what the receivers heard plus the ground truth.

    ``seed`` (default: the scenario's own) fixes the random phase of
    transmissions, jitter and dropouts, so a run is reproducible.
    """
    seed = scenario.seed if seed is None else seed
    rng = np.random.default_rng(seed)
    flown: list[_Flown] = []
    parts: list[Messages] = []
    for ac in scenario.aircraft:
        evs = [e for e in scenario.events if e.icao24 == ac.icao24]
        f = _fly_aircraft(ac, evs, scenario.airports, scenario.runways)
        flown.append(f)
        if f.windows:  # an aircraft without legs stays parked, transponder off
            parts.append(_transmissions(f, scenario, rng))
        for e in evs:
            if e.kind == "spoof" and e.lat is not None:
                parts.append(_twin(e, ac, scenario, rng))
    m = Messages.concat(parts)
    m.time = np.round(m.time * 1e6) / 1e6  # receivers time-stamp to the microsecond at best
    mi, ri, dist = _receive(m, scenario, rng)
    frames, cols = encode_messages(m)
    rid = np.array([r.id for r in scenario.receivers], dtype=object)[ri]
    order = np.lexsort((m.time[mi], ri))
    mi, ri, dist, rid = mi[order], ri[order], dist[order], rid[order]
    signal = np.clip(np.round(230.0 * np.exp(-dist / 120.0)) + 15, 1, 255).astype(np.uint8)
    t_us = pa.array((m.time[mi] * 1e6).round().astype(np.int64)).cast(pa.timestamp("us", tz="UTC"))
    frame_table = pa.table({
        "time": t_us, "msg": frames.take(pa.array(mi)), "signal": pa.array(signal),
        "receiver": pa.array(rid.tolist(), pa.string()), "icao24": pa.array(m.icao24[mi].astype(np.int32)),
        "kind": pa.array(m.kind[mi]),
    })
    positions = positions_table(m, cols, rid.astype(str), mi)
    heard = np.zeros(len(m), dtype=np.bool_)
    heard[mi] = True
    truth = build_truth(scenario, [(f.spec, f.legs) for f in flown], m, heard, seed)
    return SimResult(scenario, positions, frame_table, truth, seed)


def describe(result: SimResult) -> str:
    """A few human lines about a run (aircraft, legs, frames per receiver), labelled SIMULATED."""
    label = "" if "SIMULATED" in result.scenario.name else "SIMULATED "
    lines = [f"{label}scenario {result.scenario.name}: {result.frames.num_rows} frames heard, "
             f"{result.truth.legs.num_rows} legs flown by {len(result.scenario.aircraft)} aircraft"]
    rc = result.frames.column("receiver").value_counts().to_pylist()
    for item in sorted(rc, key=lambda x: str(x["values"])):
        lines.append(f"  receiver {item['values']}: {item['counts']} frames")
    for ac in result.scenario.aircraft:
        n = sum(1 for x in result.truth.legs.column("icao24").to_pylist() if x == ac.icao24)
        lines.append(f"  {hex_of(ac.icao24)} {ac.registration or ''} {ac.typecode or ''}: {n} legs")
    return "\n".join(lines)
