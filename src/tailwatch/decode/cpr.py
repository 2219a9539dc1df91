"""Compact Position Reporting, vectorised per aircraft with state carried across batches.

The decoding rules are those of a sequential receiver (and of rs1090's offline
decoder), applied to whole columns:

* an airborne frame is decoded *globally* with the aircraft's last airborne
  frame of the other parity when that one came less than 10 s before (rs1090:
  30 s; configurable) (pairs
  whose two latitudes fall in different NL zones are refused);
* otherwise, within 180 s of the aircraft's last decoded position, it is
  decoded *locally* against that position (refused if more than half a zone off);
* a new position implying more than 1200 km/h from the last decoded one is
  refused (the last position is kept);
* a surface frame is decoded locally against the aircraft's last position when
  the result is within 1 km of it, else against the receiver reference.

The sequential dependency "frame k is judged against the last success before
k" is solved as a fixed point over the set of successful frames: every frame is
judged at once against the previous pass's last success, starting from the
global decodes, until nothing changes. The first frame of every aircraft only
depends on the carried state, so the fixed point is the sequential result.

>>> lat, lon = airborne_global(np.array([93000.0]), np.array([51372.0]), np.array([74158.0]), np.array([50194.0]), np.array([0]))
>>> round(float(lat[0]), 5), round(float(lon[0]), 5)
(52.2572, 3.91937)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

CPR_MAX = 131072.0
_NZ = 15
_NL_EDGES: F64 = np.round(
    np.degrees(
        np.arccos(
            np.sqrt((1 - np.cos(np.pi / (2 * _NZ))) / (1 - np.cos(2 * np.pi / np.arange(59, 1, -1))))
        )
    ),
    8,
)
#: Default longest gap between an even and an odd frame decoded together globally (DO-260B: 10 s;
#: rs1090 0.7.0 pairs frames up to 30 s apart).
MAX_GAP_US = 10_000_000


def nl(lat: F64) -> I64:
    """Number of longitude zones (1-59) at each latitude (1090-WP-9-14 table).

    >>> nl(np.array([0.0, 52.0, 87.0, -88.0])).tolist()
    [59, 36, 1, 1]
    """
    return (59 - np.searchsorted(_NL_EDGES, np.abs(lat), side="right")).astype(np.int64)


def _mod(a: F64, b: F64 | float) -> F64:
    """``a mod b`` as rs1090 computes it: C ``fmod`` for a >= 0, ``fmod + |b|`` otherwise."""
    r = np.fmod(a, b)
    return np.where(a >= 0, r, r + np.abs(b))


def _airborne_lats(lat_even: F64, lat_odd: F64) -> tuple[F64, F64]:
    """Even and odd latitudes of an airborne CPR pair (raw 17-bit values), as rs1090 computes them."""
    cle, clo = lat_even / CPR_MAX, lat_odd / CPR_MAX
    j = np.floor(59.0 * cle - 60.0 * clo + 0.5)
    le = (360.0 / 60.0) * (_mod(j, 60.0) + cle)
    lo = (360.0 / 59.0) * (_mod(j, 59.0) + clo)
    return np.where(le >= 270.0, le - 360.0, le), np.where(lo >= 270.0, lo - 360.0, lo)


def _airborne_position(
    le: F64, lo: F64, lon_even: F64, lon_odd: F64, latest_odd: npt.NDArray[np.integer]
) -> tuple[F64, F64]:
    """The position of the more recent frame, given the pair's latitudes."""
    cne, cno = lon_even / CPR_MAX, lon_odd / CPR_MAX
    odd = latest_odd.astype(bool)
    lat = np.where(odd, lo, le)
    n = nl(lat)
    ni = np.maximum(n - odd.astype(np.int64), 1).astype(np.float64)
    m = np.floor(cne * (n - 1) - cno * n + 0.5)
    lon = (360.0 / ni) * (_mod(m, ni) + np.where(odd, cno, cne))
    lon = np.where(lon >= 180.0, lon - 360.0, lon)
    return lat, lon


def airborne_global(
    lat_even: F64, lon_even: F64, lat_odd: F64, lon_odd: F64, latest_odd: npt.NDArray[np.integer]
) -> tuple[F64, F64]:
    """Globally unambiguous airborne position from raw 17-bit CPR values of an even and an odd frame.

    ``latest_odd`` is 1 where the odd frame is the more recent one (its
    position is returned), 0 where the even one is.
    """
    le, lo = _airborne_lats(lat_even, lat_odd)
    return _airborne_position(le, lo, lon_even, lon_odd, latest_odd)


