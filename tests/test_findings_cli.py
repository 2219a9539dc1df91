"""``tailwatch findings`` on a store built from the simulated Sahel scenario (truth: see test_findings_sim)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tailwatch.analysis.airports import load_airports
from tailwatch.analysis.findings.config import load_config
from tailwatch.cli.main import _register, app
from tailwatch.errors import InputError
from tailwatch.sim import load_scenario, simulate


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tailwatch.analysis.legs import legs_and_stops
    from tailwatch.store import open_store

    root = tmp_path_factory.mktemp("findings-cli") / "store"
    st = open_store(root)
    st.add_positions(simulate(load_scenario("sahel-2023")).positions, "sim-sahel-2023")
    legs, stops = legs_and_stops(st.positions(), load_airports())
    st.write_derived("legs", legs)
    st.write_derived("stops", stops)
    return root


@pytest.fixture()
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TAILWATCH_DB", str(tmp_path / "no-db"))  # no aircraft databases: address blocks only
    monkeypatch.setenv("TAILWATCH_CONFIG", str(tmp_path / "config"))
    _register()
    return CliRunner()


def _json(runner: CliRunner, *args: str) -> list[dict[str, object]]:
    res = runner.invoke(app, ["findings", *args, "--format", "json"])
    assert res.exit_code == 0, res.output
    return list(orjson.loads(res.stdout))


def test_build_then_filter(runner: CliRunner, store_dir: Path) -> None:
    res = runner.invoke(app, ["findings", "--build", "--store", str(store_dir), "--format", "csv"])
    assert res.exit_code == 0, res.output
    everything = _json(runner, "--store", str(store_dir))
    assert everything
    mine = _json(runner, "--store", str(store_dir), "--aircraft", "062f01")
    assert mine and all(r["icao24"] == "062F01" or "062F01" in orjson.dumps(r["evidence"]).decode() for r in mine)
    kinds = {r["kind"] for r in mine}
    # Without databases the class is unknown, so every kind that needs no class is there.
    assert {"rotation", "incident", "foreign_operation"} <= kinds
    inc = _json(runner, "--store", str(store_dir), "--kind", "incident")
    assert [r["places"] for r in inc] == [["GAGO"]]
    ml = _json(runner, "--store", str(store_dir), "--country", "ML")
    assert ml and all("ML" in r["places"] or r["icao24"] in ("05C075", "05C05A") for r in ml)
    late = _json(runner, "--store", str(store_dir), "--kind", "incident", "--until", "2023-09-01")
    assert late == []  # the track was lost on 2023-09-22


def test_threshold_override_changes_the_result(runner: CliRunner, store_dir: Path) -> None:
    res = runner.invoke(app, ["findings", "--build", "--store", str(store_dir), "--set", "rotation.min_count=50",
                              "--kind", "rotation", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert orjson.loads(res.stdout) == []  # nobody flew a circuit 50 times


def test_bad_config_names_file_and_place(tmp_path: Path) -> None:
    bad = tmp_path / "findings.yaml"
    bad.write_text("rotation:\n  min_count: [unclosed\n")
    with pytest.raises(InputError) as exc:
        load_config(bad)
    assert str(bad) in str(exc.value) and "line" in str(exc.value)
    bad.write_text("rotation:\n  min_cuont: 3\n")
    with pytest.raises(InputError, match="min_cuont"):
        load_config(bad)
    good = tmp_path / "ok.yaml"
    good.write_text("incident:\n  low_agl_ft: 2000\n")
    assert load_config(good).incident.low_agl_ft == 2000.0
