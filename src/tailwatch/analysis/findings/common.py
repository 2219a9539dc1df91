"""Helpers shared by the finding kernels: geometry, airport lookup, building ``FINDINGS`` rows.

All of them are pure and vectorised (NumPy over whole columns).

>>> round(float(haversine_km(np.array([12.5335]), np.array([-7.94994]),
...                          np.array([16.2484]), np.array([-0.00546]))[0]))
950
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.schema import FINDINGS, hex_of

EARTH_KM = 6371.0088
KT_KMH = 1.852
US = 1_000_000

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]


def haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> FloatArray:
    """Great-circle distance in km, element-wise."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return np.asarray(2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))), dtype=np.float64)


def fast_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> FloatArray:
    """Equirectangular distance in km: within 0.5 % of great-circle up to ~500 km, 3× cheaper.

    Used to *screen* pairs of points (jumps, speeds); exact figures come from :func:`haversine_km`.

    >>> round(float(fast_km(np.array([45.0]), np.array([5.0]), np.array([45.1]), np.array([5.1]))[0]), 1)
    13.6
    """
    rad = np.pi / 180.0
    x = (np.asarray(lon2) - np.asarray(lon1)) * np.cos((np.asarray(lat1) + np.asarray(lat2)) * (rad / 2))
    x = (x + 180.0) % 360.0 - 180.0
    y = np.asarray(lat2) - np.asarray(lat1)
    return np.asarray(EARTH_KM * rad * np.sqrt(x * x + y * y), dtype=np.float64)


