"""Findings over a generated store of N positions (default 50 million), streaming by aircraft batch.

Run:  .venv/bin/python bench/bench_findings.py [--rows 50000000] [--store /tmp/tw-bench-findings] [--keep]

1. Generates N synthetic positions (``Quality.SIMULATED``): aircraft flying airport-to-airport legs
   over Europe every ~5 s with ground time between legs; 0.5% of legs squawk 7700 for 5 minutes,
   0.5% carry one corrupted position 150 km off track. Ingested with ``Store.add_positions`` per day,
   legs and stops from ``analysis.legs.legs_and_stops`` per aircraft batch (setup, not timed).
2. Times ``build_findings`` (all kinds; positions streamed once with ``iter_aircraft_batches``).
3. Times the peer on the same store in the same run: DuckDB SQL window functions doing the
   position-based work (jumps by lag/haversine, 7700 episodes by gaps-and-islands) — the engine
   the scale probe measured fastest for SQL — and prints the ratio and whether the counts agree.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import time
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.analysis.airports import load_airports
from tailwatch.analysis.findings.build import build_findings
from tailwatch.schema import POSITIONS, Quality

US = 1_000_000
T0 = 1_696_118_400 * US  # 2023-10-01T00:00Z


def _airports(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    ap = load_airports()
    lat = ap.column("lat").to_numpy()
    lon = ap.column("lon").to_numpy()
    has_iata = pc.fill_null(pc.greater(pc.utf8_length(ap.column("iata")), 0), False).to_numpy(zero_copy_only=False)
    sel = np.flatnonzero(has_iata & (lat > 36) & (lat < 60) & (lon > -9) & (lon < 28))
    sel = rng.choice(sel, size=min(300, len(sel)), replace=False)
    return lat[sel], lon[sel]


def generate_day(day: int, n_aircraft: int, rows_target: int, rng: np.random.Generator,
                 ap_lat: np.ndarray, ap_lon: np.ndarray, where: np.ndarray) -> tuple[pa.Table, np.ndarray]:
    """One day of positions (vectorised): each aircraft flies legs back to back from 05:00 UTC,
    starting where it ended the day before (``where``: airport index per aircraft)."""
    legs_per_ac = max(1, round(rows_target / n_aircraft / 1500))
    n_legs = n_aircraft * legs_per_ac
    icao = np.repeat(0x400000 + np.arange(n_aircraft), legs_per_ac)
    a = rng.integers(0, len(ap_lat), n_legs)
    b = (a + rng.integers(1, len(ap_lat), n_legs)) % len(ap_lat)
    # chain: each leg starts where the previous one of the aircraft ended
    first = np.arange(n_legs) % legs_per_ac == 0
    a[first] = where
    b = np.where(b == a, (a + 1) % len(ap_lat), b)
    for k in range(1, legs_per_ac):  # chain: each leg starts where the previous one ended
        i = np.arange(k, n_legs, legs_per_ac)
        a[i] = b[i - 1]
        b[i] = np.where(b[i] == a[i], (a[i] + 1) % len(ap_lat), b[i])
    lat0, lon0, lat1, lon1 = ap_lat[a], ap_lon[a], ap_lat[b], ap_lon[b]
    dist_km = 6371.0 * np.arccos(np.clip(np.sin(np.radians(lat0)) * np.sin(np.radians(lat1)) + np.cos(
        np.radians(lat0)) * np.cos(np.radians(lat1)) * np.cos(np.radians(lon1 - lon0)), -1, 1))
    # climb/descent allowance shrinks on short hops, so ground speed (= distance / time) stays
    # plausible above 10,000 ft (a 20 km hop at 60 kt and FL100 would rightly look spoofed)
    air_s = dist_km / (450 * 1.852) * 3600 + 600 * np.minimum(1.0, dist_km / 300.0)
    ground_s = 180.0
    dur = air_s + 2 * ground_s
    turn = rng.uniform(1800, 5400, n_legs)
    start = np.zeros(n_legs)
    for k in range(1, legs_per_ac):  # per leg index, vectorised over aircraft
        i = np.arange(k, n_legs, legs_per_ac)
        start[i] = start[i - 1] + dur[i - 1] + turn[i - 1]
    start += day * 86400 + 5 * 3600 + rng.uniform(0, 3600, n_legs).repeat(1)
    npts = (dur / 5).astype(np.int64)
    leg = np.repeat(np.arange(n_legs), npts)
    k = np.arange(npts.sum()) - np.repeat(np.cumsum(npts) - npts, npts)
    tsec = k * 5.0 + rng.uniform(-1.0, 1.0, len(k))
    frac_air = np.clip((tsec - ground_s) / air_s[leg], 0, 1)
    lat = lat0[leg] + (lat1[leg] - lat0[leg]) * frac_air
    lon = lon0[leg] + (lon1[leg] - lon0[leg]) * frac_air
    tair = np.clip(tsec - ground_s, 0, None)
    alt = np.minimum(np.minimum(tair, air_s[leg] - tair) / 60 * 2000, 35000.0)
    ground = (tsec < ground_s) | (tsec > ground_s + air_s[leg])
    alt = np.where(ground, np.nan, alt)
    vr = np.where(ground, np.nan, np.where(tair < air_s[leg] / 2, 2000.0, -2000.0) * (alt < 35000))
    gs = np.where(ground, 0.0, dist_km[leg] / air_s[leg] * 3600 / 1.852)  # consistent with the positions
    track = (np.degrees(np.arctan2((lon1 - lon0)[leg] * np.cos(np.radians(lat)), (lat1 - lat0)[leg])) + 360) % 360
    squawk = np.full(len(k), "1000", dtype="<U4")
    sq_leg = rng.random(n_legs) < 0.005
    mid = (tsec > ground_s + air_s[leg] / 2) & (tsec < ground_s + air_s[leg] / 2 + 300)
    squawk[sq_leg[leg] & mid] = "7700"
    jump_leg = rng.random(n_legs) < 0.005
    jrow = np.flatnonzero(jump_leg[leg] & (np.abs(tsec - ground_s - air_s[leg] / 3) < 2.5))
    lat[jrow] += 1.35  # ~150 km north for one report
    t_us = (T0 + (start[leg] + tsec) * US).astype(np.int64)
    cols = {"time": pa.array(t_us).cast(POSITIONS.field("time").type), "icao24": pa.array(icao[leg], pa.int32()),
            "lat": lat, "lon": lon, "alt_baro": pa.array(alt, pa.float32(), from_pandas=True),
            "alt_geom": pa.nulls(len(k), pa.float32()), "gs": pa.array(gs, pa.float32()),
            "track": pa.array(track, pa.float32()),
            "vrate": pa.array(vr, pa.float32(), from_pandas=True), "callsign": pa.nulls(len(k), pa.string()),
            "squawk": pa.array(squawk), "on_ground": pa.array(ground), "emergency": pa.nulls(len(k), pa.int8()),
            "source": pa.array(["bench"] * 1, pa.string()).take(pa.array(np.zeros(len(k), np.int64))),
            "file_id": pa.nulls(len(k), pa.int64()), "receiver": pa.nulls(len(k), pa.string()),
            "quality": pa.array(np.full(len(k), int(Quality.SIMULATED), np.uint16))}
    return pa.table(cols, schema=POSITIONS), b[legs_per_ac - 1::legs_per_ac]


def setup(root: Path, rows: int, days: int, n_aircraft: int) -> None:
    from tailwatch.analysis.legs import legs_and_stops
    from tailwatch.store import open_store

    rng = np.random.default_rng(42)
    ap_lat, ap_lon = _airports(rng)
    st = open_store(root)
    t = time.perf_counter()
    total = 0
    where = rng.integers(0, len(ap_lat), n_aircraft)
    for d in range(days):
        tab, where = generate_day(d, n_aircraft, rows // days, rng, ap_lat, ap_lon, where)
        total += tab.num_rows
        st.add_positions(tab, f"bench-day-{d}")
        print(f"  day {d}: {tab.num_rows:,} rows ingested ({time.perf_counter() - t:.0f} s)", flush=True)
    airports = load_airports()
    legs, stops = [], []
    for batch in st.iter_aircraft_batches(rows=2_000_000):
        lg, sp = legs_and_stops(batch, airports)
        legs.append(lg)
        stops.append(sp)
    st.write_derived("legs", pa.concat_tables(legs))
    st.write_derived("stops", pa.concat_tables(stops))
    print(f"setup: {total:,} positions, {sum(x.num_rows for x in legs):,} legs, "
          f"{sum(x.num_rows for x in stops):,} stops in {time.perf_counter() - t:.0f} s", flush=True)


PEER_SQL = """
WITH p AS (
  SELECT icao24, time, lat, lon, squawk,
         lag(lat) OVER w AS plat, lag(lon) OVER w AS plon, lag(time) OVER w AS ptime
  FROM positions WHERE lat IS NOT NULL WINDOW w AS (PARTITION BY icao24 ORDER BY time)
), j AS (
  SELECT count(*) AS jumps FROM p
  WHERE plat IS NOT NULL AND 2 * 6371.0088 * asin(sqrt(
      pow(sin(radians(lat - plat) / 2), 2) + cos(radians(plat)) * cos(radians(lat)) *
      pow(sin(radians(lon - plon) / 2), 2)))
    > 1000 * 1.852 * greatest(epoch(time) - epoch(ptime), 0) / 3600 + 2.0
)
SELECT jumps FROM j
"""

PEER_SQUAWK_SQL = """
WITH s AS (
  SELECT icao24, time, lag(time) OVER (PARTITION BY icao24 ORDER BY time) AS ptime
  FROM positions WHERE trim(squawk) = '7700'
), e AS (
  SELECT icao24, time, sum(CASE WHEN ptime IS NULL OR epoch(time) - epoch(ptime) > 300 THEN 1 ELSE 0 END)
           OVER (PARTITION BY icao24 ORDER BY time) AS ep
  FROM s
)
SELECT count(*) AS episodes FROM (SELECT icao24, ep, count(*) AS n FROM e GROUP BY 1, 2) WHERE n >= 2
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=50_000_000)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--aircraft", type=int, default=6000)
    ap.add_argument("--store", type=Path, default=Path("/tmp/tw-bench-findings"))
    ap.add_argument("--keep", action="store_true", help="reuse / keep the generated store")
    args = ap.parse_args()
    from tailwatch.store import open_store

    if not (args.keep and (args.store / "derived").is_dir()):
        shutil.rmtree(args.store, ignore_errors=True)
        setup(args.store, args.rows, args.days, args.aircraft)
    st = open_store(args.store)
    n_pos = int(st.sql("SELECT count(*) FROM positions").column(0)[0].as_py())

    from tailwatch.analysis.findings.build import _POS_COLUMNS

    t = time.perf_counter()
    for _ in st.iter_aircraft_batches(rows=1_000_000, columns=_POS_COLUMNS):
        pass
    read_s = time.perf_counter() - t

    t = time.perf_counter()
    n = build_findings(st, None, None, None)
    ours = time.perf_counter() - t
    f = st.derived("findings")
    kinds = {k: int(v) for k, v in zip(*[c.to_pylist() for c in f.group_by("kind").aggregate(
        [("kind", "count")]).columns], strict=True)}
    spoof = f.filter(pc.equal(f.column("kind"), "spoofing"))
    our_jumps = sum(orjson.loads(e).get("reasons", {}).get("position jump", 0)
                    for e in spoof.column("evidence").to_pylist())
    inc = f.filter(pc.equal(f.column("kind"), "incident")).column("evidence").to_pylist()
    our_sq = sum(1 for e in inc if orjson.loads(e).get("type") == "squawk")
    rss_ours = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    t = time.perf_counter()
    peer_jumps = int(st.sql(PEER_SQL).column(0)[0].as_py())
    peer_sq = int(st.sql(PEER_SQUAWK_SQL).column(0)[0].as_py())
    peer = time.perf_counter() - t

    print(f"positions {n_pos:,}; findings {n:,} {kinds}")
    print(f"streaming the positions alone (iter_aircraft_batches, sorted by aircraft): {read_s:.1f} s")
    print(f"tailwatch build_findings (all kinds): {ours:.1f} s ({n_pos / ours / 1e6:.2f} M positions/s), "
          f"peak RSS {rss_ours:.0f} MiB (includes setup when the store was generated in this run)")
    print(f"DuckDB SQL peer (jumps + 7700 episodes only): {peer:.1f} s")
    print(f"ratio peer/tailwatch: {peer / ours:.2f}x (tailwatch also does incidents, silences, coverage, "
          f"rotation, foreign, basing, co-location)")
    print(f"agreement: position jumps tailwatch {our_jumps} / DuckDB {peer_jumps}; "
          f"7700 episodes tailwatch {our_sq} / DuckDB {peer_sq}")
    if not args.keep:
        shutil.rmtree(args.store, ignore_errors=True)


if __name__ == "__main__":
    main()
