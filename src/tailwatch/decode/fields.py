"""Vectorised field kernels: altitude codes, identity codes, DF17/18 ME contents.

Each kernel takes NumPy columns of raw bits and returns value columns plus a
validity mask (``NaN`` for float columns). References: ICAO Annex 10 Vol IV,
ICAO Doc 9871 and *The 1090 MHz Riddle* (Sun, 2021).

>>> squawk_text(np.array([0b0101_0100_00000])).to_pylist()  # A1 A2 A4 set
['7000']
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.decode.bits import field

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

_CHARSET = "#ABCDEFGHIJKLMNOPQRSTUVWXYZ##### ###############0123456789######"
_CHARS = np.frombuffer(_CHARSET.encode("ascii"), dtype=np.uint8)
_CS_SHIFTS = np.array([42 - 6 * k for k in range(8)], dtype=np.uint64)


def _bit(x: I64, i: int) -> I64:
    return (x >> i) & 1


def _octal_digits(id13: I64) -> tuple[I64, I64, I64, I64]:
    """A, B, C, D octal digits of a 13-bit ID/AC field (C1 A1 C2 A2 C4 A4 X B1 D1 B2 D2 B4 D4)."""
    a = _bit(id13, 7) * 4 + _bit(id13, 9) * 2 + _bit(id13, 11)
    b = _bit(id13, 1) * 4 + _bit(id13, 3) * 2 + _bit(id13, 5)
    c = _bit(id13, 8) * 4 + _bit(id13, 10) * 2 + _bit(id13, 12)
    d = _bit(id13, 0) * 4 + _bit(id13, 2) * 2 + _bit(id13, 4)
    return a, b, c, d


def squawk_code(id13: I64) -> I64:
    """Mode A code of a 13-bit identity field as a decimal number whose digits are the octal digits.

    ``7700`` comes out as the integer 7700. Bits (MSB first): C1 A1 C2 A2 C4 A4 X B1 D1 B2 D2 B4 D4.

    >>> int(squawk_code(np.array([0b0101_0100_00000]))[0])  # A1 A2 A4 set -> 7000
    7000
    """
    a, b, c, d = _octal_digits(id13)
    return a * 1000 + b * 100 + c * 10 + d


def squawk_text(id13: I64) -> pa.Array:
    """Four-digit squawk strings (``"7700"``) of 13-bit identity fields, vectorised."""
    a, b, c, d = _octal_digits(id13)
    chars = np.stack([a, b, c, d], axis=1).astype(np.uint8) + ord("0")
    return _fixed_strings(chars, 4)


def _fixed_strings(chars: npt.NDArray[np.uint8], width: int) -> pa.Array:
    n = chars.shape[0]
    data = pa.py_buffer(np.ascontiguousarray(chars).tobytes())
    offsets = pa.py_buffer((np.arange(n + 1, dtype=np.int32) * width).tobytes())
    return pa.Array.from_buffers(pa.string(), n, [None, offsets, data])


def gillham_altitude(ac13: I64) -> F64:
    """Altitude (ft) from a Gillham-coded (Mode C, 100 ft) 13-bit AC field; NaN when invalid.

    Follows the Gray-code reading of Mode C (D1 must be 0, C bits not all 0).

    >>> float(gillham_altitude(np.array([(1 << 12) | (1 << 5)]))[0])  # C1 B1: hundreds 1, five-hundreds 7
    2300.0
    """
    a, b, c, d = _octal_digits(ac13)
    d1 = _bit(ac13, 4)
    c1, c2, c4 = _bit(ac13, 12), _bit(ac13, 10), _bit(ac13, 8)
    hundreds = (c1 * 7) ^ (c2 * 3) ^ (c4 * 1)
    hundreds = np.where((hundreds & 5) == 5, hundreds ^ 2, hundreds)
    d2, d4 = _bit(ac13, 2), _bit(ac13, 0)
    a1, a2, a4 = _bit(ac13, 11), _bit(ac13, 9), _bit(ac13, 7)
    b1, b2, b4 = _bit(ac13, 5), _bit(ac13, 3), _bit(ac13, 1)
    five = (d2 * 0xFF) ^ (d4 * 0x7F) ^ (a1 * 0x3F) ^ (a2 * 0x1F) ^ (a4 * 0x0F) ^ (b1 * 7) ^ (b2 * 3) ^ (b4 * 1)
    bad = (d1 == 1) | (c == 0) | (hundreds > 5)
    hundreds = np.where((five & 1) == 1, 6 - hundreds, hundreds)
    alt = (five * 5 + hundreds - 13) * 100.0
    del a, b, d
    return np.where(bad, np.nan, alt)


def ac13_altitude(ac13: I64) -> F64:
    """Altitude (ft) of a 13-bit AC field (DF0/4/16/20): Q=1 25 ft steps, Q=0 Gillham; metric -> NaN.

    >>> float(ac13_altitude(np.array([0b110000_0_111_000]))[0])  # Q=1, N=0b11000011000=1560 -> 38000 ft
    38000.0
    """
    m = _bit(ac13, 6)
    q = _bit(ac13, 4)
    n = ((ac13 >> 7) << 5) | (_bit(ac13, 5) << 4) | (ac13 & 0xF)
    alt = np.where(q == 1, n * 25.0 - 1000.0, gillham_altitude(ac13))
    return np.where((ac13 == 0) | (m == 1), np.nan, alt)


def es_altitude(alt12: I64) -> F64:
    """Barometric altitude (ft) of the 12-bit ALT field of DF17/18 TC 9-18 (Q bit, or Gillham)."""
    ac13 = ((alt12 >> 6) << 7) | (alt12 & 0x3F)
    return ac13_altitude(ac13)


def gnss_height(alt12: I64) -> F64:
    """GNSS height (ft) of the 12-bit ALT field of DF17/18 TC 20-22 (metres on the wire); 0 -> NaN."""
    return np.where(alt12 == 0, np.nan, alt12 * 3.28084)


def _callsign_chars(me: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint8]:
    idx = (me[:, None] >> _CS_SHIFTS[None, :]) & np.uint64(0x3F)
    return _CHARS[idx.astype(np.intp)]


def callsign(me: npt.NDArray[np.uint64]) -> pa.Array:
    """Callsigns of identification MEs (TC 1-4) as an Arrow string array, spaces removed (as rs1090)."""
    return pc.replace_substring(_fixed_strings(_callsign_chars(me), 8), " ", "")


def movement_speed(mov: I64) -> F64:
    """Ground speed (kt) of the 7-bit surface movement field (TC 5-8); NaN when not available."""
    m = mov.astype(np.float64)
    gs = np.full(mov.shape, np.nan)
    gs = np.where(mov == 1, 0.0, gs)
    gs = np.where((mov >= 2) & (mov <= 8), 0.125 + (m - 2) * 0.125, gs)
    gs = np.where((mov >= 9) & (mov <= 12), 1.0 + (m - 9) * 0.25, gs)
    gs = np.where((mov >= 13) & (mov <= 38), 2.0 + (m - 13) * 0.5, gs)
    gs = np.where((mov >= 39) & (mov <= 93), 15.0 + (m - 39), gs)
    gs = np.where((mov >= 94) & (mov <= 108), 70.0 + (m - 94) * 2, gs)
    gs = np.where((mov >= 109) & (mov <= 123), 100.0 + (m - 109) * 5, gs)
    gs = np.where(mov == 124, 175.0, gs)
    return gs


def velocity(me: npt.NDArray[np.uint64]) -> tuple[F64, F64, F64]:
    """Ground speed (kt), track (deg) and vertical rate (ft/min) of TC 19 MEs.

    Subtypes 1/2 give all three (subtype 2 is four times the unit); subtypes 3/4
    (airspeed and heading) give only the vertical rate. NaN where not available.
    """
    st = field(me, 56, 6, 3)
    dew, vew = field(me, 56, 14, 1), field(me, 56, 15, 10)
    dns, vns = field(me, 56, 25, 1), field(me, 56, 26, 10)
    svr, vr = field(me, 56, 37, 1), field(me, 56, 38, 9)
    scale = np.where(st == 2, 4.0, 1.0)
    vx = np.where(dew == 1, -1.0, 1.0) * (vew - 1) * scale
    vy = np.where(dns == 1, -1.0, 1.0) * (vns - 1) * scale
    ground = ((st == 1) | (st == 2)) & (vew != 0) & (vns != 0)
    gs = np.where(ground, np.hypot(vx, vy), np.nan)
    trk = np.degrees(np.arctan2(vx, vy)) % 360.0
    trk = np.where(ground, trk, np.nan)
    rate = np.where(svr == 1, -1.0, 1.0) * (vr - 1) * 64.0
    rate = np.where((vr != 0) & (st >= 1) & (st <= 4), rate, np.nan)
    return gs.astype(np.float64), trk.astype(np.float64), rate.astype(np.float64)


def valid_callsign(me: npt.NDArray[np.uint64]) -> B:
    """True where every character of an identification ME is legal (no ``#``)."""
    ok: B = np.all(_callsign_chars(me) != ord("#"), axis=1)
    return ok
