"""Vectorised geodesy helpers and a grid index for nearest-airport search.

Pure NumPy: no SciPy needed.  :class:`AirportIndex` buckets airports into
equal-angle cells and answers "nearest airport to each of these N points"
with an expanding ring search that is *exact* (not approximate): a ring of
``r`` cells around the query is searched, and the answer is accepted only
when the best distance found is no larger than the radius that ring is
guaranteed to cover; otherwise the ring doubles.

>>> import numpy as np
>>> round(float(haversine_km(np.array([48.0]), np.array([2.0]), np.array([49.0]), np.array([2.0]))[0]), 1)
111.2
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEG = np.pi * EARTH_RADIUS_KM / 180.0


def haversine_km(lat1: F64, lon1: F64, lat2: F64, lon2: F64) -> F64:
    """Great-circle distance in km between arrays of points (degrees)."""
    p1 = np.radians(lat1)
    p2 = np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2 - lon1)
    a = np.sin(dp * 0.5) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl * 0.5) ** 2
    return np.asarray(2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))), dtype=np.float64)


def destination_point(lat: F64, lon: F64, bearing_deg: F64, dist_km: F64) -> tuple[F64, F64]:
    """Point reached from (lat, lon) after ``dist_km`` along initial ``bearing_deg``.

    >>> la, lo = destination_point(np.array([0.0]), np.array([0.0]), np.array([90.0]), np.array([111.195]))
    >>> round(float(la[0]), 3), round(float(lo[0]), 3)
    (0.0, 1.0)
    """
    d = dist_km / EARTH_RADIUS_KM
    p1 = np.radians(lat)
    b = np.radians(bearing_deg)
    p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(b))
    l2 = np.radians(lon) + np.arctan2(np.sin(b) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
    lon2 = (np.degrees(l2) + 540.0) % 360.0 - 180.0
    return np.degrees(p2), lon2


def ragged_arange(starts: I64, counts: I64) -> tuple[I64, I64]:
    """Concatenate ``arange(s, s + c)`` for each pair; also return the owner index of each element.

    >>> v, o = ragged_arange(np.array([10, 0]), np.array([2, 3]))
    >>> v.tolist(), o.tolist()
    ([10, 11, 0, 1, 2], [0, 0, 1, 1, 1])
    """
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    owner = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    if total == 0:
        return np.zeros(0, np.int64), owner
    ends = np.cumsum(counts)
    offs = np.arange(total, dtype=np.int64) - np.repeat(ends - counts, counts)
    return np.asarray(starts, dtype=np.int64)[owner] + offs, owner


@dataclass(frozen=True)
class Nearest:
    """Result of :meth:`AirportIndex.nearest`: airport row index (-1 if none) and distance in km."""

    index: I64
    dist_km: F64


class AirportIndex:
    """Exact nearest-airport search over a few tens of thousands of airports.

    ``cell_deg`` is the grid size in degrees (latitude and longitude alike).
    """

    def __init__(self, lat: F64, lon: F64, cell_deg: float = 0.25) -> None:
        self.lat = np.asarray(lat, dtype=np.float64)
        self.lon = np.asarray(lon, dtype=np.float64)
        self.cell = float(cell_deg)
        self._xyz: F64 | None = None
        self.nlon = int(np.ceil(360.0 / self.cell)) + 1
        self.nlat = int(np.ceil(180.0 / self.cell)) + 1
        ids = self._cell_ids(self._ilat(self.lat), self._ilon(self.lon))
        order = np.argsort(ids, kind="stable")
        self.order = order.astype(np.int64)
        sorted_ids = ids[order]
        self.cell_ids, self.cell_start, self.cell_count = np.unique(
            sorted_ids, return_index=True, return_counts=True
        )

    def _ilat(self, lat: F64) -> I64:
        return np.clip(np.floor((lat + 90.0) / self.cell), 0, self.nlat - 1).astype(np.int64)

    def _ilon(self, lon: F64) -> I64:
        return np.floor(((lon + 180.0) % 360.0) / self.cell).astype(np.int64)

    def _cell_ids(self, ilat: I64, ilon: I64) -> I64:
        return ilat * self.nlon + ilon

    def _search(self, lat: F64, lon: F64, r: int) -> tuple[I64, F64]:
        """Best airport among the (2r+1)^2 cells around each query."""
        n = len(lat)
        ilat = self._ilat(lat)
        ilon = self._ilon(lon)
        span = np.arange(-r, r + 1, dtype=np.int64)
        dlat, dlon = np.meshgrid(span, span, indexing="ij")
        qlat = ilat[:, None] + dlat.ravel()[None, :]
        qlon = (ilon[:, None] + dlon.ravel()[None, :]) % (self.nlon - 1)
        valid = (qlat >= 0) & (qlat < self.nlat)
        cid = self._cell_ids(np.clip(qlat, 0, self.nlat - 1), qlon).ravel()
        pos = np.searchsorted(self.cell_ids, cid)
        pos_c = np.minimum(pos, len(self.cell_ids) - 1)
        hit = (self.cell_ids[pos_c] == cid) & valid.ravel()
        starts = np.where(hit, self.cell_start[pos_c], 0)
        counts = np.where(hit, self.cell_count[pos_c], 0)
        cand, owner_cell = ragged_arange(starts, counts)
        owner = owner_cell // qlat.shape[1]
        best_idx = np.full(n, -1, dtype=np.int64)
        best_d = np.full(n, np.inf)
        if len(cand) == 0:
            return best_idx, best_d
        ap = self.order[cand]
        d = haversine_km(lat[owner], lon[owner], self.lat[ap], self.lon[ap])
        # ``owner`` is non-decreasing (built query-major): segment minima with reduceat.
        starts_o = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        who = owner[starts_o]
        m = np.minimum.reduceat(d, starts_o)
        counts_o = np.diff(np.r_[starts_o, len(owner)])
        is_min = d == np.repeat(m, counts_o)
        pos_min = np.flatnonzero(is_min)
        om = owner[pos_min]  # non-decreasing: the first of each run is the first minimum
        first = np.flatnonzero(np.r_[True, om[1:] != om[:-1]])
        sel = pos_min[first]
        best_idx[who] = ap[sel]
        best_d[who] = m
        return best_idx, best_d

    def _nearest_level(self, lat: F64, lon: F64, todo: I64, max_r: int, max_km: float | None,
                       out_i: I64, out_d: F64) -> I64:
        """Ring search at this grid level for ``todo``; returns the queries still unresolved."""
        r = 1
        while len(todo) and r <= max_r:
            res_i = np.empty(len(todo), np.int64)
            res_d = np.empty(len(todo))
            step = max(1, 2_000_000 // (2 * r + 1) ** 2)
            for s in range(0, len(todo), step):
                sl = todo[s : s + step]
                res_i[s : s + step], res_d[s : s + step] = self._search(lat[sl], lon[sl], r)
            # Radius guaranteed covered by r cells: the narrowest cell width near the query.
            edge = np.minimum(np.abs(lat[todo]) + self.cell * (r + 1), 90.0)
            covered = r * self.cell * KM_PER_DEG * np.cos(np.radians(edge))
            done = res_d <= covered
            if max_km is not None:
                done |= covered >= max_km
            out_i[todo[done]] = res_i[done]
            out_d[todo[done]] = res_d[done]
            todo = todo[~done]
            r *= 2
        return todo

    def nearest(self, lat: F64, lon: F64, max_km: float | None = None) -> Nearest:
        """Nearest airport to each point (NaN points get index -1, distance inf).

        With ``max_km``, airports farther than that are not looked for (index -1).
        Points far from every airport fall through to coarser grids, then to brute force.
        """
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        n = len(lat)
        out_i = np.full(n, -1, dtype=np.int64)
        out_d = np.full(n, np.inf)
        todo = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
        todo = self._nearest_level(lat, lon, todo, 4, max_km, out_i, out_d)
        if len(todo):
            # Far from every airport: exact brute force as a matrix product of unit vectors
            # (the largest dot product is the smallest great-circle distance).
            xyz = self._unit()
            for s in range(0, len(todo), 2048):
                sl = todo[s : s + 2048]
                q = _unit_vectors(lat[sl], lon[sl])
                k = np.argmax(q @ xyz.T, axis=1)
                out_i[sl] = k
                out_d[sl] = haversine_km(lat[sl], lon[sl], self.lat[k], self.lon[k])
        if max_km is not None:
            out_i[out_d > max_km] = -1
        return Nearest(out_i, out_d)

    def _unit(self) -> F64:
        if self._xyz is None:
            self._xyz = _unit_vectors(self.lat, self.lon)
        return self._xyz


def _unit_vectors(lat: F64, lon: F64) -> F64:
    la = np.radians(lat)
    lo = np.radians(lon)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=1)
