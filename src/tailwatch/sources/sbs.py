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
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

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
        """Yield one ``POSITIONS`` row per ``MSG`` line.

        Each block is first read by Arrow's CSV reader with typed columns (fast); a block
        with anything unusual (other field counts, text in numeric fields, bad dates) is
        re-read line by line so that every bad line is named.
        """
        p = str(path)
        for block, first, pos in iter_blocks(path):
            if b"\x00" in block[:4096]:
                raise InputError(p, f"line {first}", "binary data, not SBS text (NUL bytes)")
            try:
                cols = self._fast(block, first, p, rejects)
            except _Unusual:
                cols = self._slow(block, first, p, rejects)
            n = len(cols["time"])
            for i in range(0, n, chunk_rows):
                part = {k: (v[i : i + chunk_rows] if v is not None else None) for k, v in cols.items()}
                yield Chunk("positions", positions_batch(part, self.name, min(chunk_rows, n - i)), pos)

    def _fast(self, block: bytes, first: int, path: str, rejects: Rejects) -> dict[str, Any]:
        """Typed Arrow CSV parse of a clean block; raises ``_Unusual`` for anything else."""
        notes: list[int] = []
        unusual: list[str] = []

        def invalid(row: pacsv.InvalidRow) -> str:
            kind = (row.text or "").split(",", 1)[0]
            if kind in OTHER:
                notes.append(1)
            else:
                unusual.append(kind)
            return "skip"

        types = {str(i): pa.string() for i in range(22)} | {str(i): pa.float64() for i in range(11, 17)}
        try:
            t = pacsv.read_csv(
                pa.BufferReader(block),
                read_options=pacsv.ReadOptions(column_names=[str(i) for i in range(22)]),
                parse_options=pacsv.ParseOptions(invalid_row_handler=invalid),
                convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True),
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise _Unusual(str(exc)) from None
        if unusual or not pc.all(pc.equal(t.column("0"), "MSG")).as_py():
            raise _Unusual("non-MSG or short lines")
        if notes:
            rejects.add("note: SBS non-MSG line skipped", path, f"line {first}", n=len(notes))
        col = {i: t.column(str(i)).combine_chunks() for i in (4, 6, 7, 8, 9, 10, 17, 19, 21)}
        try:
            t_us = self._times(pc.coalesce(col[6], col[8]), pc.coalesce(col[7], col[9]))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise _Unusual(str(exc)) from None
        icao, ok, _ = icao_ints(col[4])
        if not ok.all() or np.isnan(t_us).any():
            raise _Unusual("bad address or time")
        nums = {k: t.column(str(i)).combine_chunks() for k, i in _NUM_FIELDS.items()}
        return self._columns(t_us, icao, col[10], col[17], col[19], col[21], nums)

    def _times(self, date: pa.Array, clock: pa.Array) -> np.ndarray:
        """Epoch microseconds (float, NaN when missing) from SBS date and time text."""
        sep = pa.scalar(" ", date.type)
        stamp = pc.binary_join_element_wise(pc.replace_substring(date, "/", "-"), clock.cast(date.type), sep)
        local = stamp.cast(pa.timestamp("us"))
        tz = self.options.sbs_tz
        utc = pc.assume_timezone(local, tz, ambiguous="earliest", nonexistent="earliest") if tz != "UTC" \
            else local.cast(pa.timestamp("us", tz="UTC"))
        return np.asarray(utc.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.float64)

    @staticmethod
    def _columns(t_us: np.ndarray, icao: np.ndarray, callsign: pa.Array, squawk_col: pa.Array,
                 emerg_col: pa.Array, ground_col: pa.Array, nums: dict[str, pa.Array]) -> dict[str, Any]:
        squawk = squawk_text(squawk_col)
        assert squawk is not None
        emerg_flag = _flag(emerg_col)
        code = pc.fill_null(pc.cast(pc.index_in(squawk, pa.array(list(EMERGENCY_OF_SQUAWK))), pa.int8()), -1)
        state = pc.take(pa.array([*EMERGENCY_OF_SQUAWK.values(), None], pa.int8()),
                        pc.if_else(pc.less(code, 0), 3, code))
        emergency = pc.if_else(pc.fill_null(emerg_flag, False), state,
                               pc.if_else(pc.is_null(emerg_flag), pa.scalar(None, pa.int8()),
                                          pa.scalar(0, pa.int8())))
        return {"time": np.round(np.nan_to_num(t_us)).astype(np.int64), "icao24": icao, "callsign": callsign_text(callsign),
                "squawk": squawk, "emergency": emergency, "on_ground": _flag(ground_col), **nums}

    def _slow(self, block: bytes, first: int, p: str, rejects: Rejects) -> dict[str, Any]:
        """Line-by-line (still vectorised) parse that names every bad line."""
        lines = split_lines(block)
        lineno = np.arange(first, first + len(lines), dtype=np.int64)
        blank = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(lines)), 0).to_numpy(zero_copy_only=False)
        fields = pc.split_pattern(lines, ",")
        kind = pc.list_element(fields, 0)
        nf = pc.list_value_length(fields).to_numpy(zero_copy_only=False)
        is_msg = pc.equal(kind, "MSG").to_numpy(zero_copy_only=False)
        other = pc.is_in(kind, pa.array(OTHER)).to_numpy(zero_copy_only=False)
        if other.any():
            rejects.add("note: SBS non-MSG line skipped", p, f"line {int(lineno[other][0])}", n=int(other.sum()))
        reject_rows(~blank & ~is_msg & ~other, "not an SBS line", p, "line", lineno, rejects, lines)
        short = is_msg & (nf < 22)
        reject_rows(short, "too few SBS fields", p, "line", lineno, rejects, lines)
        sel = np.nonzero(is_msg & ~short)[0]
        f = fields.take(pa.array(sel))
        where = lineno[sel]

        def col(i: int) -> pa.Array:
            a = pc.utf8_trim_whitespace(pc.list_element(f, i))
            return pc.if_else(pc.equal(pc.utf8_length(a), 0), pa.scalar(None, pa.large_string()), a)

        date, clock = pc.coalesce(col(6), col(8)), pc.coalesce(col(7), col(9))
        ok_t = pc.fill_null(pc.match_substring_regex(
            pc.binary_join_element_wise(date, clock, pa.scalar(" ", pa.large_string())),
            r"^\d{4}[/-]\d{2}[/-]\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$"), False)
        null = pa.scalar(None, pa.large_string())
        t_us = self._times(pc.if_else(ok_t, date, null), pc.if_else(ok_t, clock, null))
        icao, ok_icao, _ = icao_ints(col(4))
        bad_t = np.isnan(t_us)
        reject_rows(bad_t, "bad SBS date/time", p, "line", where, rejects, pc.binary_join_element_wise(
            date, clock, pa.scalar(" ", pa.large_string())))
        reject_rows(~ok_icao & ~bad_t, "bad icao24 address", p, "line", where, rejects, col(4))
        keep = np.nonzero(~bad_t & ok_icao)[0]
        idx = pa.array(keep, pa.int64())
        nums = {k: numeric(col(i)) for k, i in _NUM_FIELDS.items()}
        out = self._columns(t_us, icao, col(10), col(17), col(19), col(21), nums)
        return {k: (v[keep] if isinstance(v, np.ndarray) else v.take(idx)) for k, v in out.items()}


class _Unusual(Exception):
    """A block the fast CSV path does not take (it goes through the line-by-line path)."""


#: POSITIONS column -> SBS field index (0-based) of the numeric fields.
_NUM_FIELDS = {"alt_baro": 11, "gs": 12, "track": 13, "lat": 14, "lon": 15, "vrate": 16}
