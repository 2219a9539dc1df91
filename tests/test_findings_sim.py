"""Findings against the simulator's ground truth: found when present, absent when not.

Each scenario in tests/scenarios (and the built-in sahel-2023) is simulated; its truth
events say which incidents, spoofs and transponder-off periods happened, and the truth
aircraft list gives identities.  Legs/stops come from ``legs_and_stops`` on the received
positions, as in a real store.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from tailwatch.analysis.airports import load_airports
from tailwatch.analysis.findings.build import aircraft_table, build_findings
from tailwatch.analysis.findings.gaps import coverage_cells, dark_periods, merge_coverage
from tailwatch.analysis.findings.incident import incident
from tailwatch.analysis.findings.spoofing import spoofing
from tailwatch.sim import load_scenario, simulate

SCENARIOS = sorted(str(p) for p in (Path(__file__).parent / "scenarios").glob("*.yaml"))


@cache
def _run(name: str) -> Any:
    return simulate(load_scenario(name))


@pytest.fixture(scope="module")
def airports() -> pa.Table:
    return load_airports()


def _events(result: Any, kind: str) -> list[dict[str, Any]]:
    return [e for e in result.truth.events.to_pylist() if e["kind"] == kind]


def _overlaps(f: dict[str, Any], e: dict[str, Any], slack_s: float = 60) -> bool:
    s = timedelta(seconds=slack_s)
    return bool(f["t_start"] <= e["t_end"] + s and f["t_end"] >= e["t_start"] - s)


@pytest.mark.parametrize("name", [*SCENARIOS, "sahel-2023"])
def test_incidents_match_truth(name: str, airports: pa.Table) -> None:
    r = _run(name)
    found = incident(r.positions, airports).to_pylist()
    squawks = _events(r, "squawk")
    lost = _events(r, "track_lost")
    for e in squawks:  # each emergency squawk of the truth is found in its window
        assert any(_overlaps(f, e) and e["detail"].split()[-1] in f["summary"] for f in found), e
    for e in lost:  # each track lost on final is found within a minute, at its airfield
        hits = [f for f in found if orjson.loads(f["evidence"])["type"].startswith("track_end")]
        assert any(_overlaps(f, e) and e["place"] in f["places"] for f in hits), (e, found)
    # Nothing else: every finding is explained by a truth event.
    for f in found:
        assert any(_overlaps(f, e, 300) for e in squawks + lost), f["summary"]


@pytest.mark.parametrize("name", [*SCENARIOS, "sahel-2023"])
def test_spoofing_matches_truth(name: str) -> None:
    r = _run(name)
    found = spoofing(r.positions).to_pylist()
    t = r.positions.column("time")
    for e in _events(r, "spoof"):
        heard = pc.sum(pc.and_(pc.greater_equal(t, pa.scalar(e["t_start"], t.type)),
                               pc.less_equal(t, pa.scalar(e["t_end"], t.type)))).as_py()
        if heard:  # a spoof nobody received cannot be found (spoof.yaml's first one is out of range)
            assert any(_overlaps(f, e) for f in found), e
    for f in found:
        assert any(_overlaps(f, e) for e in _events(r, "spoof")), f["summary"]


@pytest.mark.parametrize("name", [*SCENARIOS, "sahel-2023"])
def test_transponder_off_matches_truth(name: str, airports: pa.Table) -> None:
    # Coverage is learnt as a store would: from the same traffic on a day without events.
    r = _run(name)
    base = simulate(dataclasses.replace(r.scenario, events=()))
    cov = merge_coverage([coverage_cells(r.positions), coverage_cells(base.positions)])
    found = dark_periods(r.positions, airports, coverage=cov).to_pylist()
    off = _events(r, "transponder_off")
    for e in off:
        assert any(_overlaps(f, e, 120) for f in found), e
    for f in found:
        assert any(_overlaps(f, e, 120) for e in off), f["summary"]


class _TruthIdentity:
    """An ``annotate`` built from the simulator's identity records."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.rows = {int(a["icao24"], 16): a for a in records}

    def annotate(self, icao24: pa.Array) -> pa.Table:
        ids = icao24.to_pylist()
        get = lambda k: [self.rows.get(i, {}).get(k) for i in ids]  # noqa: E731
        cc = {"Niger": "NE", "Mali": "ML", "Algeria": "DZ", "Turkey": "TR", "Cote d'Ivoire": "CI"}
        return pa.table({"icao24": pa.array(ids, pa.int32()), "registration": get("registration"),
                         "operator": get("operator"), "country_iso2": [cc.get(c) for c in get("country")],
                         "aircraft_class": get("aircraft_class")})


