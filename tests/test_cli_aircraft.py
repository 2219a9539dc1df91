"""``tailwatch aircraft``, ``db update --from`` and ``watch add|list|remove`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tailwatch.cli import aircraft


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer()
    aircraft.register(a)
    return a


@pytest.fixture(scope="module")
def db(app: typer.Typer, shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("cache") / "db"
    result = CliRunner().invoke(app, ["db", "update", "--from", str(shared_data), "--db", str(target)])
    assert result.exit_code == 0, result.output
    assert "databases installed" in result.output
    return target


def test_aircraft_5umbh_card(app: typer.Typer, db: Path, tmp_path: Path) -> None:
    env = {"TAILWATCH_CONFIG": str(tmp_path), "COLUMNS": "200"}
    result = CliRunner().invoke(app, ["aircraft", "5UMBH", "--db", str(db)], env=env)
    assert result.exit_code == 0, result.output
    # plane-alert-db: 062F01,5U-MBH,Niger Air Force,Lockheed C-130H Hercules,C130,Mil,...
    for text in ("062F01", "5U-MBH", "C130", "Lockheed C-130H Hercules", "Niger Air Force", "Niger",
                 "military", "plane-alert-db"):
        assert text in result.output


def test_aircraft_json_and_csv(app: typer.Typer, db: Path, tmp_path: Path) -> None:
    env = {"TAILWATCH_CONFIG": str(tmp_path)}
    result = CliRunner().invoke(app, ["aircraft", "5u mbh", "--db", str(db), "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert (row["icao24"], row["registration"], row["typecode"], row["type_desc"], row["operator"],
            row["country"], row["aircraft_class"]) == \
        ("062F01", "5U-MBH", "C130", "Lockheed C-130H Hercules", "Niger Air Force", "Niger", "military")
    assert row["registration_source"] == "plane-alert-db"
    result = CliRunner().invoke(app, ["aircraft", "062FFE", "--db", str(db), "-f", "csv"], env=env)
    assert result.exit_code == 0
    assert "not in any database" in result.stdout and "Niger" in result.stdout


def test_no_database_tells_how_to_get_one(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["aircraft", "5UMBH", "--db", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "tailwatch db update" in result.output


def test_watch_add_list_remove(app: typer.Typer, db: Path, tmp_path: Path) -> None:
    env = {"TAILWATCH_CONFIG": str(tmp_path)}
    run = CliRunner().invoke
    assert run(app, ["watch", "add", "062f01", "--label", "Niger C-130", "-t", "sahel", "-t", "c130"],
               env=env).exit_code == 0
    assert run(app, ["watch", "add", "TZ-PRM", "--label", "Mali jet"], env=env).exit_code == 0
    listed = json.loads(run(app, ["watch", "list", "-f", "json"], env=env).stdout)
    assert listed == [{"hex": "062F01", "registration": None, "label": "Niger C-130", "tags": "sahel; c130"},
                      {"hex": None, "registration": "TZ-PRM", "label": "Mali jet", "tags": None}]
    shown = json.loads(run(app, ["aircraft", "062F01", "--db", str(db), "-f", "json"], env=env).stdout)
    assert shown[0]["tags"] == "Cargo; Military Transport; Chonky Boy; watch: Niger C-130; sahel; c130"
    assert run(app, ["watch", "remove", "tz prm"], env=env).exit_code == 0
    assert run(app, ["watch", "remove", "tz prm"], env=env).exit_code == 1
    listed = json.loads(run(app, ["watch", "list", "-f", "json"], env=env).stdout)
    assert [e["hex"] for e in listed] == ["062F01"]


def test_db_status(app: typer.Typer, db: Path, shared_data: Path) -> None:
    result = CliRunner().invoke(app, ["db", "status", "--db", str(db), "-f", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows[0]["url"] == str(shared_data)
    # PROVENANCE.md: plane-alert-db 17,198 aircraft; VRS aircraft 16,873; dump1090-fa 354,852 entries
    loaded = {r["database"]: r["file"] for r in rows[1:]}
    assert loaded == {"plane-alert-db": "17198 aircraft rows loaded", "vrs-standing-data": "16873 aircraft rows loaded",
                      "dump1090-fa": "354852 aircraft rows loaded"}
    missing = CliRunner().invoke(app, ["db", "status", "--db", str(db / "nothing")])
    assert missing.exit_code == 2 and missing.stdout == ""
    assert f"no databases installed in {db / 'nothing'}" in missing.stderr


def test_a_cut_list_says_so(app: typer.Typer, db: Path, tmp_path: Path) -> None:
    # plane-alert-db alone lists dozens of C-130s (type designator C130), far more than the default 20
    env = {"TAILWATCH_CONFIG": str(tmp_path), "COLUMNS": "200"}
    result = CliRunner().invoke(app, ["aircraft", "C130", "--db", str(db)], env=env)
    assert result.exit_code == 0, result.output
    note = [line for line in result.output.splitlines() if "matches shown (use --limit)" in line]
    assert len(note) == 1 and note[0].startswith("20 of ")
    total = int(note[0].split()[2])
    assert total > 20
    every = CliRunner().invoke(app, ["aircraft", "C130", "--db", str(db), "-n", str(total + 5), "-f", "json"],
                               env=env)
    assert len(json.loads(every.stdout)) == total  # the N of the note is what a bigger --limit lists
    assert "matches shown" not in every.output


@pytest.mark.parametrize(("query", "why"), [("062F0G", "'G' is not a hex digit"),
                                            ("06F01", "5 hex digits, an address has 6")])
def test_a_mistyped_hex_gets_a_hint(app: typer.Typer, db: Path, tmp_path: Path, query: str, why: str) -> None:
    env = {"TAILWATCH_CONFIG": str(tmp_path), "COLUMNS": "200"}
    result = CliRunner().invoke(app, ["aircraft", query, "--db", str(db)], env=env)
    assert why in result.output
