"""The dossier report: files written, geometry faithful to the input, page rendered in real Chromium.

Input: the real FR24 playback of SPAR19 (US Air Force C-40C, AE503D, WMSA -> RCSS) from
../shared/data, read here with plain json so the test does not depend on tailwatch's reader.
The single leg and its two stops are written by hand from FR24's own origin/destination
fields (WMSA, RCSS): inputs by hand, expectations from the file.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pyarrow as pa
import pytest

from conftest import require_tool
from tailwatch.report.dossier import assemble, thin_tracks
from tailwatch.report.html import write_dossier
from tailwatch.schema import FINDINGS, LEGS, POSITIONS, STOPS, Quality

UTC = dt.UTC


def _fr24(shared_data: Path) -> tuple[dict, list[dict]]:
    doc = json.loads((shared_data / "traffic_samples/fr24/2ce4f83f.json").read_text())
    flight = doc["result"]["response"]["data"]["flight"]
    return flight, flight["track"]


def _positions(track: list[dict], icao: int) -> pa.Table:
    n = len(track)
    cols = {f.name: pa.nulls(n, f.type) for f in POSITIONS}
    cols["time"] = pa.array([dt.datetime.fromtimestamp(p["timestamp"], UTC) for p in track], POSITIONS.field("time").type)
    cols["icao24"] = pa.array([icao] * n, pa.int32())
    cols["lat"] = pa.array([p["latitude"] for p in track], pa.float64())
    cols["lon"] = pa.array([p["longitude"] for p in track], pa.float64())
    cols["alt_baro"] = pa.array([p["altitude"]["feet"] for p in track], pa.float32())
    cols["quality"] = pa.array([int(Quality.DERIVED)] * n, pa.uint16())
    return pa.table(cols, schema=POSITIONS)


def _one(schema: pa.Schema, **values: object) -> pa.Table:
    return pa.table({f.name: pa.array([values.get(f.name)], f.type) for f in schema}, schema=schema)


@pytest.fixture(scope="module")
def spar19(shared_data: Path) -> dict:
    flight, track = _fr24(shared_data)
    icao = int(flight["aircraft"]["identification"]["modes"], 16)
    pos = _positions(track, icao)
    t0 = dt.datetime.fromtimestamp(track[0]["timestamp"], UTC)
    t1 = dt.datetime.fromtimestamp(track[-1]["timestamp"], UTC)
    o, d = flight["airport"]["origin"]["code"]["icao"], flight["airport"]["destination"]["code"]["icao"]
    legs = _one(LEGS, leg_id="L1", icao24=icao, callsign="SPAR19", t_start=t0, t_end=t1, origin=o,
                origin_confidence=0.9, origin_reason="by hand (FR24 origin)", destination=d,
                destination_confidence=0.9, destination_reason="by hand (FR24 destination)", n_points=len(track),
                first_lat=track[0]["latitude"], first_lon=track[0]["longitude"],
                last_lat=track[-1]["latitude"], last_lon=track[-1]["longitude"])
    stops = pa.concat_tables([
        _one(STOPS, stop_id="S1", icao24=icao, airport=o, departure=t0, lat=track[0]["latitude"],
             lon=track[0]["longitude"], confidence=0.9, reason="by hand", departure_leg_id="L1"),
        _one(STOPS, stop_id="S2", icao24=icao, airport=d, arrival=t1, lat=track[-1]["latitude"],
             lon=track[-1]["longitude"], confidence=0.9, reason="by hand", arrival_leg_id="L1"),
    ])
    findings = _one(FINDINGS, finding_id="F1", kind="foreign_operation", subject="AE503D", icao24=icao,
                    t_start=t0, t_end=t1, places=[o, d], confidence=0.5, summary="by hand, for the page",
                    evidence=json.dumps({"lat": track[-1]["latitude"], "lon": track[-1]["longitude"], "legs": ["L1"]}))
    annotation = pa.table({"icao24": pa.array([icao], pa.int32()), "registration": ["09-0540"],
                           "registration_source": ["FR24 file"], "typecode": ["B737"], "typecode_source": ["FR24 file"]})
    return {"icao": icao, "track": track, "positions": pos, "legs": legs, "stops": stops,
            "findings": findings, "annotation": annotation}


def test_thin_tracks_keeps_ends_and_bounds_points(spar19: dict) -> None:
    tracks = thin_tracks(spar19["positions"], spar19["legs"], max_points=100)
    track = spar19["track"]
    assert 50 <= tracks.num_rows <= 101
    assert tracks["lat"][0].as_py() == track[0]["latitude"]
    assert tracks["lat"][-1].as_py() == track[-1]["latitude"]
    assert set(tracks["leg_id"].to_pylist()) == {"L1"}


def test_dossier_files(spar19: dict, tmp_path: Path) -> None:
    d = assemble("SPAR19", [spar19["icao"]], spar19["annotation"], spar19["positions"], spar19["legs"],
                 spar19["stops"], spar19["findings"])
    paths = write_dossier(d, tmp_path)
    gj = json.loads(paths["legs_geojson"].read_text())
    coords = gj["features"][0]["geometry"]["coordinates"]
    track = spar19["track"]
    assert coords[0] == [round(track[0]["longitude"], 5), round(track[0]["latitude"], 5)]
    assert coords[-1] == [round(track[-1]["longitude"], 5), round(track[-1]["latitude"], 5)]
    kml = ET.parse(paths["kml"]).getroot()
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    line = kml.find(".//k:LineString/k:coordinates", ns)
    assert line is not None and line.text is not None
    assert len(line.text.split()) == len(coords)
    names = [n.text for n in kml.findall(".//k:Placemark/k:name", ns)]
    assert "WMSA → RCSS" in names and "RCSS" in names
    assert paths["legs_csv"].read_text().splitlines()[1].split(",")[1].strip('"') == "AE503D"


def _chromium() -> str:
    exe = shutil.which("chromium") or "/usr/bin/chromium"
    require_tool(Path(exe).exists(), "Debian chromium not installed (apt-get install chromium)")
    return exe


def test_page_renders_in_chromium(spar19: dict, tmp_path: Path) -> None:
    exe = _chromium()
    from playwright import sync_api
    d = assemble("SPAR19", [spar19["icao"]], spar19["annotation"], spar19["positions"], spar19["legs"],
                 spar19["stops"], spar19["findings"])
    html = write_dossier(d, tmp_path)["html"]
    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=exe,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(html.as_uri())
        page.wait_for_function("window.tailwatchMap !== undefined")
        n_legs = page.evaluate("window.tailwatchMap.legs")
        n_paths = page.locator("#map canvas, #map path").count()
        rows = page.locator("#legs tbody tr").count()
        title = page.text_content("#title")
        page.screenshot(path=str(tmp_path / "dossier.png"), full_page=True)
        browser.close()
    assert errors == []
    assert n_legs == 1 and n_paths >= 1
    assert rows == 1 and title == "SPAR19"
    assert all(u.startswith(("file:", "data:", "about:")) for u in requests), requests
