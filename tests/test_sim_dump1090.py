"""An independent C decoder reads the simulator's Beast output: Debian's dump1090-mutability.

The simulated Beast stream is sent to dump1090's Beast input port (network-only
mode, loopback, free ports); its SBS output must carry the scenario's callsign,
squawk, altitudes, speeds and CPR-decoded positions. Without the binary the
test skips, unless ``TAILWATCH_REQUIRE_DATA=1`` (CI installs it), where it fails.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from conftest import require_tool
from dump1090_replay import connect_retry, free_ports
from tailwatch.sim import load_scenario, simulate
from tailwatch.sim.writers import beast_bytes

BINARY = "dump1090-mutability"
SCN = Path(__file__).parent / "scenarios"


def dump1090_sbs(beast: bytes) -> list[list[str]]:
    """Feed a Beast stream to dump1090-mutability and return its SBS output, split into fields."""
    require_tool(shutil.which(BINARY) is not None, f"{BINARY} is not installed (apt-get install dump1090-mutability)")
    ri, ro, sbs, bi, bo = free_ports(5)
    proc = subprocess.Popen(
        [BINARY, "--net-only", "--net-bind-address", "127.0.0.1", "--net-ri-port", str(ri), "--net-ro-port", str(ro),
         "--net-sbs-port", str(sbs), "--net-bi-port", str(bi), "--net-bo-port", str(bo), "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = bytearray()
    try:
        reader = connect_retry(sbs, time.monotonic() + 10)

        def drain() -> None:
            reader.settimeout(3)
            while True:
                try:
                    data = reader.recv(65536)
                except TimeoutError:
                    break
                if not data:
                    break
                out.extend(data)

        thread = threading.Thread(target=drain)
        thread.start()
        time.sleep(1.0)  # let the server register the SBS client (its main loop accepts it)
        with socket.create_connection(("127.0.0.1", bi), timeout=5) as writer:
            # in small pieces: dump1090 drops an output client whose socket buffer fills up
            for i in range(0, len(beast), 2048):
                writer.sendall(beast[i : i + 2048])
                time.sleep(0.02)
            time.sleep(0.5)
        thread.join(timeout=30)
        reader.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return [line.split(",") for line in out.decode("ascii").splitlines()]


def test_dump1090_decodes_simulated_beast() -> None:
    res = simulate(load_scenario(SCN / "touch-and-go.yaml"))
    fr = res.frames.filter(pc.equal(res.frames["receiver"], "rx-gao"))
    beast = beast_bytes(fr["time"].cast(pa.int64()).to_numpy(), fr["msg"].combine_chunks(), fr["signal"].to_numpy())
    lines = dump1090_sbs(beast)
    assert all(f[0] == "MSG" and f[4] == "062F01" for f in lines)
    # nearly every frame becomes one SBS line (DF11 -> MSG 8 included)
    assert len(lines) >= 0.95 * fr.num_rows
    mine = res.positions.filter(pc.equal(res.positions["receiver"], "rx-gao")).to_pylist()

    ident = [f for f in lines if f[1] == "1"]
    assert ident and {f[10].strip() for f in ident} == {"5UMBH"}
    squawks = [f[17] for f in lines if f[1] == "6"]
    assert squawks and set(squawks) == {"4512"}
    alts = {int(f[11]) for f in lines if f[1] == "5"}
    assert alts and alts <= {int(r["alt_baro"]) for r in mine if r["alt_baro"] is not None}

    # airborne positions: each one dump1090 decodes is one of ours, to its 5 printed decimals
    air = np.array([(float(f[14]), float(f[15]), int(f[11])) for f in lines if f[1] == "3" and f[14]])
    ours = np.array([(r["lat"], r["lon"], r["alt_baro"]) for r in mine if r["lat"] is not None and not r["on_ground"]])
    assert len(air) >= 0.95 * len(ours)
    # (the circuit flies over the same ground twice, so position and altitude must match together)
    d = np.abs(air[:, None, :2] - ours[None, :, :2]).max(axis=2)
    same = (d <= 1e-5) & (air[:, None, 2] == ours[None, :, 2])
    assert same.any(axis=1).all()

    # velocities: dump1090 prints whole knots and degrees
    vel = [(int(f[12]), int(f[13])) for f in lines if f[1] == "4"]
    ours_v = {(round(r["gs"]), round(r["track"]) % 360) for r in mine if r["vrate"] is not None}
    assert vel and all(min(abs(g - a) + abs((t - b + 180) % 360 - 180) for a, b in ours_v) <= 2 for g, t in vel)
