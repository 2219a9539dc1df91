"""Country and military status of an ICAO 24-bit address from its address block.

Blocks nest (a State's block holds its military sub-blocks and its territories'
blocks), so the answer for an address is the *smallest* block holding it. An
:class:`IntervalIndex` flattens the nested blocks once into disjoint segments
so that each lookup is a single ``numpy.searchsorted`` over the whole column.

>>> import pyarrow as pa
>>> country_of(pa.array([0x062F01, 0xA00001, 0xFFFFFF], pa.int32())).to_pylist()
['NE', 'US', None]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.identity.annex10 import annex10_table

ADDRESS_SPACE = 1 << 24


@dataclass(frozen=True)
class IntervalIndex:
    """Disjoint segments ``[bounds[i], bounds[i+1])`` each mapped to a block row (``-1``: none)."""

    bounds: npt.NDArray[np.int64]
    block: npt.NDArray[np.int32]

    @classmethod
    def build(cls, start: npt.ArrayLike, finish: npt.ArrayLike) -> IntervalIndex:
        """Index blocks given by inclusive ``start``/``finish``; the smallest block containing
        an address wins (on equal sizes, the later row).

        >>> ix = IntervalIndex.build([0, 16], [255, 31])
        >>> ix.find(np.array([5, 20, 300])).tolist()
        [0, 1, -1]
        """
        s = np.asarray(start, dtype=np.int64)
        f = np.asarray(finish, dtype=np.int64)
        bounds = np.unique(np.concatenate([s, f + 1, np.array([0, ADDRESS_SPACE], np.int64)]))
        block = np.full(len(bounds), -1, dtype=np.int32)
        size = f - s
        # Paint the largest blocks first; smaller ones overwrite them.  One slice per block.
        for i in np.argsort(-size, kind="stable"):
            lo = int(np.searchsorted(bounds, s[i]))
            hi = int(np.searchsorted(bounds, f[i] + 1))
            block[lo:hi] = i
        return cls(bounds, block)

    def find(self, addresses: npt.NDArray[np.int64]) -> npt.NDArray[np.int32]:
        """Row of the smallest block holding each address (``-1`` when none)."""
        pos = np.searchsorted(self.bounds, addresses, side="right") - 1
        pos = np.clip(pos, 0, len(self.block) - 1)
        out = self.block[pos]
        out[(addresses < 0) | (addresses >= ADDRESS_SPACE)] = -1
        return out


def addresses_of(icao24: pa.Array | pa.ChunkedArray) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """``icao24`` as int64 NumPy values (nulls as -1) plus the validity mask."""
    if isinstance(icao24, pa.ChunkedArray):
        icao24 = icao24.combine_chunks() if icao24.num_chunks else pa.array([], pa.int32())
    valid = np.ones(len(icao24), dtype=bool) if icao24.null_count == 0 else pc.is_valid(icao24).to_numpy(
        zero_copy_only=False
    )
    values = pc.fill_null(icao24.cast(pa.int64()), -1).to_numpy(zero_copy_only=False)
    return values.astype(np.int64, copy=False), valid


def take_or_null(values: pa.Array, rows: npt.NDArray[np.int32]) -> pa.Array:
    """``values[rows]`` with null where ``rows`` is negative."""
    mask = rows < 0
    idx = pa.array(np.where(mask, 0, rows), pa.int32(), mask=mask)
    if len(values) == 0:
        return pa.nulls(len(rows), values.type)
    return values.take(idx)


@lru_cache(maxsize=1)
def _annex10() -> tuple[IntervalIndex, pa.Table]:
    table = annex10_table()
    return IntervalIndex.build(table["start"].to_numpy(), table["finish"].to_numpy()), table


def country_of(icao24: pa.Array | pa.ChunkedArray, blocks: pa.Table | None = None) -> pa.Array:
    """ISO 3166 alpha-2 country of registry of each address (null: unallocated or null input).

    ``blocks`` is a table with ``start``, ``finish`` (ints) and ``iso2`` columns, e.g. VRS
    code-blocks; by default the embedded ICAO Annex 10 table is used.

    >>> country_of(pa.array([0x3C4B26, 0x43C6F2, None], pa.int32())).to_pylist()
    ['DE', 'GB', None]
    """
    if blocks is None:
        index, table = _annex10()
    else:
        index, table = IntervalIndex.build(blocks["start"].to_numpy(), blocks["finish"].to_numpy()), blocks
    values, _ = addresses_of(icao24)
    rows = index.find(values)
    iso2 = table["iso2"].combine_chunks() if isinstance(table["iso2"], pa.ChunkedArray) else table["iso2"]
    return take_or_null(iso2, rows)


def annex10_country_name(iso2: pa.Array) -> pa.Array:
    """Country names of the embedded Annex 10 table for ISO2 codes (null when not there)."""
    _, table = _annex10()
    names = dict(zip(table["iso2"].to_pylist(), table["name"].to_pylist(), strict=True))
    keys = pa.array(list(names), pa.string())
    idx = pc.index_in(iso2, value_set=keys)
    return pa.array(list(names.values()), pa.string()).take(idx)


def is_military_block(icao24: pa.Array | pa.ChunkedArray, code_blocks: pa.Table) -> pa.Array:
    """True where the smallest code block holding the address is flagged military.

    ``code_blocks`` has ``start``, ``finish`` and ``is_military`` columns (VRS code-blocks,
    as loaded by :func:`tailwatch.identity.loaders.load_code_blocks`). Null input gives null.

    >>> blocks = pa.table({"start": [0x3C0000, 0x3F4000], "finish": [0x3FFFFF, 0x3F7FFF],
    ...                    "is_military": [False, True]})
    >>> is_military_block(pa.array([0x3C4B26, 0x3F5000], pa.int32()), blocks).to_pylist()
    [False, True]
    """
    index = IntervalIndex.build(code_blocks["start"].to_numpy(), code_blocks["finish"].to_numpy())
    values, valid = addresses_of(icao24)
    rows = index.find(values)
    flags = code_blocks["is_military"].to_numpy(zero_copy_only=False).astype(bool)
    out = np.where(rows >= 0, flags[np.maximum(rows, 0)], False)
    return pa.array(out, pa.bool_(), mask=~valid)
