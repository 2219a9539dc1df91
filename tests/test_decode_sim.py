"""Property test over random valid frames from the simulator's encoder (``tailwatch.sim.encode``).

Each example encodes one aircraft's state with the simulator (written independently of
the decoder) and checks that tailwatch recovers the encoded values to their resolution
and agrees with rs1090 field by field.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from tailwatch.decode import Decoder
from tailwatch.errors import Rejects
from tailwatch.sim import encode as E
from test_decode_oracle import frames_batch
from test_decode_rs1090 import compare

CS_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    icao=st.integers(min_value=1, max_value=0xFFFFFF),
    callsign=st.text(CS_CHARS, min_size=1, max_size=8),
    lat=st.floats(min_value=-85, max_value=85),
    lon=st.floats(min_value=-179.9, max_value=179.9),
    alt=st.integers(min_value=-1000, max_value=50000).map(lambda a: a - a % 25),
    gs=st.integers(min_value=1, max_value=1000),
    track=st.floats(min_value=0, max_value=359.9),
    vrate=st.integers(min_value=-30, max_value=30).map(lambda k: 64 * k),
    squawk=st.text("01234567", min_size=4, max_size=4),
    emergency=st.integers(min_value=0, max_value=6),
)
def test_simulated_frames_decode_to_their_values(
    icao: int, callsign: str, lat: float, lon: float, alt: int, gs: int, track: float, vrate: int,
    squawk: str, emergency: int,
) -> None:
    frames = [
        E.all_call([icao]),
        E.identification([icao], [callsign]),
        E.airborne_position([icao], [lat], [lon], [alt], [0]),
        E.airborne_position([icao], [lat], [lon], [alt], [1]),
        E.velocity([icao], [gs], [track], [vrate]),
        E.emergency_status([icao], [emergency], [squawk]),
        E.altitude_reply([icao], [alt]),
        E.identity_reply([icao], [squawk]),
    ]
    msgs = [h for f in frames for h in E.hexes(f)]
    times = [1_700_000_000.0 + 0.5 * i for i in range(len(msgs))]
    problems, _, _, _ = compare(times, msgs)
    assert not problems, "\n".join(problems[:10])

    rows = Decoder().decode(frames_batch(times, msgs), "sim", Rejects()).to_pylist()
    assert [r["icao24"] for r in rows] == [icao] * 8
    _, ident, even, odd, vel, emerg, altr, idr = rows
    assert ident["callsign"] == callsign
    assert even["alt_baro"] == alt and altr["alt_baro"] == alt
    assert odd["lat"] is not None  # the pair decodes globally
    km = 111.195 * math.hypot(odd["lat"] - lat, ((odd["lon"] - lon + 180) % 360 - 180) * math.cos(math.radians(lat)))
    assert km < 0.02
    # velocity: components are whole knots, so speed within 1 kt and track within 1 deg (or gs tiny)
    assert abs(vel["gs"] - gs) <= 1.0
    if gs >= 60:
        assert abs((vel["track"] - track + 180) % 360 - 180) <= 1.0
    assert vel["vrate"] == vrate
    assert emerg["emergency"] == emergency and emerg["squawk"] == squawk
    assert idr["squawk"] == squawk
