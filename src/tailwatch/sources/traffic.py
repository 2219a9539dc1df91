"""The ``traffic`` library's files: JSON records, pandas "columns" JSON, Parquet.

``Traffic.to_json()`` writes a list of records ``[{timestamp, icao24, ...}]``;
older samples use pandas' "columns" layout ``{column: {row: value}}``; and
``to_parquet()`` writes Parquet. Columns: ``timestamp`` (ms epoch, or a
timestamp), ``icao24``, ``latitude``, ``longitude``, ``altitude`` (ft, baro),
``geoaltitude`` (ft), ``groundspeed`` (kt), ``track``, ``vertical_rate``
(ft/min), ``callsign``, ``squawk``, ``onground``. Already in tailwatch units.

Speed: the records layout is decompressed and rewritten into newline-delimited
JSON (``},{`` → ``}\n{``) in pieces of whole records, and each piece is parsed by
Arrow's JSON reader on a worker thread while the next one is decompressed (no
polars, whose import alone costs 0.15 s in a fresh process). If that fails
(pretty-printed JSON, strings holding ``},{``), orjson parses the file instead,
which also gives the byte offset of a syntax error.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.json as pj
import pyarrow.parquet as pq

from tailwatch.errors import InputError, Rejects
from tailwatch.sources._io import json_error, open_binary, read_all, read_head
from tailwatch.sources._tabular import require, tabular_positions
from tailwatch.sources.base import Chunk, ReaderOptions

COLUMNS = {
    "time": "timestamp", "icao24": "icao24", "lat": "latitude", "lon": "longitude",
    "alt_baro": "altitude", "alt_geom": "geoaltitude", "gs": "groundspeed", "track": "track",
    "vrate": "vertical_rate", "callsign": "callsign", "squawk": "squawk", "on_ground": "onground",
}
PARQUET_MAGIC = b"PAR1"
#: Decompressed bytes rewritten to NDJSON at a time (small enough to stay in cache).
_ND_PIECE = 1 << 20
#: NDJSON handed to one parser thread at a time (whole records).
_PARSE_PIECE = 8 << 20
#: Types of traffic's own columns, so that no piece has to guess them (other columns are inferred).
_KNOWN = pa.schema([
    ("timestamp", pa.int64()), ("icao24", pa.string()), ("latitude", pa.float64()),
    ("longitude", pa.float64()), ("altitude", pa.float64()), ("geoaltitude", pa.float64()),
    ("groundspeed", pa.float64()), ("track", pa.float64()), ("vertical_rate", pa.float64()),
    ("callsign", pa.string()), ("squawk", pa.string()), ("onground", pa.bool_()),
])


def _ndjson_pieces(path: Path, target: int | None = None) -> Iterator[tuple[bytes, int]]:
    """Decompress a JSON list of records into NDJSON pieces of about ``target`` bytes.

    Yields each piece with the bytes of the file on disk consumed so far. Every piece
    holds whole records, so each can be parsed on its own while the next is being
    decompressed. The rewrite (``},{`` → ``}\n{``, or ``}, {`` when the file is written
    that way) is done 1 MiB at a time while the bytes are hot in cache; the outer ``[`` /
    ``]`` are dropped. Raises ``ArrowInvalid``
    when the file is not a JSON list.
    """
    target = target or _PARSE_PIECE
    parts: list[bytes] = []
    size = 0
    carry = b""
    first = True
    sep: bytes | None = None
    with open_binary(path) as s:
        while True:
            try:
                piece = s.read(_ND_PIECE)
            except InputError:  # damaged gzip: the whole records before the damage still count
                if parts:
                    yield b"".join(parts), s.compressed_pos
                raise
            if not piece:
                break
            buf = carry + piece
            if first:
                buf = buf.lstrip()
                if not buf:
                    continue
                if not buf.startswith(b"["):
                    raise pa.ArrowInvalid("not a JSON list")
                buf, first = b" " + buf[1:], False
            if sep is None:  # pandas writes "},{", Python's json.dumps "}, {": the first one tells
                i = buf.find(b"},")
                if 0 <= i < len(buf) - 2:
                    sep = b"}, {" if buf[i + 2 : i + 3] == b" " else b"},{"
            # a separator cut by the piece's end waits for the next piece
            pattern = sep or b"}, {"
            keep = next((k for k in range(len(pattern) - 1, 0, -1) if buf.endswith(pattern[:k])), 0)
            out = buf[: len(buf) - keep] if keep else buf
            if sep is not None:
                out = out.replace(sep, b"}\n{")
            cut = out.rfind(b"}\n{") + 2  # after the last record boundary (1 when none)
            if cut > 1:
                parts.append(out[:cut])
                size += cut
                out = out[cut:]
            carry = out + (buf[len(buf) - keep :] if keep else b"")
            if size >= target:
                yield b"".join(parts), s.compressed_pos
                parts, size = [], 0
        consumed = s.compressed_pos
    tail = carry.rstrip()
    if first or not tail.endswith(b"]"):
        raise pa.ArrowInvalid("not a JSON list")
    parts.append(tail[:-1])
    last = b"".join(parts)
    if last.strip():
        yield last, consumed


def _schema_of(nd: bytes) -> pa.Schema:
    """Known types for the traffic columns the first record has (others are inferred)."""
    line = nd.lstrip().split(b"\n", 1)[0]
    try:
        first = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise pa.ArrowInvalid("first record is not one line of JSON") from None
    if not isinstance(first, dict):
        raise pa.ArrowInvalid("first record is not an object")
    return pa.schema([f for f in _KNOWN if f.name in first])


def _parse_piece(nd: bytes, schema: pa.Schema) -> pa.Table:
    """One NDJSON piece → table: the known columns with their types, others inferred.

    A piece whose values do not fit the known types (say, ISO text times) is parsed again
    with every type inferred.
    """
    opts = pj.ReadOptions(use_threads=False, block_size=len(nd) + 1)
    try:
        return pj.read_json(pa.BufferReader(nd), read_options=opts, parse_options=pj.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="infer"))
    except pa.ArrowInvalid:
        return pj.read_json(pa.BufferReader(nd), read_options=opts)


def _parsed_pieces(path: Path) -> Iterator[tuple[pa.Table, int]]:
    """A JSON list of records as tables of whole records, in file order, with the bytes
    of the file consumed so far.

    Pieces are parsed by Arrow's JSON reader on worker threads (it releases the GIL) while
    this thread decompresses the next piece, and a parsed piece is handed on as soon as it
    is ready, so that turning it into positions overlaps with the parsing of the rest.
    Raises ``ArrowInvalid`` on anything unusual (for example a string holding ``},{``), and
    the ``InputError`` of a damaged gzip after the records before the damage.
    """
    pool = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1))
    pending: deque[tuple[Future[pa.Table], int]] = deque()
    schema: pa.Schema | None = None
    damage: InputError | None = None
    try:
        try:
            for nd, consumed in _ndjson_pieces(path):
                schema = schema if schema is not None else _schema_of(nd)
                pending.append((pool.submit(_parse_piece, nd, schema), consumed))
                while pending and pending[0][0].done():
                    future, at = pending.popleft()
                    yield future.result(), at
        except InputError as exc:  # a damaged gzip: hand on what was parsed before the damage, then say so
            damage = exc
        while pending:
            future, at = pending.popleft()
            yield future.result(), at
        if damage is not None:
            raise damage
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _kind(value: object) -> str:
    """JSON kind of a value: number, text, boolean, object or list."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    return "object" if isinstance(value, dict) else "list" if isinstance(value, list) else type(value).__name__


