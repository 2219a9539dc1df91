"""The store on real data: layout, dedup, idempotency, queries, batches, derived tables, dirty days.

The input table is built here straight from ``quickstart.json.gz`` with gzip + json (not through
tailwatch's readers), so the expected counts come from the file and from PROVENANCE.md
(284,505 state vectors of 213 aircraft on 2021-10-07 12:00-15:00 UTC), not from the store.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tailwatch.schema import LEGS, POSITIONS, Quality, icao_of
from tailwatch.store import open_store

QS_ROWS, QS_AIRCRAFT = 284_505, 213  # PROVENANCE.md


@pytest.fixture(scope="module")
def qs_records(shared_data: Path) -> list[dict[str, object]]:
    with gzip.open(shared_data / "traffic_samples/collections/quickstart.json.gz") as fh:
        records: list[dict[str, object]] = json.load(fh)
    return records


def full(t: pa.Table) -> pa.Table:
    """``t`` with the missing POSITIONS columns added as nulls."""
    cols = [t.column(f.name) if f.name in t.column_names else pa.nulls(t.num_rows, f.type) for f in POSITIONS]
    return pa.Table.from_arrays(cols, schema=POSITIONS)


def table_of(records: list[dict[str, object]]) -> pa.Table:
    """POSITIONS rows from traffic's JSON records (timestamp in ms, icao24 hex)."""
    col = {k: [r.get(k) for r in records] for k in records[0]}
    n = len(records)
    return full(pa.table(
        {
            "time": pa.array(np.array(col["timestamp"], dtype="int64") * 1000, pa.int64()).cast(POSITIONS.field("time").type),
            "icao24": pa.array([int(str(h), 16) for h in col["icao24"]], pa.int32()),
            "lat": pa.array(col["latitude"], pa.float64()),
            "lon": pa.array(col["longitude"], pa.float64()),
            "alt_baro": pa.array(col["altitude"], pa.float32()),
            "gs": pa.array(col["groundspeed"], pa.float32()),
            "track": pa.array(col["track"], pa.float32()),
            "vrate": pa.array(col["vertical_rate"], pa.float32()),
            "callsign": pa.array(col["callsign"], pa.string()),
            "squawk": pa.array(col["squawk"], pa.string()),
            "on_ground": pa.array(col["onground"], pa.bool_()),
            "source": pa.array(["traffic"] * n, pa.string()),
            "quality": pa.array(np.full(n, int(Quality.DERIVED), dtype=np.uint16)),
        }
    ))


@pytest.fixture(scope="module")
def qs(qs_records: list[dict[str, object]]) -> pa.Table:
    return table_of(qs_records)


def _comparable(t: pa.Table) -> pa.Table:
    cols = [c for c in POSITIONS.names if c not in ("file_id", "receiver")]
    return t.select(cols).sort_by([("icao24", "ascending"), ("time", "ascending"), ("lat", "ascending")])


def test_layout_counts_and_sorting(tmp_path: Path, qs: pa.Table) -> None:
    store = open_store(tmp_path / "s")
    rep = store.add_positions(qs, "quickstart")
    assert (rep.status, rep.rows_read, rep.rows_stored, rep.duplicates) == ("stored", QS_ROWS, QS_ROWS, 0)
    days = sorted(p.name for p in (tmp_path / "s/positions").iterdir())
    assert days == ["day=2021-10-07"]
    parts = sorted((tmp_path / "s/positions/day=2021-10-07").glob("*.parquet"))
    # one or more parts (large days are written as several parts in parallel), all of this file
    assert {p.name.rsplit("-", 1)[0] for p in parts} == {f"f{rep.file_id}"}
    assert sorted(p.name for p in parts) == sorted(f"f{rep.file_id}-{n}.parquet" for n in range(len(parts)))
    in_parts = 0
    for path in parts:
        part = pq.read_table(path)
        assert part.schema.remove_metadata().equals(POSITIONS)
        icao = part.column("icao24").to_numpy()
        t = part.column("time").cast(pa.int64()).to_numpy()
        assert np.all((np.diff(icao) > 0) | ((np.diff(icao) == 0) & (np.diff(t) >= 0)))
        assert set(part.column("file_id").to_pylist()) == {rep.file_id}
        in_parts += part.num_rows
    assert in_parts == QS_ROWS
    got = store.positions()
    assert got.num_rows == QS_ROWS
    assert got.schema.equals(POSITIONS)
    assert _comparable(got).equals(_comparable(qs))
    n_aircraft = store.sql("SELECT count(DISTINCT icao24) AS n FROM positions").column("n")[0].as_py()
    assert n_aircraft == QS_AIRCRAFT


def test_same_content_twice_is_skipped(tmp_path: Path, qs: pa.Table) -> None:
    store = open_store(tmp_path / "s")
    first = store.add_positions(qs, "a")
    again = store.add_positions(qs, "a-copy")
    assert (again.status, again.same_as, again.rows_stored) == ("skipped", first.file_id, 0)
    assert store.positions(columns=["icao24"]).num_rows == QS_ROWS
    assert store.files().num_rows == 1


