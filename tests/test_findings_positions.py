"""Incident and spoofing kernels on real samples and on hand-made tracks.

Real-data truth: ``noisy_spoofing.json.gz`` (THY9BP, 4BAAC6) was examined by hand
(see docs/findings.md): from about 09:24 to 09:48 UTC the aircraft reports
51 kt ground speed at FL380 while its position creeps west near 49.66N 23.8E, then at
09:58:11 its position jumps 563 km (to 53.58N 18.68E) in 626 s, i.e. about 1,750 kt.
``quickstart.json.gz`` is ordinary Paris-area traffic with no emergency squawk.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import airportsdata
import numpy as np
import orjson
import pyarrow as pa
import pytest

from tailwatch.analysis.findings.config import IncidentConfig, SpoofingConfig
from tailwatch.analysis.findings.incident import incident, squawk_codes
from tailwatch.analysis.findings.spoofing import spoofing
from tailwatch.schema import FINDINGS, POSITIONS


def positions(cols: dict[str, list[Any]]) -> pa.Table:
    """A POSITIONS table from columns (time in epoch ms); absent columns are null."""
    n = len(cols["time"])
    arrays = {}
    for f in POSITIONS:
        if f.name == "time":
            arrays[f.name] = pa.array([int(v * 1000) for v in cols["time"]], pa.int64()).cast(f.type)
        elif f.name in cols:
            arrays[f.name] = pa.array(cols[f.name], f.type)
        elif f.name == "quality":
            arrays[f.name] = pa.array(np.zeros(n, np.uint16))
        else:
            arrays[f.name] = pa.nulls(n, f.type)
    return pa.table(arrays, schema=POSITIONS).sort_by([("icao24", "ascending"), ("time", "ascending")])


@pytest.fixture(scope="module")
def airports() -> pa.Table:
    rows = list(airportsdata.load("ICAO").values())
    return pa.table({
        "icao": [r["icao"] for r in rows], "name": [r["name"] for r in rows],
        "country": [r["country"] for r in rows], "lat": [float(r["lat"]) for r in rows],
        "lon": [float(r["lon"]) for r in rows], "elevation": [float(r["elevation"]) for r in rows],
    })


def load_noisy(path: Path) -> pa.Table:
    d = orjson.loads(gzip.decompress(path.read_bytes()))
    keys = sorted(d["timestamp"], key=int)

    def g(c: str) -> list[Any]:
        return [d[c][k] for k in keys]

    return positions({"time": g("timestamp"), "icao24": [int(v, 16) for v in g("icao24")],
                      "lat": g("latitude"), "lon": g("longitude"), "gs": g("groundspeed"),
                      "track": g("track"), "vrate": g("vertical_rate"), "alt_baro": g("altitude"),
                      "callsign": g("callsign")})


def load_quickstart(path: Path) -> pa.Table:
    d = orjson.loads(gzip.decompress(path.read_bytes()))

    def g(c: str) -> list[Any]:
        return [r.get(c) for r in d]

    return positions({"time": g("timestamp"), "icao24": [int(v, 16) for v in g("icao24")],
                      "lat": g("latitude"), "lon": g("longitude"), "gs": g("groundspeed"),
                      "track": g("track"), "vrate": g("vertical_rate"), "alt_baro": g("altitude"),
                      "callsign": g("callsign"), "on_ground": g("onground"),
                      "squawk": [None if v is None else str(v) for v in g("squawk")]})


def ms(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000


def test_noisy_sample_is_flagged_as_spoofing(shared_data: Path) -> None:
    f = spoofing(load_noisy(shared_data / "traffic_samples/noisy/noisy_spoofing.json.gz"))
    assert f.schema == FINDINGS
    rows = f.to_pylist()
    assert rows and all(r["subject"] == "4BAAC6" for r in rows)
    # The slow-at-FL380 stretch (09:24–09:48) is one episode ...
    slow = [r for r in rows if "too slow at altitude" in orjson.loads(r["evidence"])["reasons"]]
    assert slow
    t0, t1 = slow[0]["t_start"], slow[0]["t_end"]
    assert t0 <= datetime(2024, 9, 17, 9, 26, tzinfo=UTC) and t1 >= datetime(2024, 9, 17, 9, 46, tzinfo=UTC)
    # ... and the 563 km exit jump at 09:58:11 is evidenced.
    jumps = [r for r in rows if r["t_start"] <= datetime(2024, 9, 17, 9, 58, 11, tzinfo=UTC) <= r["t_end"]]
    assert jumps and "563 km jump" in jumps[0]["summary"]
    ev = orjson.loads(jumps[0]["evidence"])
    assert ev["thresholds"]["max_speed_kt"] == 1000.0


def test_quickstart_has_no_spoofing_and_no_incident(shared_data: Path, airports: pa.Table) -> None:
    q = load_quickstart(shared_data / "traffic_samples/collections/quickstart.json.gz")
    assert spoofing(q).num_rows == 0
    assert incident(q, airports).num_rows == 0


def test_two_places_at_once() -> None:
    # One address alternating every 5 s between Paris (48.9N 2.4E) and Lyon (45.7N 5.1E),
    # 400+ km apart: every other position is a jump out and straight back.
    n = 12
    t = [1_700_000_000_000 / 1000 + 5 * i for i in range(n)]
    lat = [48.9 if i % 2 == 0 else 45.7 for i in range(n)]
    lon = [2.4 if i % 2 == 0 else 5.1 for i in range(n)]
    p = positions({"time": t, "icao24": [0x3C6444] * n, "lat": lat, "lon": lon,
                   "alt_baro": [30000.0] * n, "gs": [450.0] * n})
    rows = spoofing(p).to_pylist()
    assert len(rows) == 1
    assert orjson.loads(rows[0]["evidence"])["reasons"]["two places at once"] >= 4


def test_single_speed_glitch_is_not_a_finding() -> None:
    # A straight track at 450 kt (0.125 NM/s → 0.2315 km/s, due north: 0.002083° lat/s);
    # one reported gs value wrong by 200 kt is one flagged instant, below min_events.
    n = 60
    t = [1_700_000_000 + i for i in range(n)]
    lat = [45.0 + 0.002083 * i for i in range(n)]
    gs = [450.0] * n
    gs[30] = 650.0
    p = positions({"time": [v * 1000 for v in t], "icao24": [0x3C6444] * n, "lat": lat, "lon": [5.0] * n,
                   "alt_baro": [30000.0] * n, "gs": gs, "track": [0.0] * n})
    assert spoofing(p, SpoofingConfig()).num_rows == 0


def test_squawk_codes_accept_int_and_string() -> None:
    assert squawk_codes(pa.array(["7700", "7500", "0000", None, "77"])).tolist() == [7700, 7500, 0, 0, 0]
    assert squawk_codes(pa.array([7600, 7700, None], pa.int32())).tolist() == [7600, 7700, 0]


def _approach(n: int, lat0: float, lon0: float, dlat: float, alt0: float, dalt: float, **extra: Any) -> pa.Table:
    t = [ms("2023-09-10T10:00:00") + 1000 * 10 * i for i in range(n)]
    cols: dict[str, Any] = {"time": t, "icao24": [0x062F01] * n,
                            "lat": [lat0 + dlat * i for i in range(n)], "lon": [lon0] * n,
                            "alt_baro": [alt0 + dalt * i for i in range(n)],
                            "vrate": [dalt * 6.0] * n, "gs": [200.0] * n,
                            "track": [0.0 if dlat >= 0 else 180.0] * n, "on_ground": [False] * n}
    cols.update(extra)
    return positions(cols)


def test_track_ending_low_and_descending_away_from_airfields(airports: pa.Table) -> None:
    # Northbound at 200 kt, descending 100 ft / 10 s (600 ft/min) from 3,000 ft to 1,100 ft MSL,
    # ending at 17.90N 3.50W, in open desert in northern Mali (the nearest airfield in
    # airportsdata, Tombouctou GATB at 16.73N 3.01W, is ~140 km away): field elevation
    # unknown, so height is MSL, below 1,500 ft, descending, no runway → a possible crash.
    p = _approach(20, 17.90 - 19 * 0.0103, -3.5, 0.0103, 3000.0, -100.0)
    rows = incident(p, airports).to_pylist()
    assert len(rows) == 1
    assert "possible crash or forced landing" in rows[0]["summary"]
    assert orjson.loads(rows[0]["evidence"])["nearest_airport"] is None


def test_track_ending_at_cruise_is_coverage_loss(airports: pa.Table) -> None:
    p = _approach(20, 17.7, -3.5, 0.0103, 35000.0, 0.0)
    assert incident(p, airports).num_rows == 0


def test_track_ending_on_approach_is_a_landing(airports: pa.Table) -> None:
    # Southbound into Gao (GAGO, 16.2484N 0.00546W, elevation 870 ft), last point 8 km north
    # of it at 1,500 ft MSL (630 ft above the field), heading straight at it: ordinary landing.
    p = _approach(20, 16.3204 + 19 * 0.0103, -0.00546, -0.0103, 3400.0, -100.0)
    assert incident(p, airports).num_rows == 0


def test_emergency_squawk_episode(airports: pa.Table) -> None:
    n = 20
    sq = ["1000"] * 5 + ["7700"] * 10 + ["1000"] * 5
    p = _approach(n, 45.0, 5.0, 0.0103, 30000.0, 0.0, squawk=sq)
    rows = incident(p, airports).to_pylist()
    assert len(rows) == 1 and "squawked 7700" in rows[0]["summary"]
    # 10 rows 10 s apart: 90 s from first to last.
    assert (rows[0]["t_end"] - rows[0]["t_start"]).total_seconds() == 90
    # One garbled reply is not an episode.
    sq1 = ["1000"] * 10 + ["7500"] + ["1000"] * 9
    assert incident(_approach(n, 45.0, 5.0, 0.0103, 30000.0, 0.0, squawk=sq1), airports).num_rows == 0


def test_df17_emergency_state(airports: pa.Table) -> None:
    em = [0] * 5 + [3] * 6 + [0] * 9
    p = _approach(20, 45.0, 5.0, 0.0103, 30000.0, 0.0, emergency=em)
    rows = incident(p, airports).to_pylist()
    assert len(rows) == 1 and "minimum fuel" in rows[0]["summary"]


def test_abrupt_descent(airports: pa.Table) -> None:
    # 8,000 ft/min for 60 s (7 rows 10 s apart) loses 8,000 ft: abrupt; 4,000 ft/min is not.
    n = 20
    alt = [35000.0] * 5 + [35000.0 - 1333.3 * i for i in range(1, 8)] + [26000.0] * 8
    vr = [0.0] * 5 + [-8000.0] * 7 + [0.0] * 8
    p = _approach(n, 45.0, 5.0, 0.0103, 0.0, 0.0, alt_baro=alt, vrate=vr)
    rows = incident(p, airports, IncidentConfig()).to_pylist()
    assert len(rows) == 1 and "descended abruptly" in rows[0]["summary"]
    vr2 = [0.0] * 5 + [-4000.0] * 7 + [0.0] * 8
    p2 = _approach(n, 45.0, 5.0, 0.0103, 0.0, 0.0, alt_baro=alt, vrate=vr2)
    assert incident(p2, airports).num_rows == 0


def test_findings_do_not_depend_on_the_batch(shared_data: Path, airports: pa.Table) -> None:
    # The same aircraft must give the same findings whether it comes alone or with others
    # (build_findings and Spark cut batches anywhere between aircraft).
    import pyarrow.compute as pc

    whole = pa.concat_tables([load_noisy(shared_data / "traffic_samples/noisy/noisy_spoofing.json.gz"),
                              load_quickstart(shared_data / "traffic_samples/collections/quickstart.json.gz")])
    whole = whole.sort_by([("icao24", "ascending"), ("time", "ascending")])
    both = pa.concat_tables([incident(whole, airports), spoofing(whole)])
    assert both.num_rows >= 2
    alone = [pa.concat_tables([incident(p, airports), spoofing(p)])
             for p in (whole.filter(pc.equal(whole.column("icao24"), i))
                       for i in pc.unique(whole.column("icao24")).to_pylist())]
    ids = sorted(x for t in alone for x in t.column("finding_id").to_pylist())
    assert ids == sorted(both.column("finding_id").to_pylist())
