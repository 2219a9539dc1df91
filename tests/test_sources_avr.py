"""AVR reader: lines built from real frames, compared with the Beast and hex-CSV readings."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest

from tailwatch.errors import InputError, Rejects
from tailwatch.sources import detect, get_reader


def table_of(path: Path, **opts: object) -> tuple[pa.Table, Rejects]:
    rejects = Rejects()
    return pa.Table.from_batches([c.batch for c in get_reader("avr", **opts).read(path, rejects)]), rejects


def beast_rows(shared_data: Path) -> list[dict[str, object]]:
    rejects = Rejects()
    chunks = get_reader("beast", start_time=0).read(
        shared_data / "traffic_samples/dump1090/sample_dump1090.bin", rejects)
    return [r for c in chunks for r in c.batch.to_pylist()]


def test_plain_lines_from_pymodes_csv(shared_data: Path, tmp_path: Path) -> None:
    csv_lines = (shared_data / "pymodes/sample_data_adsb.csv").read_text().splitlines()
    hexes = [ln.split(",")[1].strip('"') for ln in csv_lines]
    p = tmp_path / "cap.avr"
    p.write_text("".join(f"*{h};\n" for h in hexes) + "*0000;\n")
    os.utime(p, (1_600_000_000, 1_600_000_000))
    assert detect(p) == "avr"
    t, rejects = table_of(p)
    assert [m.hex().upper() for m in t.column("msg").to_pylist()] == hexes
    assert rejects.counts == {"note: AVR heartbeat skipped": 1, "note: no timestamps in file": 2000}
    assert {x.timestamp() for x in t.column("time").to_pylist()} == {1_600_000_000.0}
    assert t.column("offset").to_pylist() == list(range(1, 2001))


def test_mlat_variant_matches_beast(shared_data: Path, tmp_path: Path) -> None:
    from test_sources_beast import reference_frames

    ref = reference_frames((shared_data / "traffic_samples/dump1090/sample_dump1090.bin").read_bytes())
    p = tmp_path / "mlat.avr"
    # '@' + 12 hex digits of the 12 MHz counter + frame, as dump1090 --mlat writes; '<' adds a signal byte.
    p.write_text("".join(f"@{c:012X}{m.hex().upper()};\n" if i % 2 else f"<{c:012X}{s:02X}{m.hex().upper()};\n"
                         for i, (_, c, m, s) in enumerate(ref)))
    assert detect(p) == "avr"
    t, rejects = table_of(p, start_time=0)
    assert not rejects.counts
    beast = beast_rows(shared_data)
    assert t.column("msg").to_pylist() == [r["msg"] for r in beast]
    assert t.column("time").to_pylist() == [r["time"] for r in beast]
    assert t.column("signal").to_pylist()[0::2] == [float(s) for _, _, _, s in ref][0::2]


def test_bad_lines(tmp_path: Path) -> None:
    good = "*8D4840D6202CC371C32CE0576098;"  # a DF17 frame (ICAO 4840D6) from the pyModeS docs
    p = tmp_path / "bad.avr"
    p.write_text("\n".join([good, "*8D4840D6202CC371C32CE057609;", "*8D4840D6202CC371C32CE05760ZZ;",
                            "hello", "*8D4840D6202CC371C32CE0576098", good, ""]))
    t, rejects = table_of(p)
    assert t.num_rows == 2 and t.column("offset").to_pylist() == [1, 6]
    assert rejects.counts["wrong frame length (not 14/28 hex digits)"] == 1
    assert rejects.counts["non-hex frame"] == 1
    assert rejects.counts["not an AVR line"] == 2
    assert {s.location for s in rejects.samples if not s.reason.startswith("note")} == {
        "line 2", "line 3", "line 4", "line 5"}
    e = tmp_path / "e.avr"
    e.write_bytes(b"")
    with pytest.raises(InputError, match="empty file"):
        table_of(e)
