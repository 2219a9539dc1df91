"""The engine-free half of the Spark adapter: pure Arrow functions, no pyspark import.

Everything the Spark workers run is here, so it can be tested (and reused by any other
engine) without a JVM:

* :func:`spark_ddl` turns a ``schema.py`` Arrow schema into the Spark DDL string a UDF declares;
* :func:`canonical_order` puts rows of whole aircraft in one deterministic order, whatever
  order an engine delivered them in (Spark does not sort groups by time, and rows sharing
  an (icao24, time) pair would otherwise reach the kernel in shuffle order);
* :func:`group_aligned` regroups a stream of record batches sorted by icao24 into tables
  of whole aircraft (the partial last aircraft is carried over to the next table);
* :func:`legs_stops_packed` runs :func:`tailwatch.analysis.legs.legs_and_stops` unchanged
  and packs both of its outputs into one table (``legs`` and ``stops`` struct columns), since
  a Spark UDF returns one table; :func:`unpack` undoes it.

>>> import pyarrow as pa
>>> spark_ddl(pa.schema([pa.field("icao24", pa.int32(), nullable=False), pa.field("x", pa.list_(pa.string()))]))
'`icao24` INT NOT NULL, `x` ARRAY<STRING>'
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.analysis.legs import LegParams, legs_and_stops
from tailwatch.schema import LEGS, POSITIONS, STOPS

#: Position columns each kernel reads (more are ignored by the kernels, so they are never shipped).
LEGS_COLUMNS = ("time", "icao24", "lat", "lon", "alt_baro", "alt_geom", "gs", "track", "vrate", "callsign",
                "on_ground")
FINDINGS_COLUMNS = ("time", "icao24", "lat", "lon", "alt_baro", "alt_geom", "gs", "track", "vrate", "squawk",
                    "on_ground", "emergency")

_SIMPLE: dict[pa.DataType, str] = {
    pa.bool_(): "BOOLEAN",
    pa.int8(): "TINYINT",
    pa.int16(): "SMALLINT",
    pa.int32(): "INT",
    pa.int64(): "BIGINT",
    pa.uint8(): "SMALLINT",
    pa.uint16(): "INT",
    pa.uint32(): "BIGINT",
    pa.float32(): "FLOAT",
    pa.float64(): "DOUBLE",
    pa.string(): "STRING",
    pa.large_string(): "STRING",
    pa.binary(): "BINARY",
    pa.large_binary(): "BINARY",
    pa.date32(): "DATE",
}


def spark_type(t: pa.DataType) -> str:
    """The Spark SQL type name of an Arrow type (unsigned types widen to the next signed one).

    Timestamps with a zone are Spark ``TIMESTAMP`` (an instant, µs); without one ``TIMESTAMP_NTZ``.

    >>> spark_type(pa.timestamp("us", tz="UTC")), spark_type(pa.uint16())
    ('TIMESTAMP', 'INT')
    >>> spark_type(pa.struct([("a", pa.float32())]))
    'STRUCT<`a`: FLOAT>'
    """
    if t in _SIMPLE:
        return _SIMPLE[t]
    if pa.types.is_timestamp(t):
        return "TIMESTAMP" if t.tz is not None else "TIMESTAMP_NTZ"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"ARRAY<{spark_type(t.value_type)}>"
    if pa.types.is_struct(t):
        inner = ", ".join(f"`{f.name}`: {spark_type(f.type)}{'' if f.nullable else ' NOT NULL'}" for f in t)
        return f"STRUCT<{inner}>"
    if pa.types.is_dictionary(t):
        return spark_type(t.value_type)
    raise TypeError(f"no Spark type for Arrow type {t}")


def spark_ddl(schema: pa.Schema, *, not_null: bool = True) -> str:
    """Spark DDL (``"`a` INT NOT NULL, `b` STRING"``) of an Arrow schema.

    With ``not_null=False`` every column is declared nullable.
    """
    return ", ".join(
        f"`{f.name}` {spark_type(f.type)}{' NOT NULL' if not_null and not f.nullable else ''}" for f in schema
    )


def nullable(schema: pa.Schema) -> pa.Schema:
    """``schema`` with every field (not nested ones) made nullable.

    >>> nullable(pa.schema([pa.field("a", pa.int32(), nullable=False)])).field("a").nullable
    True
    """
    return pa.schema([f.with_nullable(True) for f in schema])


def packed_schema() -> pa.Schema:
    """Schema of :func:`legs_stops_packed`: one nullable struct column per output table."""
    return pa.schema([pa.field("legs", pa.struct(list(nullable(LEGS)))),
                      pa.field("stops", pa.struct(list(nullable(STOPS))))])


def canonical_order(positions: pa.Table) -> pa.Table:
    """Rows sorted by (icao24, time), rows sharing both sorted by all their other values.

    The kernels sort by (icao24, time) themselves, but keep rows of equal (icao24, time) in
    input order, and input order differs between engines (a Spark shuffle is not stable).
    Ties are rare, so the full sort is only done when there is one.

    >>> t = pa.table({"icao24": pa.array([2, 1, 1], pa.int32()), "time": pa.array([5, 7, 7]),
    ...               "lat": [0.0, 2.0, 1.0]})
    >>> canonical_order(t).column("lat").to_pylist()
    [1.0, 2.0, 0.0]
    """
    n = positions.num_rows
    if n < 2:
        return positions
    ac = np.asarray(positions.column("icao24").to_numpy(), dtype=np.int64)
    t = np.asarray(pc.cast(positions.column("time"), pa.int64()).to_numpy(), dtype=np.int64)
    order = np.lexsort((t, ac))
    sac, st = ac[order], t[order]
    tie = (sac[1:] == sac[:-1]) & (st[1:] == st[:-1])
    if not tie.any():
        return positions if bool(np.all(order[1:] > order[:-1])) else positions.take(pa.array(order))
    keys = [(c, "ascending") for c in ("icao24", "time")]
    for name in positions.column_names:
        if name in ("icao24", "time"):
            continue
        typ = positions.schema.field(name).type
        if pa.types.is_nested(typ) or pa.types.is_binary(typ):
            continue
        keys.append((name, "ascending"))
    return positions.sort_by(keys)


def group_aligned(batches: Iterable[pa.RecordBatch], rows: int = 200_000) -> Iterator[pa.Table]:
    """Regroup record batches sorted by icao24 into tables of about ``rows`` rows of whole aircraft.

    The last aircraft of what has been read so far may continue in the next batch, so it is
    held back and carried over; an aircraft bigger than ``rows`` comes alone.

    >>> b = [pa.record_batch({"icao24": pa.array(v, pa.int32())}) for v in ([1, 1, 2], [2, 3], [3])]
    >>> [t.column("icao24").to_pylist() for t in group_aligned(b, rows=2)]
    [[1, 1], [2, 2], [3, 3]]
    """
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        count += batch.num_rows
        if count < rows:
            continue
        table = pa.Table.from_batches(pending).combine_chunks()
        # rows of the last aircraft start here; everything before is complete
        cut = _last_run_start(np.asarray(table.column("icao24").to_numpy()))
        if cut == 0:
            pending, count = table.to_batches(), table.num_rows  # one aircraft so far: keep reading
            continue
        yield table.slice(0, cut)
        tail = table.slice(cut)
        pending, count = tail.to_batches(), tail.num_rows
    if count:
        yield pa.Table.from_batches(pending).combine_chunks()


def _last_run_start(ac: np.ndarray[Any, Any]) -> int:
    """Start of the final run of equal values (0 when all are equal)."""
    diff = np.flatnonzero(ac[1:] != ac[:-1])
    return int(diff[-1]) + 1 if len(diff) else 0


def _struct_column(table: pa.Table, schema: pa.Schema, trailing_nulls: int, leading_nulls: int) -> pa.Array:
    typ = pa.struct(list(schema))
    body = table.select(schema.names).cast(schema).combine_chunks().to_struct_array()
    body_arr = body.combine_chunks() if isinstance(body, pa.ChunkedArray) else body
    if body_arr.type != typ:
        body_arr = body_arr.cast(typ)
    parts = [pa.nulls(leading_nulls, typ), body_arr, pa.nulls(trailing_nulls, typ)]
    return pa.concat_arrays([p for p in parts if len(p)] or [pa.nulls(0, typ)])


def pack(legs: pa.Table, stops: pa.Table) -> pa.Table:
    """Legs rows then stops rows in one table of :func:`packed_schema` (the other struct null)."""
    nl, ns = legs.num_rows, stops.num_rows
    ls, ss = nullable(LEGS), nullable(STOPS)
    return pa.table({"legs": _struct_column(legs, ls, ns, 0), "stops": _struct_column(stops, ss, 0, nl)},
                    schema=packed_schema())


def unpack(packed: pa.Table) -> tuple[pa.Table, pa.Table]:
    """The ``(LEGS, STOPS)`` tables packed by :func:`pack` (in any row order)."""
    out = []
    for name, schema in (("legs", LEGS), ("stops", STOPS)):
        col = packed.column(name)
        rows = col.filter(pc.is_valid(col)).combine_chunks()
        if isinstance(rows, pa.ChunkedArray):
            rows = rows.combine_chunks()
        table = pa.Table.from_struct_array(rows) if len(rows) else nullable(schema).empty_table()
        out.append(table.cast(schema))
    return out[0], out[1]


def legs_stops_packed(positions: pa.Table, airports: pa.Table, params: LegParams) -> pa.Table:
    """:func:`legs_and_stops` of whole aircraft in any order, packed by :func:`pack`."""
    legs, stops = legs_and_stops(canonical_order(positions), airports, params)
    return pack(legs, stops)


def select_kernel_columns(table: pa.Table, columns: Sequence[str]) -> pa.Table:
    """The kernel's input columns that ``table`` has, cast to their ``POSITIONS`` types.

    Engines hand over their own flavour of a type (Spark gives ``timestamp[us, tz=UTC]`` back
    but may give a time zone name of its session, or ``int32`` for an unsigned column).
    """
    cols = [c for c in columns if c in table.column_names]
    return table.select(cols).cast(pa.schema([POSITIONS.field(c).with_nullable(True) for c in cols]))


def sort_table(table: pa.Table, keys: Sequence[str]) -> pa.Table:
    """``table`` sorted by ``keys`` then by every other sortable column (for row-for-row comparisons)."""
    rest = [c for c in table.column_names if c not in keys
            and not pa.types.is_nested(table.schema.field(c).type)]
    return table.sort_by([(k, "ascending") for k in [*keys, *rest]])
