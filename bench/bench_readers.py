"""Readers benchmark: tailwatch.sources vs traffic 2.13, and the JSON parsers we could use.

Run: ``.venv/bin/python bench/bench_readers.py [--repeat 5]`` (needs ``bench/.venv-peers``
from ``bench/setup_peers.sh`` for the traffic side; it runs in a subprocess in the same run).
Prints min/median seconds per case and the ratios peer/tailwatch. Timing excludes imports.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from _timing import timed

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("TAILWATCH_SHARED_DATA", HERE.parent.parent / "shared" / "data")).resolve()
QUICKSTART = DATA / "traffic_samples/collections/quickstart.json.gz"
TRACE = DATA / "traffic_samples/readsb/trace_full_ac671b.json"
BEAST = DATA / "traffic_samples/dump1090/sample_dump1090.bin"
PEER_PY = HERE / ".venv-peers/bin/python"

PEER_SCRIPT = r"""
import json, sys, time
from traffic.core import Flight, Traffic
out = {"quickstart": [], "trace": []}
for _ in range(int(sys.argv[3])):
    t = time.perf_counter(); tr = Traffic.from_file(sys.argv[1]); out["quickstart"].append(time.perf_counter() - t)
    t = time.perf_counter(); f = Flight.from_readsb(sys.argv[2]); out["trace"].append(time.perf_counter() - t)
out["rows"] = [len(tr.data), len(f.data)]
print(json.dumps(out))
"""



def rows(fmt: str, path: Path) -> int:
    """Read a whole file with a tailwatch reader; return the row count."""
    from tailwatch.errors import Rejects
    from tailwatch.sources import get_reader

    return sum(c.batch.num_rows for c in get_reader(fmt).read(path, Rejects()))


def parsers(repeat: int) -> dict[str, list[float]]:
    """The candidate ways to parse quickstart's 65 MB JSON list (decompressed in memory first)."""
    import duckdb
    import orjson
    import polars as pl
    import pyarrow.json as pj
    from isal import igzip

    raw = igzip.decompress(QUICKSTART.read_bytes())
    nd = raw.strip()[1:-1].replace(b"},{", b"}\n{")
    cases: dict[str, Callable[[], object]] = {
        "isal decompress 5.6 MB gz": lambda: igzip.decompress(QUICKSTART.read_bytes()),
        "bytes.replace to NDJSON": lambda: raw.strip()[1:-1].replace(b"},{", b"}\n{"),
        "orjson.loads (list of dicts)": lambda: orjson.loads(raw),
        "pyarrow.json NDJSON": lambda: pj.read_json(io.BytesIO(nd), read_options=pj.ReadOptions(block_size=1 << 24)),
        "polars read_ndjson": lambda: pl.read_ndjson(io.BytesIO(nd), infer_schema_length=10_000).to_arrow(),
        "polars read_json (list)": lambda: pl.read_json(io.BytesIO(raw)),
        "duckdb read_json (gz file)": lambda: duckdb.sql(
            f"select * from read_json('{QUICKSTART}', format='array')").to_arrow_table(),
        "end to end: isal+replace+polars": lambda: pl.read_ndjson(io.BytesIO(
            igzip.decompress(QUICKSTART.read_bytes()).strip()[1:-1].replace(b"},{", b"}\n{")),
            infer_schema_length=10_000).to_arrow(),
    }
    return {k: timed(v, repeat) for k, v in cases.items()}


def beast_cases(repeat: int) -> tuple[dict[str, list[float]], int]:
    """Beast de-framing: the vectorised reader vs a plain sequential Python de-framer."""
    sys.path.insert(0, str(HERE.parent / "tests"))
    from test_sources_beast import reference_frames

    data = BEAST.read_bytes() * 400
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "big.bin"
        p.write_bytes(data)
        n = rows("beast", p)
        return {"tailwatch beast reader": timed(lambda: rows("beast", p), repeat),
                "sequential Python de-framer": timed(lambda: reference_frames(data), repeat)}, n


def fmt(v: list[float]) -> str:
    return f"min {min(v):7.3f} s  median {statistics.median(v):7.3f} s"


def main() -> None:
    """Run every case and print a report (and a JSON line for docs/benchmarks.md)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    r = args.repeat
    rows("traffic", QUICKSTART)  # warm imports and the page cache
    tw = {"quickstart": timed(lambda: rows("traffic", QUICKSTART), r),
          "trace": timed(lambda: rows("readsb-trace", TRACE), r)}
    n = [rows("traffic", QUICKSTART), rows("readsb-trace", TRACE)]
    peer = None
    if PEER_PY.exists():
        res = subprocess.run([str(PEER_PY), "-c", PEER_SCRIPT, str(QUICKSTART), str(TRACE), str(r)],
                             capture_output=True, text=True, check=True)
        peer = json.loads(res.stdout.strip().splitlines()[-1])
    print(f"quickstart.json.gz -> POSITIONS ({n[0]:,} rows)")
    print(f"  tailwatch traffic reader : {fmt(tw['quickstart'])}")
    if peer:
        print(f"  traffic Traffic.from_file: {fmt(peer['quickstart'])}  ({peer['rows'][0]:,} rows)")
        print(f"  ratio traffic/tailwatch (min): {min(peer['quickstart']) / min(tw['quickstart']):.1f}x")
    print(f"trace_full_ac671b.json -> POSITIONS ({n[1]:,} rows)")
    print(f"  tailwatch readsb-trace   : {fmt(tw['trace'])}")
    if peer:
        print(f"  traffic Flight.from_readsb: {fmt(peer['trace'])}  ({peer['rows'][1]:,} rows)")
        print(f"  ratio traffic/tailwatch (min): {min(peer['trace']) / min(tw['trace']):.1f}x")
    print("Parsing quickstart's JSON (65 MB):")
    for k, v in parsers(r).items():
        print(f"  {k:32s}: {fmt(v)}")
    bc, nb = beast_cases(r)
    print(f"Beast de-framing ({nb:,} frames, the real sample x400):")
    for k, v in bc.items():
        print(f"  {k:32s}: {fmt(v)}  ({nb / min(v):,.0f} frames/s)")
    ratio = min(bc["sequential Python de-framer"]) / min(bc["tailwatch beast reader"])
    print(f"  ratio sequential/tailwatch (min): {ratio:.1f}x")


if __name__ == "__main__":
    main()
