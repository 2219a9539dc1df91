"""Rotation, foreign-operation, basing, co-location and transponder-gap kernels on hand-made
LEGS/STOPS (the seed's Sahel case: Niger Air Force C-130H 5U-MBH, 062F01).

Inputs are written by hand; each expected value is derived in a comment from the input.
Airfields (airportsdata): GABS Bamako ML 12.53N 7.95W, GAGO Gao ML 16.25N 0.005W,
GATS Tessalit ML 20.24N 0.98E, DRRN Niamey NE 13.48N 2.18E.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import airportsdata
import orjson
import pyarrow as pa
import pytest

from tailwatch.analysis.findings.basing import basing
from tailwatch.analysis.findings.colocation import co_location
from tailwatch.analysis.findings.config import GapConfig, RotationConfig
from tailwatch.analysis.findings.foreign import foreign_operation
from tailwatch.analysis.findings.gaps import transponder_gap
from tailwatch.analysis.findings.rotation import rotation
from tailwatch.schema import FINDINGS, LEGS, STOPS

MBH = 0x062F01
APD = airportsdata.load("ICAO")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def legs_table(rows: list[tuple[Any, ...]]) -> pa.Table:
    """rows: (icao24, origin, destination, t_start, t_end[, first (lat, lon), last (lat, lon)])."""
    cols: dict[str, list[Any]] = {f.name: [] for f in LEGS}
    for row in rows:
        ic, o, d, t0, t1 = row[:5]
        first = row[5] if len(row) > 5 else None
        last = row[6] if len(row) > 6 else None
        a, b = at(t0), at(t1)
        first = first or ((APD[o]["lat"], APD[o]["lon"]) if o else (None, None))
        last = last or ((APD[d]["lat"], APD[d]["lon"]) if d else (None, None))
        vals = {"leg_id": f"{ic:06X}-{int(a.timestamp())}", "icao24": ic, "callsign": None, "t_start": a,
                "t_end": b, "origin": o, "origin_confidence": 0.9 if o else None, "origin_reason": "test",
                "destination": d, "destination_confidence": 0.9 if d else None, "destination_reason": "test",
                "n_points": 100, "first_lat": first[0], "first_lon": first[1], "last_lat": last[0],
                "last_lon": last[1]}
        for f in LEGS:
            cols[f.name].append(vals.get(f.name))
    return pa.table(cols, schema=LEGS)


def stops_table(rows: list[tuple[Any, ...]]) -> pa.Table:
    """rows: (icao24, airport, arrival, departure)."""
    cols: dict[str, list[Any]] = {f.name: [] for f in STOPS}
    for ic, apt, arr, dep in rows:
        a, b = at(arr), at(dep)
        vals = {"stop_id": f"{ic:06X}-s{int(a.timestamp())}", "icao24": ic, "airport": apt, "arrival": a,
                "departure": b, "dwell_s": (b - a).total_seconds(), "lat": APD[apt]["lat"],
                "lon": APD[apt]["lon"], "confidence": 0.9, "reason": "test"}
        for f in STOPS:
            cols[f.name].append(vals.get(f.name))
    return pa.table(cols, schema=STOPS)


@pytest.fixture(scope="module")
def airports() -> pa.Table:
    rows = list(APD.values())
    return pa.table({"icao": [r["icao"] for r in rows], "name": [r["name"] for r in rows],
                     "country": [r["country"] for r in rows], "lat": [float(r["lat"]) for r in rows],
                     "lon": [float(r["lon"]) for r in rows], "elevation_ft": [float(r["elevation"]) for r in rows]})


CIRCUIT = [("GABS", "GAGO"), ("GAGO", "GATS"), ("GATS", "DRRN"), ("DRRN", "GABS")]


def sahel_legs(icao: int = MBH, days: tuple[str, ...] = ("2023-08-21", "2023-08-24", "2023-08-27", "2023-08-30"),
               broken: bool = True) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for i, d in enumerate(days):
        seq: list[tuple[str | None, str | None]] = list(CIRCUIT)
        if broken and i == 1:
            seq[2] = (None, "DRRN")  # take-off from Tessalit not covered: origin unknown
        if broken and i == 2:
            seq[1:3] = [("GAGO", None), (None, "DRRN")]  # vanished after Gao, reappeared at Niamey
        for k, (o, de) in enumerate(seq):
            rows.append((icao, o, de, f"{d}T{6 + 3 * k:02d}:00:00", f"{d}T{7 + 3 * k:02d}:30:00"))
    return rows


def test_rotation_with_missing_legs() -> None:
    f = rotation(legs_table(sahel_legs()))
    assert f.schema == FINDINGS
    rows = f.to_pylist()
    # Four circuits were flown (one intact, one with an unknown origin, one with Tessalit missing
    # behind a gap, one intact): one finding, count 4, the Tessalit gap stated.
    assert len(rows) == 1
    ev = orjson.loads(rows[0]["evidence"])
    assert ev["cycle"] == ["GABS", "GAGO", "GATS", "DRRN", "GABS"]
    assert ev["count"] == 4
    assert any("GATS not observed" in g for g in ev["gaps"])
    assert len(ev["origin_unknown_legs"]) >= 1
    assert rows[0]["t_start"] == at("2023-08-21T06:00:00") and rows[0]["t_end"] == at("2023-08-30T16:30:00")
    assert "GABS–GAGO–GATS–DRRN–GABS 4 times" in rows[0]["summary"]
    # Four cycles are not five.
    assert rotation(legs_table(sahel_legs()), config=RotationConfig(min_count=5)).num_rows == 0
    # Three cycles 9 days apart are not three within a 5-day window.
    assert rotation(legs_table(sahel_legs()), config=RotationConfig(window_days=5)).num_rows == 0


def test_shuttle_and_no_rotation_for_a_one_way_tour() -> None:
    rows = [(MBH, "GABS", "GAGO", f"2023-09-0{d}T08:00:00", f"2023-09-0{d}T10:00:00") for d in (1, 3, 5)]
    rows += [(MBH, "GAGO", "GABS", f"2023-09-0{d}T14:00:00", f"2023-09-0{d}T16:00:00") for d in (1, 3, 5)]
    f = rotation(legs_table(rows)).to_pylist()
    assert len(f) == 1 and "shuttle GABS–GAGO–GABS 3 times" in f[0]["summary"]
    tour = [("LFPG", "EGLL"), ("EGLL", "EHAM"), ("EHAM", "EDDF"), ("EDDF", "LIRF"), ("LIRF", "LEMD")]
    one_way = [(0x3C6444, o, d, f"2023-09-01T{6 + 2 * k:02d}:00:00", f"2023-09-01T{7 + 2 * k:02d}:00:00")
               for k, (o, d) in enumerate(tour)]
    assert rotation(legs_table(one_way)).num_rows == 0


def test_fleet_rotation() -> None:
    # Two aircraft of one operator fly the circuit twice each: 4 fleet cycles, 2 per aircraft.
    rows = sahel_legs(MBH, ("2023-08-21", "2023-08-27"), broken=False)
    rows += sahel_legs(0x062F02, ("2023-08-24", "2023-08-30"), broken=False)
    ac = pa.table({"icao24": pa.array([MBH, 0x062F02], pa.int32()), "operator": ["Niger Air Force"] * 2,
                   "registration": ["5U-MBH", "5U-MBI"]})
    f = rotation(legs_table(rows), ac).to_pylist()
    assert len(f) == 1 and f[0]["subject"] == "operator:Niger Air Force" and f[0]["icao24"] is None
    assert orjson.loads(f[0]["evidence"])["aircraft"] == ["062F01", "062F02"]


def _aircraft() -> pa.Table:
    return pa.table({"icao24": pa.array([MBH, 0x3C6444], pa.int32()), "country_iso2": ["NE", "DE"],
                     "registration": ["5U-MBH", "D-AIXX"], "operator": ["Niger Air Force", "Lufthansa"],
                     "aircraft_class": ["military", "airliner"]})


def test_foreign_operation_niger_c130_in_mali(airports: pa.Table) -> None:
    legs = legs_table(sahel_legs(broken=False))
    stops = stops_table([(MBH, "GAGO", "2023-08-21T10:30:00", "2023-08-22T09:00:00"),
                         (MBH, "DRRN", "2023-08-21T16:30:00", "2023-08-21T18:00:00")])
    f = foreign_operation(legs, stops, _aircraft(), airports).to_pylist()
    # Per circuit: GABS→GAGO and GAGO→GATS are within Mali (2 domestic legs), GATS→DRRN and
    # DRRN→GABS touch Mali: 4 legs × 4 circuits = 16 legs, 8 within ML; Gao stop 22.5 h.
    assert len(f) == 1
    ev = orjson.loads(f[0]["evidence"])
    assert ev["registry_country"] == "NE" and ev["country"] == "ML"
    assert len(ev["legs"]) == 16 and ev["domestic_legs"] == 8
    assert ev["dwell_h"] == 22.5
    assert set(ev["airports"]) == {"GABS", "GAGO", "GATS"}
    assert f[0]["places"][0] == "ML"


def test_foreign_operation_ignores_an_airliner_turnaround(airports: pa.Table) -> None:
    legs = legs_table([(0x3C6444, "EDDF", "LFPG", "2023-08-21T06:00:00", "2023-08-21T07:10:00"),
                       (0x3C6444, "LFPG", "EDDF", "2023-08-21T08:10:00", "2023-08-21T09:20:00")])
    stops = stops_table([(0x3C6444, "LFPG", "2023-08-21T07:10:00", "2023-08-21T08:10:00")])
    from tailwatch.analysis.findings.config import ForeignConfig
    assert foreign_operation(legs, stops, _aircraft(), airports, ForeignConfig(classes=[])).num_rows == 0


def test_basing_and_change_of_base(airports: pa.Table) -> None:
    # Day 19586 = 2023-08-17, the first day of a 14-day block (19586 = 14 × 1399).  Overnight
    # stops arriving 18:00 UTC, leaving 06:00 UTC cover 02:00 local solar time of the next day
    # (Bamako: UTC−0:32, Niamey: UTC+0:09).  28 nights at GABS, then 28 at DRRN.
    start = at("2023-08-16T18:00:00")
    rows = []
    for k in range(56):
        apt = "GABS" if k < 28 else "DRRN"
        a = start + timedelta(days=k)
        rows.append((MBH, apt, a.isoformat()[:19], (a + timedelta(hours=12)).isoformat()[:19]))
    f = basing(stops_table(rows), airports).to_pylist()
    assert [orjson.loads(r["evidence"])["base"] for r in f] == ["GABS", "DRRN"]
    e0, e1 = (orjson.loads(r["evidence"]) for r in f)
    assert e0["nights_at_base"] == 28 and e0["change_from"] is None and e0["ground_h"] == 28 * 12
    assert e1["change_from"] == "GABS" and "moved there from GABS" in f[1]["summary"]
    assert f[0]["t_start"] == at("2023-08-17T00:00:00") and f[1]["t_end"] == at("2023-10-12T00:00:00")


def test_daytime_stops_are_not_nights(airports: pa.Table) -> None:
    rows = [(MBH, "GABS", f"2023-08-{d:02d}T08:00:00", f"2023-08-{d:02d}T18:00:00") for d in range(1, 29)]
    assert basing(stops_table(rows), airports).num_rows == 0


def test_co_location() -> None:
    other = 0x062F10
    ac = pa.table({"icao24": pa.array([MBH, other, 0x3C6444], pa.int32()),
                   "aircraft_class": ["military", "government", "airliner"]})
    stops = stops_table([(MBH, "GAGO", "2023-09-01T08:00:00", "2023-09-01T12:00:00"),
                         (other, "GAGO", "2023-09-01T10:00:00", "2023-09-01T15:00:00"),
                         (0x3C6444, "GAGO", "2023-09-01T09:00:00", "2023-09-01T11:00:00")])
    f = co_location(stops, ac).to_pylist()
    # MBH and the government aircraft overlap 10:00–12:00 = 2 h; the airliner is not eligible.
    assert len(f) == 1
    ev = orjson.loads(f[0]["evidence"])
    assert ev["icao24"] == ["062F01", "062F10"] and ev["together_h"] == 2.0
    assert f[0]["subject"] == "airport:GAGO"
    short = stops_table([(MBH, "GAGO", "2023-09-01T08:00:00", "2023-09-01T10:10:00"),
                         (other, "GAGO", "2023-09-01T10:00:00", "2023-09-01T15:00:00")])
    assert co_location(short, ac).num_rows == 0  # 10 min together < 30 min
    assert co_location(stops, None).num_rows == 0  # nothing eligible without identity or watch list


def test_transponder_gap_between_airfields(airports: pa.Table) -> None:
    # Leg 1 leaves Bamako and is lost 10 km out (12.62N 7.95W) at 08:20; leg 2 appears 15 km
    # north of Gao (16.38N 0.005W) at 11:00 and lands there.  The points are ~950 km apart,
    # 2 h 40 min: 190 kt mean, within [60, 600] kt → one gap GABS → GAGO.
    legs = legs_table([
        (MBH, "GABS", None, "2023-08-21T08:00:00", "2023-08-21T08:20:00", None, (12.62, -7.95)),
        (MBH, None, "GAGO", "2023-08-21T11:00:00", "2023-08-21T11:20:00", (16.38, -0.005), None),
        # A cruise coverage hole over the desert, no airfield within 40 km of either end: no finding.
        (MBH, "GAGO", None, "2023-08-22T08:00:00", "2023-08-22T09:00:00", None, (18.5, -3.0)),
        (MBH, None, "GABS", "2023-08-22T10:00:00", "2023-08-22T12:00:00", (15.0, -6.0), None),
    ])
    f = transponder_gap(legs, airports).to_pylist()
    assert len(f) == 1 and f[0]["places"] == ["GABS", "GAGO"]
    ev = orjson.loads(f[0]["evidence"])
    assert 900 < ev["distance_km"] < 1000 and 150 < ev["mean_speed_kt"] < 230
    # A 10 min gap is shorter than min_gap_min.
    assert transponder_gap(legs, airports, config=GapConfig(min_gap_min=200)).num_rows == 0


def test_out_back_imbalance(airports: pa.Table) -> None:
    out_only = [(MBH, "GABS", "GAGO", f"2023-09-0{d}T08:00:00", f"2023-09-0{d}T10:00:00") for d in (1, 4, 7)]
    f = transponder_gap(legs_table(out_only), airports).to_pylist()
    # GABS→GAGO 3 times, never back, and never seen leaving Gao: 3 returns unobserved, two of
    # them also visible as dark flights (landed at Gao, next seen taking off from Bamako).
    imb = [r for r in f if orjson.loads(r["evidence"]).get("type") == "out_back_imbalance"]
    dark = [r for r in f if r not in imb]
    assert len(imb) == 1 and "GABS→GAGO 3 times but GAGO→GABS only 0 times" in imb[0]["summary"]
    assert "seen arriving at GAGO 3 times but leaving only 0: 3 departures" in imb[0]["summary"]
    assert len(dark) == 2 and all(r["places"] == ["GAGO", "GABS"] for r in dark)
    # A circuit flown 4 times is unbalanced per pair but balanced per airfield: nothing.
    assert transponder_gap(legs_table(sahel_legs(broken=False)), airports).num_rows == 0


def test_rotation_through_a_hidden_stop(airports: pa.Table) -> None:
    # Three full circuits, then two where Tessalit is never seen: GAGO→DRRN is one "leg" of
    # 4 h for 400 km direct (at 150 kt + 1 h slack it should take < 2.5 h), so it can stand for
    # GAGO→GATS→DRRN.  One finding: the 4-airfield circuit ×5, two with GATS not observed,
    # and no separate GABS–GAGO–DRRN circuit.
    rows = sahel_legs(days=("2023-08-21", "2023-08-24", "2023-08-27"), broken=False)
    for d in ("2023-08-30", "2023-09-02"):
        rows += [(MBH, "GABS", "GAGO", f"{d}T06:00:00", f"{d}T07:30:00"),
                 (MBH, "GAGO", "DRRN", f"{d}T09:00:00", f"{d}T13:00:00"),
                 (MBH, "DRRN", "GABS", f"{d}T15:00:00", f"{d}T16:30:00")]
    f = rotation(legs_table(rows), airports=airports).to_pylist()
    assert len(f) == 1
    ev = orjson.loads(f[0]["evidence"])
    assert ev["cycle"] == ["GABS", "GAGO", "GATS", "DRRN", "GABS"] and ev["count"] == 5
    assert sum("GATS not observed" in g for g in ev["gaps"]) == 2
    # Without airport coordinates the long legs cannot be judged: the two short circuits stay
    # apart (2 < min_count, so only the 3 full circuits are reported).
    f2 = rotation(legs_table(rows)).to_pylist()
    assert len(f2) == 1 and orjson.loads(f2[0]["evidence"])["count"] == 3


def test_rotation_infers_an_airfield_from_low_points(airports: pa.Table) -> None:
    # Tessalit (GATS 20.243N 0.977E, 1,621 ft) is never "landed at" in the legs: the leg from Gao
    # is lost 15 km south of it at 4,000 ft, the next leg is first seen 12 km east of it at
    # 5,000 ft.  Both points are within 30 km and 8,000 ft of GATS, so the visit is inferred.
    rows: list[tuple[Any, ...]] = []
    for d in ("2023-08-21", "2023-08-24", "2023-08-27"):
        rows += [(MBH, "GABS", "GAGO", f"{d}T06:00:00", f"{d}T08:00:00"),
                 (MBH, "GAGO", None, f"{d}T09:00:00", f"{d}T10:00:00", None, (20.108, 0.977)),
                 (MBH, None, "DRRN", f"{d}T11:00:00", f"{d}T13:00:00", (20.243, 1.092), None),
                 (MBH, "DRRN", "GABS", f"{d}T14:00:00", f"{d}T16:00:00")]
    lt = legs_table(rows)
    lt = lt.set_column(lt.schema.get_field_index("last_alt"), "last_alt",
                       pa.array([4000.0 if r[2] is None else None for r in rows], pa.float32()))
    lt = lt.set_column(lt.schema.get_field_index("first_alt"), "first_alt",
                       pa.array([5000.0 if r[1] is None else None for r in rows], pa.float32()))
    f = rotation(lt, airports=airports).to_pylist()
    assert len(f) == 1
    ev = orjson.loads(f[0]["evidence"])
    assert ev["cycle"] == ["GABS", "GAGO", "GATS", "DRRN", "GABS"] and ev["count"] == 3
    assert len(ev["inferred_airfield_legs"]) == 6  # GAGO→GATS and GATS→DRRN, three times


def test_co_location_of_watch_list_aircraft() -> None:
    # Two airliners on the user's watch list (class civil), 3 h together at LFPB: reported
    # because they are watched, not because of their class.
    a, b = 0x3C6444, 0x3C6445
    ac = pa.table({"icao24": pa.array([a, b], pa.int32()), "aircraft_class": ["civil", "civil"],
                   "watched": [True, True]})
    stops = stops_table([(a, "LFPB", "2023-09-01T08:00:00", "2023-09-01T12:00:00"),
                         (b, "LFPB", "2023-09-01T09:00:00", "2023-09-01T15:00:00")])
    f = co_location(stops, ac).to_pylist()
    assert len(f) == 1 and orjson.loads(f[0]["evidence"])["together_h"] == 3.0
    unwatched = ac.set_column(2, "watched", pa.array([True, False]))
    assert co_location(stops, unwatched).num_rows == 0
