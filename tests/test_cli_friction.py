"""What a new user's walk through docs/user-journeys.md tripped on, one test per fix.

The store holds the simulated Sahel scenario (ground truth: 062F01 / 5U-MBH flies the
Bamako–Gao–Tessalit–Niamey rotations and its track ends at Gao, where it crashed).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from tailwatch.cli.main import _register, app
from tailwatch.errors import StoreError
from tailwatch.sim import load_scenario, simulate
from tailwatch.store import open_store


@pytest.fixture(scope="module")
def sim_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Positions only: no legs, stops or findings built yet (as after `tailwatch ingest`)."""
    from tailwatch.cli.context import declare_aircraft

    root = tmp_path_factory.mktemp("friction") / "store"
    st = open_store(root)
    st.add_positions(simulate(load_scenario("sahel-2023"), seed=1).positions, "sahel")
    # what `tailwatch demo` declares: the scenario's aircraft with its registration
    declare_aircraft(st, pa.table({"icao24": ["062F01"], "registration": ["5U-MBH"]}), "scenario")
    _register()
    return root


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    return {"TAILWATCH_DB": str(tmp_path / "no-db"), "TAILWATCH_CONFIG": str(tmp_path / "config"),
            "COLUMNS": "80"}


def _run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, list(args), env=env)
    return res.exit_code, res.stdout, res.stderr


# 1. findings -----------------------------------------------------------------------------------
def test_findings_on_a_store_without_findings(tmp_path: Path, env: dict[str, str]) -> None:
    root = tmp_path / "empty"
    open_store(root)
    _register()
    code, out, err = _run(env, "findings", "--store", str(root), "--aircraft", "062F01", "-f", "json")
    assert code == 0, err
    assert json.loads(out) == []
    code, out, err = _run(env, "findings", "--store", str(root), "--aircraft", "062F01", "-f", "csv")
    assert code == 0, err
    assert out.splitlines() == ['"finding_id","kind","subject","icao24","t_start","t_end","places",'
                                '"confidence","summary","evidence"']


def test_findings_build_themselves_on_first_use(sim_store: Path, env: dict[str, str]) -> None:
    code, out, err = _run(env, "findings", "--store", str(sim_store), "--aircraft", "5U-MBH", "-f", "json")
    assert code == 0, err
    rows = json.loads(out)
    # ground truth: the C-130's track ends at Gao (the crash) and it flew rotations for Mali
    assert [r["places"] for r in rows if r["kind"] == "incident"] == [["GAGO"]]
    assert any(r["kind"] == "rotation" for r in rows)
    st = open_store(sim_store)
    assert not st.derived_outdated("findings", ("legs", "stops")) and st.dirty().num_rows == 0


def test_unknown_registration_is_the_same_error_everywhere(sim_store: Path, env: dict[str, str]) -> None:
    for command in ("findings", "legs", "stops", "track"):
        args = [command, "5U-XXX"] if command == "track" else [command, "--aircraft", "5U-XXX"]
        code, _, err = _run(env, *args, "--store", str(sim_store))
        assert code == 2, (command, err)
        assert "no aircraft matches '5U-XXX'" in err and "tailwatch db update" in err


# 2. ingest / track / files -------------------------------------------------------------------------
def test_track_takes_a_registration(sim_store: Path, env: dict[str, str]) -> None:
    code, out, err = _run(env, "track", "5U-MBH", "--store", str(sim_store), "--until", "2023-08-21", "-f", "json")
    assert code == 0, err
    by_reg = json.loads(out)
    code, out, _ = _run(env, "track", "062f01", "--store", str(sim_store), "--until", "2023-08-21", "-f", "json")
    assert by_reg and by_reg == json.loads(out)
    assert {r["icao24"] for r in by_reg} == {"062F01"}


def test_ingest_summary_of_unreadable_and_comm_b_files(shared_data: Path, tmp_path: Path,
                                                       env: dict[str, str]) -> None:
    from tailwatch.cli.ingest import files_table, rejects_table

    _register()
    article = Path(__file__).resolve().parents[1] / ".." / "shared" / "seed" / "sahel-c130-article.txt"
    text = tmp_path / "notes.txt"
    text.write_text(article.read_text() if article.exists() else "Amidst the escalating tensions\n")
    commb = shared_data / "pymodes" / "sample_data_commb_df20.csv"
    st = open_store(tmp_path / "s")
    report = st.ingest([str(commb), str(text)])
    by_name = {Path(f.path).name: f for f in report.files}
    # pyModeS's DF20 sample: 5,000 Comm-B replies whose addresses only parity recovers, and no
    # DF11/17/18 frame in the file to confirm any of them (PROVENANCE.md)
    assert by_name[commb.name].status == "failed"
    assert by_name[commb.name].rejects.counts == {"unverified address": 5000}
    assert "DF11/17/18" in (by_name[commb.name].error or "")
    rejects = rejects_table(report).to_pylist()
    fmt_row = next(r for r in rejects if r["reason"] == "cannot tell the format")
    assert "cannot tell the format" not in fmt_row["sample"] and "byte 0" in fmt_row["sample"]
    commb_row = next(r for r in rejects if r["reason"] == "unverified address")
    assert "CRC-checked DF11/17/18" in commb_row["explanation"] and "frame at offset" in commb_row["sample"]
    assert files_table(report, None, short=True).column_names == [
        "file", "status", "format", "receiver", "stored", "dupes", "rejects", "problem"]
    assert "path" in files_table(report, "rx").column_names
    # the terminal summary explains the reason once, however many files it concerns
    code, out, err = _run({**env, "COLUMNS": "1000"}, "ingest", str(commb), str(shared_data / "pymodes" / "sample_data_commb_df21.csv"),
                          "--store", str(tmp_path / "s2"), "-q")
    assert code == 1
    assert (out + err).count("CRC-checked DF11/17/18") == 1