def local(
    lat_cpr: F64, lon_cpr: F64, odd: npt.NDArray[np.integer], ref_lat: F64, ref_lon: F64, surface: B
) -> tuple[F64, F64]:
    """Locally unambiguous position of one frame against a reference (airborne: 360 deg, surface: 90 deg)."""
    span = np.where(surface, 90.0, 360.0)
    cl, cn = lat_cpr / CPR_MAX, lon_cpr / CPR_MAX
    oddb = odd.astype(bool)
    d_lat = span / np.where(oddb, 59.0, 60.0)
    j = np.floor(ref_lat / d_lat) + np.floor(0.5 + _mod(ref_lat, d_lat) / d_lat - cl)
    lat = d_lat * (j + cl)
    ni = nl(lat) - oddb.astype(np.int64)
    d_lon = np.where(ni > 0, span / np.maximum(ni, 1), span)
    m = np.floor(ref_lon / d_lon) + np.floor(0.5 + _mod(ref_lon, d_lon) / d_lon - cn)
    return lat, d_lon * (m + cn)


def haversine_km(lat1: F64, lon1: F64, lat2: F64, lon2: F64) -> F64:
    """Great-circle distance in km (mean Earth radius 6371 km)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    out: F64 = 6371.0 * 2 * np.arctan2(np.sqrt(h), np.sqrt(1 - h))
    return out


def airborne_global_checked(
    lat_even: F64, lon_even: F64, lat_odd: F64, lon_odd: F64, latest_odd: npt.NDArray[np.integer]
) -> tuple[F64, F64]:
    """:func:`airborne_global` with NaN where the pair is inconsistent (latitude out of range, NL zones differ)."""
    le, lo = _airborne_lats(lat_even, lat_odd)
    bad = (np.abs(le) > 90) | (np.abs(lo) > 90)
    bad |= nl(np.where(bad, 0.0, le)) != nl(np.where(bad, 0.0, lo))
    lat, lon = _airborne_position(le, lo, lon_even, lon_odd, latest_odd)
    return np.where(bad, np.nan, lat), np.where(bad, np.nan, lon)


def local_checked(
    lat_cpr: F64, lon_cpr: F64, odd: npt.NDArray[np.integer], ref_lat: F64, ref_lon: F64, surface: B
) -> tuple[F64, F64]:
    """:func:`local` with NaN where the answer is more than half a zone from the reference."""
    with np.errstate(invalid="ignore"):
        lat, lon = local(lat_cpr, lon_cpr, odd, ref_lat, ref_lon, surface)
        span = np.where(surface, 90.0, 360.0)
        oddb = odd.astype(bool)
        d_lat = span / np.where(oddb, 59.0, 60.0)
        ni = nl(np.where(np.isnan(lat), 0.0, lat)) - oddb.astype(np.int64)
        d_lon = np.where(ni > 0, span / np.maximum(ni, 1), span)
        bad = (np.abs(lat) > 90) | (np.abs(lat - ref_lat) > d_lat / 2) | (np.abs(lon - ref_lon) > d_lon / 2)
        bad |= np.isnan(ref_lat)
    return np.where(bad, np.nan, lat), np.where(bad, np.nan, lon)


#: Fastest plausible ground speed between two decoded positions (km/h), as rs1090.
MAX_SPEED_KMH = 1200.0
#: Local decoding against the last position is attempted up to this long after it.
LOCAL_WINDOW_US = 180_000_000
#: A surface position decoded against the last position must be within this many km of it.
SURFACE_JUMP_KM = 1.0


@dataclass
class CprState:
    """Per-aircraft CPR state, as columns sorted by ``icao``."""

    icao: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    t: I64 = field(default_factory=lambda: np.zeros(0, np.int64))  # last successful decode (us)
    has_p: B = field(default_factory=lambda: np.zeros(0, bool))
    p_lat: F64 = field(default_factory=lambda: np.zeros(0))
    p_lon: F64 = field(default_factory=lambda: np.zeros(0))
    # last airborne frame of each parity (index 0 even, 1 odd): CPR values and time
    has_m: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 2), bool))
    m_t: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    m_lat: F64 = field(default_factory=lambda: np.zeros((0, 2)))
    m_lon: F64 = field(default_factory=lambda: np.zeros((0, 2)))


@dataclass
class CprResult:
    """Positions of one batch of position frames (input order)."""

    lat: F64
    lon: F64
    decoded: B
    local: B  # decoded against a reference rather than globally
    iterations: int = 0


#: Fixed-point passes before the remaining aircraft are finished sequentially.
MAX_PASSES = 16


def _same(a: F64, b: F64) -> B:
    out: B = (a == b) | (np.isnan(a) & np.isnan(b))
    return out


def _local_scalar(cl: float, cn: float, odd: int, rl: float, rn: float, span: float) -> tuple[float, float] | None:
    """Scalar twin of :func:`local_checked` (same IEEE operations) for the sequential fallback."""
    if math.isnan(rl):
        return None
    cl, cn = cl / CPR_MAX, cn / CPR_MAX
    d_lat = span / (59.0 if odd else 60.0)
    j = math.floor(rl / d_lat) + math.floor(0.5 + _mod_scalar(rl, d_lat) / d_lat - cl)
    lat = d_lat * (j + cl)
    if abs(lat) > 90 or abs(lat - rl) > d_lat / 2:
        return None
    ni = int(nl(np.array([lat]))[0]) - odd
    d_lon = span / ni if ni > 0 else span
    m = math.floor(rn / d_lon) + math.floor(0.5 + _mod_scalar(rn, d_lon) / d_lon - cn)
    lon = d_lon * (m + cn)
    if abs(lon - rn) > d_lon / 2:
        return None
    return lat, lon


def _mod_scalar(a: float, b: float) -> float:
    r = math.fmod(a, b)
    return r if a >= 0 else r + abs(b)


def _km(la1: float, lo1: float, la2: float, lo2: float) -> float:
    return float(haversine_km(np.array([la1]), np.array([lo1]), np.array([la2]), np.array([lo2]))[0])


def _sequential(
    rows: I64, gstart: I64, t: I64, su: B, od: I64, la: F64, lo: F64, skip: B, g_ok: B, g_lat: F64, g_lon: F64,
    r_fix: tuple[F64, F64], c_pl: F64, c_pn: F64, c_t: I64, succ: B, lat: F64, lon: F64,
) -> None:
    """Apply the CPR rules frame by frame to ``rows`` (whole aircraft, sorted), writing succ/lat/lon in place."""
    p_lat = p_lon = math.nan
    p_t = 0
    group = -1
    for k in rows.tolist():
        if gstart[k] != group:
            group = int(gstart[k])
            p_lat, p_lon, p_t = float(c_pl[k]), float(c_pn[k]), int(c_t[k])
        pos: tuple[float, float] | None = None
        tk = int(t[k])
        if skip[k]:
            pass
        elif not su[k]:
            if g_ok[k]:
                pos = (float(g_lat[k]), float(g_lon[k]))
            elif not math.isnan(p_lat) and tk - p_t < LOCAL_WINDOW_US:
                pos = _local_scalar(float(la[k]), float(lo[k]), int(od[k]), p_lat, p_lon, 360.0)
            if pos is not None and not math.isnan(p_lat) and tk != p_t:
                speed = _km(pos[0], pos[1], p_lat, p_lon) / ((tk - p_t) / 1e6) * 3600.0
                if speed > MAX_SPEED_KMH:
                    pos = None
        else:
            if not math.isnan(p_lat):
                near = _local_scalar(float(la[k]), float(lo[k]), int(od[k]), p_lat, p_lon, 90.0)
                if near is not None and _km(p_lat, p_lon, near[0], near[1]) < SURFACE_JUMP_KM:
                    pos = near
            if pos is None and not math.isnan(r_fix[0][k]):
                pos = (float(r_fix[0][k]), float(r_fix[1][k]))
        if pos is None:
            succ[k], lat[k], lon[k] = False, math.nan, math.nan
        else:
            succ[k], (lat[k], lon[k]) = True, pos
            p_lat, p_lon, p_t = pos[0], pos[1], tk


def _prev_marked(mark: B, gstart: I64) -> I64:
    """For each event, the index of the last marked event strictly before it in its group, else -1."""
    n = len(mark)
    idx = np.arange(n)
    last = np.maximum.accumulate(np.where(mark, idx, -1))
    prev = np.empty(n, np.int64)
    if n:
        prev[0] = -1
        prev[1:] = last[:-1]
    return np.where(prev >= gstart, prev, -1)


def decode_batch(
    state: CprState,
    icao: I64,
    t_us: I64,
    surface: B,
    odd: I64,
    lat_cpr: F64,
    lon_cpr: F64,
    reference: tuple[float, float] | None,
    pair_window_us: int = MAX_GAP_US,
) -> tuple[CprResult, CprState]:
    """Decode one batch of CPR frames (stream order) given the carried state; return the new state."""
    n = len(icao)
    if n == 0:
        return CprResult(np.zeros(0), np.zeros(0), np.zeros(0, bool), np.zeros(0, bool)), state
    order = np.lexsort((np.arange(n), icao))
    ic, t, su, od = icao[order], t_us[order], surface[order], odd[order].astype(np.int64)
    la, lo = lat_cpr[order], lon_cpr[order]
    air = ~su
    idx = np.arange(n)
    new_group = np.ones(n, bool)
    new_group[1:] = ic[1:] != ic[:-1]
    starts = np.flatnonzero(new_group)
    sizes = np.diff(np.append(starts, n))
    gstart = np.repeat(starts, sizes)

    ns = len(state.icao)
    pos = np.searchsorted(state.icao, ic) if ns else np.zeros(n, np.int64)
    posc = np.minimum(pos, max(ns - 1, 0))
    found = (pos < ns) & (state.icao[posc] == ic) if ns else np.zeros(n, bool)
    t0 = t[gstart]  # a new aircraft's clocks start at its first frame
    c_t = np.where(found, state.t[posc], t0) if ns else t0
    c_hp = found & state.has_p[posc] if ns else np.zeros(n, bool)
    c_pl = np.where(c_hp, state.p_lat[posc] if ns else 0.0, np.nan)
    c_pn = np.where(c_hp, state.p_lon[posc] if ns else 0.0, np.nan)

    # last frame of the opposite parity (in the batch, else carried)
    opp = 1 - od
    prev_by_par = [_prev_marked(air & (od == q), gstart) for q in (0, 1)]
    o_idx = np.where(opp == 0, prev_by_par[0], prev_by_par[1])
    in_b = o_idx >= 0
    oi = np.maximum(o_idx, 0)
    if ns:
        c_has = found & state.has_m[posc, opp]
        c_mt = np.where(found, state.m_t[posc, opp], t0)
        c_ml, c_mn = state.m_lat[posc, opp], state.m_lon[posc, opp]
    else:
        c_has, c_mt, c_ml, c_mn = np.zeros(n, bool), t0, np.zeros(n), np.zeros(n)
    o_has = in_b | c_has
    o_t = np.where(in_b, t[oi], c_mt)
    o_lat = np.where(in_b, la[oi], c_ml)
    o_lon = np.where(in_b, lo[oi], c_mn)
    skip = air & (t - o_t < 0)
    use_g = air & ~skip & o_has & (t - o_t < pair_window_us)
    g_lat, g_lon = airborne_global_checked(
        np.where(od == 0, la, o_lat), np.where(od == 0, lo, o_lon),
        np.where(od == 1, la, o_lat), np.where(od == 1, lo, o_lon), od,
    )
    g_ok = use_g & ~np.isnan(g_lat)
    ref_lat = np.full(n, np.nan if reference is None else reference[0])
    ref_lon = np.full(n, np.nan if reference is None else reference[1])

    r_fix = local_checked(la, lo, od, ref_lat, ref_lon, su) if (su.any() and reference) else (ref_lat, ref_lon)
    # fixed point over "which events succeeded": each event looks at the last success before it
    succ = g_ok.copy()
    lat = np.where(g_ok, g_lat, np.nan)
    lon = np.where(g_ok, g_lon, np.nan)
    it = 0
    while True:
        it += 1
        ps = _prev_marked(succ, gstart)
        have = ps >= 0
        psi = np.maximum(ps, 0)
        p_lat = np.where(have, lat[psi], c_pl)
        p_lon = np.where(have, lon[psi], c_pn)
        p_t = np.where(have, t[psi], c_t)
        p_ok = ~np.isnan(p_lat)
        try_local = air & ~skip & ~g_ok & p_ok & (t - p_t < LOCAL_WINDOW_US)
        l_lat, l_lon = local_checked(la, lo, od, p_lat, p_lon, su)
        c_lat = np.where(g_ok, g_lat, np.where(try_local, l_lat, np.nan))
        c_lon = np.where(g_ok, g_lon, np.where(try_local, l_lon, np.nan))
        a_ok = air & ~np.isnan(c_lat)
        chk = a_ok & p_ok & (t != p_t)  # same timestamp: no speed to judge (rs1090 accepts)
        with np.errstate(divide="ignore", invalid="ignore"):
            dist = haversine_km(c_lat[chk], c_lon[chk], p_lat[chk], p_lon[chk])
            speed = dist / ((t[chk] - p_t[chk]) / 1e6) * 3600.0
        a_ok[chk] = ~(speed > MAX_SPEED_KMH)
        # surface: against the last position (within 1 km), else the receiver reference
        near = su & p_ok & ~np.isnan(l_lat)
        if near.any():
            near[near] = haversine_km(p_lat[near], p_lon[near], l_lat[near], l_lon[near]) < SURFACE_JUMP_KM
        r_lat, r_lon = r_fix
        s_lat = np.where(near, l_lat, np.where(su, r_lat, np.nan))
        s_lon = np.where(near, l_lon, np.where(su, r_lon, np.nan))
        s_ok = su & ~np.isnan(s_lat)
        new_succ = a_ok | s_ok
        new_lat = np.where(a_ok, c_lat, np.where(s_ok, s_lat, np.nan))
        new_lon = np.where(a_ok, c_lon, np.where(s_ok, s_lon, np.nan))
        diff = (new_succ != succ) | ~_same(new_lat, lat) | ~_same(new_lon, lon)
        succ, lat, lon = new_succ, new_lat, new_lon
        if not diff.any():
            break
        if it >= MAX_PASSES:
            # chains of refusals (spoofing, two aircraft sharing an address) need one pass per
            # refusal: finish those aircraft with the exact sequential rules instead
            bad_groups = np.unique(gstart[diff])
            rows = np.flatnonzero(np.isin(gstart, bad_groups))
            _sequential(rows, gstart, t, su, od, la, lo, skip, g_ok, g_lat, g_lon, r_fix, c_pl, c_pn, c_t,
                        succ, lat, lon)
            break
    is_local = succ & ~(air & g_ok)

    # new state per aircraft
    last_s = np.maximum.reduceat(np.where(succ, idx, -1), starts)
    g_found = found[starts]
    ls = np.maximum(last_s, 0)
    new_t = np.where(last_s >= 0, t[ls], c_t[starts])
    new_hp = (last_s >= 0) | c_hp[starts]
    new_pl = np.where(last_s >= 0, lat[ls], c_pl[starts])
    new_pn = np.where(last_s >= 0, lon[ls], c_pn[starts])
    m_has = np.zeros((len(starts), 2), bool)
    m_t = np.zeros((len(starts), 2), np.int64)
    m_la = np.zeros((len(starts), 2))
    m_lo = np.zeros((len(starts), 2))
    for q in (0, 1):
        last_q = np.maximum.reduceat(np.where(air & ~skip & (od == q), idx, -1), starts)
        lq = np.maximum(last_q, 0)
        if ns:
            cq_has = g_found & state.has_m[posc[starts], q]
            cq_t = np.where(g_found, state.m_t[posc[starts], q], t0[starts])
            cq_la, cq_lo = state.m_lat[posc[starts], q], state.m_lon[posc[starts], q]
        else:
            cq_has, cq_t = np.zeros(len(starts), bool), t0[starts]
            cq_la = cq_lo = np.zeros(len(starts))
        m_has[:, q] = (last_q >= 0) | cq_has
        m_t[:, q] = np.where(last_q >= 0, t[lq], cq_t)
        m_la[:, q] = np.where(last_q >= 0, la[lq], cq_la)
        m_lo[:, q] = np.where(last_q >= 0, lo[lq], cq_lo)
    keep = ~np.isin(state.icao, ic[starts])
    cat = np.concatenate
    new = CprState(
        icao=cat([state.icao[keep], ic[starts]]),
        t=cat([state.t[keep], new_t]),
        has_p=cat([state.has_p[keep], new_hp]),
        p_lat=cat([state.p_lat[keep], new_pl]),
        p_lon=cat([state.p_lon[keep], new_pn]),
        has_m=cat([state.has_m[keep], m_has]),
        m_t=cat([state.m_t[keep], m_t]),
        m_lat=cat([state.m_lat[keep], m_la]),
        m_lon=cat([state.m_lon[keep], m_lo]),
    )
    srt = np.argsort(new.icao, kind="stable")
    new = CprState(*(getattr(new, f)[srt] for f in CprState.__dataclass_fields__))

    out_lat, out_lon = np.empty(n), np.empty(n)
    out_dec, out_loc = np.empty(n, bool), np.empty(n, bool)
    out_lat[order], out_lon[order] = lat, lon
    out_dec[order], out_loc[order] = succ, is_local
    return CprResult(out_lat, out_lon, out_dec, out_loc, it), new
