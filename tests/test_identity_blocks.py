"""The built-in ICAO Annex 10 table and the block kernels, checked against VRS code-blocks.

VRS ``code-blocks.csv`` is independent data (CC0, maintained by Virtual Radar
Server); the Annex 10 table in ``tailwatch.identity.annex10`` was written from the
standard, so agreement between the two is a real check of both.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tailwatch.identity import country_of, is_military_block
from tailwatch.identity.annex10 import annex10_table
from tailwatch.identity.blocks import IntervalIndex
from tailwatch.identity.loaders import LoadLog, load_code_blocks

# States that hand sub-blocks of their own Annex 10 block to territories (sovereignty facts):
# Aruba and the former Netherlands Antilles (XC) in the Netherlands' block, Hong Kong and Macao in
# China's, the British overseas territories and Crown dependencies in the United Kingdom's.
SOVEREIGN = {"AW": "NL", "XC": "NL", "HK": "CN", "MO": "CN", "BM": "GB", "KY": "GB", "IM": "GB",
             "FK": "GB", "GG": "GB", "MS": "GB"}
# VRS blocks of 1,280 addresses (500000-5004FF San Marino, 682000-6824FF Mongolia) cannot be Annex 10
# allocations (those are whole bit-prefix blocks); Annex 10 gives each of them 1,024 (xx0000-xx03FF).
NOT_A_BIT_BLOCK = {"SM": 0x500000, "MN": 0x682000}


@pytest.fixture(scope="module")
def vrs_blocks(shared_data: Path) -> pa.Table:
    log = LoadLog()
    blocks = load_code_blocks(shared_data, log)
    assert blocks is not None and log.rejects.total == 0
    return blocks


def test_annex10_table_is_well_formed() -> None:
    t = annex10_table()
    start, finish = t["start"].to_numpy(), t["finish"].to_numpy()
    size = finish - start + 1
    assert 185 <= t.num_rows <= 200
    assert np.all(start[1:] > finish[:-1])  # sorted, no overlap
    assert np.all(start % size == 0)  # each block is a whole bit-prefix block
    assert set(np.unique(size)) <= {1024, 4096, 32768, 262144, 1048576}


def test_every_national_vrs_block_agrees_with_annex10(vrs_blocks: pa.Table) -> None:
    checked = 0
    for r in vrs_blocks.to_pylist():
        if r["is_military"] or r["iso2"] is None:
            continue
        lo, hi = r["start"], r["finish"]
        probe = pa.array([lo, (lo + hi) // 2, hi], pa.int32())
        got = country_of(probe).to_pylist()
        want = SOVEREIGN.get(r["iso2"], r["iso2"])
        if r["iso2"] in NOT_A_BIT_BLOCK and hi - lo + 1 == 1280:
            assert country_of(pa.array([lo, lo + 1023, lo + 1024], pa.int32())).to_pylist() == \
                [r["iso2"], r["iso2"], None]
            continue
        assert got == [want] * 3, f"{lo:06X}-{hi:06X} {r['iso2']}: {got}"
        checked += 1
    assert checked > 380  # 397 non-military blocks, 2 of them "ZZ" (no country), 2 of 1,280


def test_country_of_with_vrs_blocks_picks_smallest(vrs_blocks: pa.Table) -> None:
    # code-blocks.csv: 400000-43FFFF GB, and 424000-4240FF BM (Bermuda) inside it.
    got = country_of(pa.array([0x400001, 0x424010, None], pa.int32()), vrs_blocks).to_pylist()
    assert got == ["GB", "BM", None]


def test_is_military_block(vrs_blocks: pa.Table) -> None:
    # code-blocks.csv rows: "3F4000,3F7FFF,16384,...,1,DE" (German military) and
    # "AE0000,AFFFFF,...,1,US"; 3C6444 (Lufthansa A319 in dump1090_fa_db/3C.json) is civil.
    got = is_military_block(pa.array([0x3F5000, 0xAE503D, 0x3C6444, None], pa.int32()), vrs_blocks)
    assert got.to_pylist() == [True, True, False, None]


@given(st.lists(st.tuples(st.integers(0, (1 << 24) - 2), st.integers(1, 1 << 16)), min_size=1, max_size=8),
       st.lists(st.integers(0, (1 << 24) - 1), min_size=1, max_size=50))
def test_interval_index_matches_brute_force(blocks: list[tuple[int, int]], probes: list[int]) -> None:
    start = np.array([s for s, _ in blocks])
    finish = np.minimum(start + np.array([n for _, n in blocks]) - 1, (1 << 24) - 1)
    got = IntervalIndex.build(start, finish).find(np.array(probes, np.int64))
    for p, g in zip(probes, got, strict=True):
        holding = [i for i in range(len(blocks)) if start[i] <= p <= finish[i]]
        if not holding:
            assert g == -1
        else:
            smallest = min(finish[i] - start[i] for i in holding)
            assert finish[g] - start[g] == smallest and start[g] <= p <= finish[g]


# traffic 2.13's patterns.json spells some States differently from the Annex 10 table.
TRAFFIC_NAMES = {
    "Cape Verde": "Cabo Verde", "Moldova": "Republic of Moldova", "Guinea Bissau": "Guinea-Bissau",
    "The Netherlands": "Netherlands", "Russia": "Russian Federation", "Laos": "Lao People's Democratic Republic",
    "São Tomé and Príncipe": "Sao Tome and Principe", "Turkey": "Türkiye", "Republic of the Congo": "Congo",
    "Ivory Coast": "Côte d'Ivoire", "Vietnam": "Viet Nam", "Federated States of Micronesia": "Micronesia",
    "Brunei": "Brunei Darussalam", "Syria": "Syrian Arab Republic", "Tanzania": "United Republic of Tanzania",
    "ICAO (temporary)": "ICAO", "ICAO (special use)": "ICAO",
}


def test_agrees_with_traffic_patterns(shared_data: Path) -> None:
    """Second independent oracle: the country ranges of traffic's ``basic/patterns.json``."""
    import json

    names = dict(zip(annex10_table()["iso2"].to_pylist(), annex10_table()["name"].to_pylist(), strict=True))
    registers = json.loads((shared_data / "traffic_samples/basic/patterns.json").read_text())["registers"]
    compared, differ = 0, []
    for r in registers:
        if "start" not in r or r["country"].startswith("Unassigned"):
            continue  # states without an allocation (Andorra, Kosovo...) and unallocated regions
        lo, hi = int(r["start"], 16), int(r["end"], 16)
        got = [names.get(c) for c in country_of(pa.array([lo, hi], pa.int32())).to_pylist()]
        want = TRAFFIC_NAMES.get(r["country"], r["country"])
        compared += 1
        if got != [want, want]:
            differ.append((r["start"], r["country"], got))
    assert compared > 180
    # traffic labels 899000-8993FF "ICAO (special use)"; VRS code-blocks and this table give it to Taiwan.
    assert differ == [("0x899000", "ICAO (special use)", ["Taiwan", "Taiwan"])]
