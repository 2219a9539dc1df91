"""Ingest speed: tailwatch's store vs traffic 2.13's readers, and the decode wrapper vs rs1090.

Run:  bash bench/setup_peers.sh   (once: traffic 2.13 + pandas<3 in bench/.venv-peers)
      .venv/bin/python bench/bench_ingest.py [--repeat 5]

Cases (each side timed in the same run, warm page cache, medians of --repeat runs):

1. quickstart.json.gz (284,505 rows) into a fresh store (read + dedup + sort + Parquet + catalog)
   vs ``traffic.core.Traffic.from_file`` (read into pandas only), peer in bench/.venv-peers.
2. readsb trace_full_ac671b.json (2,500 points) into a fresh store vs ``Flight.from_readsb``.
3. Raw frames (pyModeS' real DF17/DF20/DF21 samples, repeated to about 240k frames with shifted
   times): ``tailwatch.decode.Decoder.decode`` on a FRAMES batch vs ``rs1090.decode`` on the
   same hex strings; and a whole hex-CSV ingest vs Python csv + rs1090.decode.
4. Cold processes: ``tailwatch ingest`` CLI wall time vs a peer process importing traffic and loading.

Import times are excluded from 1-3 on both sides (each side's interpreter is already warm).
Ours and the peer's runs alternate; the best of --repeat runs is reported (shared machine).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from _timing import timed_result as timed

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = Path(os.environ.get("TAILWATCH_SHARED_DATA", ROOT.parent / "shared" / "data")).resolve()
PEERS = HERE / ".venv-peers" / "bin" / "python"
QUICKSTART = DATA / "traffic_samples/collections/quickstart.json.gz"
TRACE = DATA / "traffic_samples/readsb/trace_full_ac671b.json"
PYMODES = [DATA / "pymodes/sample_data_adsb.csv", DATA / "pymodes/sample_data_commb_df20.csv",
           DATA / "pymodes/sample_data_commb_df21.csv"]

PEER_CODE = r"""
import json, sys, time
from traffic.core import Flight, Traffic
for line in sys.stdin:
    kind, path = line.split()
    t0 = time.perf_counter()
    obj = Traffic.from_file(path) if kind == "traffic" else Flight.from_readsb(path)
    print(json.dumps({"time": time.perf_counter() - t0, "rows": len(obj.data)}), flush=True)
