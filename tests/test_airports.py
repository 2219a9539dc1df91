"""Airport table and nearest-airport index, checked against airportsdata's own loader and brute force."""

from __future__ import annotations

import airportsdata
import numpy as np

from tailwatch.analysis.airports import airport_index, load_airports


def test_table_matches_airportsdata_loader() -> None:
    t = load_airports()
    ref = airportsdata.load("ICAO")
    assert t.num_rows == len(ref)
    rows = {r["icao"]: r for r in t.to_pylist()}
    for code in ("GAGO", "GABS", "DRRN", "GATS", "LFPG"):
        assert rows[code]["lat"] == ref[code]["lat"]
        assert rows[code]["lon"] == ref[code]["lon"]
        assert rows[code]["elevation_ft"] == ref[code]["elevation"]
        assert rows[code]["country"] == ref[code]["country"]
    assert rows["GAGO"]["iata"] == "GAQ" and rows["GAGO"]["country"] == "ML"
    assert rows["00AA"]["iata"] is None  # empty text becomes null


def _haversine(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    # written out again here so the test does not trust tailwatch.analysis.geo
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(a))


def test_nearest_is_exact_against_brute_force() -> None:
    t = load_airports()
    ix = airport_index(t)
    alat, alon = t["lat"].to_numpy(), t["lon"].to_numpy()
    rng = np.random.default_rng(7)
    # dense areas, empty deserts and oceans, the date line and high latitudes
    lat = np.r_[rng.uniform(40, 52, 300), rng.uniform(-60, 80, 300), [0.0, 89.0, -89.0, 65.0, 16.2484]]
    lon = np.r_[rng.uniform(-5, 10, 300), rng.uniform(-180, 180, 300), [179.99, 0.0, 0.0, -179.99, -0.00546]]
    got = ix.nearest(lat, lon)
    for i in range(len(lat)):
        d = _haversine(np.full(len(alat), lat[i]), np.full(len(alat), lon[i]), alat, alon)
        assert abs(got.dist_km[i] - d.min()) < 1e-6
    assert t["icao"][int(got.index[-1])].as_py() == "GAGO"


def test_max_km_leaves_far_points_without_airport() -> None:
    ix = airport_index(load_airports())
    got = ix.nearest(np.array([0.0, 16.2484, np.nan]), np.array([-30.0, -0.00546, 0.0]), max_km=10)
    assert got.index[0] == -1  # mid-Atlantic
    assert got.index[1] >= 0 and got.dist_km[1] < 0.01
    assert got.index[2] == -1
