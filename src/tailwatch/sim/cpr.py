"""Compact Position Reporting (CPR) encoding, vectorised (DO-260B §A.1.7).

Airborne positions use 360° latitude zones, surface positions 90° zones; both
are 17 bits. :func:`cpr_encode` gives the fields a transmitter sends and
:func:`cpr_position` the position a receiver decodes back from them (the
centre of the quantisation cell, as any correct decoder returns).

>>> yz, xz = cpr_encode(np.array([52.2572]), np.array([3.91937]), np.array([0]))
>>> int(yz[0]), int(xz[0])
(93000, 51372)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
NZ = 15
SCALE = 2.0**17


def nl(lat: npt.ArrayLike) -> I64:
    """Number of longitude zones at a latitude (1..59).

    >>> [int(x) for x in nl([0.0, 52.0, 86.9, 87.0, 88.0])]
    [59, 36, 2, 2, 1]
    """
    a = np.abs(np.asarray(lat, dtype=np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        arg = 1.0 - (1.0 - np.cos(np.pi / (2.0 * NZ))) / np.cos(np.radians(a)) ** 2
        val = np.floor(2.0 * np.pi / np.arccos(np.clip(arg, -1.0, 1.0)))
    out = np.where(a < 1e-9, 59, val)
    out = np.where(a >= 87.0, 2, out)
    out = np.where(a > 87.0, 1, out)
    return np.asarray(out, dtype=np.int64)


def _zones(lat: F64, odd: I64, surface: bool) -> tuple[F64, F64, F64, I64]:
    span = 90.0 if surface else 360.0
    dlat: F64 = np.asarray(span / (4.0 * NZ - odd), dtype=np.float64)
    q = lat / dlat
    j = np.floor(q)
    yz = np.floor(SCALE * (q - j) + 0.5)  # (q - j) rather than mod(): consistent with j even for denormals
    rlat = dlat * (yz / SCALE + j)
    nlz = np.maximum(nl(rlat) - odd, 1)
    return dlat, yz, rlat, nlz.astype(np.int64)


def cpr_encode(lat: npt.ArrayLike, lon: npt.ArrayLike, odd: npt.ArrayLike, surface: bool = False) -> tuple[I64, I64]:
    """17-bit CPR (YZ, XZ) of each position; ``odd`` is 0 (even) or 1 (odd) per row."""
    la = np.asarray(lat, dtype=np.float64)
    lo = np.asarray(lon, dtype=np.float64)
    o = np.asarray(odd, dtype=np.int64)
    _, yz, _, nlz = _zones(la, o, surface)
    dlon = (90.0 if surface else 360.0) / nlz
    q = lo / dlon
    xz = np.floor(SCALE * (q - np.floor(q)) + 0.5)
    return (yz.astype(np.int64) % (1 << 17)), (xz.astype(np.int64) % (1 << 17))


def cpr_position(lat: npt.ArrayLike, lon: npt.ArrayLike, odd: npt.ArrayLike, surface: bool = False) -> tuple[F64, F64]:
    """The position a decoder recovers from the encoded frame (quantised to the CPR cell)."""
    la = np.asarray(lat, dtype=np.float64)
    lo = np.asarray(lon, dtype=np.float64)
    o = np.asarray(odd, dtype=np.int64)
    _, _, rlat, nlz = _zones(la, o, surface)
    dlon = (90.0 if surface else 360.0) / nlz
    q = lo / dlon
    j = np.floor(q)
    xz = np.floor(SCALE * (q - j) + 0.5)
    rlon = dlon * (xz / SCALE + j)
    rlon = np.where(rlon >= 180.0, rlon - 360.0, rlon)
    return rlat, rlon
