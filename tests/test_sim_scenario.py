"""The simulator's flights, coverage and truth, checked against independent facts.

Independent truth here: airport positions from airportsdata, the plane-alert-db
row of each simulated government/military aircraft, great-circle geometry
recomputed in the test, pyModeS' NL function, and rs1090 decoding the frames.
"""

from __future__ import annotations

import csv
import itertools
import math
from pathlib import Path

import airportsdata
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyModeS.util as pmu
import pytest
import rs1090

from tailwatch.errors import InputError
from tailwatch.schema import Quality
from tailwatch.sim import load_scenario, simulate
from tailwatch.sim.cpr import nl
from tailwatch.sim.messages import ID_REPLY, STATUS

SCN = Path(__file__).parent / "scenarios"
APT = airportsdata.load("ICAO")
C130 = 0x062F01


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance written out independently of tailwatch.sim.flight."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def near(code: str, lat: float, lon: float) -> float:
    return km(APT[code]["lat"], APT[code]["lon"], lat, lon)


@pytest.fixture(scope="module")
def sahel():  # type: ignore[no-untyped-def]
    return simulate(load_scenario("sahel-2023"))


def rows(t: pa.Table, icao: int) -> list[dict]:  # type: ignore[type-arg]
    key = "time" if "time" in t.column_names else "takeoff"
    return t.filter(pc.equal(t["icao24"], icao)).sort_by(key).to_pylist()


def test_nl_matches_pymodes() -> None:
    lats = np.linspace(-89.9, 89.9, 3001)
    assert [int(x) for x in nl(lats)] == [pmu.cprNL(float(x)) for x in lats]


