"""Claim extraction: the seed article and our own articles in other styles.

Expected claims are written by hand from reading each text (a careful reader's
list), not produced by the extractor.
"""

from __future__ import annotations

import datetime as dt
import doctest
import importlib
from pathlib import Path

import pytest

from tailwatch.claims.dates import article_year, find_dates
from tailwatch.claims.extract import extract_claims, sentences
from tailwatch.claims.gazetteer import Gazetteer
from tailwatch.claims.refs import find_aircraft, normalise_registration

ARTICLES = Path(__file__).parent / "articles"


@pytest.fixture(scope="module")
def seed(shared_data: Path) -> str:
    return (shared_data.parent / "seed" / "sahel-c130-article.txt").read_text(encoding="utf-8")


def summary(text: str, year: int | None = None) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for c in extract_claims(text, year=year):
        when = c.on or c.since
        out.append((c.kind, c.registrations, c.places, c.states, c.event, when and when.isoformat(),
                    c.min_count))
    return out


def test_seed_yields_exactly_the_claims_a_careful_reader_finds(seed: str) -> None:
    # Read by hand:
    # 1. Niger supports Mali by providing the C-130 (para 1; restated "supporting the Malian
    #    military government", "provision of the C130 aircraft by Niger to Mali").
    # 2. ... since August 20 (year 2023 from "in 2023").
    # 3. The aircraft is 5U-MBH, a C-130.
    # 4. It made multiple trips Bamako-Gao-Tessalit-Niamey-Bamako ("Niamay" is a misspelling).
    # 5. It crashed in Gao.
    # The lieutenant-colonel's death and the CSP-PSD operations are not in transponder data.
    reg = ("5U-MBH",)
    assert summary(seed) == [
        ("operation", reg, (), ("NE", "ML"), None, None, 1),
        ("period", reg, (), ("NE", "ML"), None, "2023-08-20", 1),
        ("aircraft", reg, (), (), None, None, 1),
        ("route", reg, ("GABS", "GAGO", "GATS", "DRRN", "GABS"), (), None, None, 2),
        ("event", reg, ("GAGO",), (), "crash", None, 1),
    ]
    claims = extract_claims(seed)
    assert claims[0].sentence.startswith("Amidst the escalating tensions")
    assert len(claims[0].also) == 2  # "has been actively supporting", "provision ... by Niger to Mali"
    assert claims[2].type_code == "C130"
    assert claims[3].round_trip
    assert "Tessalit-Niamay-Bamako" in claims[3].sentence
    assert claims[4].sentence.startswith("The tragic loss")
    assert [c.line for c in claims] == [1, 5, 5, 5, 5]


def test_wire_copy() -> None:
    got = summary((ARTICLES / "wire_supported.txt").read_text())
    reg = ("5U-MBH",)
    assert got == [
        ("operation", reg, (), ("NE", "ML"), None, None, 1),  # "Niger's air force has lent ... to ... Mali"
        ("aircraft", reg, (), (), None, None, 1),  # "tail number 5UMBH"
        ("route", reg, ("GAGO", "GATS", "DRRN"), (), None, "2023-08-24", 1),  # "Gao-Tessalit-Niamay route"
        ("leg", reg, ("GABS", "GAGO"), (), None, "2023-08-24", 1),  # "from Bamako to Gao on Aug. 24, 2023"
        ("event", reg, ("GATS",), (), "landing", "2023-08-24", 1),  # "landed at Tessalit on August 24, 2023"
    ]


def test_thread_of_posts() -> None:
    text = (ARTICLES / "thread_posts.txt").read_text()
    claims = extract_claims(text)
    assert [(c.kind, c.line) for c in claims] == [("aircraft", 1), ("route", 2), ("operation", 3),
                                                  ("period", 3), ("event", 4)]
    assert claims[0].registrations == ("5U-MBH",) and claims[0].icao24 == (0x062F01,)
    assert claims[1].places == ("GABS", "GAGO", "GATS", "DRRN", "GABS") and claims[1].min_count == 3
    assert claims[3].since == dt.date(2023, 8, 20)
    assert claims[4].event == "crash" and claims[4].places == ("GAGO",)


def test_report_with_a_table() -> None:
    got = summary((ARTICLES / "report_table.txt").read_text())
    reg = ("5U-MBH",)
    assert got == [
        ("aircraft", reg, (), (), None, None, 1),
        ("leg", reg, ("GABS", "GAGO"), (), None, "2023-08-20", 1),
        ("leg", reg, ("GAGO", "GATS"), (), None, "2023-08-20", 1),
        ("leg", reg, ("DRRN", "DRZA"), (), None, "2023-08-21", 1),
    ]


def test_dateline_date_is_not_the_flight_date() -> None:
    got = summary((ARTICLES / "contradicted_wire.txt").read_text())
    assert ("leg", ("5U-MBH",), ("GABS", "DRZA"), (), None, "2023-08-22", 1) in got
    assert ("route", ("5U-MBH",), ("DRRN", "DRZA", "DRRN"), (), None, None, 2) in got


