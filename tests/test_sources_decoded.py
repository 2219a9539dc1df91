"""readsb trace/snapshot, FR24 and OpenSky readers, checked against plain JSON/CSV parsing."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from tailwatch.errors import InputError, Rejects
from tailwatch.schema import Quality
from tailwatch.sources import detect, get_reader

TRACE = "traffic_samples/readsb/trace_full_ac671b.json"


def table_of(fmt: str, path: Path) -> tuple[pa.Table, Rejects]:
    rejects = Rejects()
    return pa.Table.from_batches([c.batch for c in get_reader(fmt).read(path, rejects)]), rejects


def test_readsb_trace_real(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / TRACE
    assert detect(path) == "readsb-trace"
    t, rejects = table_of("readsb-trace", path)
    ref = json.loads(path.read_text())
    assert t.num_rows == len(ref["trace"]) == 2500 and rejects.total == 0
    assert t.column("on_ground").to_pylist().count(True) == sum(p[3] == "ground" for p in ref["trace"])
    for i in (0, 3, 1000, 2499):
        pt, row = ref["trace"][i], t.slice(i, 1).to_pylist()[0]
        assert row["time"].timestamp() == pytest.approx(ref["timestamp"] + pt[0], abs=1e-6)
        assert (row["lat"], row["lon"]) == (pt[1], pt[2])
        assert row["icao24"] == 0xAC671B and row["quality"] & Quality.DERIVED
        if pt[8]:
            assert row["callsign"] == pt[8]["flight"].strip() and row["squawk"] == pt[8]["squawk"]
    # gzip-transparent, as tar1090 serves them
    gz = tmp_path / "trace_full_ac671b.json.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert detect(gz) == "readsb-trace"
    assert table_of("readsb-trace", gz)[0].num_rows == 2500


def test_readsb_trace_truncated_and_missing_keys(shared_data: Path, tmp_path: Path) -> None:
    raw = (shared_data / TRACE).read_bytes()
    cut = tmp_path / "cut.json"
    cut.write_bytes(raw[:100_000])
    with pytest.raises(InputError, match="truncated JSON") as exc:
        table_of("readsb-trace", cut)
    assert exc.value.location == "byte 100000"
    nokey = tmp_path / "nokey.json"
    nokey.write_bytes(raw.replace(b'"timestamp"', b'"ts"', 1))
    with pytest.raises(InputError, match=r"missing required key.*timestamp"):
        table_of("readsb-trace", nokey)


def test_readsb_hist_snapshot(tmp_path: Path) -> None:
    # Written by hand after readsb's README-json.md (aircraft.json: now, aircraft[] with hex,
    # flight, alt_baro ft or "ground", gs kt, track, baro_rate ft/min, squawk, emergency, lat, lon,
    # seen_pos, seen, type; "~" = non-ICAO address) and one row in dump1090-mutability's older keys.
    snap = {"now": 1692511200.0, "messages": 1000, "aircraft": [
        {"hex": "062f01", "type": "adsb_icao", "flight": "NAF123  ", "alt_baro": 18000, "alt_geom": 18450,
         "gs": 280.5, "track": 45.0, "baro_rate": -512, "squawk": "7700", "emergency": "general",
         "lat": 16.27, "lon": -0.05, "seen_pos": 1.5, "seen": 0.2},
        {"hex": "~2a0001", "type": "tisb_other", "alt_baro": "ground", "lat": 12.5, "lon": -8.0,
         "seen_pos": 10.0, "seen": 4.0},
        {"hex": "3c66b0", "type": "mode_s", "alt_baro": 35000, "seen": 3.0},
        {"hex": "4b1901", "altitude": 12000, "speed": 300, "vert_rate": 640, "lat": 47.1, "lon": 8.5,
         "seen_pos": 0.0, "seen": 0.0},
        {"flight": "NOHEX"},
    ]}
    p = tmp_path / "aircraft.json"
    p.write_text(json.dumps(snap))
    assert detect(p) == "readsb-hist"
    t, rejects = table_of("readsb-hist", p)
    assert rejects.counts == {"aircraft without hex": 1}
    rows = t.to_pylist()
    assert [r["icao24"] for r in rows] == [0x062F01, 0x2A0001, 0x3C66B0, 0x4B1901]
    a, b, c, d = rows
    assert a["time"].timestamp() == 1692511200.0 - 1.5  # now - seen_pos
    assert (a["callsign"], a["squawk"], a["emergency"], a["alt_baro"], a["vrate"]) == ("NAF123", "7700", 1,
                                                                                       18000, -512)
    assert a["on_ground"] is False and a["quality"] == 0
    assert b["on_ground"] is True and b["alt_baro"] is None and b["quality"] == Quality.TISB
    assert b["time"].timestamp() == 1692511200.0 - 10.0
    assert c["lat"] is None and c["time"].timestamp() == 1692511200.0 - 3.0  # no position: now - seen
    assert (d["alt_baro"], d["gs"], d["vrate"]) == (12000, 300, 640)


@pytest.mark.parametrize(("name", "n"), [("2ce4f83f", 871), ("3376ab31", 305), ("34a8254b", 1249),
                                         ("372355e5", 634)])
def test_fr24(shared_data: Path, name: str, n: int) -> None:
    path = shared_data / "traffic_samples/fr24" / f"{name}.json"
    assert detect(path) == "fr24"
    t, rejects = table_of("fr24", path)
    flight = json.loads(path.read_text())["result"]["response"]["data"]["flight"]
    assert t.num_rows == n == len(flight["track"]) and rejects.total == 0
    pt, row = flight["track"][-1], t.slice(n - 1, 1).to_pylist()[0]
    assert row["icao24"] == int(flight["aircraft"]["identification"]["modes"], 16)
    assert row["callsign"] == flight["identification"]["callsign"]
    assert (row["time"].timestamp(), row["lat"], row["alt_baro"], row["gs"]) == (
        pt["timestamp"], pt["latitude"], pt["altitude"]["feet"], pt["speed"]["kts"])


def test_opensky_roundtrip_from_real_rows(shared_data: Path, tmp_path: Path) -> None:
    recs = json.loads(gzip.decompress((shared_data / "traffic_samples/collections/quickstart.json.gz")
                                      .read_bytes()))[:5000]
    # Convert real traffic rows into OpenSky's units by hand: ft*0.3048 = m, kt*1852/3600 = m/s,
    # ft/min*0.3048/60 = m/s; times in seconds; position updated 0.5 s before the vector's time.
    osky = pa.table({
        "time": [r["timestamp"] // 1000 for r in recs],
        "icao24": [r["icao24"] for r in recs],
        "lat": [r["latitude"] for r in recs], "lon": [r["longitude"] for r in recs],
        "velocity": [r["groundspeed"] * 1852 / 3600 for r in recs],
        "heading": [r["track"] for r in recs],
        "vertrate": [r["vertical_rate"] * 0.3048 / 60 for r in recs],
        "callsign": [r["callsign"] for r in recs], "onground": [r["onground"] for r in recs],
        "alert": [False] * len(recs), "spi": [False] * len(recs), "squawk": [r["squawk"] for r in recs],
        "baroaltitude": [r["altitude"] * 0.3048 for r in recs],
        "geoaltitude": [None] * len(recs),
        "lastposupdate": [r["timestamp"] / 1000 - 0.5 for r in recs],
        "lastcontact": [r["timestamp"] / 1000 for r in recs],
    })
    csv_path, pq_path = tmp_path / "states.csv", tmp_path / "states.parquet"
    pacsv.write_csv(osky, csv_path)
    pq.write_table(osky, pq_path)
    for path in (csv_path, pq_path):
        assert detect(path) == "opensky"
        t, rejects = table_of("opensky", path)
        assert t.num_rows == 5000 and rejects.total == 0
        for i in (0, 2500, 4999):
            row, rec = t.slice(i, 1).to_pylist()[0], recs[i]
            assert row["time"].timestamp() == rec["timestamp"] / 1000 - 0.5
            assert row["alt_baro"] == pytest.approx(rec["altitude"], rel=1e-6)
            assert row["gs"] == pytest.approx(rec["groundspeed"], rel=1e-6)
            assert row["vrate"] == pytest.approx(rec["vertical_rate"], rel=1e-6, abs=1e-3)
            assert (row["icao24"], row["callsign"], row["on_ground"]) == (
                int(rec["icao24"], 16), rec["callsign"], rec["onground"])
    lines = csv_path.read_text().splitlines()
    lines[10] = lines[10] + ",extra"  # line 11 has too many fields
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    t, rejects = table_of("opensky", bad)
    assert t.num_rows == 4999 and rejects.counts == {"wrong number of CSV fields": 1}
    assert rejects.samples[0].location == "line 11"
    nocol = tmp_path / "nocol.csv"
    pacsv.write_csv(osky.drop_columns(["lat", "lon"]).append_column("lastposupdate2", osky["time"]), nocol)
    with pytest.raises(InputError, match=r"missing required column.*lat, lon"):
        table_of("opensky", nocol)


@pytest.mark.parametrize(("fmt", "rel"), [("fr24", "traffic_samples/fr24/3376ab31.json"),
                                          ("readsb-trace", TRACE)])
def test_truncated_and_flipped_json(shared_data: Path, tmp_path: Path, fmt: str, rel: str) -> None:
    raw = (shared_data / rel).read_bytes()
    cut = tmp_path / "cut.json"
    cut.write_bytes(raw[: len(raw) * 2 // 3])
    with pytest.raises(InputError, match="truncated JSON") as exc:
        table_of(fmt, cut)
    assert exc.value.location == f"byte {len(raw) * 2 // 3}"
    at = raw.index(b"[", 20_000)  # flip a bracket deep inside the file into garbage
    flipped = tmp_path / "flip.json"
    flipped.write_bytes(raw[:at] + b"\xff" + raw[at + 1 :])
    with pytest.raises(InputError, match="invalid JSON") as exc:
        table_of(fmt, flipped)
    assert exc.value.location == f"byte {at}"


def test_fr24_without_address(shared_data: Path, tmp_path: Path) -> None:
    raw = (shared_data / "traffic_samples/fr24/3376ab31.json").read_bytes()
    p = tmp_path / "nomodes.json"
    p.write_bytes(raw.replace(b'"modes"', b'"modeX"'))
    with pytest.raises(InputError, match=r"missing aircraft\.identification\.modes"):
        table_of("fr24", p)


def test_json_syntax_error_offset(shared_data: Path, tmp_path: Path) -> None:
    raw = (shared_data / TRACE).read_bytes()
    at = raw.index(b"[", 20_000)
    p = tmp_path / "hash.json"
    p.write_bytes(raw[:at] + b"#" + raw[at + 1 :])
    with pytest.raises(InputError, match="invalid JSON") as exc:
        table_of("readsb-trace", p)
    assert exc.value.location == f"byte {at}"