def test_sahel_store_end_to_end(tmp_path: Path, airports: pa.Table) -> None:
    from tailwatch.analysis.legs import legs_and_stops
    from tailwatch.store import open_store

    r = _run("sahel-2023")
    store = open_store(tmp_path / "store")
    store.add_positions(r.positions, "sim-sahel-2023")
    legs, stops = legs_and_stops(store.positions(), airports)
    store.write_derived("legs", legs)
    store.write_derived("stops", stops)
    n = build_findings(store, _TruthIdentity(r.truth.aircraft), batch_rows=20_000)
    f = store.derived("findings")
    assert f.num_rows == n > 0
    rows = f.to_pylist()
    kinds = {x["kind"] for x in rows if x["subject"] == "062F01"}
    # Truth: 062F01 (Niger, military) rotates Bamako–Gao–(Tessalit)–Niamey–Bamako from 2023-08-20,
    # works Malian airfields, is based at Bamako, and its track is lost on final at Gao.
    assert {"rotation", "foreign_operation", "basing", "incident"} <= kinds
    rot = next(x for x in rows if x["kind"] == "rotation" and x["subject"] == "062F01")
    assert {"GABS", "GAGO", "DRRN"} <= set(rot["places"]) and orjson.loads(rot["evidence"])["count"] >= 3
    fo = next(x for x in rows if x["kind"] == "foreign_operation" and x["subject"] == "062F01")
    assert orjson.loads(fo["evidence"])["country"] == "ML"
    inc = [x for x in rows if x["kind"] == "incident"]
    assert len(inc) == 1 and inc[0]["places"] == ["GAGO"]
    assert not [x for x in rows if x["kind"] == "spoofing"]
    # Co-location: each finding is a truth overlap of two military/government aircraft there.
    watched = {int(a["icao24"], 16) for a in r.truth.aircraft if a["aircraft_class"] in ("military", "government")}
    lo, hi = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    stays = [{**x, "arrival": x["arrival"] or lo, "departure": x["departure"] or hi}  # open ends: data edges
             for x in r.truth.stops.to_pylist() if x["icao24"] in watched]
    colo = [x for x in rows if x["kind"] == "co_location"]
    assert colo
    for x in colo:
        apt = x["places"][0]
        members = {int(h, 16) for h in orjson.loads(x["evidence"])["icao24"]}
        assert any(a["airport"] == b["airport"] == apt and a["icao24"] != b["icao24"]
                   and {a["icao24"], b["icao24"]} <= members
                   and a["arrival"] < b["departure"] and b["arrival"] < a["departure"]
                   and a["arrival"] < x["t_end"] and a["departure"] > x["t_start"]
                   for a in stays for b in stays), x["summary"]
    # The civil airliners are neither foreign operations nor co-located "watched" aircraft.
    civil = {0x0A0047, 0x03804C, 0x4BAA53}
    assert not [x for x in rows if x["kind"] in ("foreign_operation", "co_location") and x["icao24"] in civil]


def test_aircraft_table_without_identity_uses_address_block() -> None:
    t = aircraft_table(pa.array([0x062F01, 0x062F01, 0x3C6444], pa.int32()))
    # 062F01 lies in Niger's block, 3C6444 in Germany's (ICAO Annex 10 allocation).
    assert dict(zip(t.column("icao24").to_pylist(), t.column("country_iso2").to_pylist(), strict=True)) == {
        0x062F01: "NE", 0x3C6444: "DE"}
