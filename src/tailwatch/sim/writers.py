"""Write simulated receptions as real receiver output: Beast, AVR, SBS-1 — plus ``truth.json``.

One file per receiver (``<receiver>.beast`` / ``.avr`` / ``.sbs``). Raw formats
carry only a relative 12 MHz counter, so the absolute time is recoverable two
ways: the file's mtime is set to the time of its *last* frame (what
``tailwatch ingest`` assumes for Beast/AVR captures), and ``truth.json`` records
each file's ``first_frame`` time for ``tailwatch ingest --start-time``.
All byte assembly is vectorised (no Python loop per frame).

>>> _escape(np.array([0x1A, 0x33, 0x1A, 0x05], np.uint8), np.array([True, False, False, False])).tolist()
[26, 51, 26, 26, 5]
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.sim.simulate import SimResult
from tailwatch.sim.truth import iso

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]
CaptureFormat = Literal["beast", "avr", "avr-plain", "sbs"]
EXT = {"beast": ".beast", "avr": ".avr", "avr-plain": ".avr", "sbs": ".sbs"}
_HEX = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)


def _msg_matrix(msgs: pa.Array) -> tuple[U8, I64]:
    """Frames as an (n, 14) zero-padded matrix and their lengths (7 or 14)."""
    arr = msgs.combine_chunks() if isinstance(msgs, pa.ChunkedArray) else msgs
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    lengths = np.diff(offsets).astype(np.int64)
    idx = offsets[:-1, None].astype(np.int64) + np.arange(14)[None, :]
    mat = data[np.minimum(idx, data.size - 1)]
    mat = np.where(np.arange(14)[None, :] < lengths[:, None], mat, 0).astype(np.uint8)
    return mat, lengths


def _flatten(rows: U8, lengths: I64) -> tuple[U8, npt.NDArray[np.bool_]]:
    """Row-major bytes of each row's first ``lengths[i]`` columns, and a mark on each row's first byte."""
    keep = np.arange(rows.shape[1])[None, :] < lengths[:, None]
    first = np.zeros(rows.shape, dtype=np.bool_)
    first[:, 0] = True
    return rows[keep], first[keep]


def _escape(data: U8, start: npt.NDArray[np.bool_]) -> U8:
    """Double every 0x1a except the frame-start markers."""
    return np.repeat(data, np.where((data == 0x1A) & ~start, 2, 1))


def _ticks(t_us: I64) -> I64:
    """12 MHz counter of each frame: 12 ticks per microsecond since the first frame.

    The 48-bit counter covers 271 days; a longer capture cannot be written as one file.
    """
    ticks = np.asarray((t_us - t_us[0]) * 12, dtype=np.int64)
    if ticks.size and int(ticks.max()) >= 1 << 48:
        raise ValueError("capture spans more than 271 days: the 48-bit 12 MHz counter would wrap; "
                         "split the scenario into shorter ones")
    return ticks


def beast_bytes(t_us: I64, msgs: pa.Array, signal: U8) -> bytes:
    """A Beast binary stream (types '2'/'3', 48-bit 12 MHz counter, signal byte, 0x1a escaping)."""
    mat, lengths = _msg_matrix(msgs)
    n = lengths.size
    rows = np.zeros((n, 9 + 14), dtype=np.uint8)
    rows[:, 0] = 0x1A
    rows[:, 1] = np.where(lengths == 7, 0x32, 0x33)
    ticks = _ticks(t_us)
    for k in range(6):
        rows[:, 2 + k] = (ticks >> (8 * (5 - k))) & 0xFF
    rows[:, 8] = signal
    rows[:, 9:] = mat
    data, start = _flatten(rows, 9 + lengths)
    return _escape(data, start).tobytes()


def avr_bytes(t_us: I64, msgs: pa.Array, timestamps: bool = True) -> bytes:
    """AVR text: ``@<12 hex counter><hex>;`` lines (``timestamps``) or plain ``*<hex>;`` lines."""
    mat, lengths = _msg_matrix(msgs)
    n = lengths.size
    hexed = np.empty((n, 28), dtype=np.uint8)
    hexed[:, 0::2] = _HEX[mat >> 4]
    hexed[:, 1::2] = _HEX[mat & 0xF]
    head = 13 if timestamps else 1
    rows = np.zeros((n, head + 28 + 2), dtype=np.uint8)
    rows[:, 0] = ord("@") if timestamps else ord("*")
    if timestamps:
        ticks = _ticks(t_us)
        for k in range(12):
            rows[:, 1 + k] = _HEX[(ticks >> (4 * (11 - k))) & 0xF]
    rows[:, head : head + 28] = hexed
    width = head + 2 * lengths
    rows[np.arange(n), width] = ord(";")
    rows[np.arange(n), width + 1] = ord("\n")
    data, _ = _flatten(rows, width + 2)
    return data.tobytes()


def sbs_bytes(positions: pa.Table) -> bytes:
    """SBS-1 (BaseStation, port 30003) ``MSG`` lines of decoded rows, times in UTC.

    Transmission types: 1 identification, 2 surface position, 3 airborne position,
    4 velocity, 5 altitude reply, 6 squawk (identity reply / emergency status).
    """
    df = pl.from_arrow(positions)
    assert isinstance(df, pl.DataFrame)
    has_pos = pl.col("lat").is_not_null()
    tt = (pl.when(pl.col("callsign").is_not_null()).then(1)
          .when(has_pos & pl.col("on_ground").fill_null(False)).then(2)
          .when(has_pos).then(3)
          .when(pl.col("gs").is_not_null()).then(4)
          .when(pl.col("squawk").is_not_null()).then(6)
          .otherwise(5))

    def num(c: str, fmt: int) -> pl.Expr:
        e = pl.col(c).round(fmt)
        e = e.cast(pl.Int64) if fmt == 0 else e
        return e.cast(pl.Utf8).fill_null("")

    stamp = pl.col("time").dt.strftime("%Y/%m/%d,%H:%M:%S%.3f")
    alt = pl.coalesce(pl.col("alt_baro"), pl.col("alt_geom"))
    emergency = pl.when(pl.col("emergency").is_null()).then(pl.lit("")).otherwise(
        pl.when(pl.col("emergency") > 0).then(pl.lit("-1")).otherwise(pl.lit("0")))
    ground = pl.when(pl.col("on_ground").is_null()).then(pl.lit("")).otherwise(
        pl.when(pl.col("on_ground")).then(pl.lit("-1")).otherwise(pl.lit("0")))
    icao = pl.col("icao24").map_elements(lambda v: f"{v:06X}", return_dtype=pl.Utf8)
    line = pl.concat_str([
        pl.lit("MSG,"), tt.cast(pl.Utf8), pl.lit(",1,1,"), icao, pl.lit(",1,"), stamp, pl.lit(","), stamp,
        pl.lit(","), pl.col("callsign").fill_null(""), pl.lit(","), alt.round(0).cast(pl.Int64).cast(pl.Utf8).fill_null(""),
        pl.lit(","), num("gs", 1), pl.lit(","), num("track", 1), pl.lit(","), num("lat", 6), pl.lit(","),
        num("lon", 6), pl.lit(","), num("vrate", 0), pl.lit(","), pl.col("squawk").fill_null(""), pl.lit(",,"),
        emergency, pl.lit(",,"), ground,
    ])
    out = df.sort("time").select(line.alias("l"))["l"]
    return ("\r\n".join(out.to_list()) + "\r\n").encode("ascii")


def write_capture(result: SimResult, out: Path, fmt: CaptureFormat = "beast",
                  progress: Any | None = None) -> dict[str, Any]:
    """Write one capture file per receiver plus ``truth.json`` into ``out``; return the files' metadata.

    ``progress`` (optional) is called as ``progress(done, total)`` after each receiver.
    """
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Any] = {}
    receivers = [r.id for r in result.scenario.receivers]
    for i, rid in enumerate(receivers):
        fr = result.frames.filter(pc.equal(result.frames["receiver"], rid))
        path = out / f"{rid}{EXT[fmt]}"
        if fmt == "sbs":
            pos = result.positions.filter(pc.equal(result.positions["receiver"], rid))
            data = sbs_bytes(pos) if pos.num_rows else b""
            n = pos.num_rows
        else:
            t_us = fr["time"].cast(pa.int64()).to_numpy()
            n = fr.num_rows
            if n == 0:
                data = b""
            elif fmt == "beast":
                data = beast_bytes(t_us, fr["msg"].combine_chunks(), fr["signal"].to_numpy())
            else:
                data = avr_bytes(t_us, fr["msg"].combine_chunks(), timestamps=fmt == "avr")
        path.write_bytes(data)
        first = last = None
        if fr.num_rows:
            tu = fr["time"].cast(pa.int64())
            first, last = pc.min(tu).as_py() / 1e6, pc.max(tu).as_py() / 1e6
            ns = int(pc.max(tu).as_py()) * 1000
            os.utime(path, ns=(ns, ns))
        files[rid] = {"path": path.name, "format": fmt, "records": n, "bytes": len(data),
                      "first_frame": iso(first, "microseconds"), "last_frame": iso(last, "microseconds")}
        if progress is not None:
            progress(i + 1, len(receivers))
    times = [f["first_frame"] for f in files.values() if f["first_frame"]]
    result.truth.meta.update({"format": fmt, "files": files, "start_time": min(times) if times else None,
                              "end_time": max((f["last_frame"] for f in files.values() if f["last_frame"]),
                                              default=None)})
    result.truth.write(out / "truth.json")
    return files
