"""Format detection from content, gzip handling, and whole-file errors on corrupted real files."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tailwatch.errors import InputError, Rejects
from tailwatch.sources import READERS, detect, get_reader, open_binary

REAL = {
    "traffic_samples/dump1090/sample_dump1090.bin": "beast",
    "pymodes/sample_data_adsb.csv": "hexcsv",
    "pymodes/sample_data_commb_df20.csv": "hexcsv",
    "traffic_samples/collections/quickstart.json.gz": "traffic",
    "traffic_samples/noisy/noisy_spoofing.json.gz": "traffic",
    "traffic_samples/onground/zurich_airport.json.gz": "traffic",
    "traffic_samples/readsb/trace_full_ac671b.json": "readsb-trace",
    "traffic_samples/fr24/2ce4f83f.json": "fr24",
    "traffic_samples/fr24/372355e5.json": "fr24",
}


@pytest.mark.parametrize(("rel", "fmt"), sorted(REAL.items()))
def test_detect_real_files(shared_data: Path, tmp_path: Path, rel: str, fmt: str) -> None:
    assert detect(shared_data / rel) == fmt
    # Content, not the name: the same bytes under a misleading name, and gzipped.
    renamed = tmp_path / "data.txt"
    renamed.write_bytes((shared_data / rel).read_bytes())
    assert detect(renamed) == fmt
    gz = tmp_path / "data.bin"
    gz.write_bytes(gzip.compress(renamed.read_bytes() if not rel.endswith(".gz")
                                 else gzip.decompress(renamed.read_bytes())))
    assert detect(gz) == fmt


def test_unknown_and_empty(shared_data: Path, tmp_path: Path) -> None:
    odd = tmp_path / "odd.dat"
    odd.write_bytes(b"hello, this is not ADS-B\n")
    with pytest.raises(InputError, match="cannot tell the format: starts with 'hello, this is ") as exc:
        detect(odd)
    assert exc.value.location == "byte 0"
    png = tmp_path / "x.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    with pytest.raises(InputError, match="cannot tell the format: starts with 89 50 4e 47"):
        detect(png)
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty file"):
        detect(empty)
    with pytest.raises(ValueError, match="unknown format"):
        get_reader("asterix")
    with pytest.raises(ValueError, match="unknown reader option"):
        get_reader("beast", start=1)


def test_every_reader_rejects_empty_files(tmp_path: Path) -> None:
    for name in READERS:
        p = tmp_path / f"empty-{name}"
        p.write_bytes(b"")
        with pytest.raises(InputError, match="empty file"):
            list(get_reader(name).read(p, Rejects()))


def test_binary_file_given_as_text_formats(shared_data: Path) -> None:
    beast = shared_data / "traffic_samples/dump1090/sample_dump1090.bin"
    for name in ("hexcsv", "avr", "sbs", "rs1090", "opensky", "traffic", "readsb-trace", "readsb-hist", "fr24"):
        with pytest.raises(InputError) as exc:
            list(get_reader(name).read(beast, Rejects()))
        assert exc.value.path == str(beast)


def test_flipped_gzip_bytes(shared_data: Path, tmp_path: Path) -> None:
    data = bytearray((shared_data / "traffic_samples/noisy/noisy_spoofing.json.gz").read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 64):
        data[i] ^= 0xFF
    bad = tmp_path / "flipped.json.gz"
    bad.write_bytes(bytes(data))
    with pytest.raises(InputError, match="truncated or corrupt gzip") as exc:
        list(get_reader("traffic").read(bad, Rejects()))
    assert exc.value.location.startswith("byte ")


def test_open_binary_streams_good_data_before_truncation(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "traffic_samples/collections/quickstart.json.gz"
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(src.read_bytes()[:1_000_000])
    good = b""
    with open_binary(cut) as s, pytest.raises(InputError) as exc:
        while True:
            piece = s.read(1 << 20)
            if not piece:
                break
            good += piece
    # Everything returned is a true prefix of the real content, and there was plenty of it.
    full = gzip.decompress(src.read_bytes())
    assert len(good) > 5_000_000 and full.startswith(good)
    assert exc.value.location.startswith("byte ") and int(exc.value.location.split()[1]) <= 1_000_000
