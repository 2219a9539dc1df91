"""``tailwatch.cli.output.emit``: what a user sees and what a script parses.

Found walking journey 1 from the README: ``legs --format csv`` printed every take-off as
``2023-08-20T06:36:38.000000Z`` and ``aircraft --format json`` a class confidence of
``0.8999999761581421`` (plane-alert-db's 0.9 stored as float32).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow as pa
from rich.console import Console

from tailwatch.cli.output import emit

# 1692513398 s after the epoch: 1692513398 // 86400 = 19589 days = 2023-08-20
# (19358 days to 2023-01-01, + 231 days: Jan..Jul = 212, + 19 -> 20 August), and
# 1692513398 - 19589 * 86400 = 23798 s = 06:36:38.
T_WHOLE = 1_692_513_398_000_000
T_FRACTION = 1_692_513_398_425_136


def _table() -> pa.Table:
    return pa.table({
        "icao24": pa.array([0x062F01, 0x05C075], pa.int32()),
        "whole": pa.array([T_WHOLE, None], pa.timestamp("us", tz="UTC")),
        "fraction": pa.array([T_FRACTION, T_WHOLE], pa.timestamp("us", tz="UTC")),
        "confidence": pa.array([0.9, 0.35], pa.float32()),
    })


def test_csv_keeps_sub_seconds_only_where_there_are_some(tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    emit(_table(), "csv", out=out)
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert rows[0]["icao24"] == "062F01"
    assert rows[0]["whole"] == "2023-08-20T06:36:38Z"
    assert rows[1]["whole"] == ""
    assert rows[0]["fraction"] == "2023-08-20T06:36:38.425136Z"
    assert rows[1]["fraction"] == "2023-08-20T06:36:38.000000Z"
    assert rows[0]["confidence"] == "0.9"


def test_json_float32_is_the_stored_decimal(tmp_path: Path) -> None:
    out = tmp_path / "x.json"
    emit(_table(), "json", out=out)
    rows = json.loads(out.read_text())
    assert [r["confidence"] for r in rows] == [0.9, 0.35]
    assert rows[0]["whole"] == "2023-08-20T06:36:38Z"
    assert rows[1]["icao24"] == "05C075"


def test_terminal_table_shows_whole_seconds() -> None:
    console = Console(file=io.StringIO(), width=160, color_system=None)
    emit(_table(), "table", console=console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "2023-08-20T06:36:38Z" in text
    assert ".425136" not in text and ".000000" not in text
    assert "062F01" in text and "2 rows" in text


def _legs_like(n: int = 3) -> pa.Table:
    # Shaped like `tailwatch legs --aircraft 5U-MBH` on the sahel-2023 captures: 11 columns,
    # three of them empty for this aircraft, two long reason sentences.
    return pa.table({
        "icao24": pa.array([0x062F01] * n, pa.int32()),
        "callsign": ["5UMBH"] * n,
        "t_start": pa.array([T_FRACTION] * n, pa.timestamp("us", tz="UTC")),
        "t_end": pa.array([T_WHOLE + 7_010_000_000] * n, pa.timestamp("us", tz="UTC")),
        "origin": pa.array(["DRRN"] + [None] * (n - 1), pa.string()),
        "destination": ["GAGO"] * n,
        "diverted_from": pa.array([None] * n, pa.string()),
        "touch_and_go": pa.array([None] * n, pa.string()),
        "go_around": pa.array([None] * n, pa.string()),
        "origin_reason": ["unknown (first seen without a position, 92 km from the nearest airport GAKL)"] * n,
        "destination_reason": ["on ground 6 min, 0.2 km from GAGO, below 50 kt for the last 3 positions"] * n,
    })


def test_wide_terminal_keeps_times_whole_and_names_empty_columns() -> None:
    console = Console(file=io.StringIO(), width=160, color_system=None)
    emit(_legs_like(), "table", console=console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    # 06:36:38 + 7010 s (1 h 56 min 50 s) = 08:33:28
    assert text.count("2023-08-20T06:36:38Z") == 3 and text.count("2023-08-20T08:33:28Z") == 3
    assert "diverted_from" not in text.split("3 rows")[0]
    assert "3 rows; empty in every row: diverted_from, touch_and_go, go_around" in text
    assert "DRRN" in text  # origin is empty in two rows only: shown
    assert max(len(line) for line in text.splitlines()) <= 160


def test_cells_are_text_not_markup() -> None:
    # verify's claim for the seed's misspelt "Niamay" read "Niamey  (DRRN)": rich ate "[written Niamay]".
    console = Console(file=io.StringIO(), width=160, color_system=None)
    emit(pa.table({"claim": ["Tessalit (GATS) → Niamey [written Niamay] (DRRN)"], "why": ["[bold]x[/bold]"]}),
         "table", console=console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "Niamey [written Niamay] (DRRN)" in text and "[bold]x[/bold]" in text