def bearing_deg(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> FloatArray:
    """Initial bearing from point 1 to point 2, degrees clockwise from north, element-wise."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    y = np.sin(dl) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return np.asarray(np.degrees(np.arctan2(y, x)) % 360.0, dtype=np.float64)


def angle_diff_deg(a: Any, b: Any) -> FloatArray:
    """Smallest absolute difference between two headings (0–180)."""
    d = np.abs((np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) % 360.0)
    return np.asarray(np.minimum(d, 360.0 - d), dtype=np.float64)


def col_f64(table: pa.Table, name: str) -> FloatArray:
    """A numeric column as float64 with NaN for nulls (NaN too if the column is absent)."""
    if name not in table.column_names:
        return np.full(table.num_rows, np.nan)
    c = table.column(name)
    if pa.types.is_timestamp(c.type):
        c = c.cast(pa.int64())
    # Arrow turns nulls of a floating column into NaN on conversion (no fill_null pass needed).
    return np.asarray(c.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def col_time_us(table: pa.Table, name: str) -> IntArray:
    """A timestamp column as int64 microseconds (nulls → INT64 min)."""
    c = table.column(name).cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
    return np.asarray(pc.fill_null(c, np.iinfo(np.int64).min).to_numpy(), dtype=np.int64)


def col_str(table: pa.Table, name: str) -> list[str | None]:
    """A column as Python strings (for small, finding-sized tables)."""
    if name not in table.column_names:
        return [None] * table.num_rows
    return [None if v is None else str(v) for v in table.column(name).to_pylist()]


@dataclass(frozen=True)
class Airports:
    """Airport reference points as arrays, plus a 1° grid index for nearest-airport queries."""

    icao: np.ndarray[Any, np.dtype[np.object_]]
    name: np.ndarray[Any, np.dtype[np.object_]]
    country: np.ndarray[Any, np.dtype[np.object_]]
    lat: FloatArray
    lon: FloatArray
    elevation: FloatArray
    cell_sorted: IntArray
    order: IntArray

    @staticmethod
    def from_table(table: pa.Table) -> Airports:
        """From ``load_airports()`` (columns icao, name, country or country_iso2, lat, lon, elevation[_ft])."""
        names = table.column_names
        country = "country_iso2" if "country_iso2" in names else "country"
        elev = "elevation_ft" if "elevation_ft" in names else "elevation"
        lat = col_f64(table, "lat")
        lon = col_f64(table, "lon")
        ok = ~(np.isnan(lat) | np.isnan(lon))
        icao = np.array(col_str(table, "icao"), dtype=object)[ok]
        nm = np.array(col_str(table, "name"), dtype=object)[ok]
        cc = np.array(col_str(table, country), dtype=object)[ok]
        lat, lon = lat[ok], lon[ok]
        el = col_f64(table, elev)[ok]
        cells = _cell(lat, lon)
        order = np.argsort(cells, kind="stable")
        return Airports(icao, nm, cc, lat, lon, el, cells[order], order.astype(np.int64))

    def country_of(self, codes: Sequence[str | None]) -> list[str | None]:
        """ISO2 country of each airport code (None when unknown)."""
        idx = self.index()
        return [None if c is None or c not in idx else self.country[idx[c]] for c in codes]

    def index(self) -> dict[str, int]:
        """Airport code → row (built once, then cached)."""
        cached: dict[str, int] | None = self.__dict__.get("_index")
        if cached is None:
            cached = {c: i for i, c in enumerate(self.icao.tolist())}
            object.__setattr__(self, "_index", cached)
        return cached

    def names_of(self, codes: Sequence[str | None]) -> list[str | None]:
        """Airport names of codes (None when unknown)."""
        lookup = dict(zip(self.icao.tolist(), self.name.tolist(), strict=True))
        return [None if c is None else lookup.get(c) for c in codes]

    def pairs(self, lat: FloatArray, lon: FloatArray, max_km: float) -> tuple[IntArray, IntArray, FloatArray]:
        """All (point index, airport index, distance km) with distance ≤ ``max_km``, sorted by point then distance.

        Searches the 3×3 one-degree cells around each point, so ``max_km`` is honoured
        exactly up to about 55 km below 60° latitude (further out it is a lower bound).
        """
        empty = np.zeros(0, dtype=np.int64)
        ok = ~(np.isnan(lat) | np.isnan(lon))
        if len(lat) == 0 or not ok.any() or len(self.lat) == 0:
            return empty, empty, np.zeros(0)
        q = np.flatnonzero(ok)
        qi, qj = np.floor(lat[q]).astype(np.int64), np.floor(lon[q]).astype(np.int64)
        pt_idx: list[IntArray] = []
        ap_idx: list[IntArray] = []
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                key = (qi + di + 90) * 1000 + ((qj + dj + 180) % 360)
                lo = np.searchsorted(self.cell_sorted, key, "left")
                hi = np.searchsorted(self.cell_sorted, key, "right")
                cnt = hi - lo
                if cnt.sum() == 0:
                    continue
                rep = np.repeat(np.arange(len(q)), cnt)
                starts = np.repeat(lo - np.cumsum(cnt) + cnt, cnt)
                pt_idx.append(rep)
                ap_idx.append(self.order[np.arange(cnt.sum()) + starts])
        if not pt_idx:
            return empty, empty, np.zeros(0)
        p = np.concatenate(pt_idx)
        a = np.concatenate(ap_idx)
        d = haversine_km(lat[q][p], lon[q][p], self.lat[a], self.lon[a])
        keep = d <= max_km
        p, a, d = p[keep], a[keep], d[keep]
        o = np.lexsort((d, p))
        return q[p[o]].astype(np.int64), a[o].astype(np.int64), d[o]

    def nearest(self, lat: FloatArray, lon: FloatArray, max_km: float) -> tuple[IntArray, FloatArray]:
        """Index of the nearest airport within ``max_km`` (-1 if none) and its distance (NaN if none)."""
        best = np.full(len(lat), -1, dtype=np.int64)
        dist = np.full(len(lat), np.nan)
        p, a, d = self.pairs(lat, lon, max_km)
        first = np.r_[True, p[1:] != p[:-1]] if len(p) else np.zeros(0, dtype=bool)
        best[p[first]] = a[first]
        dist[p[first]] = d[first]
        return best, dist


def _cell(lat: FloatArray, lon: FloatArray) -> IntArray:
    i = np.floor(lat).astype(np.int64) + 90
    j = (np.floor(lon).astype(np.int64) + 180) % 360
    return np.asarray(i * 1000 + j, dtype=np.int64)


def iso(us: int) -> str:
    """ISO 8601 UTC of epoch microseconds.

    >>> iso(1692489600_000000)
    '2023-08-20T00:00:00Z'
    """
    return np.datetime_as_string(np.datetime64(int(us), "us"), unit="s") + "Z"


def subject_of(icao24: int | None, fallback: str) -> str:
    """The ``subject`` text: six hex digits for one aircraft, else ``fallback``."""
    return hex_of(icao24) if icao24 is not None else fallback


@dataclass
class FindingRows:
    """Accumulates findings then turns them into a ``FINDINGS`` table."""

    kind: str
    rows: list[dict[str, Any]]

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.rows = []

    def add(self, *, subject: str, icao24: int | None, t_start: int, t_end: int,
            places: Sequence[str], confidence: float, summary: str, evidence: dict[str, Any]) -> None:
        """One finding (times in epoch µs)."""
        ev = orjson.dumps(evidence, option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY).decode()
        key = f"{self.kind}|{subject}|{t_start}|{t_end}|{','.join(places)}|{summary}"
        fid = f"{self.kind}-{hashlib.blake2b(key.encode(), digest_size=8).hexdigest()}"
        self.rows.append({
            "finding_id": fid, "kind": self.kind, "subject": subject, "icao24": icao24,
            "t_start": int(t_start), "t_end": int(t_end), "places": list(places),
            "confidence": float(min(max(confidence, 0.0), 1.0)), "summary": summary, "evidence": ev,
        })

    def table(self) -> pa.Table:
        """The accumulated rows as a ``FINDINGS`` table (sorted by t_start)."""
        if not self.rows:
            return FINDINGS.empty_table()
        rows = sorted(self.rows, key=lambda r: (r["t_start"], r["subject"]))
        cols: dict[str, pa.Array] = {}
        for f in FINDINGS:
            vals = [r[f.name] for r in rows]
            if pa.types.is_timestamp(f.type):
                cols[f.name] = pa.array(vals, pa.int64()).cast(f.type)
            else:
                cols[f.name] = pa.array(vals, f.type)
        return pa.table(cols, schema=FINDINGS)


def sort_positions(positions: pa.Table) -> pa.Table:
    """``positions`` sorted by (icao24, time); an O(n) check avoids sorting sorted input."""
    if positions.num_rows < 2:
        return positions
    ic = positions.column("icao24").to_numpy()
    t = positions.column("time").cast(pa.int64()).to_numpy()
    dic = np.diff(ic)
    if (dic >= 0).all() and ((dic > 0) | (np.diff(t) >= 0)).all():
        return positions
    return positions.sort_by([("icao24", "ascending"), ("time", "ascending")])


def config_dict(section: Any) -> dict[str, Any]:
    """A config dataclass as a dict, for ``evidence["thresholds"]``."""
    return {k: v for k, v in vars(section).items() if not k.startswith("_")}


def fmt_place(code: str | None, lat: float, lon: float) -> str:
    """An airport code, or ``"12.53N 7.95W"`` when no airport is known."""
    if code:
        return code
    ns = "N" if lat >= 0 else "S"
    ew = "E" if lon >= 0 else "W"
    return f"{abs(lat):.2f}{ns} {abs(lon):.2f}{ew}"