def _from_records(records: list[object], path: str, first: int = 1) -> pa.Table:
    """The records that are JSON objects → table (``records[0]`` being record number
    ``first`` of the file). A column whose values change kind (number here, text there) is
    an ``InputError`` naming the column and the first record where it changes."""
    try:
        return pa.Table.from_pylist([r for r in records if isinstance(r, dict)])
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        kinds: dict[str, str] = {}
        for i, rec in enumerate(records):
            if not isinstance(rec, dict):
                continue
            for key, value in rec.items():
                if value is None:
                    continue
                here = _kind(value)
                kind = kinds.setdefault(key, here)
                if here != kind:
                    raise InputError(path, f"record {first + i}", f"column {key!r} holds {here} here "
                                     f"but {kind} in earlier records") from None
        raise InputError(path, "byte 0", f"records do not fit one table: {exc}") from None


def _columns_table(obj: dict[str, object], path: str) -> pa.Table:
    """pandas ``orient="columns"`` JSON → table (rows ordered by their index)."""
    cols: dict[str, pa.Array] = {}
    order: np.ndarray | None = None
    for name, values in obj.items():
        if not isinstance(values, dict):
            raise InputError(path, "byte 0", f"column {name!r} is not an object of row values")
        if order is None:
            order = np.argsort(np.fromiter((int(k) for k in values), np.int64, len(values)), kind="stable")
        arr = pa.array(list(values.values()))
        cols[name] = arr.take(pa.array(order)) if len(arr) == len(order) else arr
    return pa.table(cols)


