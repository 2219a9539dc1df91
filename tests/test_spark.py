"""The kernels give the same tables on Spark as in one local call (real data + the simulator).

Input: the 284,505 real state vectors of ``quickstart.json.gz`` (213 aircraft around Paris),
the real spoofed THY9BP track of ``noisy_spoofing.json.gz`` and the simulated Sahel
scenario (the Niger C-130 062F01 rotations, ending in a crash near Gao) — about 370k rows.
The reference is the kernel called once on the whole table, as a local user runs it; Spark
local[2] must produce the same legs, stops and findings row for row, by both the
``mapInArrow`` and the ``applyInArrow`` path, from a shuffled DataFrame and from a Parquet
folder written the way the store writes it (hive ``day=`` partitions).

Spark is not mocked: pyspark and Java 17 must be installed (``pip install -e '.[dev]'``);
this test does not skip.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tailwatch.analysis.airports import load_airports
from tailwatch.analysis.findings import incident, spoofing
from tailwatch.analysis.findings.common import Airports
from tailwatch.analysis.legs import LegParams, legs_and_stops
from tailwatch.analysis.spark import collect, run_findings_spark, run_legs_spark, spark_frame, spark_session
from tailwatch.analysis.spark_arrow import canonical_order, sort_table
from tailwatch.errors import Rejects
from tailwatch.schema import FINDINGS, LEGS, POSITIONS, STOPS
from tailwatch.sim import load_scenario, simulate
from tailwatch.sources import get_reader

C130 = 0x062F01


def _read(path: Path) -> pa.Table:
    rejects = Rejects()
    chunks = [c.batch for c in get_reader("traffic").read(path, rejects)]
    assert rejects.total == 0
    return pa.Table.from_batches(chunks).cast(POSITIONS)


@pytest.fixture(scope="module")
def positions(shared_data: Path) -> pa.Table:
    samples = shared_data / "traffic_samples"
    real = _read(samples / "collections" / "quickstart.json.gz")
    noisy = _read(samples / "noisy" / "noisy_spoofing.json.gz")
    sim = simulate(load_scenario("sahel-2023")).positions.cast(POSITIONS)
    table = pa.concat_tables([real, noisy, sim])
    # shuffle, so neither engine is handed sorted input
    order = np.random.default_rng(7).permutation(table.num_rows)
    return table.take(pa.array(order))


@pytest.fixture(scope="module")
def spark():  # type: ignore[no-untyped-def]
    session = spark_session("local[2]", app_name="tailwatch-test", driver_memory="1g",
                            conf={"spark.sql.shuffle.partitions": "4"})
    yield session
    session.stop()


@pytest.fixture(scope="module")
def airports() -> pa.Table:
    return load_airports()


@pytest.fixture(scope="module")
def local(positions: pa.Table, airports: pa.Table) -> tuple[pa.Table, pa.Table]:
    # one call over every aircraft; canonical_order only fixes the order of rows sharing (icao24, time)
    return legs_and_stops(canonical_order(positions), airports, LegParams())


def _same(a: pa.Table, b: pa.Table, keys: list[str]) -> None:
    assert a.schema == b.schema
    assert a.num_rows == b.num_rows
    sa, sb = sort_table(a, keys), sort_table(b, keys)
    for name in a.column_names:
        assert sa.column(name).equals(sb.column(name)), name


def test_reference_is_not_trivial(local: tuple[pa.Table, pa.Table], positions: pa.Table) -> None:
    legs, stops = local
    # 213 real aircraft over 3 h around Paris plus the scenario: hundreds of legs, both ends known for some
    assert legs.num_rows > 200 and stops.num_rows > 100
    assert pc.sum(pc.is_valid(legs["origin"])).as_py() > 20
    # the scenario's C-130 flies Bamako (GABS) - Gao (GAGO) rotations (ground truth of sahel-2023.yaml)
    c130 = legs.filter(pc.equal(legs["icao24"], C130))
    assert {"GABS", "GAGO"} <= set(c130["origin"].to_pylist()) | set(c130["destination"].to_pylist())
    assert len(pc.unique(positions["icao24"])) > 215


@pytest.fixture(scope="module")
def parquet_dir(positions: pa.Table, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The positions as the store lays them out (``day=YYYY-MM-DD/*.parquet``), rows left shuffled."""
    root = tmp_path_factory.mktemp("positions")
    day = pc.strftime(positions["time"], format="%Y-%m-%d")
    for d in pc.unique(day).to_pylist():
        (root / f"day={d}").mkdir()
        pq.write_table(positions.filter(pc.equal(day, d)), root / f"day={d}" / "f1-0.parquet")
    return root


