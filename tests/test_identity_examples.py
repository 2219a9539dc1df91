"""Real aircraft from ../shared/data come out with the facts their database rows state.

Each expected value was read by hand from the CSV/JSON row quoted in the comment
above it (plane-alert-db columns: $ICAO,$Registration,$Operator,$Type,$ICAO Type,
#CMPG,$Tag 1,$#Tag 2,$#Tag 3,Category,$#Link), never produced by tailwatch.
Countries come from the ICAO block the address falls in (ICAO Annex 10 Table 9-1).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from tailwatch.identity import Identity, load_identity


@pytest.fixture(scope="module")
def ident(shared_data: Path) -> Identity:
    return load_identity(shared_data, watchlist=None)


# (hex, registration, typecode, operator, country_iso2, class, registration source)
EXAMPLES = [
    # 062F01,5U-MBH,Niger Air Force,Lockheed C-130H Hercules,C130,Mil,Cargo,...,Other Air Forces
    ("062F01", "5U-MBH", "C130", "Niger Air Force", "NE", "military", "plane-alert-db"),
    # 062F0F,5U-MBI,Niger Air Force,Dornier Do 228-201,D228,Mil,Utility,...
    ("062F0F", "5U-MBI", "D228", "Niger Air Force", "NE", "military", "plane-alert-db"),
    # 084FE0,TT-AAH,Chadian Air Force,Lockheed C-130H Hercules,C130,Mil,...
    ("084FE0", "TT-AAH", "C130", "Chadian Air Force", "TD", "military", "plane-alert-db"),
    # 0A4010,7T-WHS,Algerian Air Force,Lockheed C-130H Hercules,C130,Mil,...
    ("0A4010", "7T-WHS", "C130", "Algerian Air Force", "DZ", "military", "plane-alert-db"),
    # 000004,FAC1282,Colombian Aerospace Force,CASA C-295 M,C295,Mil,...  (000004 is in no
    # national block: Annex 10 starts Zimbabwe at 004000, so the country is unknown)
    ("000004", "FAC1282", "C295", "Colombian Aerospace Force", None, "military", "plane-alert-db"),
    # 00B896,405,South African Air Force,Lockheed C-130BZ Hercules,C130,Mil,...
    ("00B896", "405", "C130", "South African Air Force", "ZA", "military", "plane-alert-db"),
    # 43C009,ZH866,Royal Air Force,Lockheed C-130J-30 Hercules,C30J,Mil,Cargo,...,RAF
    ("43C009", "ZH866", "C30J", "Royal Air Force", "GB", "military", "plane-alert-db"),
    # 3DF28B,625,German Air Force,MBB Bo 105M,B105,Mil,Helicopter,...,GAF
    ("3DF28B", "625", "B105", "German Air Force", "DE", "military", "plane-alert-db"),
    # 34314C,F-RBAY,French Air Force,Airbus Military A400M Atlas C1,A400,Mil,...
    ("34314C", "F-RBAY", "A400", "French Air Force", "ES", "military", "plane-alert-db"),
    # 7C01FD,VH-AOF,Royal Australian Air Force,New Zealand Aerospace Airtrainer CT/4A,CT4,Mil,...
    ("7C01FD", "VH-AOF", "CT4", "Royal Australian Air Force", "AU", "military", "plane-alert-db"),
    # 4B8201,58-0110,Turkish Air Force,Boeing KC-135R/T Stratotanker,K35R,Mil,...
    ("4B8201", "58-0110", "K35R", "Turkish Air Force", "TR", "military", "plane-alert-db"),
    # 0200AC,CN-MMT,Royal Moroccan Air Force,Gulfstream G550,GLF5,Mil,VIP Transport,...
    ("0200AC", "CN-MMT", "GLF5", "Royal Moroccan Air Force", "MA", "military", "plane-alert-db"),
    # 05C075,TZ-PRM,Government of Mali,Boeing 737-BBJ,B737,Gov,Mali,...,Governments
    ("05C075", "TZ-PRM", "B737", "Government of Mali", "ML", "government", "plane-alert-db"),
    # 0101D0,SU-BTU,Government of Egypt,Dassault Falcon 7X,FA7X,Gov,Egypt,Dictator Alert,...
    ("0101D0", "SU-BTU", "FA7X", "Government of Egypt", "EG", "government", "plane-alert-db"),
    # AE503D,09-0540,USAF,Boeing C-40C,B737,Gov,VIP,Office In The Sky,Not A Bus,Governments
    ("AE503D", "09-0540", "B737", "USAF", "US", "government", "plane-alert-db"),
    # A00001,N1,Federal Aviation Administration,Gulfstream G-IV,GLF4,Gov,Number 1,FAA,...
    ("A00001", "N1", "GLF4", "Federal Aviation Administration", "US", "government", "plane-alert-db"),
    # 00A635,ZS-OLO,South African Police Service,Pilatus PC-6,PC6T,Pol,Police Squad,...
    ("00A635", "ZS-OLO", "PC6T", "South African Police Service", "ZA", "police", "plane-alert-db"),
    # 320002,MM62247,Polizia di Stato,Piaggio P-180 Avanti,P180,Pol,Police Squad,...
    ("320002", "MM62247", "P180", "Polizia di Stato", "IT", "police", "plane-alert-db"),
    # 3AAC1D,1086,Gendarmerie (French Police),Eurocopter EC135 T2,EC35,Pol,...
    ("3AAC1D", "1086", "EC35", "Gendarmerie (French Police)", "FR", "police", "plane-alert-db"),
    # VRS aircraft/schema-01/3/3C/3C6.csv:
    # 3C644B,D-AIBK,A319,Airbus,A319-112,Airbus A319-112,0,Lufthansa CityLine,CLH,2131,2004
    ("3C644B", "D-AIBK", "A319", "Lufthansa CityLine", "DE", "civil", "vrs-standing-data"),
    # dump1090_fa_db/4B.json: "1901": {"r": "HB-JMF", "t": "A343"}  (Edelweiss A340, a civil airliner)
    ("4B1901", "HB-JMF", "A343", None, "CH", "civil", "dump1090-fa"),
    # plane-alert-db row 537: 10166,SU-BRR,Egyptian Air Force,CASA C-295 M,C295,Mil,...
    # (the leading zero was lost in the CSV; 010166 is in Egypt's block 010000-017FFF)
    ("010166", "SU-BRR", "C295", "Egyptian Air Force", "EG", "military", "plane-alert-db"),
]


@pytest.mark.parametrize(("hexa", "reg", "typecode", "operator", "iso2", "cls", "reg_source"), EXAMPLES)
def test_real_aircraft(ident: Identity, hexa: str, reg: str, typecode: str, operator: str | None,
                       iso2: str | None, cls: str, reg_source: str) -> None:
    row = ident.annotate(pa.array([int(hexa, 16)], pa.int32())).to_pylist()[0]
    assert row["registration"] == reg
    assert row["registration_source"] == reg_source
    assert row["typecode"] == typecode
    assert row["operator"] == operator
    assert row["country_iso2"] == iso2
    assert row["aircraft_class"] == cls
    assert row["note"] is None  # all of these are in a database


def test_5umbh_in_every_spelling(ident: Identity) -> None:
    # The article's aircraft: 062F01,5U-MBH,Niger Air Force,Lockheed C-130H Hercules,C130,Mil
    for spelling in ("5UMBH", "5U-MBH", "5u mbh", "062f01", "0x062F01"):
        best = ident.lookup(spelling)[0]
        assert best.hex == "062F01", spelling
        r = best.record
        assert (r["registration"], r["typecode"], r["type_desc"], r["operator"], r["country"],
                r["aircraft_class"]) == ("5U-MBH", "C130", "Lockheed C-130H Hercules", "Niger Air Force",
                                         "Niger", "military")
        assert r["operator_source"] == "plane-alert-db"


def test_partial_registration_operator_and_type(ident: Identity) -> None:
    # Niger Air Force has exactly two rows in plane-alert-db: 062F01 5U-MBH and 062F0F 5U-MBI.
    partial = [m.hex for m in ident.lookup("5U-MB")]
    assert partial[:2] == ["062F01", "062F0F"]
    by_operator = {m.hex for m in ident.lookup("niger air force") if m.get("operator") == "Niger Air Force"}
    assert by_operator == {"062F01", "062F0F"}
    # F-RBAY appears twice in plane-alert-db (34314C French Air Force, 3B775A French Air and Space Force)
    assert {m.hex for m in ident.lookup("FRBAY") if m.score == 100} == {"34314C", "3B775A"}
    assert "062F01" in {m.hex for m in ident.lookup("C130", limit=1000)}


def test_unknown_address_is_answered_honestly(ident: Identity) -> None:
    # 062FFE: inside Niger's block 062000-062FFF (Annex 10) and in no database file
    # (plane-alert-db has no 062FFE row, dump1090_fa_db/0.json has no key "62FFE").
    [m] = ident.lookup("062FFE")
    assert m.get("country") == "Niger" and m.get("note") == "not in any database"
    assert m.get("registration") is None and m.get("aircraft_class") == "unknown"


def test_us_n_number_computed_when_no_database_has_it(ident: Identity) -> None:
    # dump1090_fa_db/AC6.json: "71B": {"t": "B739"} -- a type, no registration. The traffic
    # sample trace_full_ac671b.json (a real readsb trace) names the aircraft "r": "N899DN".
    row = ident.annotate(pa.array([0xAC671B], pa.int32())).to_pylist()[0]
    assert row["registration"] == "N899DN"
    assert row["registration_source"] == "FAA N-number algorithm"
    assert row["typecode"] == "B739" and row["typecode_source"] == "dump1090-fa"
    assert ident.lookup("N899DN")[0].hex == "AC671B"


def test_alias_address_marked(ident: Identity) -> None:
    # 924924,????,United States Navy,McDonnell Douglas T-45C Goshawk,HAWK,Mil,Training Wheels,
    # Bicycle Made For Two,Obvious Miscode,United States Navy  -- an octal-pattern miscode address
    row = ident.annotate(pa.array([0x924924, 0x062F01], pa.int32())).to_pylist()
    assert row[0]["alias_address"] is True and row[0]["registration"] is None
    assert row[1]["alias_address"] is False


def test_conflicts_between_databases_are_shown(ident: Identity) -> None:
    # plane-alert-db: 0200AC,CN-MMT,Royal Moroccan Air Force,Gulfstream G550,GLF5,Mil,...
    # dump1090_fa_db/0.json: "200AC": {"r": "CN-AMS", "t": "GLF5"}
    row = ident.annotate(pa.array([0x0200AC], pa.int32())).to_pylist()[0]
    assert row["registration"] == "CN-MMT" and row["registration_source"] == "plane-alert-db"
    assert "registration=CN-AMS (dump1090-fa)" in row["conflicts"]
    [m] = [m for m in ident.lookup("CN-AMS") if m.hex == "0200AC"] or [None]
    assert m is None or "CN-AMS" in m.get("conflicts")


def test_military_block_without_database_row(ident: Identity) -> None:
    # VRS code-blocks.csv: 3F4000-3F7FFF ... IsMilitary=1, DE (German military sub-block);
    # 3F4F00 is in no aircraft file.
    row = ident.annotate(pa.array([0x3F4F00], pa.int32())).to_pylist()[0]
    assert row["country_iso2"] == "DE" and row["aircraft_class"] == "military"
    assert "military address block" in row["aircraft_class_source"]


def test_operator_designator_via_mictronics(ident: Identity) -> None:
    # mictronics_readsb_db/operators.json: "AAC": ["Army Air Corps", "United Kingdom", "ARMYAIR"]
    # plane-alert-db: 43C07C,XW846,Army Air Corps,... (a British Army Gazelle)
    matches = ident.lookup("AAC", limit=500)
    by_designator = [m for m in matches if m.matched_on == "operator designator AAC (mictronics operators)"]
    assert "43C07C" in {m.hex for m in by_designator}
    assert matches[0] in by_designator and matches[0].get("operator") == "Army Air Corps"


def test_mixed_query_operator_and_type(ident: Identity) -> None:
    # "Niger C130": plane-alert-db has one Niger Air Force C130 (062F01,5U-MBH,...,C130,Mil) and a
    # Do 228 (062F0F,5U-MBI,...,D228): the aircraft matching both words comes first.
    matches = ident.lookup("Niger C130")
    assert matches[0].hex == "062F01"
    assert "062F0F" in {m.hex for m in matches}
    # "the C130" is a type query: the stop word does not drag in operators named "The ..."
    assert all(m.get("typecode") == "C130" for m in ident.lookup("the C130", limit=50))