class TrafficReader:
    """Reader of traffic's JSON / Parquet exports (yields ``POSITIONS``)."""

    name = "traffic"

    def __init__(self, options: ReaderOptions | None = None) -> None:
        self.options = options or ReaderOptions()

    def sniff(self, head: bytes, path: Path) -> bool:
        """JSON records/columns with traffic's column names, or Parquet with them."""
        if head.startswith(PARQUET_MAGIC):
            try:
                names = pq.read_schema(path).names
            except Exception:
                return False
            return "icao24" in names and "timestamp" in names and "lastposupdate" not in names
        h = head.lstrip()
        if h.startswith(b"[{") or h.startswith(b"[\n"):
            return b'"icao24"' in h and b'"timestamp"' in h
        return h.startswith(b'{"') and (h[:200].find(b'"timestamp":{"') >= 0 or h.find(b'"icao24":{"') >= 0)

    def _slow_table(self, path: Path, rejects: Rejects, skip: int) -> tuple[pa.Table, InputError | None]:
        """The file parsed whole with orjson, leaving out its first ``skip`` records: the
        path for pandas' columns layout, pretty-printed or damaged files. Returns the table
        and the error that cut it short, if any."""
        p = str(path)
        raw, _ = read_all(path)
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            err = json_error(p, raw, exc)
            # Salvage the records before the damage: cut after the last complete record.
            cut = raw.rfind(b"},", 0, exc.pos)
            if raw.lstrip().startswith(b"[") and cut > 0:
                try:
                    return _from_records(orjson.loads(raw[: cut + 1] + b"]")[skip:], p, skip + 1), err
                except (orjson.JSONDecodeError, InputError):
                    pass
            return pa.table({}), err
        if isinstance(obj, list):
            bad = [i for i, r in enumerate(obj) if i >= skip and not isinstance(r, dict)]
            for i in bad[: rejects.keep]:
                rejects.add("not a JSON object", p, f"record {i + 1}")
            if len(bad) > rejects.keep:
                rejects.add("not a JSON object", p, f"record {bad[rejects.keep] + 1}", n=len(bad) - rejects.keep)
            return _from_records(obj[skip:], p, skip + 1), None
        if isinstance(obj, dict):
            return _columns_table(obj, p), None
        raise InputError(p, "byte 0", "JSON is neither a list of records nor a columns object")

    def _positions(self, table: pa.Table, path: str, rejects: Rejects, first: int,
                   chunk_rows: int) -> Iterator[pa.RecordBatch]:
        """``POSITIONS`` batches of records numbered from ``first`` (missing columns → ``InputError``)."""
        require(table, ["timestamp", "icao24"], path)
        yield from tabular_positions(table, COLUMNS, {}, self.name, path, rejects, first=first,
                                     chunk_rows=chunk_rows)

    def read(self, path: Path, rejects: Rejects, chunk_rows: int = 500_000) -> Iterator[Chunk]:
        """Yield ``POSITIONS`` chunks (missing columns → ``InputError`` naming them).

        A list of records is read piece by piece (see :func:`_parsed_pieces`); if a piece
        cannot be read that way, the rest of the file goes through orjson, with no record
        given twice.
        """
        p = str(path)
        size = path.stat().st_size
        with open(path, "rb") as f:
            magic = f.read(4)
        if magic == PARQUET_MAGIC:
            try:
                table = pq.read_table(path)
            except Exception as exc:
                raise InputError(p, "byte 0", f"unreadable Parquet: {exc}") from None
            for b in self._positions(table, p, rejects, 1, chunk_rows):
                yield Chunk("positions", b, size)
            return
        head = read_head(path, 4096)
        if b"\x00" in head:
            raise InputError(p, "byte 0", "binary data, not traffic JSON (NUL bytes)")
        done = 0  # records already given as positions
        if head.lstrip().startswith(b"["):
            try:
                for table, at in _parsed_pieces(path):
                    for b in self._positions(table, p, rejects, done + 1, chunk_rows):
                        yield Chunk("positions", b, at)
                    done += table.num_rows
                return
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                pass
        table, err = self._slow_table(path, rejects, done)
        if table.num_rows or err is None:
            for b in self._positions(table, p, rejects, done + 1, chunk_rows):
                yield Chunk("positions", b, size)
        if err is not None:
            raise err
