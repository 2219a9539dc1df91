"""Simulator benchmark: scenario → frames → Beast files, and the encoder against peers.

Run: ``.venv/bin/python bench/bench_sim.py [--repeat 3]``. Prints min/median seconds per
case and ratios. There is no installed Mode S *encoder* to race, so the peers are
the same frames' CRC computed by pyModeS (``pyModeS.util.crc``, per message) and the
same frames *decoded* by rs1090 and pyModeS — the work a consumer of the simulator's
output does anyway. Timing excludes imports.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from _timing import timed


def show(name: str, secs: list[float], n: int | None = None) -> float:
    """Print min/median (and rate) of a case; return the median."""
    med = statistics.median(secs)
    rate = f"  {n / med:,.0f}/s" if n else ""
    print(f"{name:48s} min {min(secs):8.3f}s  median {med:8.3f}s{rate}")
    return med


def main() -> None:
    import numpy as np
    import pyarrow.compute as pc
    import pyModeS as pms
    import pyModeS.util as pmu
    import rs1090

    from tailwatch.sim import encode as enc
    from tailwatch.sim import load_scenario, simulate, write_capture

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()

    scn = load_scenario("sahel-2023")
    res = simulate(scn)
    n_frames = res.frames.num_rows
    print(f"sahel-2023: {n_frames:,} received frames, {res.positions.num_rows:,} position rows")
    with tempfile.TemporaryDirectory() as tmp:
        t_sim = show("simulate(sahel-2023)", timed(lambda: simulate(scn), a.repeat), n_frames)
        t_write = show("write_capture(beast, 4 receivers)",
                       timed(lambda: write_capture(res, Path(tmp), "beast"), a.repeat), n_frames)
        print(f"{'simulate + write Beast':48s} median {t_sim + t_write:8.3f}s")

    # encoder: 200,000 airborne positions, vectorised
    rng = np.random.default_rng(0)
    n = 200_000
    lat, lon = rng.uniform(-60, 60, n), rng.uniform(-180, 180, n)
    alt = rng.integers(0, 1600, n) * 25
    odd = np.arange(n) % 2
    t_enc = show("encode.airborne_position x200k (tailwatch)",
                 timed(lambda: enc.airborne_position(0x062F01, lat, lon, alt, odd), a.repeat), n)
    frames = enc.airborne_position(0x062F01, lat, lon, alt, odd)
    t_crc = show("encode.crc24 x200k (tailwatch)", timed(lambda: enc.crc24(frames), a.repeat), n)
    hexes = enc.hexes(frames)
    k = 20_000
    t_pms_crc = show("pyModeS.util.crc x20k (peer)", timed(lambda: [pmu.crc(h) for h in hexes[:k]], a.repeat), k)
    print(f"  CRC speed ratio tailwatch/pyModeS per frame: {(t_pms_crc / k) / (t_crc / n):.1f}x")

    # decoding the simulated receptions: what a consumer of the files pays
    gao = res.frames.filter(pc.equal(res.frames["receiver"], "gao-city"))
    msgs = [m.hex() for m in gao["msg"].to_pylist()]
    ts = (gao["time"].cast("int64").to_numpy() / 1e6).tolist()
    m = len(msgs)
    t_rs = show(f"rs1090.decode x{m:,} (peer, batch)",
                timed(lambda: rs1090.decode(msgs, ts, reference=(16.27, -0.04)), a.repeat), m)
    t_pd = show(f"pyModeS.decode x{m:,} (peer, batch)",
                timed(lambda: pms.decode(msgs, timestamps=ts), max(1, a.repeat - 2)), m)
    per_sim = (t_sim + t_write) / n_frames
    print(f"  simulate+write per frame vs rs1090 decode per frame: {(t_rs / m) / per_sim:.2f}x")
    print(f"  simulate+write per frame vs pyModeS decode per frame: {(t_pd / m) / per_sim:.2f}x")
    print(f"  encode per frame vs rs1090 decode per frame: {(t_rs / m) / (t_enc / n):.1f}x")


if __name__ == "__main__":
    main()
