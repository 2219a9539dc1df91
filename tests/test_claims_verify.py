"""Verdicts on hand-built legs / stops / findings / coverage tables that model the seed's story.

The scenario (written out by hand below, so the expected verdicts follow from
it, not from the code under test): Niger Air Force C-130H 5U-MBH (062F01)
flies three Bamako (GABS) → Gao (GAGO) → Tessalit (GATS) → Niamey (DRRN) →
Bamako rotations from 2023-08-20, then Bamako → Gao on 2023-09-02 where its
track ends low on final (an ``incident`` finding at GAGO). Receivers cover the
four airports every day from 2023-08-15 to 2023-09-05; Agadez (DRZA) is
covered too, and Arlit (DRZL) and Dirkou (DRZD) never.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from pathlib import Path

import orjson
import pyarrow as pa
import pytest

from tailwatch.claims.extract import extract_claims
from tailwatch.claims.gazetteer import Gazetteer
from tailwatch.claims.model import Claim
from tailwatch.claims.verify import COVERAGE, IDENTITY, Evidence, verify_claims
from tailwatch.schema import FINDINGS, LEGS, STOPS

ARTICLES = Path(__file__).parent / "articles"
UTC = dt.UTC
HEX = 0x062F01
CYCLE = ["GABS", "GAGO", "GATS", "DRRN", "GABS"]


def _t(day: int, hour: int, month: int = 8) -> dt.datetime:
    return dt.datetime(2023, month, day, hour, tzinfo=UTC)


def scenario_legs() -> list[tuple[str, str, dt.datetime, dt.datetime]]:
    """Three rotations of four legs, one rotation every four days from 20 Aug, then GABS→GAGO on 2 Sep."""
    legs = []
    for r in range(3):
        day = 20 + 4 * r
        for k in range(4):
            start = _t(day, 6 + 3 * k)
            legs.append((CYCLE[k], CYCLE[k + 1], start, start + dt.timedelta(hours=2)))
    legs.append(("GABS", "GAGO", _t(2, 8, 9), _t(2, 10, 9)))
    return legs


def evidence(legs: list[tuple[str | None, str | None, dt.datetime, dt.datetime]] | None = None,
             incident: bool = True, identity: bool = True, low_gap: str | None = None) -> Evidence:
    """The scenario's tables; ``low_gap``: an airport receivers only saw aircraft high above."""
    legs = scenario_legs() if legs is None else legs
    leg_rows = [{
        "leg_id": f"062F01-{int(t0.timestamp())}", "icao24": HEX, "callsign": "NAF01", "t_start": t0, "t_end": t1,
        "origin": o, "origin_confidence": 0.9, "origin_reason": "took off from", "destination": d,
        "destination_confidence": 0.9, "destination_reason": "landed at", "diverted_from": None,
        "touch_and_go": [], "go_around": [], "n_points": 500, "first_lat": None, "first_lon": None,
        "first_alt": None, "last_lat": None, "last_lon": None, "last_alt": None, "max_alt": 24000.0,
        "distance_km": 900.0} for o, d, t0, t1 in legs]
    stop_rows = []
    for a, b in itertools.pairwise(leg_rows):
        stop_rows.append({
            "stop_id": f"s-{a['leg_id']}", "icao24": HEX, "airport": a["destination"], "arrival": a["t_end"],
            "departure": b["t_start"], "dwell_s": (b["t_start"] - a["t_end"]).total_seconds(),
            "arrival_leg_id": a["leg_id"], "departure_leg_id": b["leg_id"], "lat": None, "lon": None,
            "confidence": 0.9, "reason": "on ground"})
    findings = [{
        "finding_id": "foreign_operation-1", "kind": "foreign_operation", "subject": "062F01", "icao24": HEX,
        "t_start": _t(20, 6), "t_end": _t(2, 10, 9), "places": ["ML", "GABS", "GAGO", "GATS"], "confidence": 0.9,
        "summary": "Niger-registered 062F01 operated at Malian airfields", "evidence": "{}"}]
    if incident:
        findings.append({
            "finding_id": "incident-1", "kind": "incident", "subject": "062F01", "icao24": HEX,
            "t_start": _t(2, 10, 9), "t_end": _t(2, 10, 9), "places": ["GAGO"], "confidence": 0.7,
            "summary": "track of 062F01 ends 300 ft above Gao, descending",
            "evidence": orjson.dumps({"type": "track_end_low"}).decode()})
    cov_rows = [{"place": p, "day": dt.date(2023, 8, 15) + dt.timedelta(days=i), "n_positions": 400, "n_aircraft": 3,
                 "n_low": 0 if p == low_gap else 40}
                for p in ("GABS", "GAGO", "GATS", "DRRN", "DRZA") for i in range(22)]
    ident_rows = [{"icao24": HEX, "registration": "5U-MBH", "typecode": "C130", "operator": "Niger Air Force",
                   "country_iso2": "NE", "source": "plane-alert-db"}] if identity else []
    g = Gazetteer.default()

    def country_of(code: str) -> str | None:
        a = g.airport(code)
        return None if a is None else str(a["country"])

    return Evidence(pa.Table.from_pylist(leg_rows, LEGS), pa.Table.from_pylist(stop_rows, STOPS),
                    pa.Table.from_pylist(findings, FINDINGS), pa.Table.from_pylist(cov_rows, COVERAGE),
                    pa.Table.from_pylist(ident_rows, IDENTITY), country_of)


