"""Legs and stops of a multi-million-row Parquet data set: DuckDB + kernel versus Spark local.

    .venv/bin/python bench/bench_spark.py [--rows 3000000] [--work DIR] [--master local[2]]

1. Generates (once per size) a synthetic POSITIONS data set in the store's layout
   (``day=YYYY-MM-DD/part-0.parquet``, each day in time order with aircraft interleaved, as a
   receiver writes them): aircraft flying between real airports (airportsdata, Europe),
   6 minutes on the ground at each end, climb/descent at 2,000 ft/min, FL350 at 450 kt,
   one row every 5 s.  The number of flights is the ground truth of the number of legs.
2. Runs each variant in its own process while sampling the RSS of its whole process tree
   (the JVM and the Python workers count; ``time -v`` on the driver would not see them):
   * ``duckdb``: ``ORDER BY icao24, time`` → ``to_arrow_reader`` → whole-aircraft tables →
     ``legs_and_stops`` → Parquet (the local path, as ``tailwatch legs`` runs it);
   * ``spark-map``: :func:`tailwatch.analysis.spark.write_legs_spark` (repartition +
     sortWithinPartitions + ``mapInArrow``);
   * ``spark-group``: same with ``groupBy(icao24).applyInArrow`` (one call per aircraft).
3. Checks that every variant wrote the same legs and stops row for row, and prints rows/s,
   peak RSS and ratios.  "job" excludes the Spark session start-up; "wall" includes it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

DAY0 = 1_693_526_400  # 2023-09-01T00:00:00Z
KT_KMH = 1.852
STEP_S = 5.0
GROUND_S = 360.0
CRUISE_FT, CRUISE_KT, CLIMB_FPM = 35_000.0, 450.0, 2_000.0
COLUMNS = ["time", "icao24", "lat", "lon", "alt_baro", "gs", "track", "vrate", "callsign", "on_ground"]


# --------------------------------------------------------------------------------------- data
def _airports() -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    from tailwatch.analysis.airports import load_airports

    a = load_airports()
    keep = pc.and_(pc.is_valid(a["iata"]), pc.and_(pc.greater(a["lat"], 36.0), pc.less(a["lat"], 60.0)))
    keep = pc.and_(keep, pc.and_(pc.greater(a["lon"], -9.0), pc.less(a["lon"], 25.0)))
    a = a.filter(keep)
    return (a["lat"].to_numpy(), a["lon"].to_numpy(),
            np.nan_to_num(a["elevation_ft"].to_numpy(zero_copy_only=False)))


def generate(rows: int, seed: int = 42) -> tuple[pa.Table, int]:
    """About ``rows`` positions and the number of flights flown (vectorised over flights and rows)."""
    from tailwatch.analysis.geo import haversine_km

    rng = np.random.default_rng(seed)
    alat, alon, aelev = _airports()
    per_aircraft = 6
    n_ac = max(1, rows // (per_aircraft * 800))
    nf = n_ac * per_aircraft
    # airport chains: each flight goes 250-1200 km from where the previous one landed
    org = np.empty(nf, np.int64)
    dst = np.empty(nf, np.int64)
    cur = rng.integers(0, len(alat), n_ac)
    for k in range(per_aircraft):
        cand = rng.integers(0, len(alat), (n_ac, 64))
        d = haversine_km(alat[cur][:, None], alon[cur][:, None], alat[cand], alon[cand])
        ok = (d > 250) & (d < 1200)
        pick = cand[np.arange(n_ac), np.argmax(ok, axis=1)]
        pick = np.where(ok.any(axis=1), pick, cand[:, 0])
        org[k::per_aircraft], dst[k::per_aircraft] = cur, pick
        cur = pick
    dist = haversine_km(alat[org], alon[org], alat[dst], alon[dst])
    air_s = dist / (CRUISE_KT * KT_KMH) * 3600.0 + 2 * CRUISE_FT / CLIMB_FPM * 60.0 * 0.5
    total_s = air_s + 2 * GROUND_S
    n_rows = np.ceil(total_s / STEP_S).astype(np.int64)
    # start times: first flight in the first 6 h, then 30-90 min of silence between flights
    gap = rng.uniform(1800, 5400, nf)
    start = np.empty(nf)
    for k in range(per_aircraft):
        sel = slice(k, None, per_aircraft)
        start[sel] = rng.uniform(0, 6 * 3600, n_ac) if k == 0 else start[k - 1::per_aircraft] + total_s[k - 1::per_aircraft] + gap[sel]
    f = np.repeat(np.arange(nf), n_rows)
    first = np.cumsum(n_rows) - n_rows
    k_in = np.arange(len(f)) - np.repeat(first, n_rows)
    tt = k_in * STEP_S + rng.uniform(-1.0, 1.0, len(f))
    tt[k_in == 0] = 0.0
    t_air = tt - GROUND_S
    airborne = (t_air > 0) & (t_air < air_s[f])
    frac = np.clip(t_air / air_s[f], 0.0, 1.0)
    lat = alat[org[f]] + frac * (alat[dst[f]] - alat[org[f]])
    lon = alon[org[f]] + frac * (alon[dst[f]] - alon[org[f]])
    climb = CLIMB_FPM * t_air / 60.0
    descend = CLIMB_FPM * (air_s[f] - t_air) / 60.0
    field = np.where(frac < 0.5, aelev[org[f]], aelev[dst[f]])
    alt = np.minimum(np.minimum(climb, descend), CRUISE_FT) + field
    gs = np.where(airborne, 160.0 + 290.0 * np.clip((alt - field) / 10_000.0, 0.0, 1.0), 8.0)
    vr = np.where(climb < np.minimum(descend, CRUISE_FT), CLIMB_FPM, np.where(descend < CRUISE_FT, -CLIMB_FPM, 0.0))
    trk = (np.degrees(np.arctan2((alon[dst] - alon[org]) * np.cos(np.radians(alat[org])), alat[dst] - alat[org]))
           % 360.0)[f]
    icao = (0x300000 + np.arange(n_ac) * 7)[f // per_aircraft].astype(np.int32)
    callsign = np.array([f"TWB{i:04d}" for i in range(n_ac)], dtype=object)[f // per_aircraft]
    t_us = ((DAY0 + start[f] + tt) * 1e6).astype(np.int64)
    order = np.argsort(t_us, kind="stable")  # a receiver's file: time order, aircraft interleaved
    table = pa.table({
        "time": pa.array(t_us[order], pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        "icao24": pa.array(icao[order], pa.int32()),
        "lat": lat[order], "lon": lon[order],
        "alt_baro": pa.array(np.where(airborne, alt, np.nan)[order], pa.float32(), from_pandas=True),
        "gs": pa.array(gs[order], pa.float32()),
        "track": pa.array(np.where(airborne, trk, np.nan)[order], pa.float32(), from_pandas=True),
        "vrate": pa.array(np.where(airborne, vr, np.nan)[order], pa.float32(), from_pandas=True),
        "callsign": pa.array(callsign[order], pa.string()),
        "on_ground": pa.array(~airborne[order]),
    })
    return table, nf


def write_dataset(rows: int, root: Path) -> tuple[int, int]:
    """Write the data set under ``root`` once (reused when the same size exists); (rows, flights)."""
    meta = root / "meta.json"
    if meta.exists():
        m = json.loads(meta.read_text())
        if m["target"] == rows:
            return int(m["rows"]), int(m["flights"])
    table, flights = generate(rows)
    day = pc.strftime(table["time"], format="%Y-%m-%d")
    for d in pc.unique(day).to_pylist():
        out = root / "positions" / f"day={d}"
        out.mkdir(parents=True, exist_ok=True)
        pq.write_table(table.filter(pc.equal(day, d)), out / "part-0.parquet", compression="zstd")
    meta.write_text(json.dumps({"target": rows, "rows": table.num_rows, "flights": flights}))
    return table.num_rows, flights


# ----------------------------------------------------------------------------------- variants
def run_duckdb(data: Path, out: Path) -> None:
    import duckdb

    from tailwatch.analysis.airports import load_airports
    from tailwatch.analysis.legs import LegParams, legs_and_stops
    from tailwatch.analysis.spark_arrow import group_aligned
    from tailwatch.schema import LEGS, STOPS

    airports = load_airports()
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    rel = con.sql(f"SELECT {', '.join(COLUMNS)} FROM read_parquet('{data}/**/*.parquet', hive_partitioning = true) "
                  "ORDER BY icao24, time")
    with pq.ParquetWriter(out / "legs.parquet", LEGS) as wl, pq.ParquetWriter(out / "stops.parquet", STOPS) as ws:
        for table in group_aligned(rel.to_arrow_reader(1_000_000), 1_000_000):
            legs, stops = legs_and_stops(table, airports, LegParams())
            wl.write_table(legs)
            ws.write_table(stops)


def run_spark(data: Path, out: Path, method: str, master: str, driver_memory: str) -> float:
    from tailwatch.analysis.spark import spark_session, write_legs_spark

    spark = spark_session(master, app_name="tailwatch-bench", driver_memory=driver_memory,
                          conf={"spark.sql.shuffle.partitions": "16", "spark.local.dir": str(out.parent / "spark-tmp")})
    t0 = time.perf_counter()
    write_legs_spark(str(data), out, spark=spark, method=method)  # type: ignore[arg-type]
    job = time.perf_counter() - t0
    spark.stop()
    return job


# ------------------------------------------------------------------------------ measurement
def _tree_rss(pid: int) -> int:
    """Summed RSS (bytes) of ``pid`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, stack, page = 0, [pid], os.sysconf("SC_PAGE_SIZE")
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            pass
        stack.extend(children.get(p, []))
    return total


def measure(cmd: list[str]) -> tuple[float, int, dict[str, Any]]:
    """Run ``cmd``; wall seconds, peak process-tree RSS and the JSON it printed last."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            stop.wait(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    stdout, _ = proc.communicate()
    wall = time.perf_counter() - t0
    stop.set()
    th.join()
    if proc.returncode:
        raise SystemExit(f"{cmd} failed with {proc.returncode}")
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    return wall, peak, json.loads(lines[-1]) if lines else {}


def _read(out: Path, name: str) -> pa.Table:
    from tailwatch.analysis.spark_arrow import sort_table
    from tailwatch.schema import LEGS, STOPS

    schema = LEGS if name == "legs" else STOPS
    path = out / f"{name}.parquet" if (out / f"{name}.parquet").exists() else out / name
    table = pq.read_table(path).select(schema.names).cast(schema)
    return sort_table(table, ["icao24", "leg_id" if name == "legs" else "stop_id"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=3_000_000)
    ap.add_argument("--work", type=Path, default=Path.home() / ".cache" / "tailwatch-bench" / "spark",
                    help="data and outputs (kept between runs; /tmp is cleaned by other jobs on shared machines)")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--driver-memory", default="2g")
    ap.add_argument("--variants", default="duckdb,spark-map,spark-group")
    ap.add_argument("--variant", help=argparse.SUPPRESS)
    args = ap.parse_args()
    data = args.work / "data" / "positions"
    if args.variant:  # child process
        out = args.work / "out" / args.variant
        t0 = time.perf_counter()
        if args.variant == "duckdb":
            run_duckdb(data, out)
            job = time.perf_counter() - t0
        else:
            job = run_spark(data, out, args.variant.split("-")[1], args.master, args.driver_memory)
        print(json.dumps({"job": job}))
        return

    t0 = time.perf_counter()
    n, flights = write_dataset(args.rows, args.work / "data")
    size = sum(p.stat().st_size for p in data.rglob("*.parquet"))
    print(f"data: {n:,} rows, {flights:,} flights, {size / 2**20:.0f} MiB Parquet ({time.perf_counter() - t0:.1f} s)")
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    results: dict[str, tuple[float, float, int]] = {}
    for v in args.variants.split(","):
        cmd = [sys.executable, __file__, "--variant", v, "--rows", str(args.rows), "--work", str(args.work),
               "--master", args.master, "--driver-memory", args.driver_memory]
        wall, peak, info = measure(cmd)
        results[v] = (wall, float(info.get("job", wall)), peak)
        print(f"{v:12s} wall {wall:7.1f} s  job {results[v][1]:7.1f} s  {n / results[v][1] / 1e6:5.2f} M rows/s (job)"
              f"  peak RSS {peak / 2**30:5.2f} GiB  (load {os.getloadavg()[0]:.1f})")
    ref = next(iter(results))
    ref_legs, ref_stops = _read(args.work / "out" / ref, "legs"), _read(args.work / "out" / ref, "stops")
    print(f"{ref}: {ref_legs.num_rows:,} legs (ground truth {flights:,} flights), {ref_stops.num_rows:,} stops")
    for v in results:
        same = _read(args.work / "out" / v, "legs").equals(ref_legs) and _read(args.work / "out" / v, "stops").equals(ref_stops)
        ratio = results[v][0] / results[ref][0]
        print(f"{v:12s} {'IDENTICAL to' if same else 'DIFFERS from'} {ref}; wall {ratio:.1f}x, "
              f"job {results[v][1] / results[ref][1]:.1f}x {ref}")


if __name__ == "__main__":
    main()
