"""Property tests: random well-formed frames (any payload bits, valid parity) decode as rs1090 does.

Payload bits are drawn at random; the CRC is computed with pyModeS (an independent
implementation), so every frame is CRC-valid and each field can be compared with
rs1090's reading (pyModeS's where rs1090 has none, see test_decode_oracle).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pyModeS.util import crc

from test_decode_oracle import acquisition_squitter
from test_decode_rs1090 import compare


def long_frame(df: int, ca: int, icao: int, me: int) -> str:
    head = f"{(df << 3 | ca):02X}{icao:06X}{me:014X}"
    return f"{head}{crc(head + '000000'):06X}".lower()


def ap_frame(df: int, body: int, icao: int) -> str:
    """An Address/Parity frame: parity = CRC(data) XOR address (DF0/4/5: 32-bit data, DF20/21: 88-bit)."""
    nbits = 88 if df >= 16 else 32
    data = (df << (nbits - 5)) | (body & ((1 << (nbits - 5)) - 1))
    h = f"{data:0{nbits // 4}X}"
    return f"{h}{crc(h + '000000') ^ icao:06X}".lower()


me_for_tc = st.integers(min_value=1, max_value=31).flatmap(
    lambda tc: st.integers(min_value=0, max_value=(1 << 51) - 1).map(lambda rest: (tc << 51) | rest)
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(st.sampled_from([0x406B90, 0x062F01, 0x3C6444]), me_for_tc, st.integers(0, 7)),
        min_size=1,
        max_size=40,
    )
)
def test_random_extended_squitters_match_rs1090(frames: list[tuple[int, int, int]]) -> None:
    msgs = [long_frame(17, ca, icao, me) for icao, me, ca in frames]
    keep = msgs
    times = [1000.0 + i for i in range(len(keep))]
    problems, _, _, _ = compare(times, keep, positions=False)
    assert not problems, "\n".join(problems[:10])


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0, 4, 5, 16, 20, 21]),
            st.integers(min_value=0, max_value=(1 << 83) - 1),
            st.sampled_from([0x406B90, 0x062F01]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_random_address_parity_replies_match_rs1090(frames: list[tuple[int, int, int]]) -> None:
    msgs = [acquisition_squitter(0x406B90), acquisition_squitter(0x062F01)]
    msgs += [ap_frame(df, body, icao) for df, body, icao in frames]
    times = [1000.0 + i * 0.1 for i in range(len(msgs))]
    problems, got, _, _ = compare(times, msgs, positions=False)
    assert not problems, "\n".join(problems[:10])
    assert set(got.column("icao24").to_pylist()) <= {0x406B90, 0x062F01}
