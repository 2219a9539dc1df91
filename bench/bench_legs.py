"""Legs benchmark: tailwatch vs traffic 2.13 side by side in one run, ratios printed.

    bash bench/setup_peers.sh                         # once: bench/.venv-peers with traffic 2.13
    .venv/bin/python bench/bench_legs.py quickstart   # real sample, both tools, 3 runs each
    .venv/bin/python bench/bench_legs.py large --rows 50000000 --dir /tmp/twbench

``quickstart``: ``../shared/data/traffic_samples/collections/quickstart.json.gz``, end to end
(load the .json.gz, split into flights/legs, airports at both ends) in fresh processes, so
peak RSS (``ru_maxrss``) is per tool. The tailwatch process is set up as the ``tailwatch``
command sets up its own (``tailwatch.cli.process.tune_allocator``: glibc keeps column-sized
temporaries in its heap); a second tailwatch run per round, without that set-up, gives the
numbers of a plain Python process using the API, printed as extra rows.  traffic runs its idiomatic pipeline:
``Traffic.from_file``, ``iterate(by="10 min")``, ``infer_airport("takeoff")`` and
``infer_airport("landing")`` per flight, with its airport table made offline from
airportsdata (see make_traffic_reference.py).  Stages are timed inside each process.

``large``: writes a store of ``--rows`` generated positions day by day (gen_positions.py,
never all in memory), then times ``build_legs`` (streaming by aircraft batches) in a fresh
process: positions per second and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
QUICKSTART = (ROOT / ".." / "shared" / "data" / "traffic_samples" / "collections" / "quickstart.json.gz").resolve()
PEER_PY = HERE / ".venv-peers" / "bin" / "python"
MY_PY = Path(sys.executable)


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker_tailwatch(path: str, tuned: bool) -> dict[str, float]:
    """tailwatch end to end in this (fresh) process (set up as the ``tailwatch`` command does if ``tuned``)."""
    if tuned:
        from tailwatch.cli.process import tune_allocator

        tune_allocator()
    t0 = time.perf_counter()
    import pyarrow as pa

    from tailwatch.analysis.airports import load_airports
    from tailwatch.analysis.legs import legs_and_stops
    from tailwatch.errors import Rejects
    from tailwatch.sources import get_reader

    t1 = time.perf_counter()
    pos = pa.Table.from_batches([c.batch for c in get_reader("traffic").read(Path(path), Rejects())])
    t2 = time.perf_counter()
    airports = load_airports()
    legs, stops = legs_and_stops(pos, airports)
    t3 = time.perf_counter()
    kernel = []
    for _ in range(5):
        k0 = time.perf_counter()
        legs_and_stops(pos, airports)
        kernel.append(time.perf_counter() - k0)
    return {"import_s": t1 - t0, "load_s": t2 - t1, "legs_s": t3 - t2, "pipeline_s": t3 - t1,
            "kernel_median_s": statistics.median(kernel), "peak_rss_mib": _rss_mib(),
            "rows": pos.num_rows, "legs": legs.num_rows, "stops": stops.num_rows}


PEER_CODE = r'''
import json, os, resource, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
work = Path(tempfile.mkdtemp(prefix="traffic-bench-"))
os.environ["TRAFFIC_CACHE_PATH"] = str(work / "cache")
os.environ["TRAFFIC_CACHE_EXPIRATION"] = "36500 days"
os.environ["XDG_CONFIG_HOME"] = str(work / "config")
os.environ["MPLCONFIGDIR"] = str(work / "mpl")
from make_traffic_reference import _prepare_cache
_prepare_cache(work / "cache")
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
t0 = time.perf_counter()
from traffic.core import Traffic
t1 = time.perf_counter()
t = Traffic.from_file(sys.argv[1])
t2 = time.perf_counter()
flights = list(t.iterate(by="10 min"))
t3 = time.perf_counter()
n_air = 0
for f in flights:
    a = f.infer_airport("takeoff")
    b = f.infer_airport("landing")
    n_air += (a is not None) + (b is not None)
t4 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "split_s": t3 - t2, "infer_s": t4 - t3,
                  "pipeline_s": t4 - t1, "kernel_s": t4 - t2,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
                  "rss_before_import_mib": rss0, "flights": len(flights), "airports": n_air}))
'''


def _run(cmd: list[str]) -> dict[str, float]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    wall = time.perf_counter() - t0
    res: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    res["process_wall_s"] = wall
    return res


def bench_quickstart(runs: int) -> None:
    """Both tools on the quickstart sample, ``runs`` times each, interleaved; medians and ratios."""
    if not PEER_PY.exists():
        sys.exit("bench/.venv-peers missing: run bash bench/setup_peers.sh")
    peer_script = HERE / ".peer_legs_worker.py"
    peer_script.write_text(PEER_CODE)
    tw: list[dict[str, float]] = []
    plain: list[dict[str, float]] = []
    tr: list[dict[str, float]] = []
    _run([str(MY_PY), __file__, "worker", str(QUICKSTART)])  # warm the page cache
    for i in range(runs):
        tw.append(_run([str(MY_PY), __file__, "worker", str(QUICKSTART)]))
        plain.append(_run([str(MY_PY), __file__, "worker", str(QUICKSTART), "--plain"]))
        tr.append(_run([str(PEER_PY), str(peer_script), str(QUICKSTART), str(HERE)]))
        print(f"run {i + 1}: tailwatch {tw[-1]['pipeline_s']:.2f} s, traffic {tr[-1]['pipeline_s']:.2f} s", flush=True)

    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    print(f"\nquickstart: {int(tw[0]['rows']):,} positions; tailwatch {int(tw[0]['legs'])} legs / "
          f"{int(tw[0]['stops'])} stops; traffic {int(tr[0]['flights'])} flights")
    def best(rows: list[dict[str, float]], key: str) -> float:
        return min(r[key] for r in rows)

    print(f"{'stage (median of ' + str(runs) + ')':40s} {'tailwatch':>12s} {'traffic':>12s} {'ratio':>8s}"
          f"   {'min: tailwatch':>14s} {'traffic':>9s} {'ratio':>7s}")
    keys = [
        ("import", "import_s", "import_s"),
        ("load .json.gz", "load_s", "load_s"),
        ("split + airports (kernel, loaded data)", "kernel_median_s", "kernel_s"),
        ("end to end: load + split + airports", "pipeline_s", "pipeline_s"),
        ("whole process (python start to exit)", "process_wall_s", "process_wall_s"),
    ]
    for name, ka, kb in keys:
        a, b, a1, b1 = med(tw, ka), med(tr, kb), best(tw, ka), best(tr, kb)
        print(f"{name:40s} {a:11.3f}s {b:11.3f}s {b / a:7.1f}x   {a1:13.3f}s {b1:8.3f}s {b1 / a1:6.1f}x")
    print(f"{'peak RSS (MiB)':40s} {med(tw, 'peak_rss_mib'):12.0f} {med(tr, 'peak_rss_mib'):12.0f} "
          f"{med(tr, 'peak_rss_mib') / med(tw, 'peak_rss_mib'):7.1f}x")
    print("plain Python process (API, no tune_allocator):")
    for name, ka, kb in keys[2:4]:
        a, b, a1, b1 = med(plain, ka), med(tr, kb), best(plain, ka), best(tr, kb)
        print(f"  {name:38s} {a:11.3f}s {b:11.3f}s {b / a:7.1f}x   {a1:13.3f}s {b1:8.3f}s {b1 / a1:6.1f}x")
    print(f"  {'peak RSS (MiB)':38s} {med(plain, 'peak_rss_mib'):12.0f}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores)")
    peer_script.unlink(missing_ok=True)


def worker_large(store_dir: str, memory_limit: str | None) -> dict[str, float]:
    """``build_legs`` over a whole generated store in this (fresh) process (every aircraft-day dirty)."""
    from tailwatch.analysis.build import build_legs
    from tailwatch.store import open_store

    st = open_store(store_dir, memory_limit=memory_limit)
    # mark every aircraft-day dirty (again) so the build redoes the whole store, whatever
    # earlier runs built (bench only: the store has no public "re-dirty")
    from tailwatch.store import catalog

    pairs = st.sql("SELECT DISTINCT icao24, CAST(day AS DATE) AS day FROM positions")
    with catalog.writer_lock(st.root), catalog.connect(st.root) as con:
        con.register("pairs", pairs)
        con.execute("INSERT OR IGNORE INTO dirty SELECT icao24, day FROM pairs")
    n_rows = int(st.sql("SELECT count(*) AS n FROM positions")["n"][0].as_py())
    t0 = time.perf_counter()
    n_dirty = st.dirty().num_rows
    n_ac = build_legs(st)
    dt = time.perf_counter() - t0
    n_legs = st.derived("legs").num_rows
    return {"rows": n_rows, "aircraft": n_ac, "dirty_aircraft_days": n_dirty, "legs": n_legs, "build_s": dt, "positions_per_s": n_rows / dt,
            "peak_rss_mib": _rss_mib()}


def bench_large(rows: int, directory: str, keep: bool, memory_limit: str | None) -> None:
    """Generate ``rows`` positions into a store (day by day), then time build_legs in a fresh process."""
    sys.path.insert(0, str(HERE))
    from gen_positions import generate_day
    from tailwatch.store import open_store

    per_day = 6_200_000  # 3,357 aircraft x 2 legs, less what runs past midnight
    days = max(1, -(-rows // per_day))
    n_aircraft = 3357
    st = open_store(directory)
    have = set(st.files()["path"].to_pylist()) if st.files().num_rows else set()
    t0 = time.perf_counter()
    for d in range(days):
        if any(str(h).endswith(f"bench-day-{d}") for h in have):
            continue  # days already in the store are kept (generation is deterministic)
        table, _ = generate_day(d, n_aircraft, seed=1)
        st.add_positions(table, f"bench-day-{d}")
        del table
        print(f"day {d + 1}/{days} written ({time.perf_counter() - t0:.0f} s)", flush=True)
    res = _run([str(MY_PY), __file__, "worker-large", directory, memory_limit or ""])
    print(f"\nlarge store: {int(res['rows']):,} positions, {int(res['aircraft']):,} aircraft, "
          f"{int(res['dirty_aircraft_days']):,} aircraft-days rebuilt, {int(res['legs']):,} legs")
    print(f"build_legs: {res['build_s']:.1f} s = {res['positions_per_s']:,.0f} positions/s, "
          f"peak RSS {res['peak_rss_mib']:.0f} MiB (DuckDB memory_limit {memory_limit})")
    if not keep:
        import shutil

        shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    """Command line: ``quickstart``, ``large``, or the internal workers."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("quickstart")
    q.add_argument("--runs", type=int, default=3)
    lg = sub.add_parser("large")
    lg.add_argument("--rows", type=int, default=50_000_000)
    lg.add_argument("--dir", default="/tmp/tailwatch-bench-large")
    lg.add_argument("--keep", action="store_true")
    lg.add_argument("--memory-limit", default="1GB", help="DuckDB memory limit of the store (default 1GB)")
    w = sub.add_parser("worker")
    w.add_argument("path")
    w.add_argument("--plain", action="store_true", help="no tune_allocator (a plain Python process)")
    wl = sub.add_parser("worker-large")
    wl.add_argument("store")
    wl.add_argument("memory_limit")
    a = ap.parse_args()
    if a.cmd == "quickstart":
        bench_quickstart(a.runs)
    elif a.cmd == "large":
        bench_large(a.rows, a.dir, a.keep, a.memory_limit or None)
    elif a.cmd == "worker":
        print(json.dumps(worker_tailwatch(a.path, tuned=not a.plain)))
    else:
        print(json.dumps(worker_large(a.store, a.memory_limit or None)))


if __name__ == "__main__":
    main()
