"""Agreement with an independent reference: traffic 2.13's landings on real flights.

``tests/fixtures/traffic_reference/quickstart_landings.csv`` is the output of the PEER
(``bench/make_traffic_reference.py`` run in ``bench/.venv-peers`` with traffic 2.13,
``Traffic.iterate(by="10 min")`` then ``flight.landing(method="any")``), not of tailwatch.
For each flight traffic cuts, its last landing attempt is where the flight landed; tailwatch
must name that airport as the destination of a leg of the same aircraft overlapping the flight.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from tailwatch.analysis.airports import load_airports
from tailwatch.analysis.legs import legs_and_stops
from tailwatch.errors import Rejects
from tailwatch.sources import get_reader

REF = Path(__file__).parent / "fixtures" / "traffic_reference" / "quickstart_landings.csv"


@pytest.fixture(scope="module")
def quickstart_legs(shared_data: Path) -> tuple[pa.Table, pa.Table, pa.Table]:
    path = shared_data / "traffic_samples" / "collections" / "quickstart.json.gz"
    rejects = Rejects()
    pos = pa.Table.from_batches([c.batch for c in get_reader("traffic").read(path, rejects)])
    assert rejects.total == 0
    legs, stops = legs_and_stops(pos, load_airports())
    return pos, legs, stops


def _reference() -> dict[tuple[str, str], dict[str, str]]:
    """Last landing attempt of each traffic flight (attempts are in time order per flight)."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    with REF.open() as fh:
        for row in csv.DictReader(fh):
            out[(row["icao24"], row["flight_start"])] = row
    return out


def test_landing_airports_agree_with_traffic(quickstart_legs: tuple[pa.Table, pa.Table, pa.Table]) -> None:
    _, legs, _ = quickstart_legs
    ref = _reference()
    assert len(ref) == 97  # flights in which traffic found a landing (98 distinct rows minus the header)
    rows = legs.to_pylist()
    agree, disagree = 0, []
    for (icao, start), r in ref.items():
        f0 = dt.datetime.fromisoformat(start)
        f1 = dt.datetime.fromisoformat(r["flight_stop"])
        mine = [leg for leg in rows if f"{leg['icao24']:06x}" == icao and leg["t_start"] <= f1 and leg["t_end"] >= f0]
        if r["airport"] in {leg["destination"] for leg in mine}:
            agree += 1
        else:
            disagree.append((icao, r["callsign"], r["airport"], [leg["destination_reason"] for leg in mine]))
    assert agree / len(ref) >= 0.97, disagree


def test_every_traffic_attempt_is_a_landing_or_an_approach_we_report(
    quickstart_legs: tuple[pa.Table, pa.Table, pa.Table],
) -> None:
    """Earlier attempts in a flight (traffic yields one per runway alignment) are go-arounds or the landing."""
    _, legs, _ = quickstart_legs
    rows = legs.to_pylist()
    seen = 0
    with REF.open() as fh:
        for r in csv.DictReader(fh):
            a0 = dt.datetime.fromisoformat(r["attempt_start"])
            a1 = dt.datetime.fromisoformat(r["attempt_stop"])
            mine = [leg for leg in rows if f"{leg['icao24']:06x}" == r["icao24"]
                    and leg["t_start"] <= a1 and leg["t_end"] >= a0]
            places = {leg["destination"] for leg in mine} | {a for leg in mine for a in leg["go_around"]} \
                | {a for leg in mine for a in leg["touch_and_go"]}
            seen += r["airport"] in places
    assert seen >= 100  # of 103 attempts


def test_cruise_starts_are_not_given_invented_origins(quickstart_legs: tuple[pa.Table, pa.Table, pa.Table]) -> None:
    """traffic's infer_airport gives every leg an origin; legs first seen at cruise must not get one."""
    _, legs, _ = quickstart_legs
    high = [leg for leg in legs.to_pylist() if leg["first_alt"] is not None and leg["first_alt"] >= 5000]
    assert len(high) > 50
    for leg in high:
        assert leg["origin"] is None, leg
        assert leg["origin_reason"].startswith("unknown (first seen at "), leg["origin_reason"]
        assert "km from the nearest airport" in leg["origin_reason"]


def test_stops_link_real_legs(quickstart_legs: tuple[pa.Table, pa.Table, pa.Table]) -> None:
    _, legs, stops = quickstart_legs
    ids = set(legs["leg_id"].to_pylist())
    for s in stops.to_pylist():
        for key in ("arrival_leg_id", "departure_leg_id"):
            assert s[key] is None or s[key] in ids
        if s["arrival"] is not None and s["departure"] is not None:
            assert s["dwell_s"] == pytest.approx((s["departure"] - s["arrival"]).total_seconds())
            assert s["dwell_s"] >= 0