def test_registration_spellings_follow_the_prefix_rules() -> None:
    assert [normalise_registration(t) for t in ("5UMBH", "5u-mbh", "TZ-PRM", "N899DN", "F-16", "C-130")] == [
        "5U-MBH", "5U-MBH", "TZ-PRM", "N899DN", None, None]
    refs = find_aircraft("the Hercules 5u mbh, ICAO hex 062f01, next to a C-17 and TZ-PRM")
    assert [(r.registration, r.icao24, r.type_code) for r in refs] == [
        (None, None, "C130"), ("5U-MBH", None, None), (None, 0x062F01, None), (None, None, "C17"),
        ("TZ-PRM", None, None)]


def test_registration_prefixes_agree_with_vrs_table(shared_data: Path) -> None:
    """Every hyphenated prefix in the VRS table, with a 3-letter suffix, is normalised back to it."""
    path = shared_data / "vrs_standing_data" / "registration-prefixes" / "schema-01" / "reg-prefixes.csv"
    rows = [line.split(",") for line in path.read_text(encoding="utf-8-sig").splitlines()[1:]]
    for prefix, _iso, has_hyphen, *_ in rows:
        if has_hyphen == "1":
            assert normalise_registration(f"{prefix}-ABC") == f"{prefix}-ABC", prefix


def test_gazetteer_fuzzy_and_context() -> None:
    g = Gazetteer.default()
    # airportsdata: DRRN "Diori Hamani International Airport", city Niamey; GAGO "Gao Airport".
    assert g.resolve_place("Niamay", context=("NE", "ML")).icao == "DRRN"  # type: ignore[union-attr]
    assert g.resolve_place("Tessalit").icao == "GATS"  # type: ignore[union-attr]
    assert g.resolve_place("GAGO").icao == "GAGO"  # type: ignore[union-attr]
    assert g.resolve_place("Mali") is None  # a country is not an airport
    assert [g.country(w) for w in ("Malian", "Nigerien", "Nigerian", "Niger's".replace("'s", ""))] == [
        "ML", "NE", "NG", "NE"]


def test_dates_and_year_from_context() -> None:
    assert article_year("showcasing the depth of cooperation in 2023.") == 2023
    (d,) = find_dates("Since August 20, the regime", 2023)
    assert (d.role, d.day) == ("since", dt.date(2023, 8, 20))
    (d,) = find_dates("until 5 Sept.", 2024)
    assert (d.role, d.day) == ("until", dt.date(2024, 9, 5))


def test_year_option_fills_dates_without_year() -> None:
    text = "Since August 20, Niger has been supporting Mali with its C-130 5U-MBH."
    (period,) = [c for c in extract_claims(text) if c.kind == "period"]
    assert not period.year_stated
    (period,) = [c for c in extract_claims(text, year=2024) if c.kind == "period"]
    assert period.since == dt.date(2024, 8, 20) and period.year_stated


def test_sentence_splitting_keeps_abbreviations_and_lines() -> None:
    got = [(s.text, s.line) for s in sentences("Gen. Tiani spoke. Lt. Col. X died.\n\n2/ Sept. 2 it flew")]
    assert got == [("Gen. Tiani spoke.", 1), ("Lt. Col. X died.", 1), ("2/ Sept. 2 it flew", 3)]


def test_no_claims_from_text_without_any() -> None:
    text = ("However, this military support also raises questions about the long-term implications "
            "for civil governance in the region.")
    assert extract_claims(text) == []


@pytest.mark.parametrize("module", ["dates", "extract", "gazetteer", "refs", "render"])
def test_doctests(module: str) -> None:
    result = doctest.testmod(importlib.import_module(f"tailwatch.claims.{module}"))
    assert result.attempted > 0 and result.failed == 0


def test_two_aircraft_each_claim_gets_its_own() -> None:
    got = summary((ARTICLES / "two_aircraft_wire.txt").read_text())
    assert got == [
        ("aircraft", ("TZ-PRM",), (), (), None, None, 1),
        ("leg", ("TZ-PRM",), ("GABS", "DRRN"), (), None, "2023-08-27", 1),
        ("aircraft", ("5U-MBH",), (), (), None, None, 1),
        # "it landed at Gao, where ... 5U-MBH was parked": the pronoun is the jet of the sentence before
        ("event", ("TZ-PRM",), ("GAGO",), (), "landing", "2023-09-10", 1),
    ]
    types = [c.type_code for c in extract_claims((ARTICLES / "two_aircraft_wire.txt").read_text())
             if c.kind == "aircraft"]
    assert types == ["B737", "C130"]


def test_flew_to_x_from_y() -> None:
    got = summary("The C-130 5U-MBH flew to Gao from Niamey on 2023-08-21.")
    assert ("leg", ("5U-MBH",), ("DRRN", "GAGO"), (), None, "2023-08-21", 1) in got
