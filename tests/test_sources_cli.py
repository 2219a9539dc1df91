"""``tailwatch formats``: listing, detection and --check on real files, as a user runs it."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer
from typer.testing import CliRunner

from tailwatch.cli import formats


def app() -> typer.Typer:
    a = typer.Typer()
    formats.register(a)
    a.command("noop")(lambda: None)  # a second command keeps Typer in multi-command mode
    return a


def test_listing_json() -> None:
    res = CliRunner().invoke(app(), ["formats", "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = orjson.loads(res.stdout)
    assert {r["format"] for r in rows} == {"beast", "avr", "sbs", "hexcsv", "rs1090", "readsb-trace",
                                           "readsb-hist", "opensky", "traffic", "fr24"}
    assert {r["format"]: r["yields"] for r in rows}["beast"] == "frames"


def test_check_real_files(shared_data: Path, tmp_path: Path) -> None:
    bad = tmp_path / "odd.txt"
    bad.write_text("nothing to see\n")
    files = [shared_data / "traffic_samples/dump1090/sample_dump1090.bin",
             shared_data / "pymodes/sample_data_adsb.csv", bad]
    res = CliRunner().invoke(app(), ["formats", "--check", "--format", "json", *map(str, files)])
    assert res.exit_code == 1  # one file could not be read
    rows = orjson.loads(res.stdout)
    assert [(r["format"], r["rows"], r["rejects"]) for r in rows[:2]] == [("beast", 239, 0), ("hexcsv", 2000, 0)]
    assert rows[2]["format"] is None and "cannot tell the format" in rows[2]["problem"]
