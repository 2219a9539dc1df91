"""Mode S / ADS-B frame encoder, vectorised over NumPy arrays.

Every function takes equal-length arrays (scalars broadcast) and returns an
``(n, 7)`` or ``(n, 14)`` ``uint8`` array of frames with a correct parity
field, so a whole scenario is encoded without a Python loop per message.
:func:`hexes` turns frames into hex strings for AVR output and for peers
such as rs1090.

Field layouts follow ICAO Annex 10 Vol IV and DO-260B:

* DF17 (extended squitter): DF 5 | CA 3 | AA 24 | ME 56 | PI 24, PI = CRC.
  CA (capability) is 4 on the ground and 5 airborne (every builder takes ``ca``).
* DF11 (all-call reply): DF 5 | CA 3 | AA 24 | PI 24, PI = CRC xor II/SI (0 here).
* DF4/DF20 (altitude reply): DF | FS 3 | DR 5 | UM 6 | AC 13 [| MB 56] | AP 24.
* DF5/DF21 (identity reply): DF | FS 3 | DR 5 | UM 6 | ID 13 [| MB 56] | AP 24.
  AP = CRC of the preceding bits xor the aircraft address.

>>> hexes(identification(0x4840D6, ["KLM1023"], category=0, tc=4))[0]
'8D4840D6202CC371C32CE0576098'
>>> crc24(np.frombuffer(bytes.fromhex("8D4840D6202CC371C32CE0576098"), np.uint8)[None, :])[0]
np.uint32(0)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from tailwatch.sim.cpr import cpr_encode

U8 = npt.NDArray[np.uint8]
U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]
ArrayLike = npt.ArrayLike

POLY = 0xFFF409
_CHARSET = "#ABCDEFGHIJKLMNOPQRSTUVWXYZ##### ###############0123456789######"


def _crc_table() -> U32:
    table = np.zeros(256, dtype=np.uint32)
    for i in range(256):
        c = i << 16
        for _ in range(8):
            c = ((c << 1) ^ POLY) if c & 0x800000 else (c << 1)
        table[i] = c & 0xFFFFFF
    return table


_TABLE = _crc_table()


def crc24(frames: U8) -> U32:
    """Mode S CRC-24 remainder of each row of ``frames`` (all bytes, parity included).

    A valid DF17 frame gives 0. To compute the parity of a frame, pass its
    bytes without the last three.
    """
    crc = np.zeros(frames.shape[0], dtype=np.uint32)
    for j in range(frames.shape[1]):
        idx = ((crc >> 16) ^ frames[:, j].astype(np.uint32)) & 0xFF
        crc = ((crc << 8) & 0xFFFFFF) ^ _TABLE[idx]
    return crc


def _n(*arrays: ArrayLike) -> int:
    return max(int(np.size(a)) for a in arrays)


class _Bits:
    """A growing set of bit fields for ``n`` frames, packed MSB first."""

    def __init__(self, n: int, nbits: int) -> None:
        self.n = n
        self.nbits = nbits
        self.bits = np.zeros((n, nbits), dtype=np.uint8)

    def put(self, start: int, width: int, value: ArrayLike) -> None:
        """Write ``width`` bits of ``value`` (array or scalar) at bit ``start`` (0-based)."""
        v = np.broadcast_to(np.asarray(value, dtype=np.int64), (self.n,))
        shifts = np.arange(width - 1, -1, -1, dtype=np.int64)
        self.bits[:, start : start + width] = ((v[:, None] >> shifts) & 1).astype(np.uint8)

    def frames(self) -> U8:
        return np.packbits(self.bits, axis=1)


def _with_parity(bits: _Bits, xor: ArrayLike = 0) -> U8:
    """Pack the bits and fill the last 24 bits with CRC xor ``xor``."""
    frames = bits.frames()
    crc = crc24(frames[:, :-3]).astype(np.int64) ^ np.broadcast_to(np.asarray(xor, np.int64), (bits.n,))
    frames[:, -3] = (crc >> 16) & 0xFF
    frames[:, -2] = (crc >> 8) & 0xFF
    frames[:, -1] = crc & 0xFF
    return frames


def _df17(icao: ArrayLike, me: _Bits, ca: ArrayLike = 5) -> U8:
    """Wrap 56 ME bits (already in ``me`` at offset 32) into DF17 frames."""
    me.put(0, 5, 17)
    me.put(5, 3, ca)
    me.put(8, 24, icao)
    return _with_parity(me)


def hexes(frames: U8) -> list[str]:
    """Upper-case hex string of each frame (row)."""
    return [bytes(row).hex().upper() for row in frames]


def ac13(alt_ft: ArrayLike) -> I64:
    """13-bit AC field, M=0 Q=1 (25 ft steps, -1000..50175 ft).

    38000 ft: N = 39000/25 = 1560 = 0b110000_1_1000 -> 48<<7 | 1<<5 | Q<<4 | 8

    >>> int(ac13(38000))
    6200
    """
    n = np.clip(np.round((np.asarray(alt_ft, np.float64) + 1000.0) / 25.0), 0, 2047).astype(np.int64)
    # 13 bits: N10..N5 | M=0 | N4 | Q=1 | N3..N0
    return ((n >> 5) << 7) | (((n >> 4) & 1) << 5) | (1 << 4) | (n & 0xF)


def ac12(alt_ft: ArrayLike) -> I64:
    """12-bit ADS-B altitude field with Q=1 (25 ft steps)."""
    n = np.clip(np.round((np.asarray(alt_ft, np.float64) + 1000.0) / 25.0), 0, 2047).astype(np.int64)
    return ((n >> 4) << 5) | (1 << 4) | (n & 0xF)


def id13(squawk: Sequence[str] | npt.NDArray[np.str_]) -> I64:
    """13-bit identity field of four-octal-digit squawks (C1 A1 C2 A2 C4 A4 X B1 D1 B2 D2 B4 D4).

    7700: A=7 B=7 C=0 D=0 -> 0 1 0 1 0 1 0 1 0 1 0 1 0 = 0xAAA

    >>> int(id13(["7700"])[0])
    2730
    """
    uniq, inverse = np.unique(np.asarray(squawk, dtype=str).ravel(), return_inverse=True)
    codes = np.array([int(s, 8) for s in uniq.tolist()], dtype=np.int64)[inverse]  # a loop per distinct code
    a = (codes >> 9) & 7
    b = (codes >> 6) & 7
    c = (codes >> 3) & 7
    d = codes & 7

    def bit(x: I64, k: int) -> I64:
        return (x >> k) & 1

    out = (
        (bit(c, 0) << 12) | (bit(a, 0) << 11) | (bit(c, 1) << 10) | (bit(a, 1) << 9)
        | (bit(c, 2) << 8) | (bit(a, 2) << 7) | (bit(b, 0) << 5) | (bit(d, 0) << 4)
        | (bit(b, 1) << 3) | (bit(d, 1) << 2) | (bit(b, 2) << 1) | bit(d, 2)
    )
    return out


def identification(
    icao: ArrayLike, callsign: Sequence[str] | npt.NDArray[np.str_], category: ArrayLike = 0, tc: ArrayLike = 4,
    ca: ArrayLike = 5,
) -> U8:
    """DF17 TC1-4 aircraft identification (callsign up to 8 characters, emitter category)."""
    uniq, inverse = np.unique(np.asarray(callsign, dtype=str).ravel(), return_inverse=True)
    cs = [c.upper().ljust(8)[:8] for c in uniq.tolist()]  # a loop per distinct callsign
    n = _n(icao, category, tc, inverse)
    lut = np.full(128, 0, dtype=np.int64)
    for i, ch in enumerate(_CHARSET):
        if ch != "#":
            lut[ord(ch)] = i
    chars = np.frombuffer("".join(cs).encode("ascii", "replace"), dtype=np.uint8).reshape(len(cs), 8)
    codes = lut[chars & 0x7F][inverse]
    if codes.shape[0] == 1 and n > 1:
        codes = np.repeat(codes, n, axis=0)
    b = _Bits(n, 112)
    b.put(32, 5, tc)
    b.put(37, 3, category)
    for k in range(8):
        b.put(40 + 6 * k, 6, codes[:, k])
    return _df17(icao, b, ca)


def airborne_position(
    icao: ArrayLike,
    lat: ArrayLike,
    lon: ArrayLike,
    alt_ft: ArrayLike,
    odd: ArrayLike,
    tc: ArrayLike = 11,
    ss: ArrayLike = 0,
    ca: ArrayLike = 5,
) -> U8:
    """DF17 airborne position: TC9-18 with barometric altitude (Q=1), or TC20-22 with GNSS height.

    With ``tc`` 20-22 the altitude field holds the GNSS
    height coded like the barometric field (AC12, 25 ft steps), as dump1090/readsb
    and rs1090 decode it (pyModeS 3.6 reads it as whole metres instead).
    """
    n = _n(icao, lat, lon, alt_ft, odd, tc)
    odd_a = np.broadcast_to(np.asarray(odd, dtype=np.int64), (n,))
    yz, xz = cpr_encode(np.broadcast_to(lat, (n,)), np.broadcast_to(lon, (n,)), odd_a, surface=False)
    b = _Bits(n, 112)
    b.put(32, 5, tc)
    b.put(37, 2, ss)
    b.put(39, 1, 0)  # NIC supplement B
    b.put(40, 12, ac12(alt_ft))
    b.put(52, 1, 0)  # time sync
    b.put(53, 1, odd_a)
    b.put(54, 17, yz)
    b.put(71, 17, xz)
    return _df17(icao, b, ca)


def movement(gs_kt: ArrayLike) -> I64:
    """7-bit surface movement code of a ground speed in knots (DO-260B table 2-75).

    10 kt lies in the 2-15 kt band of 0.5 kt steps starting at code 13: 13 + 8/0.5 = 29.

    >>> [int(x) for x in movement([0.0, 1.0, 10.0, 100.0, 200.0])]
    [1, 9, 29, 109, 124]
    """
    v = np.asarray(gs_kt, dtype=np.float64)
    # (lower speed, lower code, step in kt) of each quantisation band
    bands = [(0.125, 2, 0.125), (1.0, 9, 0.25), (2.0, 13, 0.5), (15.0, 39, 1.0), (70.0, 94, 2.0), (100.0, 109, 5.0)]
    code = np.where(v < 0.125, 1, 0).astype(np.int64)
    for i, (lo, c0, step) in enumerate(bands):
        hi = bands[i + 1][0] if i + 1 < len(bands) else 175.0
        sel = (v >= lo) & (v < hi)
        code = np.where(sel, c0 + np.floor((v - lo) / step + 1e-9).astype(np.int64), code)
    return np.where(v >= 175.0, 124, code)


def surface_position(
    icao: ArrayLike,
    lat: ArrayLike,
    lon: ArrayLike,
    gs_kt: ArrayLike,
    track: ArrayLike,
    odd: ArrayLike,
    tc: ArrayLike = 7,
    ca: ArrayLike = 4,
) -> U8:
    """DF17 TC5-8 surface position (movement, ground track, 17-bit surface CPR)."""
    n = _n(icao, lat, lon, gs_kt, track, odd, tc)
    odd_a = np.broadcast_to(np.asarray(odd, dtype=np.int64), (n,))
    yz, xz = cpr_encode(np.broadcast_to(lat, (n,)), np.broadcast_to(lon, (n,)), odd_a, surface=True)
    trk = np.mod(np.round(np.asarray(track, np.float64) * 128.0 / 360.0), 128).astype(np.int64)
    b = _Bits(n, 112)
    b.put(32, 5, tc)
    b.put(37, 7, movement(np.broadcast_to(gs_kt, (n,))))
    b.put(44, 1, 1)  # ground track valid
    b.put(45, 7, trk)
    b.put(52, 1, 0)
    b.put(53, 1, odd_a)
    b.put(54, 17, yz)
    b.put(71, 17, xz)
    return _df17(icao, b, ca)


def velocity(
    icao: ArrayLike,
    gs_kt: ArrayLike,
    track: ArrayLike,
    vrate_fpm: ArrayLike,
    geo_minus_baro_ft: ArrayLike | None = None,
    ca: ArrayLike = 5,
) -> U8:
    """DF17 TC19 subtype 1 airborne velocity (east/north components, barometric vertical rate).

    ``geo_minus_baro_ft`` fills the GNSS-minus-baro difference (25 ft steps) when given.
    """
    n = _n(icao, gs_kt, track, vrate_fpm)
    gs = np.broadcast_to(np.asarray(gs_kt, np.float64), (n,))
    trk = np.radians(np.broadcast_to(np.asarray(track, np.float64), (n,)))
    vew = np.round(gs * np.sin(trk)).astype(np.int64)
    vns = np.round(gs * np.cos(trk)).astype(np.int64)
    vr = np.broadcast_to(np.asarray(vrate_fpm, np.float64), (n,))
    vr_code = np.clip(np.round(np.abs(vr) / 64.0) + 1, 1, 511).astype(np.int64)
    b = _Bits(n, 112)
    b.put(32, 5, 19)
    b.put(37, 3, 1)
    b.put(40, 1, 0)  # intent change
    b.put(41, 1, 0)  # IFR capability
    b.put(42, 3, 1)  # NACv
    b.put(45, 1, (vew < 0).astype(np.int64))
    b.put(46, 10, np.clip(np.abs(vew) + 1, 1, 1023))
    b.put(56, 1, (vns < 0).astype(np.int64))
    b.put(57, 10, np.clip(np.abs(vns) + 1, 1, 1023))
    b.put(67, 1, 1)  # vertical rate source: baro
    b.put(68, 1, (vr < 0).astype(np.int64))
    b.put(69, 9, vr_code)
    if geo_minus_baro_ft is not None:
        d = np.broadcast_to(np.asarray(geo_minus_baro_ft, np.float64), (n,))
        code = np.clip(np.round(np.abs(d) / 25.0) + 1, 1, 127).astype(np.int64)
        b.put(80, 1, (d < 0).astype(np.int64))
        b.put(81, 7, code)
    return _df17(icao, b, ca)


def emergency_status(
    icao: ArrayLike, emergency: ArrayLike, squawk: Sequence[str] | npt.NDArray[np.str_], ca: ArrayLike = 5
) -> U8:
    """DF17 TC28 subtype 1 emergency/priority status: emergency state (3 bits) and Mode A code."""
    ids = id13(squawk)
    n = _n(icao, emergency, ids)
    b = _Bits(n, 112)
    b.put(32, 5, 28)
    b.put(37, 3, 1)
    b.put(40, 3, emergency)
    b.put(43, 13, ids)
    return _df17(icao, b, ca)


def _surveillance(df: int, icao: ArrayLike, field13: ArrayLike, fs: ArrayLike, mb: U8 | None) -> U8:
    n = _n(icao, field13, fs)
    b = _Bits(n, 112 if df >= 20 else 56)
    b.put(0, 5, df)
    b.put(5, 3, fs)
    b.put(8, 5, 0)  # DR
    b.put(13, 6, 0)  # UM
    b.put(19, 13, field13)
    if df >= 20 and mb is not None:
        mbits = np.unpackbits(np.broadcast_to(mb, (n, 7)), axis=1)
        b.bits[:, 32:88] = mbits
    return _with_parity(b, xor=icao)


def altitude_reply(icao: ArrayLike, alt_ft: ArrayLike, on_ground: ArrayLike = False, long: bool = False) -> U8:
    """DF4 (or DF20 with an all-zero MB when ``long``) altitude reply, AP = CRC xor address.

    FS is 0 airborne, 1 on the ground.
    """
    fs = np.asarray(on_ground, dtype=np.int64)
    return _surveillance(20 if long else 4, icao, ac13(alt_ft), fs, np.zeros(7, np.uint8) if long else None)


def identity_reply(
    icao: ArrayLike,
    squawk: Sequence[str] | npt.NDArray[np.str_],
    on_ground: ArrayLike = False,
    long: bool = False,
) -> U8:
    """DF5 (or DF21 when ``long``) identity reply carrying the squawk, AP = CRC xor address.

    FS is 0 airborne, 1 on the ground; for squawks 7500/7600/7700 it is 4 (alert).
    """
    sq = np.asarray(squawk, dtype=str).ravel()
    fs = np.where(np.isin(sq, ["7500", "7600", "7700"]), 4, np.asarray(on_ground, dtype=np.int64))
    return _surveillance(21 if long else 5, icao, id13(sq), fs, np.zeros(7, np.uint8) if long else None)


def all_call(icao: ArrayLike, ca: ArrayLike = 5) -> U8:
    """DF11 all-call reply (CA, AA, PI = CRC with II = 0)."""
    n = _n(icao, ca)
    b = _Bits(n, 56)
    b.put(0, 5, 11)
    b.put(5, 3, ca)
    b.put(8, 24, icao)
    return _with_parity(b)