def test_identities_match_plane_alert_db(sahel, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    with (shared_data / "plane_alert_db" / "plane-alert-db.csv").open(encoding="utf-8") as f:
        pad = {r["$ICAO"]: r for r in csv.DictReader(f)}
    recs = {r["icao24"]: r for r in sahel.truth.identity_records()}
    for hexid in ("062F01", "05C075", "05C05A"):
        assert recs[hexid]["registration"] == pad[hexid]["$Registration"]
        assert recs[hexid]["typecode"] == pad[hexid]["$ICAO Type"]
        assert recs[hexid]["operator"] == pad[hexid]["$Operator"]
        assert recs[hexid]["aircraft_class"] == {"Mil": "military", "Gov": "government"}[pad[hexid]["#CMPG"]]


def test_identity_records_feed_identity(sahel) -> None:  # type: ignore[no-untyped-def]
    from tailwatch.identity import load_identity

    ident = load_identity(Path("/nonexistent"), allow_missing=True, watchlist=None)
    ident = ident.with_records(sahel.truth.identity_records(), "scenario sahel-2023 (SIMULATED)")
    card = ident.annotate(pa.array([C130, 0x05C075], pa.int32())).to_pylist()
    assert [c["registration"] for c in card] == ["5U-MBH", "TZ-PRM"]
    assert [c["aircraft_class"] for c in card] == ["military", "government"]
    assert card[0]["registration_source"] == "scenario sahel-2023 (SIMULATED)"


def test_labelled_simulated(sahel) -> None:  # type: ignore[no-untyped-def]
    assert "SIMULATED" in sahel.scenario.name and "SIMULATED" in sahel.scenario.description
    assert sahel.truth.meta["simulated"] is True
    q = sahel.positions["quality"].to_numpy()
    assert ((q & int(Quality.SIMULATED)) != 0).all()


def test_c130_rotations_and_crash(sahel) -> None:  # type: ignore[no-untyped-def]
    legs = rows(sahel.truth.legs, C130)
    route = ["GABS", "GAGO", "GATS", "DRRN"]
    # nine full rotations then the last Bamako -> Gao flight
    assert len(legs) == 9 * 4 + 1
    for i, leg in enumerate(legs[:-1]):
        assert (leg["origin"], leg["destination"]) == (route[i % 4], route[(i + 1) % 4])
    assert legs[0]["takeoff"].date().isoformat() == "2023-08-20"
    # about two rotations a week
    starts = [leg["takeoff"] for leg in legs[:-1:4]]
    gaps = [(b - a).total_seconds() / 86400 for a, b in itertools.pairwise(starts)]
    assert all(3.0 <= g <= 4.0 for g in gaps)
    last = legs[-1]
    assert last["destination"] == "GAGO" and last["landing"] is None and last["track_lost"]
    # legs are contiguous: each departs from where the previous one landed, later
    for a, b in itertools.pairwise(legs):
        assert a["destination"] == b["origin"] and b["takeoff"] > a["landing"]


def test_leg_durations_are_physical(sahel) -> None:  # type: ignore[no-untyped-def]
    for ac in sahel.scenario.aircraft:
        for leg in rows(sahel.truth.legs, ac.icao24):
            if leg["landing"] is None:
                continue
            d = near(leg["origin"], APT[leg["destination"]]["lat"], APT[leg["destination"]]["lon"])
            hours = (leg["landing"] - leg["takeoff"]).total_seconds() / 3600
            # never faster than cruise speed over the great circle; slower by at most the climb/descent
            assert d / (ac.cruise_kt * 1.852) <= hours <= d / (ac.cruise_kt * 1.852) + 0.75


def test_track_lost_on_short_final_at_gao(sahel) -> None:  # type: ignore[no-untyped-def]
    lost = [e for e in sahel.truth.events.to_pylist() if e["kind"] == "track_lost"]
    assert len(lost) == 1 and lost[0]["place"] == "GAGO"
    t_lost = lost[0]["t_start"]
    pos = [r for r in rows(sahel.positions, C130) if r["lat"] is not None]
    assert pos[-1]["time"] <= t_lost
    assert all(r["time"] <= t_lost for r in rows(sahel.positions, C130))
    final = [r for r in pos if (t_lost - r["time"]).total_seconds() < 120]
    d = [near("GAGO", r["lat"], r["lon"]) for r in final]
    # scenario: lost 2.5 km short on a 3° glide -> 2.5 km * tan 3° = 131 m = 430 ft above the field (870 ft)
    assert 2.4 <= d[-1] <= 4.0
    assert final[-1]["alt_baro"] == pytest.approx(870 + 430 * d[-1] / 2.5, abs=120)
    assert d == sorted(d, reverse=True)  # still closing on the runway
    alts = [r["alt_baro"] for r in final]
    assert alts == sorted(alts, reverse=True)  # still descending


def test_government_jet_on_ground_with_c130_at_gao(sahel) -> None:  # type: ignore[no-untyped-def]
    stops = sahel.truth.stops.to_pylist()

    def at(icao: int) -> list[tuple]:  # type: ignore[type-arg]
        return [(s["arrival"], s["departure"]) for s in stops
                if s["icao24"] == icao and s["airport"] == "GAGO" and s["arrival"] and s["departure"]]

    overlap = [(max(a1, a2), min(d1, d2)) for a1, d1 in at(C130) for a2, d2 in at(0x05C075)
               if max(a1, a2) < min(d1, d2)]
    assert len(overlap) == 1 and (overlap[0][1] - overlap[0][0]).total_seconds() > 1800


def test_coverage_outages_ranges_and_horizon(sahel) -> None:  # type: ignore[no-untyped-def]
    for rx in sahel.scenario.receivers:
        heard = sahel.positions.filter(pc.equal(sahel.positions["receiver"], rx.id))
        t = heard["time"].cast(pa.int64()).to_numpy() / 1e6
        for o in rx.outages:
            assert not ((t >= o.start) & (t <= o.end)).any()
        have = heard.filter(pc.is_valid(heard["lat"])).to_pylist()
        assert have, rx.id
        assert max(km(rx.lat, rx.lon, r["lat"], r["lon"]) for r in have) <= rx.range_km + 1
    # Tessalit has no receiver of its own: some GAGO->GATS legs are barely seen, others are
    legs = [leg for leg in rows(sahel.truth.legs, C130) if leg["destination"] == "GATS"]
    fr = [leg["observed_fraction"] for leg in legs]
    assert min(fr) < 0.05 and max(fr) > 0.5


def test_seed_reproducible(sahel) -> None:  # type: ignore[no-untyped-def]
    again = simulate(load_scenario("sahel-2023"))
    assert again.frames.equals(sahel.frames)
    other = simulate(load_scenario("sahel-2023"), seed=99)
    assert not other.frames["time"].equals(sahel.frames["time"])


def test_positions_are_what_rs1090_decodes() -> None:
    res = simulate(load_scenario(SCN / "touch-and-go.yaml"))
    fr = res.frames.filter(pc.equal(res.frames["receiver"], "rx-gao"))
    pos = res.positions.filter(pc.equal(res.positions["receiver"], "rx-gao"))
    msgs = [m.hex() for m in fr["msg"].to_pylist()]
    ts = (fr["time"].cast(pa.int64()).to_numpy() / 1e6).tolist()
    dec = rs1090.decode(msgs, ts, reference=(16.27, -0.04))
    by_t = {round(r["time"].timestamp(), 6): r for r in pos.to_pylist()}
    n_pos = n_sq = 0
    for d, t in zip(dec, ts, strict=True):
        r = by_t.get(round(t, 6))
        assert r is not None and d["icao24"] == "062f01"
        if d["df"] == "11":  # an all-call reply only says "here", airborne (CA 5) or on the ground (CA 4)
            assert r["lat"] is None and r["alt_baro"] is None and r["squawk"] is None
            assert r["on_ground"] is (d["capability"] == "ground")
            continue
        if "callsign" in d:
            assert r["callsign"] == d["callsign"] == "5UMBH"
        if "altitude" in d and d.get("bds") != "06":
            assert r["alt_baro"] == d["altitude"]
        if "squawk" in d:
            assert r["squawk"] == d["squawk"] == "4512"
            n_sq += 1
        if "groundspeed" in d and d.get("bds") == "09":
            assert r["gs"] == pytest.approx(d["groundspeed"], abs=1e-3)
            assert r["vrate"] == d["vertical_rate"]
        if "latitude" in d and d.get("bds") == "05":
            assert r["lat"] == pytest.approx(d["latitude"], abs=1e-7)
            assert r["lon"] == pytest.approx(d["longitude"], abs=1e-7)
            n_pos += 1
    assert n_pos > 100 and n_sq > 10


def _airborne_near(res, code: str, within_km: float) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    return [r for r in rows(res.positions, C130)
            if r["lat"] is not None and near(code, r["lat"], r["lon"]) < within_km]


def test_touch_and_go_touches_then_climbs() -> None:
    res = simulate(load_scenario(SCN / "touch-and-go.yaml"))
    leg = res.truth.legs.to_pylist()[0]
    assert leg["touch_and_go"] == ["GAGO"] and leg["destination"] == "GAGO"
    t_touch = next(e for e in res.truth.events.to_pylist() if e["kind"] == "touch_and_go")["t_start"]
    ground = [r for r in _airborne_near(res, "GAGO", 4) if r["on_ground"] and r["time"] < leg["landing"]]
    assert ground and all(abs((r["time"] - t_touch).total_seconds()) < 30 for r in ground)
    after = [r for r in rows(res.positions, C130) if r["alt_baro"] is not None
             and t_touch < r["time"] < leg["landing"]]
    assert max(r["alt_baro"] for r in after) >= 870 + 1400  # climbed to circuit height


def test_go_around_low_pass_without_touching() -> None:
    res = simulate(load_scenario(SCN / "go-around.yaml"))
    leg = res.truth.legs.to_pylist()[0]
    assert leg["go_around"] == ["GAGO"] and leg["touch_and_go"] == []
    t_ga = next(e for e in res.truth.events.to_pylist() if e["kind"] == "go_around")["t_start"]
    # the first pass: everything within 3 km of the field up to a minute after the go-around
    first = [r for r in _airborne_near(res, "GAGO", 3) if (r["time"] - t_ga).total_seconds() < 60]
    assert first and not [r for r in first if r["on_ground"]]
    # low pass at 200 ft above the 870 ft field, then the climb to the circuit (1500 ft above)
    assert 870 + 100 <= min(r["alt_baro"] for r in first if r["alt_baro"] is not None) <= 870 + 400
    circuit = [r["alt_baro"] for r in rows(res.positions, C130)
               if r["alt_baro"] is not None and t_ga < r["time"] < leg["landing"]]
    assert max(circuit) >= 870 + 1400
    # the leg's only ground contact before the landing is none at all
    assert not [r for r in rows(res.positions, C130) if r["on_ground"] and leg["takeoff"] < r["time"] < leg["landing"]]


def test_diversion_lands_elsewhere_and_next_leg_starts_there() -> None:
    res = simulate(load_scenario(SCN / "diversion.yaml"))
    legs = res.truth.legs.to_pylist()
    assert (legs[0]["destination"], legs[0]["diverted_from"]) == ("DRRN", "GAGO")
    assert (legs[1]["origin"], legs[1]["destination"]) == ("DRRN", "GABS")
    low = [r for r in _airborne_near(res, "GAGO", 5) if r["alt_baro"] is not None]
    assert min(r["alt_baro"] for r in low) >= 870 + 600  # approach abandoned around 800 ft
    assert any(r["on_ground"] for r in _airborne_near(res, "DRRN", 5))


def test_squawk_7700_only_in_window() -> None:
    res = simulate(load_scenario(SCN / "squawk-7700.yaml"))
    ev = next(e for e in res.truth.events.to_pylist() if e["kind"] == "squawk")
    fr = res.frames.filter(pc.is_in(res.frames["kind"], pa.array([ID_REPLY, STATUS], pa.int8())))
    seen_7700 = 0
    for m, t in zip(fr["msg"].to_pylist(), fr["time"].to_pylist(), strict=True):
        sq = rs1090.decode(m.hex())["squawk"]
        inside = ev["t_start"] <= t <= ev["t_end"]
        assert sq == ("7700" if inside else "4512")
        seen_7700 += inside
    assert seen_7700 > 5


def test_transponder_off_window_is_silent() -> None:
    res = simulate(load_scenario(SCN / "transponder-off.yaml"))
    ev = next(e for e in res.truth.events.to_pylist() if e["kind"] == "transponder_off")
    t = res.frames["time"].to_pylist()
    assert not [x for x in t if ev["t_start"] <= x <= ev["t_end"]]
    assert [x for x in t if x < ev["t_start"]] and [x for x in t if x > ev["t_end"]]


def test_spoof_offset_and_twin() -> None:
    res = simulate(load_scenario(SCN / "spoof.yaml"))
    a, b = APT["GABS"], APT["GAGO"]
    ev = sorted((e for e in res.truth.events.to_pylist() if e["kind"] == "spoof"), key=lambda e: e["t_start"])

    def cross_track(lat: float, lon: float) -> float:
        # distance from the great circle GABS-GAGO, spherical formula
        d13 = km(a["lat"], a["lon"], lat, lon) / 6371.0
        b13, b12 = (math.radians(_brg(a["lat"], a["lon"], x, y)) for x, y in ((lat, lon), (b["lat"], b["lon"])))
        return abs(math.asin(math.sin(d13) * math.sin(b13 - b12))) * 6371.0

    pos = [r for r in rows(res.positions, C130) if r["lat"] is not None and r["on_ground"] is False]
    in1 = [r for r in pos if ev[0]["t_start"] <= r["time"] <= ev[0]["t_end"]]
    out = [r for r in pos if not any(e["t_start"] <= r["time"] <= e["t_end"] for e in ev)]
    assert in1 and all(30 <= cross_track(r["lat"], r["lon"]) <= 50 for r in in1)
    assert max(cross_track(r["lat"], r["lon"]) for r in out) < 2
    twin = [r for r in pos if ev[1]["t_start"] <= r["time"] <= ev[1]["t_end"] and r["alt_baro"] == 30000]
    assert twin and all(abs(km(13.8, -9.8, r["lat"], r["lon"]) - 10.0) < 0.2 for r in twin)


def _brg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    return math.degrees(math.atan2(math.sin(dl) * math.cos(p2),
                                   math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)))


