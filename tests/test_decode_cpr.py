"""CPR positions: simulated trajectories against ground truth and rs1090; chunking invariance.

Frames are encoded here from first principles (DO-260B CPR encoding, NL from its
closed-form definition, CRC from pyModeS), independently of ``tailwatch.decode``.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from pyModeS.util import crc

from tailwatch.decode import Decoder
from tailwatch.errors import Rejects
from test_decode_oracle import acquisition_squitter, frames_batch, load_captures, unique_times
from test_decode_rs1090 import compare


def _nl(lat: float) -> int:
    if abs(lat) >= 87.0:
        return 1
    a = 1 - math.cos(math.pi / 30)
    return math.floor(2 * math.pi / math.acos(1 - a / math.cos(math.radians(lat)) ** 2))


def encode_cpr(lat: float, lon: float, odd: bool, surface: bool) -> tuple[int, int]:
    span = 90.0 if surface else 360.0
    i = int(odd)
    dlat = span / (60 - i)
    yz = math.floor(131072 * (lat % dlat) / dlat + 0.5)
    rlat = dlat * (yz / 131072 + math.floor(lat / dlat))
    dlon = span / max(_nl(rlat) - i, 1)
    xz = math.floor(131072 * (lon % dlon) / dlon + 0.5)
    return yz % 131072, xz % 131072


def position_frame(icao: int, lat: float, lon: float, odd: bool, surface: bool = False) -> str:
    yz, xz = encode_cpr(lat, lon, odd, surface)
    # surface: TC 7, movement 41 (17 kt), track valid, 20 * 360/128 deg; airborne: TC 11, 38000 ft
    me = (7 << 51) | (41 << 44) | (1 << 43) | (20 << 36) if surface else (11 << 51) | (0b110000111000 << 36)
    me |= (int(odd) << 34) | (yz << 17) | xz
    head = f"{(17 << 3 | (4 if surface else 5)):02X}{icao:06X}{me:014X}"
    return f"{head}{crc(head + '000000'):06X}".lower()


def flight(icao: int, lat: float, lon: float, heading: float, kt: float, t0: float, n: int, dt: float,
           surface: bool = False) -> list[tuple[float, str, float, float]]:
    """(time, frame, true lat, true lon) every ``dt`` seconds, parities alternating."""
    out = []
    v = kt * 1852 / 3600 / 111_195  # degrees of latitude per second
    for k in range(n):
        la = lat + v * k * dt * math.cos(math.radians(heading))
        lo = lon + v * k * dt * math.sin(math.radians(heading)) / math.cos(math.radians(la))
        out.append((t0 + k * dt, position_frame(icao, la, lo, k % 2 == 1, surface), la, lo))
    return out


def test_airborne_trajectories_match_truth_and_rs1090() -> None:
    # Niger's C-130 between Bamako and Gao, a second aircraft over the Alps crossing NL zones,
    # one near the pole and one crossing the antimeridian
    frames = flight(0x062F01, 12.53, -7.95, 60.0, 290, 0.0, 300, 0.5)
    frames += flight(0x3C6444, 45.4, 7.0, 0.0, 480, 0.2, 600, 0.5)
    frames += flight(0x406B90, 86.8, 20.0, 10.0, 450, 0.3, 200, 0.6)
    frames += flight(0xA00001, -16.0, 179.95, 90.0, 450, 0.4, 200, 0.6)
    # a 15 s gap (no pair: local decode) and a 200 s gap (nothing until a fresh pair)
    frames += flight(0x4840D6, 52.0, 4.0, 200.0, 300, 10.0, 20, 0.5)
    frames += flight(0x4840D6, 52.0, 4.0, 200.0, 300, 35.0, 1, 0.5)
    frames += flight(0x4840D6, 51.0, 4.0, 200.0, 300, 240.0, 6, 0.5)
    frames.sort(key=lambda f: f[0])
    times = [f[0] for f in frames]
    msgs = [f[1] for f in frames]
    problems, got, _, _ = compare(times, msgs)
    assert not problems, "\n".join(problems[:10])
    truth = {round(t * 1e6): (la, lo) for t, (_, _, la, lo) in zip(unique_times(times), frames, strict=True)}
    decoded = 0
    for row in got.to_pylist():
        if row["lat"] is None:
            continue
        decoded += 1
        la, lo = truth[round(row["time"].timestamp() * 1e6)]
        # within CPR resolution: about 5 m (17 bits over a 6-degree zone), checked as < 20 m
        dlon = (row["lon"] - lo + 180) % 360 - 180
        km = 111.195 * math.hypot(row["lat"] - la, dlon * math.cos(math.radians(la)))
        assert km < 0.02
    assert decoded > 0.95 * len(frames)


def test_surface_positions_against_reference_match_truth_and_rs1090() -> None:
    # taxiing at Schiphol (rs1090 only decodes surface positions near airports it knows)
    ref = (52.3086, 4.7639)
    frames = flight(0x484175, 52.30, 4.76, 135.0, 17, 0.0, 60, 1.0, surface=True)
    problems, got, _, _ = compare([f[0] for f in frames], [f[1] for f in frames], reference=ref)
    assert not problems, "\n".join(problems[:10])
    rows = [r for r in got.to_pylist() if r["lat"] is not None]
    assert len(rows) == 60
    for r, (_, _, la, lo) in zip(rows, frames, strict=True):
        assert abs(r["lat"] - la) < 1e-4 and abs(r["lon"] - lo) < 1e-4
        assert r["on_ground"] is True and r["gs"] == 17.0


def test_surface_without_reference_waits_for_a_position() -> None:
    frames = flight(0x484175, 52.30, 4.76, 135.0, 17, 0.0, 5, 1.0, surface=True)
    got = Decoder().decode(frames_batch([f[0] for f in frames], [f[1] for f in frames]), "x", Rejects())
    assert got.column("lat").null_count == got.num_rows == 5


def _stream(shared: Path) -> tuple[list[float], list[str]]:
    times, msgs = load_captures(shared)["adsb"]
    sim = flight(0x3C6444, 45.4, 7.0, 0.0, 480, times[0], 400, 0.7)
    sim += flight(0x484175, 52.30, 4.76, 135.0, 17, times[0], 100, 1.0, surface=True)
    both = sorted([*zip(times, msgs, strict=True), *((t, m) for t, m, _, _ in sim)], key=lambda x: x[0])
    both.insert(5, (times[0], acquisition_squitter(0x3C6444)))
    both.insert(500, (times[0] + 100, "28000a19a0b5e3"))  # DF5, address not confirmed
    return unique_times([t for t, _ in both]), [m for _, m in both]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=3000), max_size=12))
def test_chunked_decoding_equals_one_call(shared_data: Path, cuts: list[int]) -> None:
    times, msgs = _stream(shared_data)
    batch = frames_batch(times, msgs)
    whole_rej = Rejects()
    whole = Decoder(reference=(52.3086, 4.7639)).decode(batch, "f", whole_rej)
    dec = Decoder(reference=(52.3086, 4.7639))
    parts_rej = Rejects()
    bounds = [0, *sorted({c for c in cuts if c < batch.num_rows}), batch.num_rows]
    parts = [dec.decode(batch.slice(a, b - a), "f", parts_rej) for a, b in itertools.pairwise(bounds)]
    chunked = pa.Table.from_batches(parts, schema=whole.schema)
    assert chunked.equals(pa.Table.from_batches([whole]))
    assert parts_rej.counts == whole_rej.counts
    assert whole.column("lat").null_count < whole.num_rows


def test_spoofed_address_matches_rs1090_through_the_sequential_fallback() -> None:
    """Two places 100 km apart under one address: a long chain of refusals (> MAX_PASSES passes)."""
    import random

    import tailwatch.decode.cpr as cpr

    rng = random.Random(7)
    frames = [
        (1e9 + 0.5 * k, position_frame(0x3C6444, 45.0 + (0.9 if rng.random() < 0.5 else 0.0) + k * 1e-5, 7.0, k % 2 == 1))
        for k in range(600)
    ]
    times, msgs = [f[0] for f in frames], [f[1] for f in frames]
    res, _ = cpr.decode_batch(cpr.CprState(), *_cpr_columns(times, msgs), None)
    assert res.iterations == cpr.MAX_PASSES  # the fallback ran
    problems, got, _, _ = compare(times, msgs)
    assert not problems, "\n".join(problems[:10])
    assert 50 < got.num_rows - got.column("lat").null_count < 600
    # and in chunks (fallback state carried across calls)
    batch = frames_batch(times, msgs)
    whole = Decoder().decode(batch, "s", Rejects())
    dec = Decoder()
    parts = [dec.decode(batch.slice(a, 97), "s", Rejects()) for a in range(0, batch.num_rows, 97)]
    assert pa.Table.from_batches(parts).equals(pa.Table.from_batches([whole]))


def _cpr_columns(times: list[float], msgs: list[str]) -> tuple:  # type: ignore[type-arg]
    import numpy as np

    me = np.array([int(m[8:22], 16) for m in msgs], dtype=np.uint64)
    n = len(msgs)
    return (
        np.full(n, 0x3C6444, np.int64),
        np.array([round(t * 1e6) for t in times], np.int64),
        np.zeros(n, bool),
        ((me >> np.uint64(34)) & np.uint64(1)).astype(np.int64),
        ((me >> np.uint64(17)) & np.uint64(0x1FFFF)).astype(np.float64),
        (me & np.uint64(0x1FFFF)).astype(np.float64),
    )
