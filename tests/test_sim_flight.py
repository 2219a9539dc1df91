"""Property tests of the flight model over random airport pairs and aircraft performance.

Truth is physics recomputed in the test (haversine distances written out here,
airport positions from airportsdata): the track never jumps, speeds stay within
the aircraft's envelope, the reported track points where the aircraft goes, and
each leg starts and ends on the right runway.
"""

from __future__ import annotations

import math

import airportsdata
import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tailwatch.sim.flight import Knots, Timeline, fly_leg, sample
from tailwatch.sim.scenario import AircraftSpec, Airport

DB = airportsdata.load("ICAO")
# large airports with an ICAO code in several regions (a fixed, readable sample)
CODES = ["GABS", "GAGO", "GATS", "DRRN", "DAAG", "DIAP", "LTFM", "EGLL", "KJFK", "YSSY", "SCEL", "RJTT",
         "FAOR", "OMDB", "ENGM", "PANC", "SBGR", "VIDP", "NZAA", "BIKF"]


def apt(code: str) -> Airport:
    a = DB[code]
    return Airport(code, float(a["lat"]), float(a["lon"]), float(a["elevation"] or 0.0))


def hav_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(a))


def spec(cruise_kt: float, cruise_alt: float, climb: float) -> AircraftSpec:
    return AircraftSpec(
        icao24=0x062F01, registration=None, typecode=None, type_description=None, operator=None, country=None,
        aircraft_class=None, callsign=None, squawk="2000", category=5, cruise_alt_ft=cruise_alt,
        cruise_kt=cruise_kt, climb_fpm=climb, descent_fpm=climb, approach_kt=min(130.0, cruise_kt * 0.6),
        rotate_kt=min(120.0, cruise_kt * 0.5), taxi_s=300.0, legs=(),
    )


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(CODES), st.sampled_from(CODES), st.floats(180.0, 480.0), st.floats(8000.0, 41000.0),
    st.floats(800.0, 3000.0), st.sampled_from([None, 0.0, 45.0, 90.0, 135.0]), st.booleans(),
)
def test_leg_kinematics(o: str, d: str, cruise_kt: float, cruise_alt: float, climb: float,
                        runway: float | None, lost: bool) -> None:
    assume(o != d)
    a, b = apt(o), apt(d)
    ac = spec(cruise_kt, cruise_alt, climb)
    k = Knots()
    runways = {d: runway} if runway is not None else {}
    lt = fly_leg(k, 1.0e9, [(a, "start"), (b, "land")], ac, 2.5 if lost else None, runways)
    tl = Timeline.of(k)
    assert lt.block_off == 1.0e9 < lt.takeoff < lt.block_on
    assert (lt.landing is None) == lost
    t = np.arange(tl.t[0], tl.t[-1], 1.0)
    s = sample(tl, t)
    # no jumps: 1 s apart, never further than the cruise speed allows (+5%)
    step = hav_km(s.lat[:-1], s.lon[:-1], s.lat[1:], s.lon[1:])
    assert step.max() <= cruise_kt * 1.852 / 3600 * 1.05
    # speeds and altitudes inside the envelope
    assert s.gs.min() >= 0 and s.gs.max() <= cruise_kt + 1e-6
    assert s.alt.max() <= max(cruise_alt, a.elevation_ft, b.elevation_ft + 3000) + 1e-6
    assert s.alt.min() >= min(a.elevation_ft, b.elevation_ft) - 1e-6
    # ground speed matches the distance actually flown over 10 s (within the acceleration error),
    # away from the turn points (the model turns instantly at a segment's end: a kink, not a jump)
    turns = tl.t[1:][np.diff(tl.seg) != 0]
    i = np.arange(0, len(t) - 10, 10)
    i = i[np.abs(t[i][:, None] - turns[None, :]).min(axis=1, initial=1e9) > 15.0] if turns.size else i
    flown = hav_km(s.lat[i], s.lon[i], s.lat[i + 10], s.lon[i + 10]) / 10 * 3600 / 1.852
    mean_gs = (s.gs[i] + s.gs[i + 10]) / 2
    assert np.abs(flown - mean_gs).max() <= 0.1 * cruise_kt
    # reported track points along the motion when moving fast enough
    fast = (s.gs[i] > 60) & (flown > 60)
    brg = np.degrees(np.arctan2(
        np.sin(np.radians(s.lon[i + 1] - s.lon[i])) * np.cos(np.radians(s.lat[i + 1])),
        np.cos(np.radians(s.lat[i])) * np.sin(np.radians(s.lat[i + 1]))
        - np.sin(np.radians(s.lat[i])) * np.cos(np.radians(s.lat[i + 1])) * np.cos(np.radians(s.lon[i + 1] - s.lon[i]))))
    diff = np.abs((brg - s.track[i] + 180) % 360 - 180)
    assert diff[fast].max(initial=0.0) < 2.0
    # starts at the origin, on the ground; ends on the destination runway (or 2.5 km short)
    assert s.ground[0] and hav_km(a.lat, a.lon, s.lat[0], s.lon[0]) < 3.0
    end_d = float(hav_km(b.lat, b.lon, s.lat[-1], s.lon[-1]))
    if lost:
        assert not s.ground[-1] and 2.0 < end_d < 3.2
        assert s.alt[-1] - b.elevation_ft < 1000
    else:
        assert s.ground[-1] and end_d < 4.0
        td = int(np.searchsorted(t, lt.landing))
        assert float(hav_km(b.lat, b.lon, s.lat[td], s.lon[td])) < 0.5  # touchdown at the field
        if runway is not None:
            # the final approach (the last 2 minutes, ~8 km, before touchdown) is flown on the runway heading
            near = [j for j in range(max(td - 120, 0), td) if hav_km(b.lat, b.lon, s.lat[j], s.lon[j]) > 1.0]
            assert near
            off = [min(abs((s.track[j] - runway + 180) % 360 - 180), abs((s.track[j] - runway) % 360 - 180))
                   for j in near]
            assert max(off) < 1.0
    # distance flown is at least the great circle and not absurdly more
    total = float(step.sum())
    gc = float(hav_km(a.lat, a.lon, b.lat, b.lon))
    assert total >= gc - (3.0 if lost else 0.5) and total <= gc * 1.1 + 60.0
    assert math.isfinite(total)
