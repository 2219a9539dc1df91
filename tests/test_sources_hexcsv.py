"""Hex CSV reader on pyModeS' real captures, checked against Python's csv module and pyModeS."""

from __future__ import annotations

import csv
from pathlib import Path

import pyModeS as pms
import pytest

from tailwatch.errors import InputError, Rejects
from tailwatch.sources import detect, get_reader

FILES = {"sample_data_adsb.csv": 2000, "sample_data_commb_df20.csv": 5000, "sample_data_commb_df21.csv": 5000}


def rows_of(path: Path) -> tuple[list[dict[str, object]], Rejects]:
    rejects = Rejects()
    out = []
    for chunk in get_reader("hexcsv").read(path, rejects):
        assert chunk.kind == "frames"
        out += chunk.batch.to_pylist()
    return out, rejects


@pytest.mark.parametrize("name", sorted(FILES))
def test_real_files_match_csv_module(shared_data: Path, name: str) -> None:
    path = shared_data / "pymodes" / name
    assert detect(path) == "hexcsv"
    rows, rejects = rows_of(path)
    assert len(rows) == FILES[name] and rejects.total == 0
    with open(path, encoding="utf-8-sig", newline="") as f:
        ref = list(csv.reader(f))
    for row, rec in zip(rows, ref, strict=True):
        msg = next(x for x in rec if len(x) in (14, 28) and all(c in "0123456789abcdefABCDEF" for c in x))
        if int(msg[:2], 16) >> 3 in (0, 4, 5, 11) and msg[14:] == "0" * 14:
            msg = msg[:14]
        assert row["msg"].hex().upper() == msg.upper()
        assert row["time"].timestamp() == float(rec[0])
    # The icao column pyModeS recorded equals the address pyModeS finds in our bytes.
    for row, rec in zip(rows[:300], ref[:300], strict=True):
        icao = rec[2] if name == "sample_data_adsb.csv" else rec[1]
        assert pms.decode(row["msg"].hex())["icao"].upper() == icao.upper()


def test_padded_short_frames_trimmed(tmp_path: Path) -> None:
    # DF11 all-call 5D3981E46DC8EB (a real frame from the Beast sample), padded to 28 hex as some captures do.
    p = tmp_path / "pad.csv"
    p.write_text("1700000000.5,5D3981E46DC8EB00000000000000\n1700000001,5D3981E46DC8EB00000000000001\n")
    rows, rejects = rows_of(p)
    assert [r["msg"].hex().upper() for r in rows] == ["5D3981E46DC8EB"]
    assert rejects.counts == {"short-DF frame padded with non-zero bytes": 1}
    assert rows[0]["time"].timestamp() == 1700000000.5


def test_bad_lines_counted_with_line_numbers(shared_data: Path, tmp_path: Path) -> None:
    lines = (shared_data / "pymodes" / "sample_data_adsb.csv").read_text().splitlines()
    lines[9] = lines[9].replace("8D", "8X", 1)  # line 10: non-hex
    lines[19] = lines[19].replace('"8D', '"8D0', 1)  # line 20: odd length
    lines[29] = "1457996400"  # line 30: too few fields
    lines[39] = lines[39].replace("1457996", "x457996", 1)  # line 40: bad time
    p = tmp_path / "bad.csv"
    p.write_text("\n".join(lines) + "\n")
    rows, rejects = rows_of(p)
    assert len(rows) == 1996
    assert rejects.counts == {"non-hex frame": 1, "wrong frame length (not 14/28 hex digits)": 1,
                              "too few CSV fields": 1, "bad timestamp": 1}
    assert sorted(s.location for s in rejects.samples) == ["line 10", "line 20", "line 30", "line 40"]


def test_binary_given_as_csv_and_empty(shared_data: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="binary data"):
        rows_of(shared_data / "traffic_samples/dump1090/sample_dump1090.bin")
    e = tmp_path / "e.csv"
    e.write_text("")
    with pytest.raises(InputError, match="empty file"):
        rows_of(e)


@pytest.mark.parametrize("block", [97, 4096])
def test_small_blocks_same_rows_and_line_numbers(shared_data: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    lines = (shared_data / "pymodes/sample_data_commb_df20.csv").read_bytes().split(b"\r\n")
    lines[1234] = lines[1234].replace(b"A0", b"Z0", 1)  # line 1235: non-hex
    p = tmp_path / "df20.csv"
    p.write_bytes(b"\r\n".join(lines))
    whole, whole_rej = rows_of(p)
    from tailwatch.sources import _io

    monkeypatch.setattr(_io, "BLOCK", block)  # lines now straddle many block boundaries
    pieces, rej = rows_of(p)
    assert pieces == whole and len(pieces) == 4999
    assert [s.location for s in rej.samples] == [s.location for s in whole_rej.samples] == ["line 1235"]
