"""Vectorised helpers shared by the readers: lines, hex, ICAO addresses, batches.

Everything here works on whole Arrow/NumPy arrays; no Python loop per row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.errors import Rejects
from tailwatch.schema import FRAMES, POSITIONS, TIME

BoolArray = npt.NDArray[np.bool_]
I64Array = npt.NDArray[np.int64]

#: ASCII byte -> nibble value, 255 for anything that is not a hex digit.
_NIBBLE = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _NIBBLE[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _NIBBLE[_c] = _i + 10

#: Downlink formats whose frames are 56 bits (7 bytes); the others are 112 bits.
SHORT_DF = (0, 4, 5, 11)


def split_lines(block: bytes) -> pa.Array:
    r"""Split a block of bytes into text lines (invalid UTF-8 replaced), stripping ``\r``.

    >>> split_lines(b"a\r\nb\n").to_pylist()
    ['a', 'b']
    """
    if block.endswith(b"\n"):
        block = block[:-1]
    arr = pa.array([block.decode("utf-8", errors="replace")], pa.large_string())
    lines = pc.split_pattern(arr, "\n").flatten()
    return pc.replace_substring(lines, "\r", "")


def _flat(arr: pa.Array) -> tuple[npt.NDArray[np.uint8], I64Array]:
    """Data bytes and per-row offsets (len n+1) of a (large_)binary/string array."""
    arr = arr.cast(pa.large_binary()) if not pa.types.is_large_binary(arr.type) else arr
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    return data, offsets


def _gather(data: npt.NDArray[Any], starts: I64Array, lengths: I64Array) -> npt.NDArray[Any]:
    """Concatenate ``data[s:s+l]`` for every row, vectorised."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, data.dtype)
    width = int(lengths[0])
    if (lengths == width).all():  # fixed width (the usual case): a cheap 2-D gather
        out: npt.NDArray[Any] = data[(starts[:, None] + np.arange(width)).ravel()]
        return out
    ends = np.cumsum(lengths)
    idx = np.arange(total, dtype=np.int64) - np.repeat(ends - lengths, lengths) + np.repeat(starts, lengths)
    return data[idx]


def hex_frames(hexes: pa.Array) -> tuple[pa.Array, npt.NDArray[np.int8]]:
    """Decode hex Mode S frames; return ``(msg binary array, status)``.

    ``status`` per row: 0 ok, 1 not hex, 2 wrong length (not 14/28 hex digits),
    3 short-DF frame with non-zero padding. 28-digit short-DF frames (DF0/4/5/11)
    ending in 14 zeros are trimmed to 7 bytes. Bad rows get an empty ``msg``.

    >>> msg, st = hex_frames(pa.array(["8D4840D6202CC371C32CE0576098", "5D3981E46DC8EB00000000000000", "zz"]))
    >>> [m.hex() for m in msg.to_pylist()], st.tolist()
    (['8d4840d6202cc371c32ce0576098', '5d3981e46dc8eb', ''], [0, 0, 2])
    """
    data, off = _flat(hexes)
    n = len(hexes)
    lengths = np.diff(off)
    valid_arr = hexes.is_valid().to_numpy(zero_copy_only=False)
    status = np.zeros(n, np.int8)
    good_len = ((lengths == 14) | (lengths == 28)) & valid_arr
    status[~good_len] = 2
    use_len = np.where(good_len, lengths, 0)
    flat = _NIBBLE[_gather(data, off[:-1], use_len)]
    bad = flat == 255
    if bad.any():
        row_of = np.repeat(np.arange(n), use_len)
        status[np.unique(row_of[bad])] = 1
    flat = np.where(bad, 0, flat).astype(np.uint8)
    packed = (flat[0::2] << 4) | flat[1::2]
    nbytes = use_len // 2
    starts = np.cumsum(nbytes) - nbytes
    # DF of each good row: top 5 bits of its first byte.
    first = np.zeros(n, np.uint8)
    has = nbytes > 0
    first[has] = packed[starts[has]]
    df = first >> 3
    short = np.isin(df, SHORT_DF) & (nbytes == 14) & (status == 0)
    if short.any():
        tail = np.zeros(n, np.int64)
        rows = np.nonzero(short)[0]
        tail_bytes = _gather(packed, starts[rows] + 7, np.full(len(rows), 7, np.int64))
        tail[rows] = tail_bytes.reshape(-1, 7).astype(np.int64).sum(axis=1)
        status[short & (tail != 0)] = 3
    keep = np.where(status == 0, np.where(short, 7, nbytes), 0).astype(np.int64)
    out = _gather(packed, starts, keep)
    offsets = np.concatenate([[0], np.cumsum(keep)]).astype(np.int32)
    msg = pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(out.tobytes())])
    return msg, status


FRAME_REASONS = {1: "non-hex frame", 2: "wrong frame length (not 14/28 hex digits)",
                 3: "short-DF frame padded with non-zero bytes"}