def test_overlapping_receivers_dedup(tmp_path: Path, qs: pa.Table) -> None:
    # Receiver A heard rows [0, 200000), receiver B rows [100000, end): 100,000 rows heard by both.
    store = open_store(tmp_path / "s")
    a = store.add_positions(qs.slice(0, 200_000), "rx-a", receiver="A")
    b = store.add_positions(qs.slice(100_000), "rx-b", receiver="B")
    assert (a.rows_stored, a.duplicates) == (200_000, 0)
    assert (b.rows_read, b.rows_stored, b.duplicates) == (QS_ROWS - 100_000, QS_ROWS - 200_000, 100_000)
    got = store.positions()
    assert got.num_rows == QS_ROWS
    assert _comparable(got).equals(_comparable(qs))
    by_rx = Counter(got.column("receiver").to_pylist())
    assert by_rx == {"A": 200_000, "B": QS_ROWS - 200_000}


def test_duplicates_within_one_file_across_flushes(tmp_path: Path, qs: pa.Table) -> None:
    # The first 5,000 rows repeated at the end; flushes of 50,000 rows put the copies in a later segment.
    doubled = pa.concat_tables([qs, qs.slice(0, 5_000)])
    store = open_store(tmp_path / "s")
    rep = store.add_positions(doubled, "doubled", flush_rows=50_000)
    assert (rep.rows_read, rep.rows_stored, rep.duplicates) == (QS_ROWS + 5_000, QS_ROWS, 5_000)
    assert store.positions(columns=["time"]).num_rows == QS_ROWS


def test_rows_without_position_keep_distinct_values(tmp_path: Path) -> None:
    t0 = pa.array([1_600_000_000_000_000] * 4, POSITIONS.field("time").type)
    table = pa.table({
        "time": t0,
        "icao24": pa.array([0x062F01] * 4, pa.int32()),
        "lat": pa.array([None, None, None, 16.25], pa.float64()),
        "lon": pa.array([None, None, None, -0.01], pa.float64()),
        # a velocity row, an exact copy of it, and an identification row in the same microsecond
        "gs": pa.array([250.0, 250.0, None, None], pa.float32()),
        "callsign": pa.array([None, None, "NAF130", None], pa.string()),
        "quality": pa.array([1, 1, 1, 1], pa.uint16()),
    })
    store = open_store(tmp_path / "s")
    rep = store.add_positions(table, "same-microsecond")
    assert (rep.rows_stored, rep.duplicates) == (3, 1)


def test_bad_rows_are_rejected_not_stored(tmp_path: Path) -> None:
    table = pa.table({
        "time": pa.array([1_600_000_000_000_000, None, 1_600_000_001_000_000], POSITIONS.field("time").type),
        "icao24": pa.array([1, 2, 0x1FFFFFF], pa.int32()),
    })
    rep = open_store(tmp_path / "s").add_positions(table, "bad")
    assert (rep.rows_stored, rep.rejects.total) == (1, 2)
    assert rep.rejects.samples[0].path == "bad"


def test_positions_filters(tmp_path: Path, qs: pa.Table, qs_records: list[dict[str, object]]) -> None:
    store = open_store(tmp_path / "s")
    store.add_positions(qs, "qs")
    hexes = Counter(str(r["icao24"]) for r in qs_records)
    hex_, n = hexes.most_common(1)[0]
    one = store.positions(icao24=hex_.upper())
    assert one.num_rows == n
    assert set(one.column("icao24").to_pylist()) == {icao_of(hex_)}
    # 13:00 <= t < 13:30 UTC on 2021-10-07, counted on the raw millisecond timestamps
    lo, hi = 1_633_611_600_000, 1_633_613_400_000
    expect = sum(1 for r in qs_records if lo <= int(r["timestamp"]) < hi)  # type: ignore[call-overload]
    window = store.positions(since="2021-10-07T13:00:00Z", until="2021-10-07T13:30:00+00:00", columns=["time"])
    assert window.num_rows == expect > 0
    assert store.positions(since="2021-10-07", until="2021-10-07").num_rows == QS_ROWS
    assert store.positions(until="2021-10-06").num_rows == 0
    two = store.positions(icao24=[hex_, icao_of(hexes.most_common(2)[1][0])], columns=["icao24"])
    assert two.num_rows == n + hexes.most_common(2)[1][1]


def test_iter_aircraft_batches_hold_whole_aircraft(tmp_path: Path, qs: pa.Table) -> None:
    store = open_store(tmp_path / "s")
    store.add_positions(qs, "qs")
    batches = list(store.iter_aircraft_batches(rows=20_000))
    assert len(batches) > 5
    seen: set[int] = set()
    for b in batches:
        ids = set(b.column("icao24").to_pylist())
        assert not ids & seen, "an aircraft was split across batches"
        seen |= ids
        icao = b.column("icao24").to_numpy()
        t = b.column("time").cast(pa.int64()).to_numpy()
        assert np.all((np.diff(icao) > 0) | ((np.diff(icao) == 0) & (np.diff(t) >= 0)))
        assert b.schema.equals(POSITIONS)
    assert len(seen) == QS_AIRCRAFT
    assert sum(b.num_rows for b in batches) == QS_ROWS
    # batches of 1 row: every aircraft alone in its batch
    single = list(store.iter_aircraft_batches(rows=1, columns=["lat"]))
    assert len(single) == QS_AIRCRAFT
    assert single[0].column_names == ["icao24", "time", "lat"]