@pytest.mark.parametrize("method", ["map", "group"])
def test_legs_and_stops_same_on_spark(spark, parquet_dir: Path, airports: pa.Table,  # type: ignore[no-untyped-def]
                                      local: tuple[pa.Table, pa.Table], method: str) -> None:
    legs_df, stops_df = run_legs_spark(str(parquet_dir), airports, LegParams(), spark, method=method,
                                       batch_rows=50_000)
    assert "day" not in legs_df.columns
    legs, stops = collect(legs_df, LEGS), collect(stops_df, STOPS)
    spark.catalog.clearCache()
    _same(legs, local[0], ["icao24", "t_start", "leg_id"])
    _same(stops, local[1], ["icao24", "stop_id"])


def test_legs_from_arrow_table(spark, positions: pa.Table, airports: pa.Table,  # type: ignore[no-untyped-def]
                               local: tuple[pa.Table, pa.Table]) -> None:
    # a notebook user's Arrow table (POSITIONS, with its uint16 quality column), a slice of aircraft
    ids = pc.unique(positions["icao24"]).slice(0, 40)
    part = positions.filter(pc.is_in(positions["icao24"], ids))
    legs_df, _ = run_legs_spark(spark_frame(spark, part), airports, LegParams(), spark)
    legs = collect(legs_df, LEGS)
    spark.catalog.clearCache()
    expected = local[0].filter(pc.is_in(local[0]["icao24"], ids))
    assert expected.num_rows > 20
    _same(legs, expected, ["icao24", "t_start", "leg_id"])


def test_findings_same_on_spark(spark, parquet_dir: Path, positions: pa.Table,  # type: ignore[no-untyped-def]
                                airports: pa.Table) -> None:
    ap = Airports.from_table(airports)
    pos = canonical_order(positions)
    end = int(pc.max(pos["time"]).cast(pa.int64()).as_py())  # when the data set ends
    expected = pa.concat_tables([incident(pos, ap, None, end).cast(FINDINGS), spoofing(pos).cast(FINDINGS)])
    kinds = expected["kind"].to_pylist()
    # independent truth: the scenario's C-130 crash near Gao is an incident; THY9BP (4BAAC6) was spoofed
    assert any(k == "incident" and s == "062F01" for k, s in zip(kinds, expected["subject"].to_pylist(), strict=True))
    assert "4BAAC6" in set(expected.filter(pc.equal(expected["kind"], "spoofing"))["subject"].to_pylist())
    got = collect(run_findings_spark(str(parquet_dir), ap, spark=spark, batch_rows=50_000), FINDINGS)
    _same(got, expected, ["kind", "finding_id"])
    per_aircraft = collect(run_findings_spark(str(parquet_dir), ap, spark=spark, method="group"), FINDINGS)
    _same(per_aircraft, expected, ["kind", "finding_id"])


def test_cli_spark_legs_on_a_store(spark, shared_data: Path, airports: pa.Table, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    from typer.testing import CliRunner

    from tailwatch import open_store
    from tailwatch.cli.main import _register, app

    store = open_store(tmp_path / "store")
    report = store.ingest([shared_data / "traffic_samples" / "collections" / "quickstart.json.gz"])
    assert report is not None
    expected_legs, expected_stops = legs_and_stops(canonical_order(store.positions()), airports, LegParams())
    _register()
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["spark", "legs", "--input", str(tmp_path / "store"), "--out", str(out),
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["table"]: r["rows"] for r in json.loads(result.stdout[result.stdout.index("["):])}
    assert rows == {"legs": expected_legs.num_rows, "stops": expected_stops.num_rows}
    written = pq.read_table(out / "legs").select(LEGS.names).cast(LEGS)
    _same(written, expected_legs, ["icao24", "t_start", "leg_id"])


@pytest.mark.parametrize("command", ["legs", "findings"])
def test_cli_spark_bad_options_stop_before_spark_starts(command: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from tailwatch.cli import spark as spark_cli
    from tailwatch.cli.main import _register, app

    def no_session(*_: object) -> None:
        raise AssertionError("a Spark session was started")

    monkeypatch.setattr(spark_cli, "_session", no_session)
    _register()
    runner = CliRunner()
    bad = runner.invoke(app, ["spark", command, "--input", str(tmp_path), "--out", str(tmp_path / "o"),
                              "--method", "bogus"])
    assert bad.exit_code == 2 and "--method is map or group" in bad.output
    missing = runner.invoke(app, ["spark", command, "--input", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert missing.exit_code == 2 and "no such file or folder" in missing.output