def test_bad_scenarios_name_the_problem(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("aircraft:\n  - icao24: 062F01\n    legs:\n      - {from: GABS, to: XXXX, depart: 2023-08-20T06:00:00Z}\n"
                 "receivers:\n  - {id: r, lat: 12, lon: -8}\n")
    with pytest.raises(InputError, match=r"bad.yaml key aircraft\[0\].legs\[0\].to: unknown ICAO airport 'XXXX'"):
        load_scenario(p)
    p.write_text("aircraft: [\n  - icao24: 1\n")
    with pytest.raises(InputError, match=r"bad.yaml line \d+: invalid YAML"):
        load_scenario(p)
    p.write_text("aircraft:\n  - icao24: 062F01\nreceivers:\n  - {id: r, lat: twelve, lon: -8}\n")
    with pytest.raises(InputError, match=r"bad.yaml key receivers\[0\]: could not convert string to float"):
        load_scenario(p)
    p.write_text("aircraft:\n  - icao24: 062F01\n    class: army\nreceivers:\n  - {id: r, lat: 12, lon: -8}\n")
    with pytest.raises(InputError, match=r"key aircraft\[0\].class: 'army' is not one of military"):
        load_scenario(p)
    with pytest.raises(InputError, match="no such scenario"):
        load_scenario("no-such-scenario")


def test_rate_factor_thins_messages(tmp_path: Path) -> None:
    # rate: 10 -> airborne positions every 5 s instead of 0.5 s; velocity overridden to every 20 s
    text = (SCN / "track-lost.yaml").read_text().replace("rates: {", "rate: 10\nxrates: {")
    text = text.replace("xrates: {position: 2, velocity: 4,", "rates: {velocity: 20,")
    p = tmp_path / "thin.yaml"
    p.write_text(text)
    scn = load_scenario(p)
    assert (scn.rates.position, scn.rates.velocity, scn.rates.identification) == (5.0, 20.0, 10.0)
    res = simulate(scn)
    leg = res.truth.legs.to_pylist()[0]
    airborne_s = (leg["block_on"] - leg["takeoff"]).total_seconds()
    sent = res.frames.filter(pc.equal(res.frames["kind"], 1))
    # each frame heard by up to two receivers; at least one hears the departure and arrival ends
    per_rx = [sent.filter(pc.equal(sent["receiver"], r.id)).num_rows for r in scn.receivers]
    assert max(per_rx) <= airborne_s / 5.0 + 1
    assert sum(per_rx) >= 0.5 * airborne_s / 5.0


def test_aircraft_without_legs_is_silent_but_known(tmp_path: Path) -> None:
    p = tmp_path / "parked.yaml"
    p.write_text("aircraft:\n  - {icao24: 05C05A, registration: TZ-001, class: government}\n"
                 "  - icao24: 062F01\n    legs:\n      - {from: GABS, to: GAGO, depart: 2023-08-20T06:00:00Z}\n"
                 "receivers:\n  - {id: r, lat: 12.6, lon: -8.0, alt_m: 20}\n")
    res = simulate(load_scenario(p))
    assert set(res.frames["icao24"].to_pylist()) == {C130}
    assert res.truth.legs.num_rows == 1
    assert [r["registration"] for r in res.truth.identity_records()] == ["TZ-001", None]


def test_gnss_height_frames(tmp_path: Path) -> None:
    text = (SCN / "track-lost.yaml").read_text().replace("rates: {", "rates: {gnss: 10, ")
    p = tmp_path / "gnss.yaml"
    p.write_text(text)
    res = simulate(load_scenario(p))
    fr = res.frames.filter(pc.equal(res.frames["kind"], 4))
    pos = {(r["time"], r["receiver"]): r for r in res.positions.to_pylist() if r["alt_geom"] is not None}
    assert fr.num_rows > 100 and len(pos) == fr.num_rows
    for m, t, rx in zip(fr["msg"].to_pylist()[:300], fr["time"].to_pylist(), fr["receiver"].to_pylist(), strict=False):
        d = rs1090.decode(m.hex())
        assert d["tc"] == 20 and d["source"] == "GNSS"
        assert pos[(t, rx)]["alt_geom"] == d["altitude"] and pos[(t, rx)]["alt_baro"] is None