# 4. a mistyped --store ------------------------------------------------------------------------------
def test_open_store_create_false_refuses_a_missing_store(tmp_path: Path) -> None:
    import tailwatch

    with pytest.raises(StoreError, match="no store at"):
        tailwatch.open_store(tmp_path / "typo", create=False)
    assert not (tmp_path / "typo").exists()
    tailwatch.open_store(tmp_path / "made")  # the default still creates (ingest's way)
    assert tailwatch.open_store(tmp_path / "made", create=False).positions().num_rows == 0


@pytest.mark.parametrize("command", [["legs"], ["stops"], ["findings"], ["track", "062F01"], ["files"],
                                     ["build"], ["report", "--aircraft", "062F01"]])
def test_read_only_commands_do_not_create_a_store(tmp_path: Path, env: dict[str, str], command: list[str]) -> None:
    _register()
    typo = tmp_path / "typo"
    res = CliRunner().invoke(app, [*command, "--store", str(typo)], env=env)
    message = res.output + (str(res.exception) if res.exception else "")
    assert "no store at" in message and "tailwatch ingest" in message
    assert res.exit_code != 0
    assert not typo.exists()


def test_derived_outdated_follows_ingests_and_inputs(tmp_path: Path) -> None:
    from tailwatch.schema import FINDINGS, LEGS

    st = open_store(tmp_path / "s")
    assert st.derived_outdated("findings")  # never written
    st.write_derived("findings", FINDINGS.empty_table())
    assert not st.derived_outdated("findings", ("legs",))
    one = pa.table({"time": pa.array([0], pa.timestamp("us", tz="UTC")), "icao24": pa.array([1], pa.int32()),
                    "lat": [16.25], "lon": [-0.01], "quality": pa.array([1], pa.uint16())})
    st.add_positions(one, "later")
    assert st.derived_outdated("findings", ("legs",))  # data came after
    st.write_derived("findings", FINDINGS.empty_table())
    st.write_derived("legs", LEGS.empty_table())
    assert st.derived_outdated("findings", ("legs",))  # its input was rewritten after it
    assert not st.derived_outdated("findings")


# 5. narrow terminals -------------------------------------------------------------------------------
def test_legs_table_fits_a_narrow_terminal(sim_store: Path, env: dict[str, str]) -> None:
    code, out, err = _run(env, "legs", "--store", str(sim_store), "-a", "062F01", "--until", "2023-08-20")
    assert code == 0, err
    header = next(line for line in out.splitlines() if "icao24" in line)
    assert "reason" in header and "origin_reason" not in out and "touch_and_go" not in out
    # the scenario's first leg: Bamako (GABS) 06:36 -> Gao (GAGO) 08:33, both ends seen on the ground
    assert "│ 2023-08-20T06:36 │ 08:33 │ GABS │ GAGO │ from: on" in out
    assert "--wide" in err
    # the stop at Gao between those legs: 08:33:24 -> 10:01:30 is 1 h 28 min 6 s on the ground
    code, out, err = _run(env, "stops", "--store", str(sim_store), "-a", "062F01", "--until", "2023-08-20")
    assert code == 0, err
    assert "│ GAGO    │ 2023-08-20T08:33 │ 10:01       │ 1h28  │" in out
    code, out, _ = _run({**env, "COLUMNS": "400"}, "legs", "--store", str(sim_store), "-a", "062F01", "--wide",
                        "--until", "2023-08-20")
    assert code == 0 and "origin_reason" in out and "touch_and_go" in out
    code, out, _ = _run(env, "legs", "--store", str(sim_store), "-a", "062F01", "-f", "json", "--until", "2023-08-20")
    assert "origin_reason" in json.loads(out)[0]  # machines always get every column


# 7. database folder ----------------------------------------------------------------------------------
def test_databases_live_in_the_data_folder_and_the_old_cache_is_still_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from tailwatch import paths
    from tailwatch.errors import NoDatabaseError
    from tailwatch.identity import load_identity

    monkeypatch.delenv("TAILWATCH_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert paths.default_db_dir() == tmp_path / "data" / "tailwatch" / "db"
    assert paths.db_dir_to_read() == (tmp_path / "data" / "tailwatch" / "db", None)
    old = tmp_path / "cache" / "tailwatch" / "db"
    old.mkdir(parents=True)
    (old / "manifest.json").write_text("{}")
    folder, note = paths.db_dir_to_read()
    assert folder == old and note is not None and "old location" in note
    with caplog.at_level("WARNING", logger="tailwatch"), pytest.raises(NoDatabaseError, match=str(old)):
        load_identity()  # the manifest alone holds no aircraft database: the error names the folder read
    assert any("old location" in r.getMessage() for r in caplog.records)
