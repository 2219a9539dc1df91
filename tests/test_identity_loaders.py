"""Malformed databases: clear errors naming file and row; the valid rows still load.

The corrupted files are copies of real rows from ../shared/data, damaged on purpose
in tmp_path.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from tailwatch.errors import NoDatabaseError
from tailwatch.identity import load_identity
from tailwatch.identity.loaders import PAD_CSV, VRS_AIRCRAFT

REAL_PAD_ROWS = [
    "062F01,5U-MBH,Niger Air Force,Lockheed C-130H Hercules,C130,Mil,Cargo,Military Transport,Chonky Boy,"
    "Other Air Forces,https://w.wiki/4myf",
    "05C075,TZ-PRM,Government of Mali,Boeing 737-BBJ,B737,Gov,Mali,Assimi Goita,Government,Governments,"
    "https://en.wikipedia.org/wiki/Mali",
    "084FE0,TT-AAH,Chadian Air Force,Lockheed C-130H Hercules,C130,Mil,Cargo,Tactical Airlift,"
    "Force Aerienne Tchadienne,Other Air Forces,https://en.wikipedia.org/wiki/Chadian_Air_Force",
]


def _pad(tmp_path: Path, shared_data: Path, body: list[str]) -> Path:
    src = (shared_data / PAD_CSV).read_text(encoding="utf-8").splitlines()
    path = tmp_path / PAD_CSV
    path.parent.mkdir(parents=True)
    path.write_text("\n".join([src[0], *body]) + "\n", encoding="utf-8")
    return tmp_path


def test_bad_rows_are_named_and_good_rows_load(tmp_path: Path, shared_data: Path) -> None:
    body = [
        REAL_PAD_ROWS[0],                                          # line 2: good
        REAL_PAD_ROWS[1].replace("05C075", "3.2E+05"),             # line 3: Excel-mangled
        REAL_PAD_ROWS[2].replace("084FE0", "08XFE0"),              # line 4: bad hex
        REAL_PAD_ROWS[1],                                          # line 5: good
        REAL_PAD_ROWS[0].replace("5U-MBH", "5U-XXX"),              # line 6: duplicate of line 2
        "062F0F,5U-MBI,Niger Air Force",                           # line 7: too few fields
    ]
    ident = load_identity(_pad(tmp_path, shared_data, body), watchlist=None)
    got = ident.annotate(pa.array([0x062F01, 0x05C075, 0x084FE0], pa.int32())).to_pylist()
    assert got[0]["registration"] == "5U-MBH"  # the first row wins, the duplicate is rejected
    assert got[1]["registration"] == "TZ-PRM"
    assert got[2]["note"] == "not in any database"
    counts = ident.rejects.counts
    assert counts == {"Excel-mangled hex (scientific notation)": 1, "bad hex address": 1,
                      "duplicate address": 1, "wrong number of fields": 1}
    where = {s.reason: (s.path, s.location) for s in ident.rejects.samples}
    pad = str(tmp_path / PAD_CSV)
    assert where["Excel-mangled hex (scientific notation)"] == (pad, "row 3")
    assert where["bad hex address"] == (pad, "row 4")
    assert where["duplicate address"] == (pad, "row 6")
    assert where["wrong number of fields"] == (pad, "row 7")


def test_wrong_header_skips_the_file_only(tmp_path: Path, shared_data: Path) -> None:
    # A VRS shard with a wrong header is skipped; plane-alert-db still loads.
    _pad(tmp_path, shared_data, REAL_PAD_ROWS)
    shard = tmp_path / VRS_AIRCRAFT / "3" / "3C" / "3C6.csv"
    shard.parent.mkdir(parents=True)
    real = (shared_data / VRS_AIRCRAFT / "3" / "3C" / "3C6.csv").read_text(encoding="utf-8-sig").splitlines()
    shard.write_text("\n".join(["Hex,Reg,Type", *real[1:]]) + "\n", encoding="utf-8")
    ident = load_identity(tmp_path, watchlist=None)
    assert ident.rejects.counts == {"wrong header": 1}
    [s] = ident.rejects.samples
    assert s.path == str(shard) and s.location == "line 1"
    # 3C644B (D-AIBK, in the skipped shard) is now unknown; 062F01 comes from plane-alert-db.
    rows = ident.annotate(pa.array([0x3C644B, 0x062F01], pa.int32())).to_pylist()
    assert rows[0]["registration"] is None and rows[1]["registration"] == "5U-MBH"


def test_vrs_shard_with_bom_and_duplicates_across_shards(tmp_path: Path, shared_data: Path) -> None:
    src = shared_data / VRS_AIRCRAFT / "3" / "3C" / "3C6.csv"
    dst = tmp_path / VRS_AIRCRAFT / "3" / "3C" / "3C6.csv"
    dst.parent.mkdir(parents=True)
    shutil.copyfile(src, dst)
    other = tmp_path / VRS_AIRCRAFT / "3" / "3C" / "3C7.csv"
    lines = src.read_text(encoding="utf-8-sig").splitlines()
    d_aibk = next(line for line in lines if line.startswith("3C644B"))
    other.write_text("\ufeff" + lines[0] + "\n" + d_aibk + "\n", encoding="utf-8")
    ident = load_identity(tmp_path, watchlist=None)
    assert ident.rejects.counts == {"duplicate address": 1}
    [s] = ident.rejects.samples
    assert s.location == f"{VRS_AIRCRAFT}/3/3C/3C7.csv row 2"
    assert s.detail == f"3C644B already at {VRS_AIRCRAFT}/3/3C/3C6.csv row {lines.index(d_aibk) + 1}"
    row = ident.annotate(pa.array([0x3C644B], pa.int32())).to_pylist()[0]
    # 3C644B,D-AIBK,A319,Airbus,A319-112,Airbus A319-112,0,Lufthansa CityLine,CLH,2131,2004
    assert (row["registration"], row["operator"], row["type_desc"]) == \
        ("D-AIBK", "Lufthansa CityLine", "Airbus A319-112")


def test_no_database(tmp_path: Path) -> None:
    with pytest.raises(NoDatabaseError, match="tailwatch db update"):
        load_identity(tmp_path / "missing", watchlist=None)
    ident = load_identity(tmp_path / "missing", allow_missing=True, watchlist=None)
    row = ident.annotate(pa.array([0x062F01, 0x3C644B], pa.int32())).to_pylist()
    assert [r["country"] for r in row] == ["Niger", "Germany"]
    assert [r["country_source"] for r in row] == ["ICAO Annex 10 table (built in)"] * 2
    assert row[0]["registration"] is None and row[0]["aircraft_class"] == "unknown"


def test_with_records_on_top_and_instead(shared_data: Path, tmp_path: Path) -> None:
    _pad(tmp_path, shared_data, REAL_PAD_ROWS)
    base = load_identity(tmp_path, watchlist=None)
    src = "scenario sahel-2023 (simulated)"
    records = [{"icao24": "062F01", "registration": "5U-MBH", "operator": "Niger Air Force (scenario)",
                "aircraft_class": "military"},
               {"icao24": 0x0A0001, "registration": "7T-SIM", "typecode": "C130", "aircraft_class": "military"}]
    on_top = base.with_records(records, src)
    rows = on_top.annotate(pa.array([0x062F01, 0x0A0001, 0x05C075], pa.int32())).to_pylist()
    assert rows[0]["operator"] == "Niger Air Force (scenario)" and rows[0]["operator_source"] == src
    assert "operator=Niger Air Force (plane-alert-db)" in rows[0]["conflicts"]
    assert rows[0]["typecode"] == "C130" and rows[0]["typecode_source"] == "plane-alert-db"
    assert rows[1]["registration"] == "7T-SIM" and rows[1]["country_iso2"] == "DZ"
    assert rows[1]["conflicts"] is None  # no database knows 0A0001: nothing to disagree with
    # dump1090_fa_db/4B.json: "AAC6": {"t": "B738"} -- no registration, so the databases' class is
    # "unknown"; a declared "civil" is not a conflict with that absence of evidence.
    (tmp_path / "dump1090_fa_db").mkdir()
    shutil.copyfile(shared_data / "dump1090_fa_db/4B.json", tmp_path / "dump1090_fa_db/4B.json")
    declared = load_identity(tmp_path, watchlist=None).with_records(
        [{"icao24": "4BAAC6", "registration": "TC-JVF", "aircraft_class": "civil"}], src)
    [row] = declared.annotate(pa.array([0x4BAAC6], pa.int32())).to_pylist()
    assert (row["typecode"], row["typecode_source"], row["aircraft_class"]) == ("B738", "dump1090-fa", "civil")
    assert row["conflicts"] is None
    assert rows[2]["registration"] == "TZ-PRM"
    instead = base.with_records(records, src, replace=True)
    rows = instead.annotate(pa.array([0x062F01, 0x05C075], pa.int32())).to_pylist()
    assert rows[0]["registration_source"] == src and rows[0]["typecode"] is None
    assert rows[1]["registration"] is None and rows[1]["note"] == "not in any database"
    with pytest.raises(ValueError, match="aircraft_class"):
        base.with_records([{"icao24": 1, "aircraft_class": "spaceship"}], src)


def test_watchlist_tags_join_plane_alert(tmp_path: Path, shared_data: Path) -> None:
    _pad(tmp_path / "db", shared_data, REAL_PAD_ROWS)
    wl = tmp_path / "watch.yaml"
    wl.write_text("entries:\n  - registration: tz prm\n    label: Mali jet\n    tags: [sahel]\n"
                  "  - hex: 0A0001\n    label: made up\n", encoding="utf-8")
    ident = load_identity(tmp_path / "db", watchlist=wl)
    rows = ident.annotate(pa.array([0x05C075, 0x0A0001], pa.int32())).to_pylist()
    assert rows[0]["tags"] == "Mali; Assimi Goita; Government; watch: Mali jet; sahel"
    assert rows[0]["tags_source"] == "plane-alert-db, watch list"
    assert rows[0]["category"] == "Governments"
    assert rows[1]["tags"] == "watch: made up" and rows[1]["category"] == "Watch list"


def test_annotate_output_round_trips_through_parquet(tmp_path: Path, shared_data: Path) -> None:
    import pyarrow.parquet as pq

    ident = load_identity(_pad(tmp_path / "db", shared_data, REAL_PAD_ROWS), watchlist=None)
    icao = pa.chunked_array([pa.array([0x062F01, None], pa.int32()), pa.array([0x062FFE], pa.int32())])
    table = ident.annotate(icao)
    pq.write_table(table, tmp_path / "x.parquet")
    back = pq.read_table(tmp_path / "x.parquet").to_pylist()
    assert back == table.to_pylist()
    assert [r["registration"] for r in back] == ["5U-MBH", None, None]
    assert [r["note"] for r in back] == [None, None, "not in any database"]
    assert [r["country"] for r in back] == ["Niger", None, "Niger"]


def test_fa_shards_bad_key_duplicate_and_broken_json(tmp_path: Path, shared_data: Path) -> None:
    import json

    fa = tmp_path / "dump1090_fa_db"
    fa.mkdir()
    # 4B.json holds "1901": {"r": "HB-JMF", "t": "A343"}; add a bad key and a shard "4B1.json"
    # whose key "901" names the same address 4B1901 again.
    shard = json.loads((shared_data / "dump1090_fa_db/4B.json").read_text())
    shard["XY12"] = {"r": "BAD"}
    (fa / "4B.json").write_text(json.dumps(shard))
    (fa / "4B1.json").write_text(json.dumps({"901": {"r": "HB-XXX"}}))
    (fa / "4C.json").write_text('{"0001": {"r": ')  # truncated
    ident = load_identity(tmp_path, watchlist=None)
    assert ident.rejects.counts == {"bad hex address": 1, "duplicate address": 1, "unreadable JSON": 1}
    where = {s.reason: (Path(s.path).name, s.location, s.detail) for s in ident.rejects.samples}
    assert where["bad hex address"][:2] == ("dump1090_fa_db", "4B.json key XY12")
    assert where["duplicate address"][:2] == ("dump1090_fa_db", "4B1.json key 901")
    assert "already at 4B.json key 1901" in where["duplicate address"][2]
    assert where["unreadable JSON"][0] == "4C.json"
    row = ident.annotate(pa.array([0x4B1901], pa.int32())).to_pylist()[0]
    assert row["registration"] == "HB-JMF"


def test_annotate_out_of_range_and_null_addresses(tmp_path: Path) -> None:
    ident = load_identity(tmp_path / "none", allow_missing=True, watchlist=None)
    rows = ident.annotate(pa.array([-5, 1 << 24, None, 0x062F01], pa.int32())).to_pylist()
    assert [r["icao24"] for r in rows] == [-5, 1 << 24, None, 0x062F01]
    assert [r["country"] for r in rows] == [None, None, None, "Niger"]
    assert [r["note"] for r in rows] == [None, None, None, "not in any database"]
