"""Materialised legs/stops: incremental builds equal a full computation, midnight-crossing legs stay whole."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from tailwatch.analysis.airports import load_airports
from tailwatch.analysis.build import build_legs
from tailwatch.analysis.legs import legs_and_stops
from tailwatch.sim import load_scenario, simulate
from tailwatch.store import open_store

COLS = ["leg_id", "origin", "destination", "t_start", "t_end", "n_points"]


@pytest.fixture(scope="module")
def sahel() -> pa.Table:
    return simulate(load_scenario("sahel-2023"), seed=1).positions


def _sorted(t: pa.Table, cols: list[str]) -> pa.Table:
    return t.select(cols).sort_by([("icao24", "ascending"), (cols[1], "ascending")]) if "icao24" in cols \
        else t.select(cols).sort_by([(cols[0], "ascending")])


def test_incremental_build_equals_one_pass(tmp_path: Path, sahel: pa.Table) -> None:
    # second ingest starts in the middle of the first Bamako -> Gao leg (06:36-08:33 on 20 August)
    cut = pa.scalar(dt.datetime(2023, 8, 20, 7, 30, tzinfo=dt.UTC), sahel.schema.field("time").type)
    first = sahel.filter(pc.less(sahel["time"], cut))
    second = sahel.filter(pc.greater_equal(sahel["time"], cut))
    store = open_store(tmp_path / "store")
    store.add_positions(first, "part-1")
    calls: list[tuple[int, int]] = []
    n1 = build_legs(store, progress=lambda d, t: calls.append((d, t)))
    assert n1 == len(pc.unique(first["icao24"]))
    assert calls[-1] == (n1, n1)
    assert store.dirty().num_rows == 0
    assert build_legs(store) == 0  # nothing new, nothing done

    store.add_positions(second, "part-2")
    n2 = build_legs(store)
    assert n2 == len(pc.unique(second["icao24"]))

    # one pass of the kernel over everything stored (the store drops rows heard by two receivers)
    want_legs, want_stops = legs_and_stops(store.positions(), load_airports())
    got_legs = store.derived("legs")
    assert _sorted(got_legs, COLS).equals(_sorted(want_legs, COLS))
    assert got_legs.num_rows == len(set(got_legs["leg_id"].to_pylist()))
    cut_leg = [r for r in got_legs.to_pylist() if r["icao24"] == 0x062F01
               and r["t_start"] < cut.as_py() < r["t_end"]]
    assert [(r["origin"], r["destination"]) for r in cut_leg] == [("GABS", "GAGO")]
    scols = ["stop_id", "airport", "arrival", "departure"]
    assert _sorted(store.derived("stops"), scols).equals(_sorted(want_stops, scols))


def test_sql_view_sees_built_legs(tmp_path: Path, sahel: pa.Table) -> None:
    store = open_store(tmp_path / "store")
    store.add_positions(sahel, "all")
    build_legs(store)
    n = store.sql("SELECT count(*) AS n FROM legs WHERE origin = 'GABS' AND destination = 'GAGO'")["n"][0].as_py()
    want, _ = legs_and_stops(sahel, load_airports())
    assert n == sum(1 for r in want.to_pylist() if (r["origin"], r["destination"]) == ("GABS", "GAGO"))
    assert n >= 5


def test_leg_across_midnight_is_whole_after_two_ingests(tmp_path: Path) -> None:
    from test_legs import _flight, _table  # hand-built track helpers (same folder)

    # on the ground at Gao from 22:55, airborne 23:00-01:30, on the ground at Niamey after
    t0 = int(dt.datetime(2023, 8, 20, 22, 55, tzinfo=dt.UTC).timestamp())
    track = _table(_flight(0x062F01, "GAGO", "DRRN", t0=t0))
    midnight = pa.scalar(dt.datetime(2023, 8, 21, tzinfo=dt.UTC), track.schema.field("time").type)
    store = open_store(tmp_path / "store")
    store.add_positions(track.filter(pc.less(track["time"], midnight)), "before-midnight")
    build_legs(store)
    before = store.derived("legs").to_pylist()
    assert [(r["origin"], r["destination"]) for r in before] == [("GAGO", None)]  # still in the air
    store.add_positions(track.filter(pc.greater_equal(track["time"], midnight)), "after-midnight")
    assert build_legs(store) == 1
    (leg,) = store.derived("legs").to_pylist()
    assert (leg["origin"], leg["destination"]) == ("GAGO", "DRRN")
    assert leg["t_start"].date() == dt.date(2023, 8, 20) and leg["t_end"].date() == dt.date(2023, 8, 21)
    stops = sorted(store.derived("stops").to_pylist(), key=lambda s: s["arrival"] or s["departure"])
    assert [(s["airport"], s["arrival"] is None, s["departure"] is None) for s in stops] == [
        ("GAGO", True, False), ("DRRN", False, True)]