def verdicts(text: str, ev: Evidence, year: int | None = None) -> list[tuple[str, str]]:
    claims = extract_claims(text, year=year)
    return [(c.kind, v.verdict) for c, v in zip(claims, verify_claims(claims, ev), strict=True)]


@pytest.fixture(scope="module")
def seed(shared_data: Path) -> str:
    """The seed article (beside ../shared/data; CI fails rather than skips without it)."""
    return (shared_data.parent / "seed" / "sahel-c130-article.txt").read_text(encoding="utf-8")


def test_seed_every_claim_supported_by_the_scenario(seed: str) -> None:
    got = verdicts(seed, evidence())
    assert got == [("operation", "supported"), ("period", "supported"), ("aircraft", "supported"),
                   ("route", "supported"), ("event", "supported")]


def test_route_counts_rotations_and_names_the_legs(seed: str) -> None:
    claims = [c for c in extract_claims(seed) if c.kind == "route"]
    (v,) = verify_claims(claims, evidence())
    assert v.reason.startswith("3 sequence(s) of legs match")  # three rotations were built above
    assert len(v.evidence["legs"]) == 12


def test_one_rotation_is_not_multiple_trips(seed: str) -> None:
    legs = scenario_legs()[:4]  # a single rotation
    got = dict(verdicts(seed, evidence(legs)))
    assert got["route"] == "ambiguous"


def test_rotation_with_a_leg_missing_still_counts_with_the_gap_stated(seed: str) -> None:
    legs: list[tuple[str | None, str | None, dt.datetime, dt.datetime]] = list(scenario_legs())
    legs[6] = ("GATS", None, legs[6][2], legs[6][3])  # 2nd rotation: landing at Niamey not evidenced
    claims = [c for c in extract_claims(seed) if c.kind == "route"]
    (v,) = verify_claims(claims, evidence(legs))
    assert v.verdict == "supported" and "2 with every landing seen, 1 without the landing at DRRN" in v.reason


def tessalit_unseen() -> list[tuple[str | None, str | None, dt.datetime, dt.datetime]]:
    legs: list[tuple[str | None, str | None, dt.datetime, dt.datetime]] = list(scenario_legs())
    # rotation 1: the stop at Tessalit not seen at all, so Gao → Niamey looks like one leg
    legs[1:3] = [("GAGO", "DRRN", legs[1][2], legs[2][3])]
    # rotation 2 (now legs 3-6): Tessalit not covered, the kernel ends a leg and starts the next without it
    legs[4] = ("GAGO", None, legs[4][2], legs[4][3])
    legs[5] = (None, "DRRN", legs[5][2], legs[5][3])
    return legs


def test_rotation_with_tessalit_out_of_coverage_counts_as_a_gap(seed: str) -> None:
    claims = [c for c in extract_claims(seed) if c.kind == "route"]
    (v,) = verify_claims(claims, evidence(tessalit_unseen(), low_gap="GATS"))
    # 1 rotation seen whole + 2 without Tessalit, where nobody saw any aircraft low = 3 ≥ "multiple"
    assert v.verdict == "supported"
    assert v.reason.startswith("3 sequence(s)") and "1 with every landing seen, 2 without the landing at GATS" in v.reason
    assert "not observable" in v.reason
    assert len(v.evidence["legs"]) == 3 + 4 + 4


def test_rotation_never_seen_at_a_covered_stop_is_ambiguous(seed: str) -> None:
    legs = tessalit_unseen()
    legs[8:10] = [("GAGO", "DRRN", legs[8][2], legs[9][3])]  # rotation 3 without Tessalit too
    claims = [c for c in extract_claims(seed) if c.kind == "route"]
    (v,) = verify_claims(claims, evidence(legs))  # receivers saw aircraft low near GATS every day
    assert v.verdict == "ambiguous" and "only without a landing at GATS" in v.reason
    (v,) = verify_claims(claims, evidence(legs, low_gap="GATS"))  # nobody could see a landing there
    assert v.verdict == "supported"


