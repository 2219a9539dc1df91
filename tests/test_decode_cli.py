"""``tailwatch decode``: real captures to JSON/CSV without a store."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tailwatch.cli.main import _register, app


def test_decode_json_positions_match_rs1090_count(shared_data: Path) -> None:
    _register()
    res = CliRunner().invoke(
        app, ["decode", str(shared_data / "pymodes/sample_data_adsb.csv"), "--positions", "-f", "json"]
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert len(rows) == 772  # rs1090 0.7.0 decodes 772 positions from this capture
    assert {r["icao24"] for r in rows} == {"406B90"}


def test_decode_reports_rejects_with_offsets(shared_data: Path, tmp_path: Path) -> None:
    _register()
    out = tmp_path / "beast.csv"
    capture = shared_data / "traffic_samples/dump1090/sample_dump1090.bin"
    # A narrow terminal: the reject line names a long path, and must still not fold, so that
    # "FILE frame at offset N" can be grepped and copied as one piece.
    res = CliRunner().invoke(app, ["decode", str(capture), "-f", "csv", "-o", str(out)], env={"COLUMNS": "40"})
    assert res.exit_code == 0, res.output
    assert out.read_text().startswith('"time","icao24"')
    lines = [ln for ln in res.stderr.splitlines() if "rejected: unverified address" in ln]
    assert len(lines) == 1, res.stderr
    assert f"{capture} frame at offset 0: unverified address" in lines[0]
