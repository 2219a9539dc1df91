"""Flight model: a schedule of legs becomes a piecewise-linear kinematic timeline.

Each leg is a chain of great-circle *segments* (origin → destination, with
extra segments for a touch-and-go, a go-around circuit or a diversion). A
segment is described by *knots* — (time, distance along the segment, baro
altitude, ground speed, on-ground) — for taxi-out, take-off roll, climb,
cruise, descent, a 3° final approach, landing roll and taxi-in. The
:func:`sample` function evaluates the whole timeline at any number of instants
in one vectorised pass (no loop per message).

Building the knots loops over legs (tens to hundreds per scenario); sampling
is where the millions of messages are, and it is pure NumPy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tailwatch.sim.scenario import AircraftSpec, Airport

F64 = npt.NDArray[np.float64]
R_KM = 6371.0088
KT = 1.852 / 3600.0  # km/s per knot
GLIDE = math.tan(math.radians(3.0))
TAXI_KT = 8.0
ROLL_S = 35.0
ACCEL = 0.5  # kt/s, gentle airborne speed changes


def bearing(lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike) -> F64:
    """Initial great-circle bearing (degrees from true north) from point 1 to point 2."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2, np.float64) - np.asarray(lon1, np.float64))
    y = np.sin(dl) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return np.asarray(np.mod(np.degrees(np.arctan2(y, x)), 360.0), dtype=np.float64)


