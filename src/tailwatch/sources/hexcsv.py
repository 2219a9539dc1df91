"""Timestamped hex CSV: one Mode S frame per line with a Unix time.

Covers pyModeS' test captures (``ts,"hex","icao",tc`` and the BOM'd
``ts,icao,hex``) and any similar CSV: the message column is found by content
(the first field holding 14 or 28 hex digits), the time column is the first
numeric field that looks like epoch seconds (or milliseconds, >1e11). An
optional header line is skipped. Short-DF frames (DF0/4/5/11) padded to 28
hex digits with zeros are trimmed to 7 bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.errors import InputError, Rejects
from tailwatch.sources._arrow import count_frame_rejects, frames_batch, hex_frames, numeric, split_lines
from tailwatch.sources._io import iter_blocks
from tailwatch.sources.base import Chunk, ReaderOptions

_HEX = re.compile(rb"^[0-9A-Fa-f]{14}([0-9A-Fa-f]{14})?$")
_NUM = re.compile(rb"^\d{9,13}(\.\d*)?$")


def _layout(head: bytes) -> tuple[int, int] | None:
    """``(time column, message column)`` from the first data lines, or None."""
    for raw in head.lstrip(b"\xef\xbb\xbf").splitlines()[:5]:
        fields = [f.strip().strip(b'"').strip() for f in raw.split(b",")]
        msg = next((i for i, f in enumerate(fields) if _HEX.match(f)), None)
        ts = next((i for i, f in enumerate(fields) if _NUM.match(f)), None)
        if msg is not None and ts is not None:
            return ts, msg
    return None


class HexCsvReader:
    """Reader of timestamped hex CSV (yields ``FRAMES``; ``offset`` = line number)."""

    name = "hexcsv"

    def __init__(self, options: ReaderOptions | None = None) -> None:
        self.options = options or ReaderOptions()

    def sniff(self, head: bytes, path: Path) -> bool:
        """True when one of the first lines has an epoch time and a 14/28-hex-digit field."""
        return b"," in head and _layout(head) is not None

    def read(self, path: Path, rejects: Rejects, chunk_rows: int = 500_000) -> Iterator[Chunk]:
        """Yield ``FRAMES`` chunks; bad lines are counted with their line number."""
        p = str(path)
        layout: tuple[int, int] | None = None
        for block, first_line, pos in iter_blocks(path):
            if layout is None:
                if b"\x00" in block[:4096]:
                    raise InputError(p, "byte 0", "binary data, not a hex CSV (NUL bytes)")
                layout = _layout(block[:65536])
                if layout is None:
                    raise InputError(p, f"line {first_line}",
                                     "no column with epoch times and 14/28-digit hex frames")
                block = block[3:] if block.startswith(b"\xef\xbb\xbf") else block
            ts_col, msg_col = layout
            lines = split_lines(block)
            lineno = np.arange(first_line, first_line + len(lines), dtype=np.int64)
            text = lines
            blank = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(text)), 0).to_numpy(zero_copy_only=False)
            fields = pc.split_pattern(text, ",")
            nf = pc.list_value_length(fields).to_numpy(zero_copy_only=False)
            need = max(ts_col, msg_col) + 1
            short = (nf < need) & ~blank
            if short.any():
                rows = np.nonzero(short)[0]
                rejects.add("too few CSV fields", p, f"line {int(lineno[rows[0]])}",
                            repr(text[int(rows[0])].as_py()))
                if len(rows) > 1:
                    rejects.add("too few CSV fields", p, f"line {int(lineno[rows[1]])}", n=len(rows) - 1)
            keep = np.nonzero(~short & ~blank)[0]
            if len(keep) == 0:
                continue
            fields = fields.take(pa.array(keep))
            lineno = lineno[keep]
            ts_txt = pc.utf8_trim(pc.list_element(fields, ts_col), ' "\t')
            hex_txt = pc.utf8_trim(pc.list_element(fields, msg_col), ' "\t')
            ts = numeric(ts_txt)
            assert ts is not None
            ts_np = ts.to_numpy(zero_copy_only=False)
            msg, status = hex_frames(hex_txt)
            bad_ts = np.isnan(ts_np) & (status == 0)
            if bad_ts.any():
                rows = np.nonzero(bad_ts)[0]
                # A header line (no number, no hex) is not an error.
                hdr = (lineno[rows] == 1) & (status[rows] != 0)
                rows = rows[~hdr]
                for r in rows[: rejects.keep]:
                    rejects.add("bad timestamp", p, f"line {int(lineno[r])}", repr(ts_txt[int(r)].as_py()))
                if len(rows) > rejects.keep:
                    rejects.add("bad timestamp", p, f"line {int(lineno[rows[rejects.keep]])}",
                                n=len(rows) - rejects.keep)
            header = (lineno == 1) & np.isnan(ts_np) & (status != 0)
            count_frame_rejects(np.where(header, 0, status).astype(np.int8), lineno, hex_txt, p, rejects)
            good = np.nonzero((status == 0) & ~np.isnan(ts_np))[0]
            secs = ts_np[good]
            secs = np.where(secs > 1e11, secs / 1e3, secs)
            t_us = np.round(secs * 1e6).astype(np.int64)
            msg = msg.take(pa.array(good))
            for i in range(0, len(good), chunk_rows):
                j = i + chunk_rows
                yield Chunk("frames", frames_batch(t_us[i:j], msg[i:j], None, lineno[good][i:j]), pos)
