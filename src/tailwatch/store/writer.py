"""Writing one file's rows: deduplicate (within the file and against stored parts), sort, write parts.

Dedup key: ``(icao24, time, lat, lon)`` for rows with a position; rows without a position
(velocity, identification, altitude-only) also compare their value columns, so that two
different messages of one aircraft in the same microsecond are not collapsed. Stored parts
whose (time, icao24) bounding box cannot overlap the new rows are not read at all.
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tailwatch.store.parts import list_parts, part_path, write_atomic

_VALUE_COLS = ("alt_baro", "alt_geom", "gs", "track", "vrate", "callsign", "squawk", "on_ground", "emergency")
_KEY_EXPRS = ", ".join(f"CASE WHEN lat IS NULL THEN {c} END AS k_{c}" for c in _VALUE_COLS)
_KEY_COLS = ["icao24", "time", "lat", "lon", *(f"k_{c}" for c in _VALUE_COLS)]
_JOIN = " AND ".join(
    ["u.icao24 = e.icao24", "u.time = e.time"]
    + [f"u.{c} IS NOT DISTINCT FROM e.{c}" for c in _KEY_COLS[2:]]
)
_US_PER_DAY = 86_400_000_000
#: Parts of a day with more rows than this are written as several parts in parallel.
_PART_SPLIT_ROWS = 100_000
_WRITERS = max(1, min(4, os.cpu_count() or 1))

PartStats = tuple[int, int, int, int]


def part_stats(path: Path) -> PartStats:
    """(time min µs, time max µs, icao24 min, icao24 max) of a part, from its Parquet footer."""
    md = pq.read_metadata(path)
    names = md.schema.names
    it, ii = names.index("time"), names.index("icao24")
    lo_t = lo_i = 1 << 62
    hi_t = hi_i = -(1 << 62)
    for g in range(md.num_row_groups):
        rg = md.row_group(g)
        st, si = rg.column(it).statistics, rg.column(ii).statistics
        if st is None or si is None or not st.has_min_max or not si.has_min_max:
            return (-(1 << 62), 1 << 62, -(1 << 62), 1 << 62)  # unknown: assume it overlaps
        lo_t, hi_t = min(lo_t, _us(st.min)), max(hi_t, _us(st.max))
        lo_i, hi_i = min(lo_i, int(si.min)), max(hi_i, int(si.max))
    return lo_t, hi_t, lo_i, hi_i


def _us(value: Any) -> int:
    if isinstance(value, datetime):
        base = datetime(1970, 1, 1, tzinfo=value.tzinfo or UTC)
        return (value - base) // timedelta(microseconds=1)
    return int(value)


def _overlaps(a: PartStats, b: PartStats) -> bool:
    """True if two (t0, t1, i0, i1) boxes intersect.

    >>> _overlaps((0, 10, 5, 5), (10, 20, 5, 9)), _overlaps((0, 10, 5, 5), (11, 20, 5, 9))
    (True, False)
    """
    return a[0] <= b[1] and b[0] <= a[1] and a[2] <= b[3] and b[2] <= a[3]


def _is_sorted(d: np.ndarray[Any, Any], icao: np.ndarray[Any, Any], t: np.ndarray[Any, Any]) -> bool:
    """True if rows are already ordered by (day, icao24, time).

    >>> import numpy as np
    >>> _is_sorted(np.array([0, 0, 1]), np.array([5, 5, 1]), np.array([1, 2, 9]))
    True
    >>> _is_sorted(np.array([0, 0]), np.array([5, 4]), np.array([1, 2]))
    False
    """
    dd, di, dt = np.diff(d), np.diff(icao), np.diff(t)
    return bool(np.all((dd > 0) | ((dd == 0) & ((di > 0) | ((di == 0) & (dt >= 0))))))


def _first_occurrences(rows: pa.Table) -> np.ndarray[Any, Any]:
    """For rows that may repeat: True for the first row of each dedup key, False for later copies."""
    lat_null = pc.is_null(rows.column("lat"))
    cols: dict[str, Any] = {c: rows.column(c) for c in ("icao24", "time", "lat", "lon")}
    for c in _VALUE_COLS:
        col = rows.column(c)
        cols[f"k_{c}"] = pc.if_else(lat_null, col, pa.nulls(rows.num_rows, col.type))
    cols["idx"] = pa.array(np.arange(rows.num_rows))
    keyed = pa.table(cols)
    first = keyed.group_by([k for k in keyed.column_names if k != "idx"], use_threads=False).aggregate(
        [("idx", "min")]
    )
    out = np.zeros(rows.num_rows, dtype=bool)
    out[first.column("idx_min").to_numpy()] = True
    return out


def _pieces(icao: np.ndarray[Any, Any], min_rows: int, k: int) -> list[tuple[int, int]]:
    """Split an icao24-sorted run into at most ``k`` pieces of at least ``min_rows`` rows, at aircraft boundaries.

    >>> import numpy as np
    >>> _pieces(np.array([1, 1, 2, 2, 3, 3]), 2, 2)
    [(0, 2), (2, 6)]
    >>> _pieces(np.array([1, 1, 2]), 5, 2)
    [(0, 3)]
    """
    n = len(icao)
    k = max(1, min(k, n // max(min_rows, 1)))
    cuts = [0]
    for j in range(1, k):
        c = int(np.searchsorted(icao, icao[min(n * j // k, n - 1)], side="left"))
        if c > cuts[-1]:
            cuts.append(c)
    cuts.append(n)
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


def _iso(us: int) -> str:
    """ISO text of a UTC time in microseconds, for a DuckDB literal.

    >>> _iso(1_000_001)
    '1970-01-01T00:00:01.000001+00:00'
    """
    return f"{np.datetime64(us, 'us')}+00:00"


class FileWriter:
    """Buffers one file's rows and writes them, deduplicated, as atomic parts."""

    def __init__(self, root: Path, file_id: int, done_ids: set[int], flush_rows: int,
                 memory_limit: str | None, stats: dict[Path, PartStats] | None = None) -> None:
        self.root = root
        self.file_id = file_id
        self.done_ids = done_ids
        self.flush_rows = flush_rows
        self.memory_limit = memory_limit
        self.buffer: list[pa.Table] = []
        self.buffered = 0
        self.rows_in = 0
        self.rows_stored = 0
        self.n_parts = 0
        self.touched: list[pa.Table] = []
        #: (time min, time max, icao24 min, icao24 max) of parts, to skip those that cannot overlap.
        self.stats = stats if stats is not None else {}
        #: Folders holding new parts: fsynced once before the catalog commit.
        self.dirs: set[Path] = set()

    def add(self, table: pa.Table) -> None:
        """Buffer rows; flush when the buffer is full."""
        if not table.num_rows:
            return
        self.buffer.append(table)
        self.buffered += table.num_rows
        self.rows_in += table.num_rows
        if self.buffered >= self.flush_rows:
            self.flush()

    def flush(self) -> None:
        """Deduplicate the buffer (within itself and against stored rows) and write it as parts."""
        if not self.buffer:
            return
        seg = pa.concat_tables(self.buffer).combine_chunks()
        self.buffer, self.buffered = [], 0
        t = seg.column("time").cast(pa.int64()).to_numpy()
        icao = seg.column("icao24").to_numpy()
        d = t // _US_PER_DAY
        if not _is_sorted(d, icao, t):
            order = np.lexsort((t, icao, d))
            seg, t, icao, d = seg.take(order), t[order], icao[order], d[order]
        keep = np.ones(seg.num_rows, dtype=bool)
        same = (icao[1:] == icao[:-1]) & (t[1:] == t[:-1])
        if same.any():  # only rows sharing (icao24, time) with a neighbour can be duplicates
            cand = np.flatnonzero(np.r_[same, False] | np.r_[False, same])
            keep[cand] = _first_occurrences(seg.take(cand))
        days = {str(np.datetime64(int(x), "D")) for x in np.unique(d)}
        ids = self.done_ids | {self.file_id}
        box = (int(t.min()), int(t.max()), int(icao.min()), int(icao.max()))
        existing = [p.path for p in list_parts(self.root, days)
                    if p.file_id in ids and _overlaps(self._stats_of(p.path), box)]
        if existing:
            keep[self._stored_already(seg, keep, existing, box[0], box[1])] = False
        if not keep.all():
            seg, d = seg.filter(pa.array(keep)), d[keep]
        self._write(seg, d)

    def _stats_of(self, path: Path) -> PartStats:
        if path not in self.stats:
            self.stats[path] = part_stats(path)
        return self.stats[path]

    def _stored_already(self, seg: pa.Table, keep: np.ndarray[Any, Any], existing: list[Path],
                        lo_us: int, hi_us: int) -> np.ndarray[Any, Any]:
        """Row indices of ``seg`` whose dedup key is already in the ``existing`` parts."""
        idx = np.flatnonzero(keep)
        keys = seg.select(["icao24", "time", "lat", "lon", *_VALUE_COLS]).take(idx)
        keys = keys.append_column("idx", pa.array(idx))
        con = duckdb.connect(config={"memory_limit": self.memory_limit} if self.memory_limit else {})
        try:
            con.execute("SET TimeZone='UTC'")
            con.register("s", keys)
            files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in existing)
            q = (
                f"SELECT u.idx FROM (SELECT idx, icao24, time, lat, lon, {_KEY_EXPRS} FROM s) u SEMI JOIN"
                f" (SELECT icao24, time, lat, lon, {_KEY_EXPRS} FROM read_parquet([{files}])"
                f" WHERE time BETWEEN '{_iso(lo_us)}'::TIMESTAMPTZ AND '{_iso(hi_us)}'::TIMESTAMPTZ) e"
                f" ON {_JOIN}"
            )
            found = con.sql(q).to_arrow_table().column("idx").to_numpy()
        finally:
            con.close()
        return np.asarray(found, dtype=np.int64)

    def _write(self, out: pa.Table, d: np.ndarray[Any, Any]) -> None:
        if not out.num_rows:
            return
        starts = np.flatnonzero(np.r_[True, d[1:] != d[:-1]])
        ends = np.r_[starts[1:], len(d)]
        icao = out.column("icao24").to_numpy()
        jobs: list[tuple[pa.Table, Path]] = []
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            day = str(np.datetime64(int(d[s]), "D"))
            for a, b in _pieces(icao[s:e], _PART_SPLIT_ROWS, _WRITERS):
                piece = out.slice(s + a, b - a)
                path = part_path(self.root, day, self.file_id, self.n_parts)
                jobs.append((piece, path))
                tp = piece.column("time").cast(pa.int64()).to_numpy()
                self.stats[path] = (int(tp.min()), int(tp.max()), int(icao[s + a]), int(icao[s + b - 1]))
                self.n_parts += 1
        if len(jobs) > 1:  # Parquet encoding releases the GIL: write parts on all cores
            with ThreadPoolExecutor(max_workers=min(_WRITERS, len(jobs))) as pool:
                list(pool.map(lambda job: write_atomic(job[0], job[1], sync_dir=False), jobs))
        else:
            for job in jobs:
                write_atomic(job[0], job[1], sync_dir=False)
        self.dirs.update(path.parent for _t, path in jobs)
        self.rows_stored += out.num_rows
        pairs = pa.table({"icao24": out.column("icao24"), "d": pa.array(d.astype(np.int32))})
        pairs = pairs.group_by(["icao24", "d"], use_threads=False).aggregate([])
        self.touched.append(
            pa.table({"icao24": pairs.column("icao24"), "day": pairs.column("d").cast(pa.date32())})
        )

    def finish(self) -> pa.Table:
        """Flush what is left; return the distinct (icao24, day) pairs written."""
        self.flush()
        if not self.touched:
            return pa.table({"icao24": pa.array([], pa.int32()), "day": pa.array([], pa.date32())})
        return pa.concat_tables(self.touched)