def _legs(rows: list[tuple[str, int, int]]) -> pa.Table:
    def ts(s: int) -> int:
        return s * 1_000_000

    return pa.table({
        "leg_id": [r[0] for r in rows],
        "icao24": pa.array([r[1] for r in rows], pa.int32()),
        "t_start": pa.array([ts(r[2]) for r in rows], pa.int64()).cast(LEGS.field("t_start").type),
        "t_end": pa.array([ts(r[2] + 3600) for r in rows], pa.int64()).cast(LEGS.field("t_end").type),
        "origin_reason": ["test"] * len(rows),
        "destination_reason": ["test"] * len(rows),
        "n_points": pa.array([10] * len(rows), pa.int32()),
    })


def _full_legs(rows: list[tuple[str, int, int]]) -> pa.Table:
    t = _legs(rows)
    cols = [t.column(f.name) if f.name in t.column_names else pa.nulls(t.num_rows, f.type) for f in LEGS]
    return pa.Table.from_arrays(cols, schema=LEGS)


def test_derived_tables_replace_per_aircraft(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s")
    assert store.derived("legs").num_rows == 0
    store.write_derived("legs", _full_legs([("A-1", 1, 100), ("A-2", 1, 9000), ("B-1", 2, 100)]))
    store.write_derived("legs", _full_legs([("A-3", 1, 500)]), icao24=[1])
    legs = store.derived("legs")
    assert sorted(legs.column("leg_id").to_pylist()) == ["A-3", "B-1"]
    assert legs.schema.equals(LEGS)
    assert store.sql("SELECT leg_id FROM legs WHERE icao24 = 2").column("leg_id").to_pylist() == ["B-1"]
    assert store.derived("legs", icao24=1).column("leg_id").to_pylist() == ["A-3"]
    with pytest.raises(ValueError, match="outside"):
        store.write_derived("legs", _full_legs([("B-2", 2, 5)]), icao24=[1])
    store.write_derived("legs", _full_legs([]))
    assert store.derived("legs").num_rows == 0
    # the current generation and the one before it (a reader may still hold it) are kept
    assert len(list((tmp_path / "s/derived/legs").glob("*.parquet"))) == 2


def test_dirty_days_and_clear(tmp_path: Path, qs: pa.Table) -> None:
    store = open_store(tmp_path / "s")
    store.add_positions(qs, "qs")
    dirty = store.dirty()
    assert dirty.num_rows == QS_AIRCRAFT
    assert set(pc.strftime(dirty.column("day"), "%Y-%m-%d").to_pylist()) == {"2021-10-07"}
    # a later ingest of one aircraft on another day while the build was running
    later = qs.filter(pc.equal(qs.column("icao24"), qs.column("icao24")[0])).slice(0, 10)
    shifted = later.set_column(0, "time", pc.add(later.column("time"), pa.scalar(86_400_000_000, pa.duration("us"))))
    store.add_positions(shifted, "next-day")
    store.clear_dirty(dirty)
    left = store.dirty()
    assert left.num_rows == 1
    assert pc.strftime(left.column("day"), "%Y-%m-%d").to_pylist() == ["2021-10-08"]
    store.clear_dirty()
    assert store.dirty().num_rows == 0


def test_import_tailwatch_is_light(tmp_path: Path) -> None:
    code = "import sys, tailwatch; print('duckdb' in sys.modules, 'pyarrow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"TAILWATCH_STORE": str(tmp_path / "never"), "PATH": "/usr/bin"})
    assert out.stdout.split() == ["False", "False"]
    assert not (tmp_path / "never").exists()


def test_env_var_sets_default_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tailwatch

    monkeypatch.setenv("TAILWATCH_STORE", str(tmp_path / "env-store"))
    store = tailwatch.open_store()
    assert store.root == tmp_path / "env-store"
    assert (tmp_path / "env-store/catalog.duckdb").exists()


def test_custom_derived_table(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s")
    assert store.derived("aircraft").num_rows == 0  # never written: empty, no error
    t1 = pa.table({"icao24": pa.array([0x062F01, 0xAE503D], pa.int32()), "registration": ["5U-MBH", "09-0540"]})
    store.write_derived("aircraft", t1)
    t2 = pa.table({"icao24": pa.array([0x062F01], pa.int32()), "registration": ["5U-MBH (C-130H)"]})
    store.write_derived("aircraft", t2, icao24=["062F01"])
    got = store.derived("aircraft").sort_by("icao24").to_pylist()
    assert got == [{"icao24": 0x062F01, "registration": "5U-MBH (C-130H)"},
                   {"icao24": 0xAE503D, "registration": "09-0540"}]
    with pytest.raises(ValueError):
        store.write_derived("positions", t1)
