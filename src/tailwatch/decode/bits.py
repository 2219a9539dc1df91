"""Column-wise bit plumbing for Mode S frames: byte matrix, CRC-24, bit fields.

Every function works on a whole batch at once: frames are held as an
``(n, 14)`` ``uint8`` matrix (short 56-bit frames use the first 7 columns), and
fields come out as NumPy columns. No Python loop runs per frame.

>>> m, n = frame_matrix(pa.array([bytes.fromhex("8D406B902015A678D4D220AA4BDA")], pa.binary()))
>>> int(n[0]), int(syndrome(m, n)[0])
(14, 0)
>>> int(downlink_format(m)[0])
17
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

U8 = npt.NDArray[np.uint8]
U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]

#: Mode S CRC-24 generator polynomial (without the x^24 term).
GENERATOR = 0xFFF409


def _crc_table() -> U32:
    table = np.zeros(256, dtype=np.uint32)
    for byte in range(256):
        crc = byte << 16
        for _ in range(8):
            crc = ((crc << 1) ^ GENERATOR) if crc & 0x800000 else (crc << 1)
        table[byte] = crc & 0xFFFFFF
    return table


CRC_TABLE: U32 = _crc_table()


def frame_matrix(msgs: pa.Array | pa.ChunkedArray) -> tuple[U8, I64]:
    """Frames of a binary Arrow column as an ``(n, 14)`` byte matrix plus lengths.

    Bytes beyond a frame's length are zero. Lengths are returned as they are
    (callers decide which lengths are valid); frames longer than 14 bytes are
    truncated in the matrix but keep their true length.
    """
    if isinstance(msgs, pa.ChunkedArray):
        msgs = msgs.combine_chunks() if msgs.num_chunks != 1 else msgs.chunk(0)
    n = len(msgs)
    if n == 0:
        return np.zeros((0, 14), dtype=np.uint8), np.zeros(0, dtype=np.int64)
    if pa.types.is_large_binary(msgs.type):
        off_dtype: type[np.generic] = np.int64
    else:
        msgs = msgs.cast(pa.binary())
        off_dtype = np.int32
    bufs = msgs.buffers()
    offsets = np.frombuffer(bufs[1], dtype=off_dtype, count=n + 1 + msgs.offset)[msgs.offset :].astype(np.int64)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    lengths = np.diff(offsets)
    if msgs.null_count:
        lengths = np.where(np.asarray(msgs.is_null()), 0, lengths)
    starts = offsets[:-1]
    if n and (lengths == 14).all():
        mat = np.frombuffer(data, np.uint8, count=14 * n, offset=int(starts[0])).reshape(n, 14).copy()
        return mat, lengths
    padded = np.concatenate([data, np.zeros(15, dtype=np.uint8)])
    last = len(padded) - 1
    mat = np.zeros((n, 14), dtype=np.uint8)
    for j in range(14):  # one column at a time keeps temporaries at 8 bytes per frame
        col = padded[np.minimum(starts + j, last)]
        mat[:, j] = np.where(lengths > j, col, 0)
    return mat, lengths


def syndrome(mat: U8, lengths: I64) -> U32:
    """CRC-24 remainder of each frame: 0 for a clean DF11/17/18 frame.

    For Address/Parity formats (DF0/4/5/16/20/21) it is the aircraft address;
    for DF11 all-call replies it is the interrogator code.
    """
    n = mat.shape[0]
    crc = np.zeros(n, dtype=np.uint32)
    long_ = lengths == 14
    for j in range(11):
        if j == 4:
            crc_short = crc.copy()
        crc = ((crc << np.uint32(8)) & np.uint32(0xFFFFFF)) ^ CRC_TABLE[((crc >> np.uint32(16)) ^ mat[:, j]) & 0xFF]
    tail_long = (mat[:, 11].astype(np.uint32) << 16) | (mat[:, 12].astype(np.uint32) << 8) | mat[:, 13]
    tail_short = (mat[:, 4].astype(np.uint32) << 16) | (mat[:, 5].astype(np.uint32) << 8) | mat[:, 6]
    return np.where(long_, crc ^ tail_long, crc_short ^ tail_short).astype(np.uint32)


def downlink_format(mat: U8) -> npt.NDArray[np.int64]:
    """DF of each frame (24 for every ``11xxx`` Comm-D frame)."""
    df = (mat[:, 0] >> 3).astype(np.int64)
    return np.where(df >= 24, 24, df)


def be_uint(mat: U8, start: int, nbytes: int) -> U64:
    """Big-endian unsigned integer of ``nbytes`` bytes from byte ``start``."""
    out = np.zeros(mat.shape[0], dtype=np.uint64)
    for j in range(start, start + nbytes):
        out = (out << np.uint64(8)) | mat[:, j].astype(np.uint64)
    return out


def field(word: U64, width: int, first: int, nbits: int) -> npt.NDArray[np.int64]:
    """Bits ``first .. first+nbits-1`` (1-based, MSB first) of a ``width``-bit word.

    >>> int(field(np.array([0b1011_0000], np.uint64), 8, 1, 4)[0])
    11
    """
    shift = np.uint64(width - (first + nbits - 1))
    return ((word >> shift) & np.uint64((1 << nbits) - 1)).astype(np.int64)


def address(mat: U8) -> npt.NDArray[np.int64]:
    """The 24-bit address field of bytes 1-3 (DF11/17/18 AA)."""
    return be_uint(mat, 1, 3).astype(np.int64)
