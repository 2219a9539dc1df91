"""rs1090 behind tailwatch's validation: same answers on clean frames, no panic, no lie."""

from __future__ import annotations

from pathlib import Path

import rs1090

from tailwatch.decode import Decoder
from tailwatch.decode.rs1090_wrap import decode_rs1090
from tailwatch.errors import Rejects
from test_decode_oracle import frames_batch, load_captures


def test_clean_capture_same_as_rs1090_direct(shared_data: Path) -> None:
    times, msgs = load_captures(shared_data)["adsb"]
    direct = rs1090.decode(msgs, times)
    wrapped = decode_rs1090(Decoder(), frames_batch(times, msgs), "adsb", Rejects())
    assert wrapped == direct


def test_junk_and_bad_crc_never_reach_rs1090() -> None:
    good = "8d4840d6202cc371c32ce0576098"
    bad_df18 = "8d4840d6202cc371c32ce0576099".replace("8d", "95", 1)  # DF18, broken CRC
    # rs1090 alone decodes the broken DF18 as if it were fine
    assert rs1090.decode(bad_df18)["df"] == "18"
    blobs = [bytes.fromhex(good), bytes.fromhex(bad_df18), b"\x8d\x48", b"", b"\xff" * 14]
    batch = frames_batch([float(i) for i in range(len(blobs))], [b.hex() for b in blobs])
    rejects = Rejects()
    out = decode_rs1090(Decoder(), batch, "junk.bin", rejects)
    assert [m["callsign"] for m in out] == ["KLM1023"]
    assert rejects.counts == {"bad crc": 1, "bad length": 2, "unsupported downlink format": 1}
