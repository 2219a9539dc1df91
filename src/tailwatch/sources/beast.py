"""Mode-S Beast binary (port 30005 output, ``.bin`` captures).

Framing: ``0x1a`` + type + 6-byte big-endian 12 MHz counter + 1 signal byte +
message, with every ``0x1a`` inside the frame doubled. Types ``'2'`` (7-byte
Mode S) and ``'3'`` (14-byte Mode S) are kept; ``'1'`` (Mode A/C, also the idle
heartbeat), ``'4'`` (status), ``'5'`` (receiver position) and readsb's ``0xe3``
are skipped and counted. Bytes that do not form a frame are skipped up to the
next ``0x1a`` + type and counted as ``"beast resync"`` with their byte offset.

Time: the counter is relative, so the capture is anchored at the file's mtime
(its *last* frame is at mtime: a capture stops being written when it ends),
or at ``start_time`` (its *first* frame) when given. A counter that jumps
backwards (receiver restart) continues monotonically from the previous frame.
Frames with readsb's synthetic "MLAT" counter values (``0xFF004D4C41xx``) take
the previous frame's time. Parsing is vectorised with NumPy. Without
``start_time`` frames are kept in memory until the end of the file, because the
anchor needs the last counter; with it they stream out block by block.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from tailwatch.errors import InputError, Rejects
from tailwatch.sources._arrow import frames_batch
from tailwatch.sources._io import BLOCK, open_binary
from tailwatch.sources.base import Chunk, ReaderOptions

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]
ESC = 0x1A
#: Message bytes after the 6-byte counter and the signal byte, per type byte.
PAYLOAD = {0x31: 2, 0x32: 7, 0x33: 14, 0x34: 14, 0x35: 14}
SKIPPED = {0x31: "note: beast Mode A/C frame skipped", 0x34: "note: beast status frame skipped",
           0x35: "note: beast receiver-position frame skipped", 0xE3: "note: beast receiver-id frame skipped"}
SYNTHETIC = 0xFF0000000000


@dataclass
class _Parsed:
    ts: list[I64] = field(default_factory=list)
    msg: list[pa.Array] = field(default_factory=list)
    sig: list[U8] = field(default_factory=list)
    off: list[I64] = field(default_factory=list)


def _unescape(a: U8) -> tuple[U8, I64, npt.NDArray[np.bool_]]:
    """Drop escape bytes; return unescaped bytes, their original offsets, and frame-start marks."""
    is1a = a == ESC
    n = len(a)
    if not is1a.any():
        return a, np.arange(n, dtype=np.int64), np.zeros(n, bool)
    prev = np.concatenate([[False], is1a[:-1]])
    nxt = np.concatenate([is1a[1:], [False]])
    run_start = np.nonzero(is1a & ~prev)[0]
    run_end = np.nonzero(is1a & ~nxt)[0]  # inclusive
    run_len = run_end - run_start + 1
    # Position of each 0x1a inside its run.
    run_id = np.cumsum(is1a & ~prev) - 1
    idx = np.nonzero(is1a)[0]
    pos_in_run = idx - run_start[run_id[idx]]
    odd = (run_len % 2 == 1)[run_id[idx]]
    last = pos_in_run == run_len[run_id[idx]] - 1
    marker_raw = idx[odd & last]
    drop = idx[(pos_in_run % 2 == 0) & ~(odd & last)]
    keep = np.ones(n, bool)
    keep[drop] = False
    marker = np.zeros(n, bool)
    marker[marker_raw] = True
    orig = np.nonzero(keep)[0].astype(np.int64)
    return a[keep], orig, marker[keep]


def _parse(a: U8, base: int, final: bool, path: str, rejects: Rejects, out: _Parsed) -> int:
    """Parse complete frames of ``a`` (file offset ``base``); return bytes consumed."""
    if not final:
        # A run of 0x1a at the end of a block is ambiguous (escape pair or frame start?)
        # until the next block: leave it, and the frame it belongs to, for the next call.
        k = len(a)
        while k > 0 and a[k - 1] == ESC:
            k -= 1
        a = a[:k]
    u, orig, mark = _unescape(a)
    starts = np.nonzero(mark)[0]
    if len(starts) == 0:
        if final and len(a):
            rejects.add("beast resync", path, f"byte {base}", f"{len(a)} bytes without a frame")
            return len(a)
        return 0 if not final else len(a)
    if starts[0] > 0:
        rejects.add("beast resync", path, f"byte {base}", f"{int(orig[starts[0]])} bytes before first frame")
    if final:
        ends = np.concatenate([starts[1:], [len(u)]])
        consumed = len(a)
    else:
        ends = starts[1:]
        starts = starts[:-1]
        consumed = int(orig[ends[-1]]) if len(ends) else 0
        if len(ends) == 0:
            return 0
    typ = np.where(starts + 1 < len(u), u[np.minimum(starts + 1, len(u) - 1)], 0)
    payload = np.zeros(len(starts), np.int64)
    for t, n in PAYLOAD.items():
        payload[typ == t] = n
    payload[typ == 0xE3] = 8 - 7  # readsb receiver id: 8 bytes = 6 "counter" + 1 + 1
    known = payload > 0
    size = np.where(known, 2 + 6 + 1 + payload, 0)
    room = ends - starts
    fits = known & (room >= size)
    for t, reason in SKIPPED.items():
        k = int((fits & (typ == t)).sum())
        if k:
            rejects.add(reason, path, f"byte {base + int(orig[starts[np.nonzero(fits & (typ == t))[0][0]]])}", n=k)
    bad = ~fits
    extra = fits & (room > size)
    for mask, where in ((bad, starts), (extra, starts + size)):
        rows = np.nonzero(mask)[0]
        for r in rows[: rejects.keep]:
            rejects.add("beast resync", path, f"byte {base + int(orig[min(int(where[r]), len(orig) - 1)])}",
                        f"type byte 0x{int(typ[r]):02x}")
        if len(rows) > rejects.keep:
            rejects.add("beast resync", path, f"byte {base}", n=len(rows) - rejects.keep)
    modes = fits & ((typ == 0x32) | (typ == 0x33))
    s = starts[modes]
    plen = payload[modes]
    ts_bytes = u[(s + 2)[:, None] + np.arange(6)].astype(np.int64)
    ts = (ts_bytes << np.array([40, 32, 24, 16, 8, 0], np.int64)).sum(axis=1)
    sig = u[s + 8]
    total = int(plen.sum())
    mstart = s + 9
    idx = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(plen) - plen, plen) + np.repeat(mstart, plen)
    data = u[idx]
    offsets = np.concatenate([[0], np.cumsum(plen)]).astype(np.int32)
    msg = pa.Array.from_buffers(pa.binary(), len(s), [None, pa.py_buffer(offsets), pa.py_buffer(data.tobytes())])
    out.ts.append(ts)
    out.msg.append(msg)
    out.sig.append(sig)
    out.off.append(base + orig[s])
    return consumed


class CounterClock:
    """Turns raw 12 MHz counters into monotonic ticks since the first frame, batch after batch.

    Counter resets (backward jumps) and synthetic MLAT counters are handled as the
    module docstring says; state carries over between batches.
    """

    def __init__(self, path: str, rejects: Rejects) -> None:
        self.path = path
        self.rejects = rejects
        self.prev: int | None = None  # last real counter seen
        self.ticks = 0  # monotonic ticks at ``prev``
        self.frames = 0

    def ticks_of(self, ts: I64) -> I64:
        """Monotonic ticks (since the first real frame) of each counter in ``ts``."""
        n = len(ts)
        base_frame = self.frames
        self.frames += n
        if n == 0:
            return ts
        synthetic = ts >= SYNTHETIC
        if synthetic.any():
            self.rejects.add("note: beast synthetic (MLAT) timestamp", self.path,
                             f"frame {base_frame + int(np.nonzero(synthetic)[0][0])}", n=int(synthetic.sum()))
        real = np.nonzero(~synthetic)[0]
        if len(real) == 0:
            return np.full(n, self.ticks, np.int64)
        # A synthetic counter takes the previous real counter (or the first real one if none yet).
        src = np.maximum.accumulate(np.where(~synthetic, np.arange(n), -1))
        fill = self.prev if self.prev is not None else int(ts[real[0]])
        filled = np.where(src < 0, fill, ts[np.maximum(src, 0)])
        delta = np.diff(filled, prepend=fill)
        resets = delta < 0
        if resets.any():
            self.rejects.add("note: beast counter reset", self.path,
                             f"frame {base_frame + int(np.nonzero(resets)[0][0])}", n=int(resets.sum()))
        ticks = self.ticks + np.cumsum(np.where(resets, 0, delta))
        self.prev = int(filled[-1])
        self.ticks = int(ticks[-1])
        return ticks


def counter_times(ts: I64, anchor_start: float | None, mtime: float, path: str, rejects: Rejects) -> I64:
    """Absolute microseconds from all the raw 12 MHz counters of a file (see module docstring)."""
    if len(ts) == 0:
        return ts
    ticks = CounterClock(path, rejects).ticks_of(ts)
    if anchor_start is not None:
        base_us = round(anchor_start * 1e6)
    else:
        base_us = round(mtime * 1e6) - int(ticks[-1]) // 12
    return base_us + ticks // 12


class BeastReader:
    """Reader of Beast binary captures (yields ``FRAMES``)."""

    name = "beast"

    def __init__(self, options: ReaderOptions | None = None) -> None:
        self.options = options or ReaderOptions()

    def sniff(self, head: bytes, path: Path) -> bool:
        """A Beast stream starts with ``0x1a`` + a frame type, and has more of them."""
        if len(head) < 2 or head[0] != ESC or head[1] not in (0x31, 0x32, 0x33, 0x34, 0x35, 0xE3):
            return False
        return head.count(b"\x1a\x32") + head.count(b"\x1a\x33") + head.count(b"\x1a\x31") >= min(
            2, max(1, len(head) // 24))

    def read(self, path: Path, rejects: Rejects, chunk_rows: int = 500_000) -> Iterator[Chunk]:
        """Yield ``FRAMES`` chunks; see the module docstring for timing rules.

        With ``start_time`` the frames stream out block by block; without it they are
        held until the end of the file, whose last counter anchors the times at the mtime.
        """
        p = str(path)
        out = _Parsed()
        clock = CounterClock(p, rejects)
        start = self.options.start_time
        streaming = start is not None
        error: InputError | None = None
        carry = b""
        base = 0
        seen = False
        with open_binary(path) as s:
            while True:
                try:
                    data = s.read(BLOCK)
                except InputError as exc:
                    error, data = exc, b""
                final = not data
                seen |= bool(data)
                buf = carry + data
                used = _parse(np.frombuffer(buf, np.uint8), base, final, p, rejects, out)
                base += used
                carry = buf[used:]
                if streaming and start is not None and out.ts:
                    ticks = clock.ticks_of(np.concatenate(out.ts))
                    yield from self._emit(out, round(start * 1e6) + ticks // 12, chunk_rows, s.compressed_pos)
                    out = _Parsed()
                if final:
                    break
            size = s.compressed_pos
        if not seen and error is None:
            raise InputError(p, "byte 0", "empty file")
        if not streaming and out.ts:
            ticks = clock.ticks_of(np.concatenate(out.ts))
            anchor = round(os.stat(path).st_mtime * 1e6) - int(ticks[-1]) // 12
            yield from self._emit(out, anchor + ticks // 12, chunk_rows, size)
        if error is not None:
            raise error

    @staticmethod
    def _emit(out: _Parsed, t_us: I64, chunk_rows: int, size: int) -> Iterator[Chunk]:
        msg = pa.concat_arrays(out.msg)
        sig = np.concatenate(out.sig).astype(np.float32)
        off = np.concatenate(out.off)
        for i in range(0, len(t_us), chunk_rows):
            j = i + chunk_rows
            yield Chunk("frames", frames_batch(t_us[i:j], msg[i:j], sig[i:j], off[i:j]), size)