def count_frame_rejects(
    status: npt.NDArray[np.int8], where: npt.NDArray[np.int64], raw: pa.Array, path: str,
    rejects: Rejects, unit: str = "line",
) -> None:
    """Count rows with non-zero ``status`` in ``rejects`` (first few with their location)."""
    for code, reason in FRAME_REASONS.items():
        rows = np.nonzero(status == code)[0]
        if len(rows):
            first = rows[: rejects.keep]
            for r in first:
                rejects.add(reason, path, f"{unit} {int(where[r])}", repr(raw[int(r)].as_py()))
            if len(rows) > len(first):
                rejects.add(reason, path, f"{unit} {int(where[first[-1]])}", n=len(rows) - len(first))


def icao_ints(hexes: pa.Array) -> tuple[npt.NDArray[np.int32], BoolArray, BoolArray]:
    """Parse hex addresses; return ``(icao24 int32, ok mask, non_icao mask)``.

    A leading ``~`` (readsb's non-ICAO marker) is stripped and reported in ``non_icao``.

    >>> v, ok, non = icao_ints(pa.array(["062f01", "~AE503D", "xyz", None, "062f01"]))
    >>> v.tolist(), ok.tolist(), non.tolist()
    ([405249, 11423805, 0, 0, 405249], [True, True, False, False, True], [False, True, False, False, False])

    Each distinct text is parsed once (an aircraft's address repeats in every row).
    """
    if isinstance(hexes, pa.ChunkedArray):
        hexes = hexes.combine_chunks()
    enc = pc.dictionary_encode(hexes.cast(pa.string()))
    vals_u, ok_u, non_u = _icao_distinct(enc.dictionary)
    # null rows point one past the distinct texts, at an entry that is 0 / not ok / not TIS-B
    idx = pc.fill_null(enc.indices, len(vals_u)).to_numpy(zero_copy_only=False)
    return np.append(vals_u, np.int32(0))[idx], np.append(ok_u, False)[idx], np.append(non_u, False)[idx]


def _icao_distinct(hexes: pa.Array) -> tuple[npt.NDArray[np.int32], BoolArray, BoolArray]:
    """:func:`icao_ints` on the distinct texts, row by row."""
    s = hexes.cast(pa.string())
    non_icao = pc.fill_null(pc.starts_with(s, "~"), False).to_numpy(zero_copy_only=False)
    s = pc.utf8_trim(pc.utf8_ltrim(s, "~"), " ")
    present = s.is_valid().to_numpy(zero_copy_only=False)
    lengths = pc.fill_null(pc.utf8_length(s), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    ok = present & (lengths >= 1) & (lengths <= 6)
    padded = pc.utf8_lpad(pc.if_else(pa.array(ok), s, pa.scalar("000000")), 6, "0")
    data, off = _flat(padded)
    lens = np.diff(off)
    ok &= lens == 6
    nib = _NIBBLE[_gather(data, off[:-1], np.where(ok, 6, 0))].reshape(-1, 6)
    rows_ok = np.nonzero(ok)[0]
    badhex = (nib == 255).any(axis=1)
    ok[rows_ok[badhex]] = False
    vals = np.zeros(len(s), np.int32)
    shifts = np.array([20, 16, 12, 8, 4, 0], np.int32)
    vals[rows_ok] = np.where(badhex, 0, (nib.astype(np.int32) << shifts).sum(axis=1))
    vals[~ok] = 0
    return vals, ok, non_icao


def frames_batch(time_us: I64Array, msg: pa.Array, signal: Any, offset: I64Array) -> pa.RecordBatch:
    """A ``FRAMES`` batch from its columns (``signal`` may be ``None``)."""
    n = len(time_us)
    sig = pa.nulls(n, pa.float32()) if signal is None else pa.array(signal, pa.float32())
    return pa.record_batch(
        [pa.array(time_us, pa.int64()).cast(TIME), msg, sig, pa.array(offset, pa.int64())],
        schema=FRAMES,
    )


def positions_batch(cols: Mapping[str, Any], source: str, n: int) -> pa.RecordBatch:
    """A ``POSITIONS`` batch: given columns cast to the schema's types, the rest null.

    ``time`` may be int64 microseconds or a timestamp array; ``quality`` defaults to 0.
    """
    arrays = []
    for field in POSITIONS:
        v = cols.get(field.name)
        if field.name == "source":
            arrays.append(pc.fill_null(pa.nulls(n, pa.string()), source))
            continue
        if v is None:
            if field.name == "quality":
                arrays.append(pa.array(np.zeros(n, np.uint16)))
            else:
                arrays.append(pa.nulls(n, field.type))
            continue
        a = v if isinstance(v, pa.Array | pa.ChunkedArray) else pa.array(v)
        if isinstance(a, pa.ChunkedArray):
            a = a.combine_chunks()
        if field.name == "time" and pa.types.is_integer(a.type):
            a = a.cast(pa.int64()).cast(TIME)
        elif pa.types.is_timestamp(a.type) and field.name == "time":
            a = a.cast(TIME)
        else:
            a = a.cast(field.type, safe=False)
        arrays.append(a)
    return pa.record_batch(arrays, schema=POSITIONS)


def numeric(arr: pa.Array | pa.ChunkedArray | None, typ: pa.DataType | None = None) -> pa.Array | None:
    """Cast a column to a numeric type, turning non-numeric strings into null."""
    if arr is None:
        return None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        ok = pc.match_substring_regex(arr, r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")
        arr = pc.if_else(ok, arr, pa.scalar(None, arr.type))
        arr = pc.utf8_trim_whitespace(arr)
    typ = typ or pa.float64()
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), typ)
    return arr.cast(typ, safe=False)


