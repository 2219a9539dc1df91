"""AVR raw text (port 30002 output): one Mode S frame per line.

Variants: ``*<hex>;`` (no time), ``@<12 hex: 12 MHz counter><hex>;`` (dump1090
``--mlat``), ``%`` the same as ``@``, and ``<<12 hex counter><2 hex signal><hex>;``.
``*0000;`` heartbeats are skipped. Counter times are anchored like Beast (the
last frame at the file's mtime, or the first at ``start_time``). Plain ``*``
lines carry no time at all: they all get ``start_time`` (or the mtime) and are
counted under the note ``"note: no timestamps in file"`` (not an error).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.errors import InputError, Rejects
from tailwatch.sources._arrow import (
    count_frame_rejects,
    frames_batch,
    hex_fixed,
    hex_frames,
    reject_rows,
    split_lines,
)
from tailwatch.sources._io import iter_blocks
from tailwatch.sources.base import Chunk, ReaderOptions
from tailwatch.sources.beast import counter_times

#: prefix -> (counter digits, signal digits)
VARIANTS = {"*": (0, 0), "@": (12, 0), "%": (12, 0), "<": (12, 2)}


class AvrReader:
    """Reader of AVR text (yields ``FRAMES``; ``offset`` = line number)."""

    name = "avr"

    def __init__(self, options: ReaderOptions | None = None) -> None:
        self.options = options or ReaderOptions()

    def sniff(self, head: bytes, path: Path) -> bool:
        """Most of the first lines look like ``*hex;`` / ``@hex;``."""
        lines = [ln.strip() for ln in head.splitlines()[:-1] or head.splitlines()]
        lines = [ln for ln in lines if ln]
        good = sum(1 for ln in lines if ln[:1] in b"*@%<" and ln.endswith(b";")
                   and all(c in b"0123456789abcdefABCDEF" for c in ln[1:-1]))
        return bool(lines) and good >= max(1, len(lines) // 2)

    def read(self, path: Path, rejects: Rejects, chunk_rows: int = 500_000) -> Iterator[Chunk]:
        """Yield ``FRAMES`` chunks; bad lines are counted with their line number."""
        p = str(path)
        msgs: list[pa.Array] = []
        ticks: list[np.ndarray] = []
        timed: list[np.ndarray] = []
        sigs: list[np.ndarray] = []
        lines_no: list[np.ndarray] = []
        size = 0
        for block, first, pos in iter_blocks(path):
            size = pos
            if b"\x00" in block[:4096]:
                raise InputError(p, f"line {first}", "binary data, not AVR text (NUL bytes)")
            lines = pc.utf8_trim_whitespace(split_lines(block))
            lineno = np.arange(first, first + len(lines), dtype=np.int64)
            blank = pc.equal(pc.utf8_length(lines), 0).to_numpy(zero_copy_only=False)
            head = pc.utf8_slice_codeunits(lines, 0, 1)
            ends = pc.ends_with(lines, ";").to_numpy(zero_copy_only=False)
            known = pc.is_in(head, pa.array(list(VARIANTS))).to_numpy(zero_copy_only=False)
            heartbeat = pc.equal(lines, "*0000;").to_numpy(zero_copy_only=False)
            if heartbeat.any():
                rejects.add("note: AVR heartbeat skipped", p, f"line {int(lineno[heartbeat][0])}",
                            n=int(heartbeat.sum()))
            reject_rows(~blank & ~(known & ends), "not an AVR line", p, "line", lineno, rejects, lines)
            for prefix, (nts, nsig) in VARIANTS.items():
                sel = np.nonzero(known & ends & ~heartbeat & pc.equal(head, prefix).to_numpy(
                    zero_copy_only=False))[0]
                if not len(sel):
                    continue
                body = pc.utf8_slice_codeunits(lines.take(pa.array(sel)), 1, -1)
                where = lineno[sel]
                ok = np.ones(len(sel), bool)
                ts = np.zeros(len(sel), np.int64)
                sig = np.full(len(sel), np.nan, np.float32)
                if nts:
                    ts, ok = hex_fixed(pc.utf8_slice_codeunits(body, 0, nts), nts)
                    reject_rows(~ok, "bad AVR timestamp", p, "line", where, rejects, body)
                if nsig:
                    s, sok = hex_fixed(pc.utf8_slice_codeunits(body, nts, nts + nsig), nsig)
                    sig = np.where(sok, s, np.nan).astype(np.float32)
                hexes = pc.utf8_slice_codeunits(body, nts + nsig, 1 << 20)
                msg, status = hex_frames(hexes)
                count_frame_rejects(np.where(ok, status, 0).astype(np.int8), where, hexes, p, rejects)
                good = np.nonzero(ok & (status == 0))[0]
                msgs.append(msg.take(pa.array(good)))
                ticks.append(ts[good])
                timed.append(np.full(len(good), nts > 0))
                sigs.append(sig[good])
                lines_no.append(where[good])
        if not lines_no:
            return
        order = np.argsort(np.concatenate(lines_no), kind="stable")
        line = np.concatenate(lines_no)[order]
        msg = pa.concat_arrays(msgs).take(pa.array(order))
        tick = np.concatenate(ticks)[order]
        has_t = np.concatenate(timed)[order]
        sig = np.concatenate(sigs)[order]
        mtime = os.stat(path).st_mtime
        t_us = np.empty(len(line), np.int64)
        if has_t.any():
            t_us[has_t] = counter_times(tick[has_t], self.options.start_time, mtime, p, rejects)
        if (~has_t).any():
            anchor = self.options.start_time if self.options.start_time is not None else mtime
            t_us[~has_t] = round(anchor * 1e6)
            rejects.add("note: no timestamps in file", p, f"line {int(line[~has_t][0])}",
                        "time set to " + ("start_time" if self.options.start_time is not None else "file mtime"),
                        n=int((~has_t).sum()))
        signal = None if np.isnan(sig).all() else pa.array(sig, pa.float32(), mask=np.isnan(sig))
        for i in range(0, len(line), chunk_rows):
            j = i + chunk_rows
            yield Chunk("frames", frames_batch(t_us[i:j], msg[i:j], None if signal is None else signal[i:j],
                                               line[i:j]), size)