def test_no_incident_but_ordinary_landings_at_gao_contradict_the_crash(seed: str) -> None:
    legs = [*scenario_legs()[:-1], ("GABS", "GAGO", _t(2, 8, 9), _t(2, 10, 9)), ("GAGO", "GABS", _t(2, 12, 9), _t(2, 14, 9))]
    got = dict(verdicts(seed, evidence(legs, incident=False)))
    assert got["event"] == "contradicted"


def test_without_identity_the_registration_cannot_be_tied_to_an_address(seed: str) -> None:
    got = verdicts(seed, evidence(identity=False))
    assert dict(got)["aircraft"] == "ambiguous"
    assert dict(got)["route"] == "ambiguous"


def test_period_started_weeks_earlier_is_contradicted() -> None:
    text = "Since October 1, 2023, the Niger Air Force C-130 5U-MBH has been operating in Mali."
    got = dict(verdicts(text, evidence()))
    assert got["period"] == "contradicted"  # legs in Mali from 20 August


def test_article_year_missing_makes_period_ambiguous() -> None:
    text = "Since August 20, Niger has been supporting Mali with its C-130 5U-MBH."
    assert dict(verdicts(text, evidence()))["period"] == "ambiguous"
    assert dict(verdicts(text, evidence(), year=2023))["period"] == "supported"


@pytest.mark.parametrize("name", ["contradicted_wire.txt"])
def test_article_the_data_contradicts(name: str) -> None:
    got = verdicts((ARTICLES / name).read_text(), evidence())
    assert ("leg", "contradicted") in got and ("route", "contradicted") in got
    assert all(v != "supported" for k, v in got if k in ("leg", "route"))


def test_article_about_a_place_without_coverage_is_not_observable() -> None:
    got = verdicts((ARTICLES / "arlit_no_coverage.txt").read_text(), evidence())
    kinds = {k: v for k, v in got}
    assert kinds["leg"] == "not observable"
    assert kinds["event"] == "not observable"


def test_every_claim_kind_has_a_verdict_on_an_empty_store(seed: str) -> None:
    ev = Evidence.empty(lambda code: None)
    claims: list[Claim] = extract_claims(seed)
    got = [v.verdict for v in verify_claims(claims, ev)]
    # nothing is known: identity rows missing → ambiguous; never "supported" or "contradicted"
    assert set(got) <= {"ambiguous", "not observable"}


def test_registration_and_hex_that_do_not_belong_together_are_contradicted() -> None:
    # plane-alert-db (the scenario's identity row): 5U-MBH is 062F01, not 062F02
    text = "The Hercules 5U-MBH (ICAO hex 062F02) landed at Gao on August 20, 2023."
    got = verdicts(text, evidence())
    assert got[0] == ("aircraft", "contradicted")
    assert verdicts(text.replace("062F02", "062F01"), evidence())[0] == ("aircraft", "supported")


def test_period_until_a_date_the_aircraft_kept_flying_after_is_contradicted() -> None:
    # the scenario's rotations start 20 August and its last leg is on 2 September
    text = "The Niger Air Force C-130 5U-MBH flew from August 20 until {end}, 2023."
    period = {end: dict(verdicts(text.format(end=end), evidence()))["period"]
              for end in ("August 25", "September 2")}
    assert period == {"August 25": "contradicted", "September 2": "supported"}


def test_emergency_needs_a_squawk_or_emergency_incident_not_a_track_end() -> None:
    text = "The C-130 5U-MBH declared an emergency at Gao on September 2, 2023."
    ev = evidence()  # its only incident is the track ending low at Gao
    assert dict(verdicts(text, ev))["event"] == "ambiguous"
    squawk = {"finding_id": "incident-2", "kind": "incident", "subject": "062F01", "icao24": HEX,
              "t_start": _t(2, 9, 9), "t_end": _t(2, 10, 9), "places": ["GAGO"], "confidence": 0.9,
              "summary": "062F01 squawked 7700 near Gao", "evidence": orjson.dumps({"type": "squawk"}).decode()}
    with_squawk = dataclasses.replace(ev, findings=pa.concat_tables(
        [ev.findings, pa.Table.from_pylist([squawk], FINDINGS)]))
    assert dict(verdicts(text, with_squawk))["event"] == "supported"
