"""The engine-free half of the Spark adapter (no JVM): DDL, ordering, regrouping, packing.

Also checks the property the Spark path relies on: a kernel given whole aircraft returns
for each aircraft what it returns for that aircraft alone, whatever else shares the batch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from tailwatch.analysis.airports import load_airports
from tailwatch.analysis.findings import incident, spoofing
from tailwatch.analysis.findings.common import Airports
from tailwatch.analysis.legs import LegParams, legs_and_stops
from tailwatch.analysis.spark_arrow import (
    canonical_order,
    group_aligned,
    pack,
    spark_ddl,
    spark_type,
    unpack,
)
from tailwatch.errors import Rejects
from tailwatch.schema import FINDINGS, LEGS, POSITIONS, STOPS
from tailwatch.sim import load_scenario, simulate
from tailwatch.sources import get_reader


@pytest.fixture(scope="module")
def quickstart(shared_data: Path) -> pa.Table:
    path = shared_data / "traffic_samples" / "collections" / "quickstart.json.gz"
    return pa.Table.from_batches([c.batch for c in get_reader("traffic").read(path, Rejects())]).cast(POSITIONS)


def test_ddl_of_every_schema_column_type() -> None:
    # Spark SQL type names as in the Spark SQL reference ("Data Types"), written out by hand
    assert spark_ddl(pa.schema([pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False)])) == \
        "`time` TIMESTAMP NOT NULL"
    assert spark_type(pa.timestamp("us")) == "TIMESTAMP_NTZ"
    assert spark_type(pa.list_(pa.string())) == "ARRAY<STRING>"
    assert spark_type(pa.int8()) == "TINYINT" and spark_type(pa.float32()) == "FLOAT"
    assert spark_type(pa.uint16()) == "INT"  # quality: Spark has no unsigned types
    assert spark_ddl(STOPS, not_null=False).count("NOT NULL") == 0
    assert spark_ddl(LEGS).count("NOT NULL") == sum(not f.nullable for f in LEGS)
    with pytest.raises(TypeError, match="no Spark type"):
        spark_type(pa.duration("s"))


def test_canonical_order_breaks_ties_by_value_not_input_order() -> None:
    t = pa.table({"icao24": pa.array([7, 7, 7, 3], pa.int32()),
                  "time": pa.array([10, 5, 5, 99], pa.timestamp("us", tz="UTC")),
                  "gs": pa.array([1.0, 300.0, None, 2.0], pa.float32())})
    a = canonical_order(t)
    b = canonical_order(t.take(pa.array([3, 2, 1, 0])))
    assert a.equals(b)
    assert a["icao24"].to_pylist() == [3, 7, 7, 7]
    assert a["gs"].to_pylist() == [2.0, 300.0, None, 1.0]  # nulls last among ties (pyarrow's default)


def test_group_aligned_never_splits_an_aircraft() -> None:
    rng = np.random.default_rng(3)
    ac = np.sort(rng.integers(0, 50, 5_000)).astype(np.int32)
    table = pa.table({"icao24": ac, "row": np.arange(len(ac))})
    batches = table.to_batches(max_chunksize=137)
    out = list(group_aligned(batches, rows=400))
    assert sum(t.num_rows for t in out) == len(ac)
    assert pa.concat_tables(out)["row"].to_pylist() == list(range(len(ac)))  # nothing lost, nothing reordered
    seen: set[int] = set()
    for t in out:
        ids = set(pc.unique(t["icao24"]).to_pylist())
        assert not ids & seen
        seen |= ids
        assert t.num_rows < 400 + 137 or len(ids) == 1  # at most one batch past the target, then cut


def test_pack_unpack_round_trip(quickstart: pa.Table) -> None:
    legs, stops = legs_and_stops(quickstart, load_airports())
    assert legs.num_rows and stops.num_rows
    packed = pack(legs, stops)
    assert packed.num_rows == legs.num_rows + stops.num_rows
    back_legs, back_stops = unpack(packed.take(pa.array(np.random.default_rng(1).permutation(packed.num_rows))))
    assert back_legs.sort_by("leg_id").equals(legs.sort_by("leg_id"))
    assert back_stops.sort_by("stop_id").equals(stops.sort_by("stop_id"))
    empty_l, empty_s = unpack(pack(LEGS.empty_table(), STOPS.empty_table()))
    assert empty_l.schema == LEGS and empty_s.num_rows == 0


def _split_runs(positions: pa.Table, kernel, n_parts: int) -> pa.Table:  # type: ignore[no-untyped-def]
    """``kernel`` over the aircraft dealt into ``n_parts`` batches (by icao24 hash), results concatenated."""
    part = pc.bit_wise_and(positions["icao24"], n_parts - 1)
    return pa.concat_tables([kernel(positions.filter(pc.equal(part, k))) for k in range(n_parts)])


def test_legs_of_an_aircraft_do_not_depend_on_its_batch(quickstart: pa.Table) -> None:
    airports = load_airports()
    whole_l, whole_s = legs_and_stops(quickstart, airports, LegParams())
    split_l = _split_runs(quickstart, lambda p: legs_and_stops(p, airports, LegParams())[0], 4)
    split_s = _split_runs(quickstart, lambda p: legs_and_stops(p, airports, LegParams())[1], 4)
    assert split_l.sort_by("leg_id").equals(whole_l.sort_by("leg_id"))
    assert split_s.sort_by("stop_id").equals(whole_s.sort_by("stop_id"))


def test_findings_of_an_aircraft_do_not_depend_on_its_batch(shared_data: Path, quickstart: pa.Table) -> None:
    noisy = pa.Table.from_batches([c.batch for c in get_reader("traffic").read(
        shared_data / "traffic_samples" / "noisy" / "noisy_spoofing.json.gz", Rejects())]).cast(POSITIONS)
    sim = simulate(load_scenario("sahel-2023")).positions.cast(POSITIONS)
    pos = canonical_order(pa.concat_tables([quickstart, noisy, sim]))
    ap = Airports.from_table(load_airports())

    end = int(pc.max(pos["time"]).cast(pa.int64()).as_py())  # the data set's end, as the build passes it

    def both(p: pa.Table) -> pa.Table:
        return pa.concat_tables([incident(p, ap, None, end).cast(FINDINGS), spoofing(p).cast(FINDINGS)])

    whole = both(pos)
    assert whole.num_rows >= 2
    split = _split_runs(pos, both, 4)
    assert sorted(split["finding_id"].to_pylist()) == sorted(whole["finding_id"].to_pylist())
