"""Capture files written by the simulator: framing checked by spec-level parsers written here,
times recoverable from the mtime / truth.json, and the whole path through ``tailwatch ingest``."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import rs1090
from typer.testing import CliRunner

from tailwatch.sim import load_scenario, load_truth, simulate, write_capture
from tailwatch.sim.simulate import SimResult

SCN = Path(__file__).parent / "scenarios"


@pytest.fixture(scope="module")
def res() -> SimResult:
    return simulate(load_scenario(SCN / "touch-and-go.yaml"))


def _frames(res: SimResult, rx: str) -> pa.Table:
    return res.frames.filter(pc.equal(res.frames["receiver"], rx))


def parse_beast(data: bytes) -> list[tuple[int, int, bytes]]:
    """Beast framing from the protocol description: 0x1a, type '2'/'3', 6-byte counter, signal, message;
    0x1a inside a frame is sent twice."""
    out = []
    i = 0
    while i < len(data):
        assert data[i] == 0x1A, f"byte {i}: expected frame start"
        typ = data[i + 1]
        n = {0x32: 7, 0x33: 14}[typ]
        body = bytearray()
        j = i + 2
        while len(body) < 6 + 1 + n:
            b = data[j]
            if b == 0x1A:
                assert data[j + 1] == 0x1A, f"byte {j}: lone 0x1a inside a frame"
                j += 1
            body.append(b)
            j += 1
        out.append((int.from_bytes(body[:6], "big"), body[6], bytes(body[7:])))
        i = j
    return out


def test_beast_framing_and_time(res: SimResult, tmp_path: Path) -> None:
    files = write_capture(res, tmp_path, "beast")
    want = _frames(res, "rx-gao")
    path = tmp_path / files["rx-gao"]["path"]
    got = parse_beast(path.read_bytes())
    assert [m for _, _, m in got] == want["msg"].to_pylist()
    assert [s for _, s, _ in got] == want["signal"].to_pylist()
    assert any(0x1A in m for _, _, m in got)  # escaping was exercised
    # the last frame is at the file's mtime; the counter runs at 12 MHz
    t_us = want["time"].cast(pa.int64()).to_pylist()
    mtime_us = os.stat(path).st_mtime_ns // 1000
    assert mtime_us == t_us[-1]
    assert [mtime_us - (got[-1][0] - c) // 12 for c, _, _ in got] == t_us
    # and truth.json gives the first frame's time for --start-time
    truth = json.loads((tmp_path / "truth.json").read_text())
    first = dt.datetime.fromisoformat(truth["files"]["rx-gao"]["first_frame"].replace("Z", "+00:00"))
    assert round(first.timestamp() * 1e6) == t_us[0]
    assert truth["simulated"] is True and "SIMULATED" in truth["scenario"]


def test_avr_lines(res: SimResult, tmp_path: Path) -> None:
    want = _frames(res, "rx-bamako")
    t_us = want["time"].cast(pa.int64()).to_pylist()
    write_capture(res, tmp_path / "a", "avr")
    lines = (tmp_path / "a" / "rx-bamako.avr").read_text().splitlines()
    parsed = [re.fullmatch(r"@([0-9A-F]{12})([0-9A-F]{14}|[0-9A-F]{28});", x) for x in lines]
    assert all(parsed)
    assert [bytes.fromhex(p.group(2)) for p in parsed if p] == want["msg"].to_pylist()
    ticks = [int(p.group(1), 16) for p in parsed if p]
    assert [t_us[0] + c // 12 for c in ticks] == t_us
    write_capture(res, tmp_path / "b", "avr-plain")
    plain = (tmp_path / "b" / "rx-bamako.avr").read_text().splitlines()
    assert plain == [f"*{m.hex().upper()};" for m in want["msg"].to_pylist()]


def test_sbs_lines(res: SimResult, tmp_path: Path) -> None:
    write_capture(res, tmp_path, "sbs")
    lines = (tmp_path / "rx-gao.sbs").read_bytes().decode().split("\r\n")[:-1]
    pos = res.positions.filter(pc.equal(res.positions["receiver"], "rx-gao"))
    assert len(lines) == pos.num_rows
    fields = [x.split(",") for x in lines]
    assert all(len(f) == 22 and f[0] == "MSG" and f[4] == "062F01" for f in fields)
    kinds = {f[1] for f in fields}
    assert {"1", "2", "3", "4", "5", "6"} <= kinds
    ident = [f for f in fields if f[1] == "1"]
    assert all(f[10] == "5UMBH" for f in ident)
    air = [f for f in fields if f[1] == "3"]
    rows = [r for r in pos.sort_by("time").to_pylist() if r["lat"] is not None and not r["on_ground"]]
    assert len(air) == len(rows)
    for f, r in zip(air, rows, strict=True):
        assert float(f[14]) == pytest.approx(r["lat"], abs=1e-6) and int(f[11]) == r["alt_baro"]
        stamp = dt.datetime.strptime(f"{f[6]} {f[7]}", "%Y/%m/%d %H:%M:%S.%f").replace(tzinfo=dt.UTC)
        assert abs((stamp - r["time"]).total_seconds()) < 0.001


def test_truth_json_roundtrip(res: SimResult, tmp_path: Path) -> None:
    write_capture(res, tmp_path, "beast")
    back = load_truth(tmp_path / "truth.json")
    assert back.legs.equals(res.truth.legs.cast(back.legs.schema))
    assert back.stops.equals(res.truth.stops)
    assert back.events.equals(res.truth.events)
    assert back.identity_records() == res.truth.identity_records()


def test_cli_simulate(tmp_path: Path) -> None:
    from tailwatch.cli.main import _register, app

    _register()
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["simulate", str(SCN / "track-lost.yaml"), "--out", str(out), "--format", "avr"])
    assert r.exit_code == 0, r.output
    assert "SIMULATED" in r.output and "tailwatch ingest" in r.output
    truth = json.loads((out / "truth.json").read_text())
    assert truth["legs"][0]["landing"] is None and truth["legs"][0]["track_lost"] is True
    for meta in truth["files"].values():
        assert (out / meta["path"]).stat().st_size == meta["bytes"] > 0
    listed = CliRunner().invoke(app, ["simulate", "--list"])
    assert listed.exit_code == 0 and "sahel-2023" in listed.output
    bad = CliRunner().invoke(app, ["simulate", "nope-not-a-scenario", "--out", str(out)])
    assert bad.exit_code == 2 and "no such scenario" in bad.output


def test_ingest_roundtrip_through_tailwatch(res: SimResult, tmp_path: Path) -> None:
    """The Beast files go through tailwatch's own reader + decoder + store and come back as SimResult.positions."""
    from tailwatch.store import open_store

    write_capture(res, tmp_path / "cap", "beast")
    store = open_store(tmp_path / "store")
    store.ingest([tmp_path / "cap" / "rx-gao.beast"], receiver="rx-gao")
    cols = ["time", "icao24", "lat", "lon", "alt_baro", "gs", "track", "vrate", "callsign", "squawk", "on_ground"]
    got = pl.from_arrow(store.positions().select(cols))
    want = pl.from_arrow(res.positions.filter(pc.equal(res.positions["receiver"], "rx-gao")).select(cols))
    assert isinstance(got, pl.DataFrame) and isinstance(want, pl.DataFrame)
    # every frame but the few the decoder cannot yet verify (surveillance replies before the first
    # CRC-checked frame of the aircraft) comes back
    assert want.height - 10 <= got.height <= want.height
    j = want.join(got, on=["time", "icao24"], how="inner", suffix="_st")
    assert j.height == got.height
    for c in ["alt_baro", "gs", "track", "vrate", "callsign", "squawk", "on_ground"]:
        assert j.filter(pl.col(c).ne_missing(pl.col(c + "_st")) & pl.col(c + "_st").is_not_null()).height == 0, c
    both = j.filter(pl.col("lat_st").is_not_null())
    assert both.height >= 0.98 * j.filter(pl.col("lat").is_not_null()).height
    assert (both["lat"] - both["lat_st"]).abs().max() < 1e-6  # type: ignore[operator]
    # and an independent decoder agrees with the stored callsign
    first = _frames(res, "rx-gao").filter(pc.equal(_frames(res, "rx-gao")["kind"], 0))["msg"][0].as_py()
    assert rs1090.decode(first.hex())["callsign"] == j.filter(pl.col("callsign_st").is_not_null())["callsign_st"][0]
