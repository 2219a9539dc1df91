"""Benchmark: join identity onto 10 million icao24 values drawn from real addresses.

Runs tailwatch's ``Identity.annotate`` and, in the same run on the same input, two
peers doing the same left join of the same identity table: polars (``DataFrame.join``)
and DuckDB (SQL ``LEFT JOIN`` over Arrow). Prints times and ratios.

Usage: ``.venv/bin/python bench/bench_identity.py [--db DIR] [--rows N]``
(default DIR: ``$TAILWATCH_DB`` if it holds databases, else ../shared/data installed
into a temporary folder with ``update_from_folder``).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

from tailwatch import paths
from tailwatch.identity import load_identity
from tailwatch.identity.update import update_from_folder


def _best(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--rows", type=int, default=10_000_000)
    args = ap.parse_args()
    tmp = None
    db = args.db or paths.default_db_dir()
    if not (db / "manifest.json").exists():
        tmp = tempfile.TemporaryDirectory()
        db = Path(tmp.name) / "db"
        shared = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
        update_from_folder(shared.resolve(), db)
    t0 = time.perf_counter()
    ident = load_identity(db, watchlist=None)
    known = ident.aircraft()
    t_load = time.perf_counter() - t0

    rng = np.random.default_rng(42)
    real = known["icao24"].to_numpy()
    # 90 % addresses known to a database, 10 % random addresses (mostly unknown)
    n_known = int(args.rows * 0.9)
    sample = np.concatenate([rng.choice(real, n_known), rng.integers(0, 1 << 24, args.rows - n_known)])
    rng.shuffle(sample)
    icao = pa.array(sample.astype(np.int32), pa.int32())

    t0 = time.perf_counter()
    ident.annotate(icao[:1])  # builds the 2^24 lookup table once
    t_index = time.perf_counter() - t0
    t_tw = _best(lambda: ident.annotate(icao))
    c0 = time.process_time()
    ident.annotate(icao)
    cpu_tw = time.process_time() - c0
    out = ident.annotate(icao)
    assert out.num_rows == args.rows
    t_tw_plain = _best(lambda: pa.table([c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c
                                         for c in ident.annotate(icao).columns],
                                        names=out.column_names), repeat=1)

    right = known.drop_columns(["reg_compact"])
    left_pl = pl.from_arrow(pa.table({"icao24": icao}))
    right_pl = pl.from_arrow(right)
    assert isinstance(left_pl, pl.DataFrame) and isinstance(right_pl, pl.DataFrame)
    t_pl = _best(lambda: left_pl.join(right_pl, on="icao24", how="left"))

    con = duckdb.connect()
    con.register("positions", pa.table({"icao24": icao}))
    con.register("ident", right)
    t_dd = _best(lambda: con.sql("SELECT * FROM positions LEFT JOIN ident USING (icao24)").to_arrow_table(), repeat=1)

    print(f"identity load (cached Parquet): {t_load:.3f} s, {known.num_rows} aircraft")
    print(f"lookup table build (once):      {t_index:.3f} s")
    print(f"rows: {args.rows:,}; load average at end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"tailwatch annotate (dictionary columns): {t_tw:.3f} s wall, {cpu_tw:.3f} s CPU")
    print(f"tailwatch annotate + decode to plain strings: {t_tw_plain:.3f} s")
    print(f"polars left join (peer):  {t_pl:.3f} s   ratio peer/tailwatch = {t_pl / t_tw:.1f}x")
    print(f"duckdb left join (peer):  {t_dd:.3f} s   ratio peer/tailwatch = {t_dd / t_tw:.1f}x")
    print("note: the peers join known aircraft only (no country/N-number for unknown addresses);"
          " tailwatch also answers the other 2^24 addresses.")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