def distance_km(lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike) -> F64:
    """Great-circle (haversine) distance in km.

    Bamako-Gao by hand (equirectangular): dlat 3.715°, dlon 7.944° × cos 14.39° = 7.695°,
    √(3.715² + 7.695²) = 8.545° × 111.19 km = 950 km.

    >>> round(float(distance_km(12.5335, -7.94994, 16.2484, -0.00546)))
    950
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2, np.float64) - np.asarray(lon1, np.float64))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * R_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1))), dtype=np.float64)


def destination(lat: npt.ArrayLike, lon: npt.ArrayLike, brg: npt.ArrayLike, s_km: npt.ArrayLike) -> tuple[F64, F64]:
    """Point reached from (lat, lon) going ``s_km`` along the great circle of initial bearing ``brg``."""
    p1, l1, th = np.radians(lat), np.radians(lon), np.radians(brg)
    d = np.asarray(s_km, np.float64) / R_KM
    p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(th))
    l2 = l1 + np.arctan2(np.sin(th) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
    lon2 = np.mod(np.degrees(l2) + 540.0, 360.0) - 180.0
    return np.asarray(np.degrees(p2), np.float64), np.asarray(lon2, np.float64)


@dataclass
class Knots:
    """Columns of a timeline: one row per knot, plus the segments they refer to."""

    t: list[float] = field(default_factory=list)
    seg: list[int] = field(default_factory=list)
    s: list[float] = field(default_factory=list)
    alt: list[float] = field(default_factory=list)
    gs: list[float] = field(default_factory=list)
    ground: list[bool] = field(default_factory=list)
    seg_lat: list[float] = field(default_factory=list)
    seg_lon: list[float] = field(default_factory=list)
    seg_brg: list[float] = field(default_factory=list)

    def add(self, t: float, s: float, alt: float, gs: float, ground: bool) -> None:
        self.t.append(t)
        self.seg.append(len(self.seg_lat) - 1)
        self.s.append(s)
        self.alt.append(alt)
        self.gs.append(gs)
        self.ground.append(ground)

    def segment(self, lat: float, lon: float, brg: float) -> None:
        self.seg_lat.append(lat)
        self.seg_lon.append(lon)
        self.seg_brg.append(brg)


@dataclass(frozen=True)
class Point:
    """A point a leg flies to, and what the aircraft does there."""

    lat: float
    lon: float
    elev: float
    #: "land", "touch" (touch-and-go), "low" (go-around), "approach" (divert), "air" (circuit turn),
    #: "faf" (final approach fix, 3000 ft above the field)
    end: str
    airport: str | None = None


def _fly(k: Knots, t: float, a: Point, b: Point, start: str, a0: float, v0: float,
         ac: AircraftSpec, lost_km: float | None) -> tuple[float, float, float, float | None, float | None]:
    """Append the knots of one segment a → b.

    Returns (end time, end alt, end speed, touchdown time, lift-off time).
    """
    dist = float(distance_km(a.lat, a.lon, b.lat, b.lon))
    k.segment(a.lat, a.lon, float(bearing(a.lat, a.lon, b.lat, b.lon)))
    s = 0.0
    vr, vapp, vc = ac.rotate_kt, ac.approach_kt, ac.cruise_kt
    takeoff: float | None = None
    if start == "ground":
        taxi_km = TAXI_KT * KT * ac.taxi_s
        k.add(t, -taxi_km, a.elev, TAXI_KT, True)
        t += ac.taxi_s
        k.add(t, 0.0, a.elev, TAXI_KT, True)
        t += ROLL_S
        s = 0.5 * (TAXI_KT + vr) * KT * ROLL_S
        takeoff = t
        a0, v0 = a.elev, vr
    elif start == "touch":
        k.add(t, 0.0, a.elev, v0, True)
        t += 15.0
        s = v0 * KT * 15.0
        a0 = a.elev
    k.add(t, s, a0, v0, False)
    # vertical plan: climb to c, cruise, descend to the gate, final to the end altitude
    end_agl = {"land": 0.0, "touch": 0.0, "low": 200.0, "approach": 800.0, "air": 1500.0, "faf": 3000.0}[b.end]
    end_alt = b.elev + end_agl
    top = max(a0, ac.cruise_alt_ft, end_alt)
    gate = end_alt if b.end in ("air", "faf") else min(b.elev + 3000.0, top)
    final_km = (gate - end_alt) * 0.3048 / 1000.0 / GLIDE
    v_gate = vapp * 1.25
    c = max(ac.cruise_alt_ft, a0, gate)
    if start == "air" and b.end in ("air", "faf") and dist < 30.0:
        c = max(a0, gate)  # circuit and base legs are flown level, not climbed
    for slow in (False, True):
        # second try for short segments (final, circuit): hold the current speed, no climb
        if slow:
            vc, c = max(v0, v_gate), max(a0, gate)
        while True:
            # at least the time to change speed at ACCEL kt/s, even with little height to change
            climb_t = max(max(c - a0, 0.0) / ac.climb_fpm * 60.0, abs(vc - v0) / ACCEL)
            climb_km = (v0 + vc) / 2 * KT * climb_t
            desc_t = max(max(c - gate, 0.0) / ac.descent_fpm * 60.0, abs(vc - v_gate) / ACCEL)
            desc_km = (vc + v_gate) / 2 * KT * desc_t
            cruise_km = dist - s - climb_km - desc_km - final_km
            if cruise_km >= 0 or c <= max(a0, gate) + 1.0:
                break
            c = max(c - 1000.0, max(a0, gate))
        if cruise_km >= 0:
            break
    scale = 1.0
    if cruise_km < 0:  # too short even without climbing: compress the phases to fit
        avail = max(dist - s, 0.1)
        scale = avail / (climb_km + desc_km + final_km)
        cruise_km = 0.0
    t += climb_t * scale
    s += climb_km * scale
    k.add(t, s, c, vc, False)
    t += cruise_km / (vc * KT)
    s += cruise_km
    k.add(t, s, c, vc, False)
    t += desc_t * scale
    s += desc_km * scale
    k.add(t, s, gate, v_gate, False)
    final_t = final_km * scale / ((v_gate + vapp) / 2 * KT)
    t_end = t + final_t
    touchdown: float | None = None
    if lost_km is not None:
        # track lost on final: cut the final approach ``lost_km`` short of the runway. Speed falls
        # linearly in time from v_gate to vapp, so solve v_gate τ + a τ²/2 = distance for τ.
        flown = max(final_km * scale - lost_km, 0.0)
        a_kts = (vapp - v_gate) / max(final_t, 1e-6)
        tau = (2 * flown / KT / (v_gate + math.sqrt(max(v_gate**2 + 2 * a_kts * flown / KT, 0.0)))
               if flown > 0 else 0.0)
        frac = tau / max(final_t, 1e-6)
        k.add(t + tau, s + flown, gate + (end_alt - gate) * frac, v_gate + a_kts * tau, False)
        return t + tau, gate + (end_alt - gate) * frac, v_gate + a_kts * tau, None, takeoff
    t, s = t_end, dist
    if b.end in ("land", "touch"):
        touchdown = t
        if b.end == "land":
            k.add(t, s, b.elev, vapp, True)
            t += 25.0
            s += (vapp + TAXI_KT) / 2 * KT * 25.0
            k.add(t, s, b.elev, TAXI_KT, True)
            t += ac.taxi_s
            s += TAXI_KT * KT * ac.taxi_s
            k.add(t, s, b.elev, TAXI_KT, True)
        else:
            k.add(t, s, b.elev, vapp, True)
    else:
        k.add(t, s, end_alt, vapp if b.end not in ("air", "faf") else v_gate, False)
    return t, end_alt, vapp if b.end not in ("air", "faf") else v_gate, touchdown, takeoff


@dataclass(frozen=True)
class LegTruth:
    """What a leg really was (the ground truth the analysis should find)."""

    origin: str
    destination: str
    takeoff: float
    landing: float | None
    block_off: float
    block_on: float
    touch_and_go: tuple[str, ...]
    go_around: tuple[str, ...]
    diverted_from: str | None
    #: (what, airport, time) of each touch-and-go ("touch"), go-around ("low") and
    #: abandoned approach before a diversion ("approach")
    marks: tuple[tuple[str, str, float], ...] = ()


def circuit_point(apt: Airport, inbound_brg: float, km: float = 15.0) -> Point:
    """A turn point ``km`` beyond the airport on the inbound course, at circuit height."""
    la, lo = destination(apt.lat, apt.lon, inbound_brg, km)
    return Point(float(la), float(lo), apt.elevation_ft, "air")


def final_fix(apt: Airport, runway: float, inbound_brg: float) -> tuple[Point, float]:
    """The final approach fix of the runway end facing the inbound course, and the landing heading.

    It lies 3000 ft / tan 3° (17.4 km) before the threshold on the extended centreline.
    """
    land = runway if abs((inbound_brg - runway + 180.0) % 360.0 - 180.0) <= 90.0 else (runway + 180.0) % 360.0
    dist = 3000.0 * 0.3048 / 1000.0 / GLIDE
    la, lo = destination(apt.lat, apt.lon, (land + 180.0) % 360.0, dist)
    return Point(float(la), float(lo), apt.elevation_ft, "faf"), land


def fly_leg(k: Knots, t0: float, route: list[tuple[Airport, str]], ac: AircraftSpec,
            lost_km: float | None, runways: dict[str, float] | None = None) -> LegTruth:
    """Append the knots of one leg flying ``route`` (first = origin) from off-block time ``t0``.

    ``route`` items are (airport, end kind) where the end kind is ``land``,
    ``touch``, ``low`` or ``approach``; a go-around or a touch-and-go at the
    airport flown to next gets a circuit inserted automatically. Airports with a
    known runway heading (``runways``, true degrees) are approached along the
    runway's extended centreline from a final approach fix; others along the route.
    """
    runways = runways or {}
    origin = route[0][0]
    pts: list[Point] = [Point(origin.lat, origin.lon, origin.elevation_ft, "start", origin.icao)]
    for i, (apt, kind) in enumerate(route[1:], start=1):
        prev = pts[-1]
        inbound = float(bearing(prev.lat, prev.lon, apt.lat, apt.lon))
        if apt.icao == route[i - 1][0].icao and kind in ("land", "touch", "low") and i > 1:
            before = route[i - 2][0]
            brg = float(bearing(before.lat, before.lon, apt.lat, apt.lon))
            if apt.icao in runways:
                # left-hand circuit: 8 km abeam the field, then round to the final approach fix
                _, land = final_fix(apt, runways[apt.icao], brg)
                la, lo = destination(apt.lat, apt.lon, (land - 90.0) % 360.0, 8.0)
                pts.append(Point(float(la), float(lo), apt.elevation_ft, "air"))
                inbound = float(bearing(float(la), float(lo), apt.lat, apt.lon))
            else:
                pts.append(circuit_point(apt, brg))
        if apt.icao in runways:
            fix, land = final_fix(apt, runways[apt.icao], inbound)
            to_fix = float(bearing(pts[-1].lat, pts[-1].lon, fix.lat, fix.lon))
            if abs((to_fix - land + 180.0) % 360.0 - 180.0) > 80.0:
                # arriving from the side: join via a base point 10 km abeam the fix, so no turn exceeds ~100°
                side = 90.0 if ((to_fix - land) % 360.0) > 180.0 else -90.0
                la, lo = destination(fix.lat, fix.lon, (land + side + 180.0) % 360.0, 10.0)
                pts.append(Point(float(la), float(lo), apt.elevation_ft, "faf"))
            pts.append(fix)
        pts.append(Point(apt.lat, apt.lon, apt.elevation_ft, kind, apt.icao))
    t, alt, v = t0, origin.elevation_ft, 0.0
    start = "ground"
    takeoff = t0
    landing: float | None = None
    marks: list[tuple[str, str, float]] = []
    for j in range(1, len(pts)):
        last = j == len(pts) - 1
        t, alt, v, td, lift = _fly(k, t, pts[j - 1], pts[j], start, alt, v, ac, lost_km if last else None)
        if j == 1 and lift is not None:
            takeoff = lift
        if pts[j].end in ("touch", "low", "approach"):
            marks.append((pts[j].end, pts[j].airport or "", td if td is not None else t))
        if td is not None and last:
            landing = td
        start = "touch" if pts[j].end == "touch" else "air"
    tg = tuple(r[0].icao for r in route[1:] if r[1] == "touch")
    ga = tuple(r[0].icao for r in route[1:] if r[1] == "low")
    dv = next((r[0].icao for r in route[1:] if r[1] == "approach"), None)
    return LegTruth(origin.icao, route[-1][0].icao, takeoff, landing, t0, t, tg, ga, dv, tuple(marks))


@dataclass(frozen=True)
class Timeline:
    """NumPy columns of all knots of one aircraft (time-ordered) and its segments."""

    t: F64
    seg: npt.NDArray[np.int64]
    s: F64
    alt: F64
    gs: F64
    ground: npt.NDArray[np.bool_]
    seg_lat: F64
    seg_lon: F64
    seg_brg: F64

    @staticmethod
    def of(k: Knots) -> Timeline:
        """Freeze a :class:`Knots` builder into arrays."""
        return Timeline(
            np.asarray(k.t, np.float64), np.asarray(k.seg, np.int64), np.asarray(k.s, np.float64),
            np.asarray(k.alt, np.float64), np.asarray(k.gs, np.float64), np.asarray(k.ground, np.bool_),
            np.asarray(k.seg_lat, np.float64), np.asarray(k.seg_lon, np.float64), np.asarray(k.seg_brg, np.float64),
        )


@dataclass(frozen=True)
class State:
    """The aircraft's state at each sampled instant."""

    lat: F64
    lon: F64
    alt: F64
    gs: F64
    track: F64
    vrate: F64
    ground: npt.NDArray[np.bool_]


