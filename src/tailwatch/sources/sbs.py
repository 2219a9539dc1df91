"""SBS-1 / BaseStation text (port 30003 output): ``MSG,<type>,...`` lines.

Fields (1-based, as in the BaseStation spec): 2 transmission type 1-8, 5 hex
address, 7/8 date/time the message was generated, 9/10 date/time logged,
11 callsign, 12 altitude (ft), 13 ground speed (kt), 14 track, 15/16 lat/lon,
17 vertical rate (ft/min), 18 squawk, 19 alert, 20 emergency, 21 SPI,
22 on ground; flags are ``-1`` true, ``0`` false, empty unknown. Every ``MSG``
line becomes one sparse row (only the fields its type carries are filled).
The date/time fields are the *receiver's local time*: they are read in the
``sbs_tz`` zone (default UTC) and converted to UTC. The emergency flag is set
by the squawk (7500/7600/7700) and mapped to the ADS-B emergency state
(5 unlawful interference, 4 no communications, 1 general; 0 when the flag is 0).
``SEL``/``ID``/``AIR``/``STA``/``CLK`` lines are skipped and counted as notes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.errors import InputError, Rejects
from tailwatch.sources._arrow import (
    callsign_text,
    icao_ints,
    numeric,
    positions_batch,
    reject_rows,
    split_lines,
    squawk_text,
)
from tailwatch.sources._io import iter_blocks
from tailwatch.sources.base import Chunk, ReaderOptions

OTHER = ("SEL", "ID", "AIR", "STA", "CLK")
EMERGENCY_OF_SQUAWK = {"7500": 5, "7600": 4, "7700": 1}


def _flag(arr: pa.Array) -> pa.Array:
    s = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(s, "-1"), True, pc.if_else(pc.equal(s, "0"), False, pa.scalar(None, pa.bool_())))


class SbsReader:
    """Reader of SBS-1/BaseStation text (yields ``POSITIONS``)."""

    name = "sbs"

    def __init__(self, options: ReaderOptions | None = None) -> None:
        self.options = options or ReaderOptions()

    def sniff(self, head: bytes, path: Path) -> bool:
        """Most non-empty first lines start with ``MSG,`` (or another SBS message type)."""
        lines = [ln.strip() for ln in head.splitlines()[:-1] or head.splitlines() if ln.strip()]
        good = sum(1 for ln in lines if ln.split(b",", 1)[0].decode("latin-1") in ("MSG", *OTHER)
                   and ln.count(b",") >= 9)
        return bool(lines) and good >= max(1, len(lines) // 2)

    def read(self, path: Path, rejects: Rejects, chunk_rows: int = 500_000) -> Iterator[Chunk]:
        """Yield one ``POSITIONS`` row per ``MSG`` line."""
        p = str(path)
        tz = self.options.sbs_tz
        for block, first, pos in iter_blocks(path):
            if b"\x00" in block[:4096]:
                raise InputError(p, f"line {first}", "binary data, not SBS text (NUL bytes)")
            lines = split_lines(block)
            lineno = np.arange(first, first + len(lines), dtype=np.int64)
            blank = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(lines)), 0).to_numpy(zero_copy_only=False)
            fields = pc.split_pattern(lines, ",")
            kind = pc.list_element(fields, 0)
            nf = pc.list_value_length(fields).to_numpy(zero_copy_only=False)
            is_msg = pc.equal(kind, "MSG").to_numpy(zero_copy_only=False)
            other = pc.is_in(kind, pa.array(OTHER)).to_numpy(zero_copy_only=False)
            if other.any():
                rejects.add("note: SBS non-MSG line skipped", p, f"line {int(lineno[other][0])}",
                            n=int(other.sum()))
            reject_rows(~blank & ~is_msg & ~other, "not an SBS line", p, "line", lineno, rejects, lines)
            short = is_msg & (nf < 22)
            reject_rows(short, "too few SBS fields", p, "line", lineno, rejects, lines)
            sel = np.nonzero(is_msg & ~short)[0]
            if not len(sel):
                continue
            f = fields.take(pa.array(sel))
            where = lineno[sel]

            def col(i: int, f: pa.Array = f) -> pa.Array:
                a = pc.utf8_trim_whitespace(pc.list_element(f, i))
                return pc.if_else(pc.equal(pc.utf8_length(a), 0), pa.scalar(None, pa.large_string()), a)

            date = pc.coalesce(col(6), col(8))
            clock = pc.coalesce(col(7), col(9))
            stamp = pc.binary_join_element_wise(pc.replace_substring(date, "/", "-"), clock,
                                                pa.scalar(" ", pa.large_string()))
            ok_t = pc.fill_null(pc.match_substring_regex(
                stamp, r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$"), False)
            stamp = pc.if_else(ok_t, stamp, pa.scalar(None, pa.large_string()))
            local = stamp.cast(pa.timestamp("us"))
            utc = pc.assume_timezone(local, tz, ambiguous="earliest", nonexistent="earliest") if tz != "UTC" \
                else local.cast(pa.timestamp("us", tz="UTC"))
            t_us = utc.cast(pa.int64()).to_numpy(zero_copy_only=False).astype(np.float64)
            t_us[~ok_t.to_numpy(zero_copy_only=False)] = np.nan
            icao, ok_icao, _ = icao_ints(col(4))
            bad_t = np.isnan(t_us)
            reject_rows(bad_t, "bad SBS date/time", p, "line", where, rejects, stamp)
            reject_rows(~ok_icao & ~bad_t, "bad icao24 address", p, "line", where, rejects, col(4))
            squawk = squawk_text(col(17))
            assert squawk is not None
            emerg_flag = _flag(col(19))
            code = pc.fill_null(pc.cast(pc.index_in(squawk, pa.array(list(EMERGENCY_OF_SQUAWK))), pa.int8()), -1)
            state = pc.take(pa.array([*EMERGENCY_OF_SQUAWK.values(), None], pa.int8()),
                            pc.if_else(pc.less(code, 0), 3, code))
            emergency = pc.if_else(pc.fill_null(emerg_flag, False), state,
                                   pc.if_else(pc.is_null(emerg_flag), pa.scalar(None, pa.int8()), pa.scalar(0, pa.int8())))
            keep = np.nonzero(~bad_t & ok_icao)[0]
            idx = pa.array(keep)
            callsign = callsign_text(col(10))
            assert callsign is not None
            cols: dict[str, pa.Array | np.ndarray | None] = {
                "time": np.round(t_us[keep]).astype(np.int64), "icao24": icao[keep],
                "callsign": callsign.take(idx),
                "alt_baro": numeric(col(11)), "gs": numeric(col(12)), "track": numeric(col(13)),
                "lat": numeric(col(14)), "lon": numeric(col(15)), "vrate": numeric(col(16)),
                "squawk": squawk, "emergency": emergency, "on_ground": _flag(col(21)),
            }
            for k in ("alt_baro", "gs", "track", "lat", "lon", "vrate", "squawk", "emergency", "on_ground"):
                a = cols[k]
                assert isinstance(a, pa.Array)
                cols[k] = a.take(idx)
            for i in range(0, len(keep), chunk_rows):
                part = {k: (v[i : i + chunk_rows] if v is not None else None) for k, v in cols.items()}
                yield Chunk("positions", positions_batch(part, self.name, len(keep[i : i + chunk_rows])), pos)