"""


class Peer:
    """traffic 2.13 in bench/.venv-peers, kept running so its runs interleave with ours."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        if not PEERS.exists():
            print(f"  (peer skipped: {PEERS} missing; run bash bench/setup_peers.sh)")
            return
        env = {**os.environ, "MPLCONFIGDIR": tempfile.mkdtemp(), "TRAFFIC_CACHE_PATH": tempfile.mkdtemp()}
        self.proc = subprocess.Popen([str(PEERS), "-c", PEER_CODE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env=env)

    def run(self, kind: str, path: Path) -> tuple[float, int] | None:
        if self.proc is None or self.proc.stdin is None or self.proc.stdout is None:
            return None
        self.proc.stdin.write(f"{kind} {path}\n")
        self.proc.stdin.flush()
        doc = json.loads(self.proc.stdout.readline())
        return float(doc["time"]), int(doc["rows"])

    def close(self) -> None:
        if self.proc is not None and self.proc.stdin is not None:
            self.proc.stdin.close()
            self.proc.wait()


def interleaved(ours: Callable[[], object], peer: Peer, kind: str, path: Path,
                repeat: int) -> tuple[list[float], object, list[float], object]:
    """Alternate our run and the peer's run ``repeat`` times (after one warm-up each)."""
    ours()
    peer.run(kind, path)
    to: list[float] = []
    tp: list[float] = []
    ro: object = None
    rp: object = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        ro = ours()
        to.append(time.perf_counter() - t0)
        got = peer.run(kind, path)
        if got:
            tp.append(got[0])
            rp = got[1]
    return to, ro, tp, rp


def store_ingest(path: Path, fresh: bool = False, runs: int = 12) -> Callable[[], object]:
    """Ingest ``path`` into an empty store; with ``fresh`` the store's creation is timed too.

    Without ``fresh``, ``runs`` empty stores are created now, before any timing.
    """
    from tailwatch.store import open_store

    ready = [] if fresh else [str(open_store(tempfile.mkdtemp(prefix="tw-bench-")).root) for _ in range(runs)]

    def run() -> object:
        d = tempfile.mkdtemp(prefix="tw-bench-") if fresh else ready.pop()
        rows = open_store(d).ingest([path]).rows_stored
        shutil.rmtree(d, ignore_errors=True)
        return rows

    return run


def store_only(path: Path) -> Callable[[], object]:
    """The store's own work on rows already read: dedup, sort, Parquet parts, catalog."""
    from tailwatch.errors import Rejects
    from tailwatch.sources import get_reader
    from tailwatch.store import open_store

    table = pa.concat_tables(pa.Table.from_batches([c.batch]) for c in get_reader("traffic").read(path, Rejects()))

    def run() -> object:
        d = tempfile.mkdtemp(prefix="tw-bench-")
        try:
            return open_store(d).add_positions(table, "bench").rows_stored
        finally:
            shutil.rmtree(d, ignore_errors=True)

    return run


def reader_only(path: Path, fmt: str) -> Callable[[], object]:
    from tailwatch.errors import Rejects
    from tailwatch.sources import get_reader

    def run() -> object:
        return sum(c.batch.num_rows for c in get_reader(fmt).read(path, Rejects()))

    return run


def med(xs: list[float]) -> float:
    """Best of the runs: the machine is shared, so the minimum is the least noisy estimate."""
    return min(xs)


def line(name: str, ours: list[float], theirs: list[float] | None, rows: object, peer_rows: object = None) -> None:
    o = med(ours)
    if theirs:
        t = med(theirs)
        print(f"  {name:<44} ours {o:7.3f} s   peer {t:7.3f} s   peer/ours = {t / o:5.2f}x"
              f"   rows {rows} / {peer_rows}")
    else:
        print(f"  {name:<44} ours {o:7.3f} s   rows {rows}")


def frames_case(repeat: int, copies: int) -> None:
    import rs1090

    from tailwatch.decode import Decoder
    from tailwatch.errors import Rejects
    from tailwatch.schema import FRAMES

    ts: list[float] = []
    msgs: list[str] = []
    for p in PYMODES:
        with open(p, encoding="utf-8-sig") as fh:
            for row in csv.reader(fh):
                hexcol = 1 if len(row[1]) in (14, 28) else 2
                ts.append(float(row[0]))
                msgs.append(row[hexcol].strip().lower())
    base_t = np.array(ts)
    order = np.argsort(base_t, kind="stable")
    base_t, base_m = base_t[order], [msgs[i] for i in order]
    span = float(base_t.max() - base_t.min()) + 60.0
    all_t = np.concatenate([base_t + k * span for k in range(copies)])
    all_m = base_m * copies
    n = len(all_m)
    batch = pa.record_batch(
        [pa.array((all_t * 1e6).astype(np.int64)).cast(FRAMES.field("time").type),
         pa.array([bytes.fromhex(m) for m in all_m], pa.binary()), pa.nulls(n, pa.float32()),
         pa.array(np.arange(1, n + 1, dtype=np.int64))], schema=FRAMES)

    def ours() -> object:
        return Decoder(source="hexcsv").decode(batch, "bench", Rejects()).num_rows

    ts_list = all_t.tolist()

    def theirs() -> object:
        return len(rs1090.decode(all_m, ts_list))

    ours()
    to, ro = timed(ours, repeat)
    tt, rt = timed(theirs, min(repeat, 2))  # rs1090 takes ~10-20 s per run here: two are enough
    print(f"  frames: {n:,}")
    line("decode: Decoder.decode vs rs1090.decode", to, tt, ro, rt)
    overhead = med(to) / med(tt) - 1
    print(f"  wrapper overhead vs rs1090 = {overhead * 100:+.0f}% (negative: faster than rs1090)")

    tmp = Path(tempfile.mkdtemp(prefix="tw-bench-csv-"))
    csv_path = tmp / "frames.csv"
    with open(csv_path, "w") as fh:
        fh.writelines(f"{t:.6f},{m},{'x'},0\n" for t, m in zip(ts_list, all_m, strict=True))

    def theirs_file() -> object:
        with open(csv_path) as fh:
            rows = list(csv.reader(fh))
        return len(rs1090.decode([r[1] for r in rows], [float(r[0]) for r in rows]))

    tf, rf = timed(store_ingest(csv_path, runs=repeat), repeat)
    tpf, rpf = timed(theirs_file, min(repeat, 2))
    line("hex CSV file: store ingest vs csv+rs1090", tf, tpf, rf, rpf)
    shutil.rmtree(tmp, ignore_errors=True)


def cold(repeat: int) -> None:
    tw = [str(ROOT / ".venv/bin/python"), "-m", "tailwatch.cli.main", "ingest", "--quiet", "--summary", "json"]
    times = []
    for _ in range(repeat):
        d = tempfile.mkdtemp(prefix="tw-bench-cold-")
        t0 = time.perf_counter()
        subprocess.run([*tw, "--store", d, str(QUICKSTART)], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
        shutil.rmtree(d, ignore_errors=True)
    peer_times = []
    if PEERS.exists():
        code = "import sys\nfrom traffic.core import Traffic\nprint(len(Traffic.from_file(sys.argv[1]).data))"
        env = {**os.environ, "MPLCONFIGDIR": tempfile.mkdtemp(), "TRAFFIC_CACHE_PATH": tempfile.mkdtemp()}
        for _ in range(repeat):
            t0 = time.perf_counter()
            subprocess.run([str(PEERS), "-c", code, str(QUICKSTART)], check=True, capture_output=True, env=env)
            peer_times.append(time.perf_counter() - t0)
    line("cold process: tailwatch ingest CLI vs traffic", times, peer_times or None, "284505", "284505")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--copies", type=int, default=20, help="copies of the pyModeS frames (case 3)")
    args = ap.parse_args()
    r = args.repeat
    print(f"bench_ingest  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  python {sys.version.split()[0]}"
          f"  cpus {os.cpu_count()}  repeat {r} (best of)")

    peer = Peer()
    print("1. quickstart.json.gz")
    to, ro, tp, rp = interleaved(store_ingest(QUICKSTART, runs=r + 1), peer, "traffic", QUICKSTART, r)
    tr, rr = timed(reader_only(QUICKSTART, "traffic"), r)
    ts, rs = timed(store_only(QUICKSTART), r)
    line("store ingest vs Traffic.from_file", to, tp, ro, rp)
    tf, rf = timed(store_ingest(QUICKSTART, fresh=True), r)
    line("  same into a new store (creates catalog)", tf, tp, rf, rp)
    line("  tailwatch traffic reader alone", tr, tp, rr, rp)
    line("  store work alone (add_positions)", ts, tp, rs, rp)

    print("2. readsb trace_full_ac671b.json")
    to, ro, tp, rp = interleaved(store_ingest(TRACE, runs=r + 1), peer, "readsb", TRACE, r)
    line("store ingest vs Flight.from_readsb", to, tp, ro, rp)
    tf, rf = timed(store_ingest(TRACE, fresh=True), r)
    line("  same into a new store (creates catalog)", tf, tp, rf, rp)

    print("2b. a folder of 50 small traces (the trace cut into 50 files of 50 points)")
    folder = Path(tempfile.mkdtemp(prefix="tw-bench-traces-"))
    doc = json.loads(TRACE.read_text())
    for i in range(50):
        part = {**doc, "trace": doc["trace"][i * 50:(i + 1) * 50]}
        (folder / f"trace_full_{i:02d}.json").write_text(json.dumps(part))
    files = sorted(folder.iterdir())

    def peer_folder() -> tuple[float, int] | None:
        total, rows = 0.0, 0
        for f in files:
            got = peer.run("readsb", f)
            if got is None:
                return None
            total, rows = total + got[0], rows + got[1]
        return total, rows

    ours_folder = store_ingest(folder, runs=r + 1)
    ours_folder()
    to, tp = [], []
    for _ in range(r):
        t0 = time.perf_counter()
        ro = ours_folder()
        to.append(time.perf_counter() - t0)
        got = peer_folder()
        if got:
            tp.append(got[0])
            rp: object = got[1]
    line("store ingest of the folder vs 50x from_readsb", to, tp or None, ro, rp if tp else None)
    shutil.rmtree(folder, ignore_errors=True)
    peer.close()

    print("3. raw frames")
    frames_case(r, args.copies)

    print("4. cold processes (interpreter start + imports + work)")
    cold(max(1, r // 2))


if __name__ == "__main__":
    main()