def epoch_us(arr: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.float64]:
    """Microseconds since the epoch as float (NaN where missing/unparseable).

    Integers/floats are seconds, or milliseconds when the column goes above 1e11; text is ISO 8601
    (a naive time is UTC); timestamps are converted to UTC.

    >>> epoch_us(pa.array([1633608773000, None])).tolist()
    [1633608773000000.0, nan]
    >>> epoch_us(pa.array(["2021-10-07T12:12:53Z"])).tolist()
    [1633608773000000.0]
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    t = arr.type
    if pa.types.is_timestamp(t):
        a = arr.cast(pa.timestamp("us", tz=t.tz) if t.tz else pa.timestamp("us")).cast(pa.int64())
        return np.asarray(a.to_numpy(zero_copy_only=False), dtype=np.float64)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        num = numeric(arr)
        assert num is not None
        if num.null_count < len(arr):
            return epoch_us(pc.if_else(num.is_valid(), num, pa.scalar(None, pa.float64())))
        s = pc.replace_substring_regex(arr, r"Z$", "+00:00")
        try:
            ts = pc.strptime(s, format="%Y-%m-%dT%H:%M:%S%z", unit="us", error_is_null=True)
            if ts.null_count == len(arr):
                raise pa.ArrowInvalid("no ISO times")
        except pa.ArrowInvalid:
            ts = pc.strptime(pc.replace_substring(s, " ", "T"), format="%Y-%m-%dT%H:%M:%S",
                             unit="us", error_is_null=True)
        return epoch_us(ts)
    v = np.asarray(pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    finite = v[np.isfinite(v)]
    scale = 1e3 if len(finite) and max(abs(finite.max()), abs(finite.min())) > 1e11 else 1e6
    return v * scale


def _text(arr: pa.Array | pa.ChunkedArray | None, floats_as_int: bool = False) -> pa.Array | None:
    """Text trimmed of padding, empty strings as null (floats first made integers if asked)."""
    if arr is None:
        return None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), pa.string())
    if floats_as_int and pa.types.is_floating(arr.type):
        arr = arr.cast(pa.int64(), safe=False)
    s = pc.utf8_trim_whitespace(arr.cast(pa.string()))
    return pc.if_else(pc.equal(pc.utf8_length(s), 0), pa.scalar(None, pa.string()), s)


def squawk_text(arr: pa.Array | pa.ChunkedArray | None) -> pa.Array | None:
    """Squawk codes as 4-character text ("0420"), from strings or integers."""
    s = _text(arr, floats_as_int=True)
    return None if s is None else pc.utf8_lpad(s, 4, "0")


def callsign_text(arr: pa.Array | pa.ChunkedArray | None) -> pa.Array | None:
    """Callsigns trimmed of padding; empty strings become null."""
    return _text(arr)


def reject_rows(mask: BoolArray, reason: str, path: str, unit: str, where: npt.NDArray[np.int64],
                rejects: Rejects, detail: pa.Array | None = None) -> None:
    """Count rows where ``mask`` in ``rejects``, keeping the first few locations."""
    rows = np.nonzero(mask)[0]
    if not len(rows):
        return
    for r in rows[: rejects.keep]:
        d = "" if detail is None else repr(detail[int(r)].as_py())
        rejects.add(reason, path, f"{unit} {int(where[r])}", d)
    if len(rows) > rejects.keep:
        rejects.add(reason, path, f"{unit} {int(where[rows[rejects.keep]])}", n=len(rows) - rejects.keep)


def hex_fixed(s: pa.Array, width: int) -> tuple[npt.NDArray[np.int64], BoolArray]:
    """Parse fixed-width hex text (up to 15 digits) into int64; ``ok`` is False for bad rows.

    >>> v, ok = hex_fixed(pa.array(["00000000abcd", "zz"]), 12)
    >>> v.tolist(), ok.tolist()
    ([43981, 0], [True, False])
    """
    data, off = _flat(s)
    lens = np.diff(off)
    ok = (lens == width) & s.is_valid().to_numpy(zero_copy_only=False)
    nib = _NIBBLE[_gather(data, off[:-1], np.where(ok, width, 0))].reshape(-1, width).astype(np.int64)
    rows = np.nonzero(ok)[0]
    bad = (nib == 255).any(axis=1)
    ok[rows[bad]] = False
    vals = np.zeros(len(s), np.int64)
    shifts = 4 * np.arange(width - 1, -1, -1, dtype=np.int64)
    vals[rows] = np.where(bad, 0, (nib << shifts).sum(axis=1))
    return vals, ok