def sample(tl: Timeline, times: F64) -> State:
    """Evaluate the timeline at ``times`` (seconds, within the knots' span), vectorised."""
    i = np.clip(np.searchsorted(tl.t, times, side="right") - 1, 0, len(tl.t) - 2)
    t0, t1 = tl.t[i], tl.t[i + 1]
    same = tl.seg[i] == tl.seg[i + 1]
    span = np.where(same & (t1 > t0), t1 - t0, 1.0)
    f = np.where(same, np.clip((times - t0) / span, 0.0, 1.0), 0.0)
    # speed is linear in time between knots, so distance is quadratic: the share of the
    # interval's distance covered after a fraction f of its time is (v0 f + (v1 - v0) f²/2) / mean(v)
    v0, v1 = tl.gs[i], tl.gs[i + 1]
    mean = (v0 + v1) / 2
    g = np.where(mean > 0, (v0 * f + 0.5 * (v1 - v0) * f * f) / np.where(mean > 0, mean, 1.0), f)
    s = tl.s[i] + g * (tl.s[i + 1] - tl.s[i])
    alt = tl.alt[i] + f * (tl.alt[i + 1] - tl.alt[i])
    gs = v0 + f * (v1 - v0)
    vrate = np.where(same, (tl.alt[i + 1] - tl.alt[i]) / span * 60.0, 0.0)
    seg = tl.seg[i]
    la0, lo0, brg = tl.seg_lat[seg], tl.seg_lon[seg], tl.seg_brg[seg]
    lat, lon = destination(la0, lo0, brg, s)
    lat2, lon2 = destination(la0, lo0, brg, s + 0.05)
    track = bearing(lat, lon, lat2, lon2)
    return State(lat, lon, alt, gs, track, vrate, tl.ground[i])
