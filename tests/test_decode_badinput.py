"""Bad input: corrupted frames never become a wrong aircraft, odd bytes never crash the decoder."""

from __future__ import annotations

import random
from pathlib import Path

import rs1090
from hypothesis import given, settings
from hypothesis import strategies as st

from tailwatch.decode import Decoder
from tailwatch.errors import Rejects
from tailwatch.schema import POSITIONS
from test_decode_oracle import acquisition_squitter, frames_batch, load_captures


def flip(msg: str, rng: random.Random, nbits: int) -> str:
    value = int(msg, 16)
    width = len(msg) * 4
    for b in rng.sample(range(width), nbits):
        value ^= 1 << b
    return f"{value:0{len(msg)}x}"


def test_bit_flipped_real_frames_never_become_wrong_aircraft(shared_data: Path) -> None:
    caps = load_captures(shared_data)
    rng = random.Random(1090)
    times: list[float] = []
    msgs: list[str] = []
    flipped_at: set[int] = set()
    for name in ("adsb", "df20", "df21", "beast"):
        ts, ms = caps[name]
        for t, m in zip(ts, ms, strict=True):
            times.append(t)
            msgs.append(m)
            if rng.random() < 0.3:
                flipped_at.add(len(msgs))
                times.append(t)
                msgs.append(flip(m, rng, rng.choice([1, 2, 3])))
    clean = [m for i, m in enumerate(msgs) if i not in flipped_at]
    # addresses of the clean capture: DF11/17/18 AA and the addresses the captures list
    truth = {int(m[2:8], 16) for m in clean if int(m[:2], 16) >> 3 in (11, 17, 18)}
    for name in ("df20", "df21"):
        truth |= {int(m[2:8], 16) for m in caps[name][1] if int(m[:2], 16) >> 3 == 11}
    rejects = Rejects()
    order = sorted(range(len(msgs)), key=lambda i: times[i])
    batch = frames_batch([times[i] for i in order], [msgs[i] for i in order])
    out = Decoder().decode(batch, "flipped", rejects)
    got = set(out.column("icao24").to_pylist())
    assert got <= truth, f"wrong aircraft: {sorted(hex(a) for a in got - truth)[:10]}"
    assert rejects.counts.get("bad crc", 0) > 0.5 * sum(
        1 for i in flipped_at if int(msgs[i][:2], 16) >> 3 in (17, 18)
    )
    assert rejects.counts.get("unverified address", 0) > 0
    assert all(s.location.startswith("frame at offset ") for s in rejects.samples)


def test_rs1090_alone_would_invent_aircraft_from_flipped_commb(shared_data: Path) -> None:
    """Evidence for docs/decoding.md: rs1090 decodes a flipped DF20 into another address."""
    _, msgs = load_captures(shared_data)["df20"]
    m = next(x for x in msgs if int(x[:2], 16) >> 3 == 20)
    bad = flip(m, random.Random(3), 1)
    assert rs1090.decode(bad)["icao24"] != rs1090.decode(m)["icao24"]
    rejects = Rejects()
    out = Decoder().decode(frames_batch([1.0, 2.0], [m, bad]), "x", rejects)
    # the clean DF20 is not confirmed either (no squitter heard): both are refused
    assert out.num_rows == 0 and rejects.counts == {"unverified address": 2}


def test_lengths_and_padding() -> None:
    squitter = acquisition_squitter(0x4840D6)
    df5 = "28000a19a0b5e3"  # DF5 whose parity yields 13DE90 (rs1090) -- unconfirmed
    rows = [
        squitter,
        squitter + "00000000000000",  # short frame stored padded to 28 hex: accepted
        squitter + "00000000000001",  # padded with garbage: wrong length for DF11
        "8d4840d6202cc371c32ce0576098"[:20],  # truncated DF17
        "8d4840d6202cc371c32ce0576098",  # DF17 identification, KLM1023
        "48" + "00" * 6,  # DF9: no such format
        df5,
    ]
    rejects = Rejects()
    out = Decoder().decode(frames_batch([1.0 + i for i in range(len(rows))], rows), "f.avr", rejects)
    assert rejects.counts == {"bad length": 2, "unknown downlink format": 1, "unverified address": 1}
    assert out.column("icao24").to_pylist() == [0x4840D6] * 3
    assert out.column("callsign").to_pylist() == [None, None, "KLM1023"]
    assert out.column("on_ground").to_pylist() == [False, False, False]  # CA=5 (0x5d, 0x8d): airborne
    bad = [s for s in rejects.samples if s.reason == "bad length"]
    assert [s.location for s in bad] == ["frame at offset 2", "frame at offset 3"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(min_size=0, max_size=20), min_size=1, max_size=50))
def test_random_bytes_never_crash(blobs: list[bytes]) -> None:
    batch = frames_batch([float(i) for i in range(len(blobs))], [b.hex() for b in blobs])
    rejects = Rejects()
    out = Decoder().decode(batch, "junk", rejects)
    assert out.schema == POSITIONS
    # random bytes pass CRC with probability 2^-24 (DF17/18) or 2^-17 (DF11): essentially never
    assert out.num_rows + rejects.total <= len(blobs)
