"""The ``traffic`` library's files: JSON records, pandas "columns" JSON, Parquet.

``Traffic.to_json()`` writes a list of records ``[{timestamp, icao24, ...}]``;
older samples use pandas' "columns" layout ``{column: {row: value}}``; and
``to_parquet()`` writes Parquet. Columns: ``timestamp`` (ms epoch, or a
timestamp), ``icao24``, ``latitude``, ``longitude``, ``altitude`` (ft, baro),
``geoaltitude`` (ft), ``groundspeed`` (kt), ``track``, ``vertical_rate``
(ft/min), ``callsign``, ``squawk``, ``onground``. Already in tailwatch units.

Speed: the records layout is turned into newline-delimited JSON with one
``bytes.replace`` and parsed by Arrow's multithreaded JSON reader; if that fails
(pretty-printed JSON, odd strings), orjson parses it instead, which also gives
the byte offset of a syntax error.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson
import polars as pl
import pyarrow as pa
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


def _ndjson(path: Path) -> bytes:
    """Decompress a JSON list of records straight into NDJSON, 1 MiB at a time.

    Each piece is rewritten (``},{`` → ``}\\n{``) while it is hot in cache, so the 65 MB of
    quickstart are copied once instead of three times. The outer ``[`` / ``]`` become spaces.
    """
    parts: list[bytes] = []
    carry = b""
    with open_binary(path) as s:
        while True:
            piece = s.read(_ND_PIECE)
            if not piece:
                break
            buf = carry + piece
            keep = 2 if buf.endswith(b"},") else 1 if buf.endswith(b"}") else 0
            carry = buf[len(buf) - keep :] if keep else b""
            parts.append((buf[: len(buf) - keep] if keep else buf).replace(b"},{", b"}\n{"))
    parts.append(carry)
    first = next((i for i, x in enumerate(parts) if x.strip()), None)
    last = next((i for i in range(len(parts) - 1, -1, -1) if parts[i].strip()), None)
    if first is None or last is None:
        raise pa.ArrowInvalid("no content")
    head, tail = parts[first].lstrip(), parts[last].rstrip()
    if not head.startswith(b"[") or not tail.endswith(b"]"):
        raise pa.ArrowInvalid("not a JSON list")
    if first == last:
        parts[first] = head[1:-1]
    else:
        parts[first], parts[last] = head[1:], tail[:-1]
    return b"".join(parts)


def _records_arrow(nd: bytes) -> pa.Table:
    """Parse NDJSON records with polars (raises ``ArrowInvalid`` on anything unusual).

    Measured fastest here (see docs/benchmarks.md, "Readers"); a string that
    contains ``},{`` breaks the NDJSON and sends the file to the orjson path.
    """
    if not nd or nd.isspace():
        return pa.table({})
    try:
        return pl.read_ndjson(io.BytesIO(nd), infer_schema_length=10_000).to_arrow()
    except (pl.exceptions.PolarsError, pa.ArrowInvalid) as exc:
        raise pa.ArrowInvalid(str(exc)) from None


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

    def table(self, path: Path, rejects: Rejects) -> tuple[pa.Table, InputError | None]:
        """The whole file as an Arrow table, plus the error that cut it short, if any."""
        p = str(path)
        with open(path, "rb") as f:
            magic = f.read(4)
        if magic == PARQUET_MAGIC:
            try:
                return pq.read_table(path), None
            except Exception as exc:
                raise InputError(p, "byte 0", f"unreadable Parquet: {exc}") from None
        head = read_head(path, 4096)
        if b"\x00" in head:
            raise InputError(p, "byte 0", "binary data, not traffic JSON (NUL bytes)")
        if head.lstrip().startswith(b"["):
            try:
                return _records_arrow(_ndjson(path)), None
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
        raw, _ = read_all(path)
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            err = json_error(p, raw, exc)
            # Salvage the records before the damage: cut after the last complete record.
            cut = raw.rfind(b"},", 0, exc.pos)
            if raw.lstrip().startswith(b"[") and cut > 0:
                try:
                    return pa.Table.from_pylist(orjson.loads(raw[: cut + 1] + b"]")), err
                except (orjson.JSONDecodeError, pa.ArrowInvalid):
                    pass
            return pa.table({}), err
        if isinstance(obj, list):
            bad = [i for i, r in enumerate(obj) if not isinstance(r, dict)]
            for i in bad[: rejects.keep]:
                rejects.add("not a JSON object", p, f"record {i + 1}")
            if len(bad) > rejects.keep:
                rejects.add("not a JSON object", p, f"record {bad[rejects.keep] + 1}", n=len(bad) - rejects.keep)
            return pa.Table.from_pylist([r for r in obj if isinstance(r, dict)]), None
        if isinstance(obj, dict):
            return _columns_table(obj, p), None
        raise InputError(p, "byte 0", "JSON is neither a list of records nor a columns object")

    def read(self, path: Path, rejects: Rejects, chunk_rows: int = 500_000) -> Iterator[Chunk]:
        """Yield ``POSITIONS`` chunks (missing columns → ``InputError`` naming them)."""
        p = str(path)
        table, err = self.table(path, rejects)
        size = path.stat().st_size
        if table.num_rows or err is None:
            require(table, ["timestamp", "icao24"], p)
            for b in tabular_positions(table, COLUMNS, {}, self.name, p, rejects, chunk_rows=chunk_rows):
                yield Chunk("positions", b, size)
        if err is not None:
            raise err
