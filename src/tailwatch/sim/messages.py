"""Turn sampled aircraft states into Mode S frames and into the rows a decoder would produce.

:func:`encode_messages` takes columns of messages (one row per transmission:
time, address, kind and the aircraft state) and returns the frames plus the
``POSITIONS`` columns a correct decoder recovers from them — CPR-quantised
positions, 25 ft altitudes, integer velocity components — so tests can compare
a decoder's output to these values exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from tailwatch.schema import POSITIONS, Quality
from tailwatch.sim import encode as enc
from tailwatch.sim.cpr import cpr_position

F64 = npt.NDArray[np.float64]

# message kinds
IDENT, AIRPOS, SURFACE, VELOCITY, GNSS, STATUS, ALT_REPLY, ID_REPLY, ALL_CALL = range(9)
KIND_NAMES = ("identification", "position", "surface", "velocity", "gnss", "status",
              "altitude_reply", "identity_reply", "all_call")
EMERGENCY_OF = {"7700": 1, "7600": 4, "7500": 5}


@dataclass
class Messages:
    """Columns of transmissions, one row each (all arrays the same length)."""

    time: F64
    icao24: npt.NDArray[np.int64]
    kind: npt.NDArray[np.int8]
    lat: F64
    lon: F64
    alt: F64
    gs: F64
    track: F64
    vrate: F64
    ground: npt.NDArray[np.bool_]
    squawk: npt.NDArray[np.str_]
    callsign: npt.NDArray[np.str_]
    category: npt.NDArray[np.int64]
    odd: npt.NDArray[np.int64]

    def take(self, idx: npt.NDArray[np.int64] | npt.NDArray[np.bool_]) -> Messages:
        """Rows selected by an index or mask."""
        return Messages(**{k: v[idx] for k, v in self.__dict__.items()})

    def __len__(self) -> int:
        return int(self.time.shape[0])

    @staticmethod
    def concat(parts: list[Messages]) -> Messages:
        """All rows of ``parts``, in order."""
        keys = Messages.__dataclass_fields__.keys()
        return Messages(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in keys})


def _movement_decoded(gs: F64) -> F64:
    """Ground speed a decoder reads back from the movement code of ``gs``."""
    code = enc.movement(gs)
    bands = [(2, 0.125, 0.125), (9, 1.0, 0.25), (13, 2.0, 0.5), (39, 15.0, 1.0), (94, 70.0, 2.0), (109, 100.0, 5.0)]
    out = np.zeros(gs.shape, dtype=np.float64)
    for c0, lo, step in bands:
        out = np.where(code >= c0, lo + (code - c0) * step, out)
    return np.where(code == 124, 175.0, out)


def frames_array(frames: npt.NDArray[np.uint8], lengths: npt.NDArray[np.int64]) -> pa.BinaryArray:
    """Arrow binary array of each row's first ``lengths[i]`` bytes (no Python loop)."""
    offsets = np.zeros(lengths.size + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    data = frames[np.arange(frames.shape[1])[None, :] < lengths[:, None]]
    return pa.BinaryArray.from_buffers(
        pa.binary(), lengths.size, [None, pa.py_buffer(offsets), pa.py_buffer(data.tobytes())]
    )


def encode_messages(m: Messages) -> tuple[pa.BinaryArray, dict[str, npt.NDArray[np.generic]]]:
    """Frames (in row order) and the decoded ``POSITIONS`` columns of each message."""
    n = len(m)
    frames = np.zeros((n, 14), dtype=np.uint8)
    lengths = np.full(n, 14, dtype=np.int64)
    nan = np.full(n, np.nan)
    cols: dict[str, npt.NDArray[np.generic]] = {
        "lat": nan.copy(), "lon": nan.copy(), "alt_baro": nan.copy(), "alt_geom": nan.copy(),
        "gs": nan.copy(), "track": nan.copy(), "vrate": nan.copy(),
        "callsign": np.full(n, None, dtype=object), "squawk": np.full(n, None, dtype=object),
        "on_ground": np.full(n, None, dtype=object), "emergency": np.full(n, -1, dtype=np.int64),
    }

    def put(sel: npt.NDArray[np.int64], f: npt.NDArray[np.uint8]) -> None:
        frames[sel, : f.shape[1]] = f
        lengths[sel] = f.shape[1]

    q25 = np.round((m.alt + 1000.0) / 25.0) * 25.0 - 1000.0
    ca_all = np.where(m.ground, 4, 5)  # DF11/17 capability: 4 on the ground, 5 airborne
    # a decoder reads on_ground from CA of every DF11/DF17 frame
    cols["on_ground"][:] = m.ground.astype(object)
    for kind in range(9):
        sel = np.flatnonzero(m.kind == kind)
        if sel.size == 0:
            continue
        r = m.take(sel)
        ca = ca_all[sel]
        if kind == IDENT:
            put(sel, enc.identification(r.icao24, r.callsign, r.category, tc=4, ca=ca))
            cols["callsign"][sel] = np.char.strip(np.char.upper(r.callsign.astype(str)))
        elif kind in (AIRPOS, GNSS):
            tc = 11 if kind == AIRPOS else 20
            put(sel, enc.airborne_position(r.icao24, r.lat, r.lon, r.alt, r.odd, tc=tc, ca=ca))
            la, lo = cpr_position(r.lat, r.lon, r.odd, surface=False)
            cols["lat"][sel], cols["lon"][sel] = la, lo
            cols["alt_baro" if kind == AIRPOS else "alt_geom"][sel] = q25[sel]
            cols["on_ground"][sel] = False
        elif kind == SURFACE:
            put(sel, enc.surface_position(r.icao24, r.lat, r.lon, r.gs, r.track, r.odd, ca=ca))
            la, lo = cpr_position(r.lat, r.lon, r.odd, surface=True)
            cols["lat"][sel], cols["lon"][sel] = la, lo
            cols["gs"][sel] = _movement_decoded(r.gs)
            cols["track"][sel] = np.mod(np.round(r.track * 128.0 / 360.0), 128) * 360.0 / 128.0
            cols["on_ground"][sel] = True
        elif kind == VELOCITY:
            put(sel, enc.velocity(r.icao24, r.gs, r.track, r.vrate, ca=ca))
            trk = np.radians(r.track)
            vew = np.round(r.gs * np.sin(trk))
            vns = np.round(r.gs * np.cos(trk))
            cols["gs"][sel] = np.hypot(vew, vns)
            cols["track"][sel] = np.mod(np.degrees(np.arctan2(vew, vns)), 360.0)
            code = np.clip(np.round(np.abs(r.vrate) / 64.0) + 1, 1, 511)
            cols["vrate"][sel] = np.where(r.vrate < 0, -1, 1) * (code - 1) * 64.0
        elif kind == STATUS:
            em = np.select([r.squawk == code for code in EMERGENCY_OF], list(EMERGENCY_OF.values()), 0).astype(np.int64)
            put(sel, enc.emergency_status(r.icao24, em, r.squawk, ca=ca))
            cols["squawk"][sel] = r.squawk.astype(object)
            cols["emergency"][sel] = em
        elif kind == ALT_REPLY:
            long = (np.arange(sel.size) % 2).astype(bool)
            for flag in (False, True):
                sub = np.flatnonzero(long == flag)
                put(sel[sub], enc.altitude_reply(r.icao24[sub], r.alt[sub], r.ground[sub], long=flag))
            cols["alt_baro"][sel] = q25[sel]
            cols["on_ground"][sel] = r.ground.astype(object)
        elif kind == ID_REPLY:
            long = (np.arange(sel.size) % 2).astype(bool)
            for flag in (False, True):
                sub = np.flatnonzero(long == flag)
                put(sel[sub], enc.identity_reply(r.icao24[sub], r.squawk[sub], r.ground[sub], long=flag))
            cols["squawk"][sel] = r.squawk.astype(object)
            alert = np.isin(r.squawk, ["7500", "7600", "7700"])
            cols["on_ground"][sel[alert]] = np.full(int(alert.sum()), None, dtype=object)  # FS 4 (alert) says nothing about the ground state
        else:
            put(sel, enc.all_call(r.icao24, ca=ca))
    return frames_array(frames, lengths), cols


def positions_table(m: Messages, cols: dict[str, npt.NDArray[np.generic]], receiver: npt.NDArray[np.str_],
                    keep: npt.NDArray[np.int64]) -> pa.Table:
    """``POSITIONS`` rows of the messages ``keep`` (indices), each heard by ``receiver[j]``.

    Every frame gives a row, as from a decoder: an all-call reply (DF11) only
    says the aircraft is there (and, by its CA field, whether it is on the ground).
    """
    rcv = receiver
    order = np.lexsort((m.time[keep], m.icao24[keep]))
    keep, rcv = keep[order], rcv[order]

    def f(name: str, typ: pa.DataType) -> pa.Array:
        v = np.asarray(cols[name][keep], dtype=np.float64)
        return pa.array(v, type=typ, from_pandas=True)

    surface = np.where(m.kind[keep] == SURFACE, int(Quality.SURFACE), 0)
    em = np.asarray(cols["emergency"][keep], dtype=np.int64)
    arrays = [
        pa.array((m.time[keep] * 1e6).round().astype(np.int64)).cast(POSITIONS.field("time").type),
        pa.array(m.icao24[keep].astype(np.int32)),
        f("lat", pa.float64()), f("lon", pa.float64()), f("alt_baro", pa.float32()), f("alt_geom", pa.float32()),
        f("gs", pa.float32()), f("track", pa.float32()), f("vrate", pa.float32()),
        pa.array(cols["callsign"][keep].tolist(), pa.string()),
        pa.array(cols["squawk"][keep].tolist(), pa.string()),
        pa.array(cols["on_ground"][keep].tolist(), pa.bool_()),
        pa.array(em, pa.int8(), mask=em < 0),
        pa.array(np.full(keep.size, "sim", dtype=object).tolist(), pa.string()),
        pa.nulls(keep.size, pa.int64()),
        pa.array(rcv.tolist(), pa.string()),
        pa.array((surface | int(Quality.SIMULATED)).astype(np.uint16)),
    ]
    return pa.Table.from_arrays(arrays, schema=POSITIONS)
