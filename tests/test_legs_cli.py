"""``tailwatch legs`` / ``stops`` end to end on a store holding a simulated scenario."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tailwatch.cli.main import _register, app
from tailwatch.sim import load_scenario, simulate
from tailwatch.store import open_store


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("cli") / "store"
    open_store(d).add_positions(simulate(load_scenario("sahel-2023"), seed=1).positions, "sahel")
    _register()
    return d


def test_legs_builds_stale_store_then_lists(store_dir: Path) -> None:
    res = CliRunner().invoke(app, ["legs", "--store", str(store_dir), "--aircraft", "062f01",
                                   "--since", "2023-08-20", "--until", "2023-08-20", "-f", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout[res.stdout.index("["):])
    # the scenario's first day: Bamako -> Gao seen whole, then Gao -> Tessalit lost short of Tessalit
    assert rows[0]["icao24"] == "062F01"
    assert (rows[0]["origin"], rows[0]["destination"]) == ("GABS", "GAGO")
    assert rows[0]["origin_reason"].startswith("on ground ")
    assert all(r["t_start"].startswith("2023-08-20") for r in rows)
    assert open_store(store_dir).dirty().num_rows == 0


def test_stops_at_an_airport_as_csv_and_parquet(store_dir: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["stops", "--store", str(store_dir), "--airport", "gago", "-f", "csv"])
    assert res.exit_code == 0, res.output
    lines = [x for x in res.stdout.splitlines() if x.startswith('"')]
    assert lines[0].startswith('"stop_id","icao24","airport"')
    assert all(',"GAGO",' in x for x in lines[1:]) and len(lines) > 3
    out = tmp_path / "legs.parquet"
    res = CliRunner().invoke(app, ["legs", "--store", str(store_dir), "--airport", "DRRN", "-f", "parquet",
                                   "-o", str(out)])
    assert res.exit_code == 0, res.output
    t = pq.read_table(out)
    assert t.num_rows > 0
    for r in t.to_pylist():
        assert "DRRN" in {r["origin"], r["destination"], r["diverted_from"], *r["touch_and_go"], *r["go_around"]}


def test_set_overrides_recompute_and_unknown_names_fail(store_dir: Path) -> None:
    base = CliRunner().invoke(app, ["legs", "--store", str(store_dir), "-a", "062F01", "-f", "json"])
    # silences never end a leg unless 100 h long or low: Gao -> (Tessalit unseen) -> Niamey become one leg
    merged = CliRunner().invoke(app, ["legs", "--store", str(store_dir), "-a", "062F01", "-f", "json",
                                      "--set", "long_gap_s=360000", "--set", "gap_speed_ratio=0", "--set",
                                      "low_height_ft=0"])
    assert merged.exit_code == 0, merged.output
    n0 = len(json.loads(base.stdout[base.stdout.index("["):]))
    n1 = len(json.loads(merged.stdout[merged.stdout.index("["):]))
    assert n1 < n0
    bad = CliRunner().invoke(app, ["legs", "--store", str(store_dir), "--set", "nonsense=1"])
    assert bad.exit_code != 0 and "nonsense" in bad.output


def test_unknown_registration_without_databases_says_how(store_dir: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["legs", "--store", str(store_dir), "--db", str(tmp_path / "nodb"),
                                   "--aircraft", "5U-MBH"])
    assert res.exit_code != 0
    assert "tailwatch db update" in res.output
