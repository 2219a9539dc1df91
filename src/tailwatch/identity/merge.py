"""Merge per-database aircraft tables into one row per address, keeping every fact's source.

Pure Arrow kernels: each source is a table with ``icao24`` (unique) and some of
:data:`FIELDS`; sources are given in priority order. The first non-null value of a
field wins and its ``<field>_source`` says where it came from; a lower-priority
source that says something *different* is not hidden but listed in ``conflicts``
("registration=5U-MBX (dump1090-fa)"). Tags of all sources are joined.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

#: Text fields merged by priority (``tags`` is joined across sources instead).
FIELDS = ["registration", "typecode", "type_desc", "operator", "aircraft_class", "category", "tags"]
#: Fields whose disagreement is reported in ``conflicts``.
CONFLICT_FIELDS = ["registration", "typecode", "operator", "aircraft_class"]
CLASSES = ["military", "government", "police", "civil", "unknown"]


@dataclass(frozen=True)
class Source:
    """One database's rows in canonical columns, and its name (used in ``*_source``)."""

    name: str
    table: pa.Table


def _norm(field: str, arr: pa.Array) -> pa.Array:
    up = pc.utf8_upper(arr)
    if field == "registration":
        return pc.replace_substring_regex(up, r"[\s\-./]+", "")
    if field == "operator":
        return pc.replace_substring_regex(up, r"[^0-9A-Z]+", "")
    return up


def _positions(keys: npt.NDArray[np.int32], table: pa.Table) -> npt.NDArray[np.int32]:
    """Row of each key in ``table`` (sorted unique icao24), -1 where absent."""
    own = table["icao24"].to_numpy()
    if len(own) == 0:
        return np.full(len(keys), -1, np.int32)
    pos = np.searchsorted(own, keys)
    pos_c = np.minimum(pos, len(own) - 1)
    hit = own[pos_c] == keys
    return np.where(hit, pos_c, -1).astype(np.int32)


def _take(table: pa.Table, column: str, rows: npt.NDArray[np.int32], typ: pa.DataType) -> pa.Array:
    if column not in table.column_names:
        return pa.nulls(len(rows), typ)
    col = table[column].combine_chunks().cast(typ)
    mask = rows < 0
    return col.take(pa.array(np.where(mask, 0, rows), pa.int32(), mask=mask)) if len(col) else pa.nulls(len(rows), typ)


def prepare(table: pa.Table) -> pa.Table:
    """Sort by icao24 and keep the first row of each address (sources must be unique)."""
    table = table.sort_by("icao24")
    icao = table["icao24"].to_numpy()
    if len(icao) < 2:
        return table
    keep = np.concatenate([[True], icao[1:] != icao[:-1]])
    return table.filter(pa.array(keep))


def merge(sources: list[Source]) -> pa.Table:
    """One row per address of any source: every field, its source, ``class_confidence``,
    ``alias_address`` and ``conflicts``.

    >>> a = Source("A", pa.table({"icao24": pa.array([1], pa.int32()), "registration": ["5U-MBH"]}))
    >>> b = Source("B", pa.table({"icao24": pa.array([1, 2], pa.int32()), "registration": ["5UMBH", "X-Y"],
    ...                           "operator": ["Niger AF", None]}))
    >>> m = merge([a, b]).to_pylist()
    >>> m[0]["registration"], m[0]["registration_source"], m[0]["operator_source"], m[0]["conflicts"]
    ('5U-MBH', 'A', 'B', None)
    """
    tables = [prepare(s.table) for s in sources]
    keys = np.unique(np.concatenate([t["icao24"].to_numpy() for t in tables] or [np.zeros(0, np.int32)]))
    keys = keys.astype(np.int32)
    rows = [_positions(keys, t) for t in tables]
    n = len(keys)
    out: dict[str, pa.Array] = {"icao24": pa.array(keys, pa.int32())}
    null_str = pa.scalar(None, pa.string())
    conflict_parts: list[pa.Array] = []
    for field in FIELDS:
        values = [_take(t, field, r, pa.string()) for t, r in zip(tables, rows, strict=True)]
        srcs = []
        for s, t, r, v in zip(sources, tables, rows, values, strict=True):
            own = _take(t, field + "_source", r, pa.string())
            named = pc.if_else(pc.is_valid(v), pa.scalar(s.name), null_str)
            srcs.append(pc.coalesce(pc.if_else(pc.is_valid(v), own, null_str), named))
        if not values:
            out[field] = pa.nulls(n, pa.string())
            out[field + "_source"] = pa.nulls(n, pa.string())
            continue
        if field == "tags":
            out[field] = join_strings(values, "; ")
            out[field + "_source"] = join_strings(srcs, ", ")
            continue
        winner = pc.coalesce(*values)
        out[field] = winner
        out[field + "_source"] = pc.coalesce(*srcs)
        if field in CONFLICT_FIELDS:
            wn = _norm(field, winner)
            for v, src in zip(values, srcs, strict=True):
                differs = pc.and_kleene(pc.is_valid(v), pc.not_equal(_norm(field, v), wn))
                if field == "aircraft_class":  # "unknown" is absence of evidence, not a disagreement
                    differs = pc.and_kleene(differs, pc.not_equal(v, "unknown"))
                text = pc.binary_join_element_wise(pa.scalar(f"{field}="), v, pa.scalar(" ("), src,
                                                   pa.scalar(")"), "")
                conflict_parts.append(pc.if_else(pc.fill_null(differs, False), text, null_str))
    for t, r in zip(tables, rows, strict=True):
        conflict_parts.append(_take(t, "conflicts", r, pa.string()))
    out["conflicts"] = join_strings(conflict_parts, "; ") if conflict_parts else pa.nulls(n, pa.string())
    confs = [_take(t, "class_confidence", r, pa.float32()) for t, r in zip(tables, rows, strict=True)]
    classes = [_take(t, "aircraft_class", r, pa.string()) for t, r in zip(tables, rows, strict=True)]
    # confidence of the source that gave the winning class
    conf = pc.coalesce(*[pc.if_else(pc.is_valid(c), pc.coalesce(cf, pa.scalar(0.8, pa.float32())),
                                    pa.scalar(None, pa.float32()))
                         for c, cf in zip(classes, confs, strict=True)]) if classes else pa.nulls(n, pa.float32())
    out["class_confidence"] = conf
    # alias_address: true if any source says so; alias_address_source names those sources.
    acc = pa.array(np.zeros(n, bool))
    names: list[pa.Array] = []
    null_s = pa.scalar(None, pa.string())
    for s, t, r in zip(sources, tables, rows, strict=True):
        flag = pc.fill_null(_take(t, "alias_address", r, pa.bool_()), False)
        own = _take(t, "alias_address_source", r, pa.string())
        names.append(pc.if_else(flag, pc.coalesce(own, pa.scalar(s.name)), null_s))
        acc = pc.or_(acc, flag)
    out["alias_address"] = acc
    out["alias_address_source"] = join_strings(names, ", ") if names else pa.nulls(n, pa.string())
    return pa.table(out)


def join_strings(parts: list[pa.Array], sep: str) -> pa.Array:
    """Join non-null strings of each row with ``sep``; null when all are null."""
    # (binary_join_element_wise's null_handling="skip" returns a short array in pyarrow 26,
    # so nulls are handled pairwise: join where both are set, else whichever is set.)
    acc = parts[0]
    for p in parts[1:]:
        both = pc.binary_join_element_wise(acc, p, sep)
        acc = pc.coalesce(both, acc, p)
    return pc.if_else(pc.equal(acc, ""), pa.scalar(None, pa.string()), acc)
