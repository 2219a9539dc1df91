"""Generate a large synthetic POSITIONS data set, one day at a time (vectorised NumPy).

Each aircraft flies airport-to-airport legs between real airports (airportsdata entries
with an IATA code), 300-1500 km apart: 4-8 min on the ground at each end (on_ground
true, 8 kt), climb and descent at 2,000 ft/min, cruise at FL350 and 450 kt, one row
every 3-8 s, a 15-40 min coverage hole at cruise in 5% of legs.  The destination of a
leg is the origin of the next.  Rows of a day are in time order with aircraft
interleaved, the way a receiver writes them.  Ground truth (legs per day) is returned.

    from gen_positions import generate_day
    table, n_legs = generate_day(day_index=0, n_aircraft=6000, seed=1)
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tailwatch.analysis.airports import load_airports
from tailwatch.analysis.geo import haversine_km, ragged_arange
from tailwatch.schema import POSITIONS

DAY0 = 1_693_526_400  # 2023-09-01T00:00:00Z
KT_KMH = 1.852


def _airports() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import pyarrow.compute as pc

    a = load_airports()
    a = a.filter(pc.is_valid(a["iata"]))
    return a["lat"].to_numpy(), a["lon"].to_numpy(), np.nan_to_num(a["elevation_ft"].to_numpy(zero_copy_only=False))


def generate_day(day_index: int, n_aircraft: int, seed: int, legs_per_day: int = 2) -> tuple[pa.Table, int]:
    """One UTC day of positions for ``n_aircraft`` aircraft, ``legs_per_day`` legs each."""
    rng = np.random.default_rng(seed * 1000 + day_index)
    alat, alon, aelev = _airports()
    n_ap = len(alat)
    # each aircraft's home base is fixed across days (seeded by aircraft only)
    home = np.random.default_rng(seed).integers(0, n_ap, n_aircraft)
    nf = n_aircraft * legs_per_day
    ac = np.repeat(np.arange(n_aircraft), legs_per_day)
    # destinations: a random airport 300-1500 km away (rejection sampling, vectorised)
    org = np.empty(nf, np.int64)
    dst = np.empty(nf, np.int64)
    cur = home.copy()
    for k in range(legs_per_day):
        idx = np.arange(n_aircraft) * legs_per_day + k
        org[idx] = cur
        cand = rng.integers(0, n_ap, (n_aircraft, 64))
        d = haversine_km(alat[cur][:, None], alon[cur][:, None], alat[cand], alon[cand])
        ok = (d > 300) & (d < 1500)
        first = np.where(ok.any(axis=1), ok.argmax(axis=1), 0)
        nxt = cand[np.arange(n_aircraft), first]
        nxt = np.where(ok.any(axis=1), nxt, cur)  # nowhere to go: stays (a short local leg)
        dst[idx] = nxt
        cur = nxt
    dist = haversine_km(alat[org], alon[org], alat[dst], alon[dst])
    dist = np.maximum(dist, 60.0)
    cruise_kmh = 450 * KT_KMH
    air_s = dist / cruise_kmh * 3600 + 600  # climb/descent at lower speed
    taxi0 = rng.uniform(240, 480, nf)
    taxi1 = rng.uniform(240, 480, nf)
    total = taxi0 + air_s + taxi1
    # departures spread over the day, legs of one aircraft in sequence with 1-3 h turnarounds
    start = np.empty(nf)
    t = rng.uniform(0, 4 * 3600, n_aircraft)
    for k in range(legs_per_day):
        idx = np.arange(n_aircraft) * legs_per_day + k
        start[idx] = t
        t = t + total[idx] + rng.uniform(3600, 3 * 3600, n_aircraft)
    step = rng.uniform(3, 8, nf)
    nrow = np.floor(total / step).astype(np.int64)
    rows, owner = ragged_arange(np.zeros(nf, np.int64), nrow)
    tt = rows * step[owner] + rng.uniform(0, 1, len(rows))  # seconds since leg start
    tr = tt - taxi0[owner]  # seconds since take-off
    a_s = air_s[owner]
    airborne = (tr > 0) & (tr < a_s)
    frac = np.clip(tr / a_s, 0, 1)
    o, d_ = org[owner], dst[owner]
    lat = alat[o] + frac * (alat[d_] - alat[o]) + np.where(airborne, 0, rng.normal(0, 0.004, len(rows)))
    lon = alon[o] + frac * (alon[d_] - alon[o]) + np.where(airborne, 0, rng.normal(0, 0.004, len(rows)))
    climb = aelev[o] + tr * 2000 / 60
    desc = aelev[d_] + (a_s - tr) * 2000 / 60
    alt = np.where(airborne, np.minimum(np.minimum(climb, desc), 35000.0), np.nan)
    gs = np.where(airborne, 450.0, 8.0)
    vrate = np.where(airborne & (climb < 35000) & (climb < desc), 2000.0,
                     np.where(airborne & (desc < 35000) & (desc <= climb), -2000.0, 0.0))
    track = np.degrees(np.arctan2((alon[d_] - alon[o]) * np.cos(np.radians(alat[o])), alat[d_] - alat[o])) % 360
    # coverage holes at cruise in 5% of legs
    hole_leg = rng.uniform(0, 1, nf) < 0.05
    h0 = air_s * 0.4
    h1 = h0 + rng.uniform(900, 2400, nf)
    hole = hole_leg[owner] & (tr > h0[owner]) & (tr < np.minimum(h1[owner], a_s[owner] * 0.8))
    keep = ~hole
    time_s = DAY0 + day_index * 86400 + start[owner] + tt
    keep &= time_s < DAY0 + (day_index + 1) * 86400  # the day's partition only
    order = np.argsort(time_s[keep], kind="stable")
    k_idx = np.flatnonzero(keep)[order]
    icao = (0x100000 + ac[owner][k_idx]).astype(np.int32)
    n = len(k_idx)
    names = pa.array([f"TST{i % 10000}" for i in range(n_aircraft)])
    cs = names.take(pa.array(ac[owner][k_idx]))
    table = pa.table({
        "time": pa.array((time_s[k_idx] * 1e6).astype(np.int64), POSITIONS.field("time").type),
        "icao24": pa.array(icao),
        "lat": pa.array(lat[k_idx]), "lon": pa.array(lon[k_idx]),
        "alt_baro": pa.array(alt[k_idx].astype(np.float32), mask=~np.isfinite(alt[k_idx])),
        "alt_geom": pa.nulls(n, pa.float32()),
        "gs": pa.array(gs[k_idx].astype(np.float32)), "track": pa.array(np.full(n, 0, np.float32) + track[owner][k_idx].astype(np.float32)),
        "vrate": pa.array(vrate[k_idx].astype(np.float32)),
        "callsign": cs, "squawk": pa.nulls(n, pa.string()),
        "on_ground": pa.array(~airborne[k_idx]), "emergency": pa.nulls(n, pa.int8()),
        "source": pa.array(["bench"]).take(pa.array(np.zeros(n, np.int64))), "file_id": pa.nulls(n, pa.int64()),
        "receiver": pa.nulls(n, pa.string()), "quality": pa.array(np.zeros(n, np.uint16)),
    }, schema=POSITIONS)
    return table, int(nf)
