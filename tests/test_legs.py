"""Legs kernel on hand-built tracks whose right answer is known by construction."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from tailwatch.analysis.airports import load_airports
from tailwatch.analysis.legs import LegParams, legs_and_stops
from tailwatch.schema import LEGS, POSITIONS, STOPS

AIRPORTS = load_airports()


def _ap(code: str) -> tuple[float, float, float]:
    row = AIRPORTS.filter(pc.equal(AIRPORTS["icao"], code)).to_pylist()[0]
    return row["lat"], row["lon"], row["elevation_ft"]


def _flight(icao: int, src: str, dst: str, t0: int = 1_692_511_200, ground_s: int = 300,
            step: int = 10, cruise_ft: float = 20000.0) -> dict[str, np.ndarray]:
    """On the ground at ``src`` for ``ground_s``, fly straight to ``dst``, ground_s on the ground there.

    Position is linear in lat/lon, climb/descent at 2000 ft/min, ground speed consistent with
    the distance (equirectangular, close enough for a test of a few hundred km).
    """
    la0, lo0, e0 = _ap(src)
    la1, lo1, e1 = _ap(dst)
    n_air = 900  # 9000 s of flight at 10 s steps
    f = np.linspace(0, 1, n_air)
    tt = np.arange(n_air) * step
    climb = e0 + tt * 2000 / 60
    descent = e1 + (tt[-1] - tt) * 2000 / 60
    alt = np.minimum(np.minimum(climb, descent), cruise_ft)
    g = ground_s // step
    lat = np.r_[np.full(g, la0), la0 + f * (la1 - la0), np.full(g, la1)]
    lon = np.r_[np.full(g, lo0), lo0 + f * (lo1 - lo0), np.full(g, lo1)]
    times = t0 + np.arange(len(lat)) * step
    km = np.hypot((la1 - la0) * 111.195, (lo1 - lo0) * 111.195 * np.cos(np.radians((la0 + la1) / 2)))
    kt = km / (tt[-1] / 3600) / 1.852
    track = np.degrees(np.arctan2((lo1 - lo0) * np.cos(np.radians(la0)), la1 - la0)) % 360
    vrate = np.r_[np.zeros(g), np.gradient(alt, tt) * 60, np.zeros(g)]
    # parked aircraft repeat their position; give them a slow taxi speed so it is not "frozen"
    return {
        "time": times, "icao24": np.full(len(lat), icao), "lat": lat, "lon": lon,
        "alt": np.r_[np.full(g, np.nan), alt, np.full(g, np.nan)],
        "gs": np.r_[np.full(g, 8.0), np.full(n_air, kt), np.full(g, 8.0)],
        "track": np.full(len(lat), track), "vrate": vrate,
        "on_ground": np.r_[np.ones(g, bool), np.zeros(n_air, bool), np.ones(g, bool)],
    }


def _table(d: dict[str, np.ndarray], keep: np.ndarray | None = None) -> pa.Table:
    keep = np.ones(len(d["time"]), bool) if keep is None else keep
    fl = {k: v[keep] for k, v in d.items()}

    def f32(x: np.ndarray) -> pa.Array:
        return pa.array(x.astype(np.float32), mask=~np.isfinite(x))

    def f64(x: np.ndarray) -> pa.Array:
        return pa.array(x, pa.float64(), mask=~np.isfinite(x))

    n = len(fl["time"])
    cols = {
        "time": pa.array(fl["time"].astype(np.int64) * 1_000_000, POSITIONS.field("time").type),
        "icao24": pa.array(fl["icao24"].astype(np.int32)),
        "lat": f64(fl["lat"]), "lon": f64(fl["lon"]),
        "alt_baro": f32(fl["alt"]), "alt_geom": pa.nulls(n, pa.float32()),
        "gs": f32(fl["gs"]), "track": f32(fl["track"]), "vrate": f32(fl["vrate"]),
        "callsign": pa.array(["NAF001"] * n), "squawk": pa.nulls(n, pa.string()),
        "on_ground": pa.array(fl["on_ground"]), "emergency": pa.nulls(n, pa.int8()),
        "source": pa.array(["test"] * n), "file_id": pa.nulls(n, pa.int64()),
        "receiver": pa.nulls(n, pa.string()), "quality": pa.array(np.zeros(n, np.uint16)),
    }
    return pa.table(cols, schema=POSITIONS)


def _concat(*ds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([d[k] for d in ds]) for k in ds[0]}


def test_empty_input_gives_empty_tables_of_the_schemas() -> None:
    legs, stops = legs_and_stops(POSITIONS.empty_table(), AIRPORTS)
    assert legs.schema == LEGS and legs.num_rows == 0
    assert stops.schema == STOPS and stops.num_rows == 0


def test_ground_to_ground_flight() -> None:
    legs, stops = legs_and_stops(_table(_flight(0x062F01, "GAGO", "DRRN")), AIRPORTS)
    assert legs.schema == LEGS
    (leg,) = legs.to_pylist()
    assert leg["leg_id"] == "062F01-1692511500"  # t0 + 300 s of ground: first airborne row
    assert (leg["origin"], leg["destination"]) == ("GAGO", "DRRN")
    # parked exactly on the reference point for 290 s (first to last ground row)
    assert leg["origin_reason"] == "on ground 5 min, 0 km from GAGO"
    assert leg["destination_reason"] == "on ground 5 min, 0 km from DRRN"
    assert leg["origin_confidence"] == pytest.approx(0.95)
    assert leg["callsign"] == "NAF001"
    assert leg["max_alt"] == 20000.0
    # Gao (16.2484, -0.0055) -> Niamey (13.4815, 2.1836): 2.767 deg of latitude = 307.7 km,
    # 2.189 deg of longitude x cos(14.86 deg) = 235.3 km, hypotenuse about 387 km
    assert 383 < leg["distance_km"] < 391
    assert [s["airport"] for s in stops.to_pylist()] == ["GAGO", "DRRN"]
    assert stops["arrival"][0].as_py() is None and stops["departure"][1].as_py() is None


def test_silence_at_cruise_does_not_invent_a_landing() -> None:
    d = _flight(0x062F01, "GAGO", "DRRN")
    hole = (np.arange(len(d["time"])) > 300) & (np.arange(len(d["time"])) < 480)  # 30 min at FL200
    legs, _ = legs_and_stops(_table(d, ~hole), AIRPORTS)
    assert [(x["origin"], x["destination"]) for x in legs.to_pylist()] == [("GAGO", "DRRN")]
    # the same silence is a split when the user says silences over 10 min always end legs
    legs2, _ = legs_and_stops(_table(d, ~hole), AIRPORTS, LegParams(long_gap_s=600))
    rows = legs2.to_pylist()
    assert [(x["origin"], x["destination"]) for x in rows] == [("GAGO", None), (None, "DRRN")]
    assert rows[0]["destination_reason"].startswith("unknown (last seen at FL200, ")


def test_first_seen_at_cruise_has_no_origin_and_says_why() -> None:
    d = _flight(0x062F01, "GAGO", "DRRN")
    keep = np.arange(len(d["time"])) >= 400  # first row at cruise
    legs, _ = legs_and_stops(_table(d, keep), AIRPORTS)
    (leg,) = legs.to_pylist()
    assert leg["origin"] is None and leg["origin_confidence"] is None
    # nearest airport to the first point, by brute force over the whole table
    la, lo = d["lat"][400], d["lon"][400]
    p1, p2 = np.radians(la), np.radians(AIRPORTS["lat"].to_numpy())
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(AIRPORTS["lon"].to_numpy() - lo) / 2) ** 2
    dist = 2 * 6371.0088 * np.arcsin(np.sqrt(a))
    k = int(np.argmin(dist))
    km = f"{dist[k]:.1f}" if dist[k] < 10 else str(round(dist[k]))
    assert leg["origin_reason"] == f"unknown (first seen at FL200, {km} km from the nearest airport {AIRPORTS['icao'][k]})"
    assert leg["destination"] == "DRRN"


def test_sparse_rows_velocity_and_altitude_only() -> None:
    d = _flight(0x062F01, "GAGO", "DRRN", step=2)
    n = len(d["time"])
    i = np.arange(n)
    sparse = {k: v.astype(float) if v.dtype.kind == "f" else v.copy() for k, v in d.items()}
    # 1 row in 3 is a velocity frame (no position, no altitude), 1 in 3 altitude-only
    vel, alt_only = i % 3 == 1, i % 3 == 2
    for k in ("lat", "lon", "alt"):
        sparse[k][vel] = np.nan
    for k in ("lat", "lon", "gs", "track", "vrate"):
        sparse[k][alt_only] = np.nan
    legs, _ = legs_and_stops(_table(sparse), AIRPORTS)
    assert [(x["origin"], x["destination"]) for x in legs.to_pylist()] == [("GAGO", "DRRN")]


def test_many_aircraft_in_any_order_equal_one_by_one() -> None:
    a = _flight(0x062F01, "GAGO", "DRRN")
    b = _flight(0x3C4B26, "GABS", "GAGO", t0=1_692_512_000)
    c = _flight(0x0A0047, "DRRN", "GABS", t0=1_692_600_000)
    together = _table(_concat(a, b, c))
    shuffled = together.take(pa.array(np.random.default_rng(3).permutation(together.num_rows)))
    legs, stops = legs_and_stops(shuffled, AIRPORTS)
    parts = [legs_and_stops(_table(x), AIRPORTS) for x in (a, b, c)]
    one_by_one = pa.concat_tables([p[0] for p in parts]).sort_by([("icao24", "ascending")])
    assert legs.sort_by([("icao24", "ascending")]).equals(one_by_one)
    assert stops.num_rows == sum(p[1].num_rows for p in parts)


def test_parked_aircraft_gives_one_stop_and_no_leg() -> None:
    la, lo, _ = _ap("GAGO")
    n = 100
    d = {"time": 1_692_511_200 + np.arange(n) * 30, "icao24": np.full(n, 0x062F01), "lat": np.full(n, la),
         "lon": np.full(n, lo), "alt": np.full(n, np.nan), "gs": np.zeros(n), "track": np.full(n, np.nan),
         "vrate": np.full(n, np.nan), "on_ground": np.ones(n, bool)}
    legs, stops = legs_and_stops(_table(d), AIRPORTS)
    assert legs.num_rows == 0
    (stop,) = stops.to_pylist()
    assert stop["airport"] == "GAGO" and stop["arrival"] is None and stop["departure"] is None
    # 99 x 30 s = 2970 s = 49.5 min, shown rounded half-to-even as 50 min
    assert stop["reason"] == "on ground throughout the data (50 min seen), 0 km from GAGO"
