"""``tailwatch ingest`` / ``track`` / ``files`` end to end on copies of the real files, good and broken.

Expected counts come from PROVENANCE.md (trace_full_ac671b.json: 2,500 points of N899DN, hex
AC671B; quickstart: 284,505 state vectors) or are derived by hand in comments.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from tailwatch.cli import ingest as ingest_cli
from tailwatch.store import open_store

TRACE_POINTS = 2_500  # PROVENANCE.md
QS_ROWS = 284_505


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer()
    ingest_cli.register(a)
    return a


def run(app: typer.Typer, *args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, list(args))
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.stdout, res.stderr


def summary(app: typer.Typer, store: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = run(app, "ingest", "--quiet", "--summary", "json", "--store", str(store), *args)
    return code, json.loads(out), err


def by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {Path(f["path"]).name: f for f in doc["files"]}


@pytest.fixture()
def trace(shared_data: Path, tmp_path: Path) -> Path:
    p = tmp_path / "in" / "trace_full_ac671b.json"
    p.parent.mkdir()
    shutil.copy(shared_data / "traffic_samples/readsb/trace_full_ac671b.json", p)
    return p


@pytest.fixture()
def bad(shared_data: Path, tmp_path: Path) -> Path:
    """A folder of broken inputs, each made from a real file."""
    d = tmp_path / "bad"
    d.mkdir()
    qs = (shared_data / "traffic_samples/collections/quickstart.json.gz").read_bytes()
    (d / "cut.json.gz").write_bytes(qs[:1_000_000])  # gzip stream cut at byte 1,000,000 of 5,650,151
    (d / "cut.json").write_bytes(gzip.decompress(qs)[:300_000])  # JSON list cut mid-record
    (d / "empty.avr").write_bytes(b"")
    # three AVR lines from pymodes' sample_data_adsb.csv; the second has 'ZZ' put into its hex
    (d / "frames.avr").write_text(
        "*8D406B909945DE10000405999BE4;\n*8D406B90ZZB975870B738754F480;\n*8D406B9058B975871773722A2B6B;\n"
    )
    return d


def test_bad_inputs_are_reported_and_the_rest_goes_in(app: typer.Typer, tmp_path: Path, trace: Path,
                                                      bad: Path) -> None:
    store = tmp_path / "store"
    code, doc, err = summary(app, store, str(bad), str(trace))
    assert code == 0
    files = by_name(doc)
    assert files["trace_full_ac671b.json"]["status"] == "stored"
    assert files["trace_full_ac671b.json"]["rows_stored"] == TRACE_POINTS
    cut_gz = files["cut.json.gz"]  # the records before the damage go in, and the damage is reported
    assert cut_gz["status"] == "stored" and cut_gz["rows_stored"] > 0
    assert "gzip" in cut_gz["problem"] and "byte" in cut_gz["problem"]
    assert files["cut.json"]["status"] in ("failed", "stored")
    assert "byte" in files["cut.json"]["problem"] and "JSON" in files["cut.json"]["problem"]
    assert files["empty.avr"]["status"] == "failed"
    assert "empty" in files["empty.avr"]["problem"]
    assert files["frames.avr"]["rejects"] >= 1
    reasons = {r["reason"]: r for r in doc["rejects"]}
    assert "empty file" in reasons
    assert reasons["non-hex frame"]["count"] == 1
    assert "frames.avr line 2" in reasons["non-hex frame"]["sample"]
    assert any("gzip" in r for r in reasons)
    # each broken file is named on stderr with its location
    assert "cut.json.gz byte" in err.replace("\n", "")
    assert "empty.avr byte 0" in err.replace("\n", "")
    st = open_store(store)
    assert st.positions(icao24="AC671B").num_rows == TRACE_POINTS
    # the catalog keeps the rejects by file and reason, with sample locations, for later questions
    rows = st.sql("SELECT f.path, r.reason, r.count, r.samples FROM rejects r JOIN files f USING (file_id)"
                  " WHERE r.reason = $reason", {"reason": "non-hex frame"}).to_pylist()
    assert [(Path(r["path"]).name, r["count"]) for r in rows] == [("frames.avr", 1)]
    assert "frames.avr line 2" in json.loads(rows[0]["samples"])[0]
    statuses = {Path(r["path"]).name: r["status"] for r in st.files().to_pylist()}
    assert statuses["empty.avr"] == "failed" and statuses["trace_full_ac671b.json"] == "done"


def test_binary_given_as_csv_and_wrong_columns(app: typer.Typer, tmp_path: Path, shared_data: Path) -> None:
    store = tmp_path / "store"
    binary = tmp_path / "capture.csv"
    shutil.copy(shared_data / "traffic_samples/dump1090/sample_dump1090.bin", binary)
    code, doc, err = summary(app, store, "--format", "hexcsv", str(binary))
    assert code == 1  # nothing could be read
    f = doc["files"][0]
    assert f["status"] == "failed" and f["rows_stored"] == 0
    assert "capture.csv" in err and ("line" in err or "byte" in err)
    wrong = tmp_path / "states.csv"
    wrong.write_text("when,hex,latitude\n1633608773,0101de,48.48\n")  # none of OpenSky's column names
    code, doc, err = summary(app, store, "--format", "opensky", str(wrong))
    assert code == 1
    assert doc["files"][0]["status"] == "failed"
    assert "states.csv" in err
    code, doc, err = summary(app, store, str(wrong))  # auto-detection refuses it too
    assert code == 1 and "states.csv byte 0" in err.replace("\n", "")


def test_nothing_already_stored_is_lost(app: typer.Typer, tmp_path: Path, trace: Path, bad: Path) -> None:
    store = tmp_path / "store"
    assert summary(app, store, str(trace))[0] == 0
    code, _doc, _ = summary(app, store, str(bad / "empty.avr"))
    assert code == 1  # nothing could be read
    code, doc, _ = summary(app, store, str(bad / "cut.json.gz"))
    assert code == 0 and doc["rows_stored"] > 0  # the records before the damage
    st = open_store(store)
    assert st.positions(icao24="AC671B").num_rows == TRACE_POINTS
    assert st.positions(columns=["time"]).num_rows == TRACE_POINTS + doc["rows_stored"]


def test_idempotent_same_file_and_same_rows_in_gzip(app: typer.Typer, tmp_path: Path, trace: Path) -> None:
    store = tmp_path / "store"
    gz = tmp_path / "in" / "copy.json.gz"
    gz.write_bytes(gzip.compress(trace.read_bytes()))
    code, doc, _ = summary(app, store, str(trace))
    assert (code, doc["rows_stored"]) == (0, TRACE_POINTS)
    code, doc, _ = summary(app, store, str(trace))  # same bytes: skipped by hash
    assert (code, doc["files"][0]["status"], doc["rows_stored"]) == (0, "skipped", 0)
    code, doc, _ = summary(app, store, str(gz))  # other bytes, same rows: all duplicates
    f = doc["files"][0]
    assert (code, f["status"], f["rows_read"], f["rows_stored"], f["duplicates"]) == (
        0, "stored", TRACE_POINTS, 0, TRACE_POINTS)
    assert open_store(store).positions(columns=["time"]).num_rows == TRACE_POINTS


def test_folders_globs_and_missing_paths(app: typer.Typer, tmp_path: Path, trace: Path, shared_data: Path) -> None:
    nested = tmp_path / "in" / "a" / "b"
    nested.mkdir(parents=True)
    shutil.copy(shared_data / "traffic_samples/fr24/3376ab31.json", nested / "3376ab31.json")
    (tmp_path / "in" / ".hidden").write_text("not data")
    store = tmp_path / "store"
    code, doc, _ = summary(app, store, str(tmp_path / "in"), str(tmp_path / "nope*.json"))
    assert code == 0
    files = by_name(doc)
    assert set(files) == {"trace_full_ac671b.json", "3376ab31.json", "nope*.json"}
    assert files["nope*.json"]["status"] == "failed"
    assert files["3376ab31.json"]["format"] == "fr24"
    # fr24 playback of JAL516: 305 track points (PROVENANCE.md)
    assert files["3376ab31.json"]["rows_read"] == 305
    store2 = tmp_path / "store2"
    code, doc, _ = summary(app, store2, str(tmp_path / "in" / "**" / "*.json"))
    assert code == 0 and len(doc["files"]) == 2


def test_track_and_files_commands(app: typer.Typer, tmp_path: Path, trace: Path) -> None:
    store = tmp_path / "store"
    summary(app, store, "--receiver", "rx1", str(trace))
    code, out, _ = run(app, "track", "ac671b", "--format", "json", "--store", str(store))
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == TRACE_POINTS
    assert {r["icao24"] for r in rows} == {"AC671B"}
    assert {r["receiver"] for r in rows} == {"rx1"}
    times = [r["time"] for r in rows]
    assert times == sorted(times)
    # the trace starts on 2025-02-04 and crosses midnight UTC: count the points after it from the raw file
    raw = json.loads(trace.read_text())
    midnight = 1_738_713_600  # 2025-02-05T00:00:00Z
    after = sum(1 for p in raw["trace"] if raw["timestamp"] + p[0] >= midnight)
    assert 0 < after < TRACE_POINTS
    code, out, _ = run(app, "track", "AC671B", "--since", "2025-02-05", "--format", "json", "--store", str(store))
    assert len(json.loads(out)) == after
    code, out, _ = run(app, "track", "AC671B", "--until", "2025-02-04", "--format", "json", "--store", str(store))
    assert len(json.loads(out)) == TRACE_POINTS - after
    code, out, _ = run(app, "track", "AC671B", "--since", times[0][:10], "--until", times[-1][:10],
                       "--format", "csv", "--store", str(store))
    assert out.count("\n") == TRACE_POINTS + 1
    assert out.splitlines()[0].startswith('"time","icao24"')
    out_file = tmp_path / "t.parquet"
    code, _, _ = run(app, "track", "AC671B", "--format", "parquet", "--out", str(out_file), "--store", str(store))
    assert code == 0 and pq.read_table(out_file).num_rows == TRACE_POINTS
    code, _, _ = run(app, "track", "XYZ", "--store", str(store))
    assert code == 2  # not a hex address
    code, out, _ = run(app, "files", "--format", "json", "--store", str(store))
    listing = json.loads(out)
    assert [(f["status"], f["rows_stored"], f["duplicates"], f["receiver"]) for f in listing] == [
        ("done", TRACE_POINTS, 0, "rx1")]


def test_table_summary_is_printed(app: typer.Typer, tmp_path: Path, trace: Path, bad: Path) -> None:
    code, out, _ = run(app, "ingest", "--quiet", "--store", str(tmp_path / "s"), str(trace), str(bad / "empty.avr"))
    assert code == 0
    assert "2,500 rows stored from 1 file(s)" in out.replace("\n", " ")
    assert "Rejected inputs" in out and "empty file" in out


def test_start_time_and_reference_options(app: typer.Typer, tmp_path: Path, shared_data: Path) -> None:
    # 200 AVR lines (no timestamps) from pyModeS' sample_data_adsb.csv, captured 2016-03-14 23:00 UTC
    lines = (shared_data / "pymodes/sample_data_adsb.csv").read_text().splitlines()[:200]
    avr = tmp_path / "cap.avr"
    avr.write_text("".join(f"*{line.split(',')[1].strip(chr(34))};\n" for line in lines))
    store = tmp_path / "store"
    code, doc, _ = summary(app, store, "--start-time", "2016-03-14T23:00:00Z", "--reference", "52.0,4.4",
                           "--receiver", "delft", str(avr))
    assert code == 0 and doc["rows_stored"] > 0
    days = sorted(p.name for p in (store / "positions").iterdir())
    assert days == ["day=2016-03-14"]
    t = open_store(store).positions(columns=["time", "receiver"])
    assert t.column("time")[0].as_py().isoformat().startswith("2016-03-14T23:00")
    assert set(t.column("receiver").to_pylist()) == {"delft"}
    code, _, _ = run(app, "ingest", "--store", str(store), "--reference", "north", str(avr))
    assert code == 2
    code, _, _ = run(app, "ingest", "--store", str(store), "--format", "nmea", str(avr))
    assert code == 2
