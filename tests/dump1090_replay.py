"""Produce real SBS, AVR and Beast captures with Debian's dump1090-mutability.

It replays ``iq/modes1_2400k.bin`` (real RTL-SDR samples) the way
``shared/data/PROVENANCE.md`` ("IQ replay") describes, serving Beast, SBS and
AVR on loopback; TCP clients save each stream to a file. Ports are picked free
so parallel test runs do not collide. Without the binary the fixture skips,
unless ``TAILWATCH_REQUIRE_DATA=1`` (CI installs it), where it fails.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import require_tool

BINARY = "dump1090-mutability"


@dataclass(frozen=True)
class Capture:
    """Files written by one replay."""

    sbs: Path
    avr: Path
    beast: Path
    started: float  # wall-clock time the IQ samples started flowing


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def connect_retry(port: int, deadline: float) -> socket.socket:
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=1)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _drain(sock: socket.socket, out: Path) -> None:
    sock.settimeout(20)
    with open(out, "wb") as f:
        while True:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                break
            if not data:
                break
            f.write(data)
    sock.close()


def replay(iq: Path, out_dir: Path) -> Capture:
    """Run the replay once and return the captured files."""
    ri, ro, sbs, bi, bo = free_ports(5)
    cmd = [BINARY, "--ifile", "-", "--net", "--net-bind-address", "127.0.0.1",
           "--net-ri-port", str(ri), "--net-ro-port", str(ro), "--net-sbs-port", str(sbs),
           "--net-bi-port", str(bi), "--net-bo-port", str(bo), "--quiet"]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        files = {"sbs": out_dir / "replay.sbs", "avr": out_dir / "replay.avr", "beast": out_dir / "replay.bin"}
        socks = {"sbs": connect_retry(sbs, deadline), "avr": connect_retry(ro, deadline), "beast": connect_retry(bo, deadline)}
        threads = [threading.Thread(target=_drain, args=(socks[k], files[k])) for k in files]
        for t in threads:
            t.start()
        time.sleep(0.5)  # let the server register the clients before samples flow
        started = time.time()
        assert proc.stdin is not None
        proc.stdin.write(iq.read_bytes())
        proc.stdin.flush()
        time.sleep(1.0)  # the process exits when stdin closes; give it time to flush
        proc.stdin.close()
        proc.wait(timeout=30)
        for t in threads:
            t.join(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return Capture(files["sbs"], files["avr"], files["beast"], started)


@pytest.fixture(scope="session")
def dump1090_capture(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Capture:
    """SBS, AVR and Beast captures of one real replay (see module docstring)."""
    require_tool(shutil.which(BINARY) is not None, f"{BINARY} is not installed (apt-get install dump1090-mutability)")
    return replay(shared_data / "iq" / "modes1_2400k.bin", tmp_path_factory.mktemp("dump1090"))
