"""traffic JSON/Parquet reader on the real samples, checked against a plain orjson parse."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tailwatch.errors import InputError, Rejects
from tailwatch.sources import detect, get_reader

TS = "traffic_samples"


def table_of(path: Path) -> tuple[pa.Table, Rejects]:
    rejects = Rejects()
    batches = [c.batch for c in get_reader("traffic").read(path, rejects)]
    return pa.Table.from_batches(batches), rejects


def test_quickstart_records(shared_data: Path) -> None:
    path = shared_data / TS / "collections/quickstart.json.gz"
    assert detect(path) == "traffic"
    t, rejects = table_of(path)
    ref = orjson.loads(gzip.decompress(path.read_bytes()))
    assert t.num_rows == len(ref) == 284_505 and rejects.total == 0
    assert len(set(t.column("icao24").to_pylist())) == 213
    for i in (0, 1234, 284_504):
        row, rec = t.slice(i, 1).to_pylist()[0], ref[i]
        assert row["time"].timestamp() * 1000 == rec["timestamp"]
        assert row["icao24"] == int(rec["icao24"], 16)
        assert row["lat"] == rec["latitude"] and row["lon"] == rec["longitude"]
        assert row["alt_baro"] == pytest.approx(rec["altitude"])
        assert row["gs"] == pytest.approx(rec["groundspeed"])
        assert row["vrate"] == pytest.approx(rec["vertical_rate"])
        assert row["callsign"] == rec["callsign"] and row["squawk"] == rec["squawk"]
        assert row["on_ground"] == rec["onground"] and row["source"] == "traffic"


@pytest.mark.parametrize(("name", "n"), [("noisy/noisy_spoofing.json.gz", 8681),
                                         ("onground/zurich_airport.json.gz", 17132)])
def test_other_layouts(shared_data: Path, name: str, n: int) -> None:
    path = shared_data / TS / name
    assert detect(path) == "traffic"
    t, rejects = table_of(path)
    assert t.num_rows == n and rejects.total == 0
    ref = orjson.loads(gzip.decompress(path.read_bytes()))
    if isinstance(ref, dict):  # pandas "columns" layout
        last = str(n - 1)
        assert t.column("lat")[n - 1].as_py() == ref["latitude"][last]
        assert t.column("time")[n - 1].as_py().timestamp() * 1000 == ref["timestamp"][last]
    else:
        assert t.column("lat")[n - 1].as_py() == ref[-1]["latitude"]


def test_parquet_roundtrip(shared_data: Path, tmp_path: Path) -> None:
    ref = orjson.loads(gzip.decompress((shared_data / TS / "onground/zurich_airport.json.gz").read_bytes()))
    tbl = pa.Table.from_pylist(ref)
    tbl = tbl.set_column(tbl.schema.get_field_index("timestamp"), "timestamp",
                         pa.array([r["timestamp"] for r in ref], pa.timestamp("ms", tz="UTC")))
    p = tmp_path / "z.parquet"
    pq.write_table(tbl, p)
    assert detect(p) == "traffic"
    t, _ = table_of(p)
    assert t.num_rows == 17132
    assert t.column("time")[5].as_py().timestamp() * 1000 == ref[5]["timestamp"]


def test_truncated_missing_columns_empty(shared_data: Path, tmp_path: Path) -> None:
    raw = gzip.decompress((shared_data / TS / "onground/zurich_airport.json.gz").read_bytes())
    cut = tmp_path / "cut.json"
    cut.write_bytes(raw[: len(raw) // 2])
    rejects = Rejects()
    got = 0
    with pytest.raises(InputError, match="truncated JSON") as exc:
        for c in get_reader("traffic").read(cut, rejects):
            got += c.batch.num_rows
    assert exc.value.location == f"byte {len(raw) // 2}"
    # The complete records before the cut are kept (about half of 17,132).
    assert 8000 < got < 9000
    nocol = tmp_path / "nocol.json"
    nocol.write_bytes(raw.replace(b'"icao24"', b'"hex"'))
    with pytest.raises(InputError, match=r"missing required column.*icao24"):
        table_of(nocol)
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty file"):
        table_of(empty)
    flipped = tmp_path / "flip.json"
    flipped.write_bytes(raw.replace(b'"icao24":"4b18b8"', b'"icao24":"4b1?b8"', 3))
    t, rejects = table_of(flipped)
    assert t.num_rows == 17132 - 3 and rejects.counts == {"bad icao24 address": 3}


@pytest.mark.parametrize(("piece", "target"), [(1, 1), (2, 50), (3, 1 << 30), (7, 999), (1 << 20, 1 << 20)])
def test_ndjson_rewrite_across_pieces(shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     piece: int, target: int) -> None:
    # The list -> NDJSON rewrite works piece by piece; a "},{" split between pieces must still
    # become "}\n{" (otherwise the fast path would fail and silently fall back to orjson), and
    # every piece handed to a parser thread must hold whole records only.
    from tailwatch.sources import traffic

    path = shared_data / TS / "onground/zurich_airport.json.gz"
    raw = gzip.decompress(path.read_bytes())
    if piece < 8:
        raw = raw[:20_000]  # a short list, so that 1-byte pieces stay quick
        path = tmp_path / "z.json"
        path.write_bytes(raw[: raw.rindex(b"},{") + 1] + b"]")
        raw = path.read_bytes()
    monkeypatch.setattr(traffic, "_ND_PIECE", piece)
    records = orjson.loads(raw)
    pieces = [nd for nd, _ in traffic._ndjson_pieces(path, target)]
    assert b"".join(pieces).strip() == raw.strip()[1:-1].replace(b"},{", b"}\n{").strip()
    assert sum(len(orjson.loads(b"[" + p.strip().replace(b"\n", b",") + b"]")) for p in pieces) == len(records)
    if target < len(raw) // 4:
        assert len(pieces) > 1


def test_pieces_with_other_types_and_late_columns(shared_data: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # Pieces are parsed separately: ISO text times (traffic's known types do not fit, every
    # piece is parsed again with inferred types) and a column that only appears in the last
    # records must still give every record. Times that change kind part-way are an error that
    # names the column and the record.
    from datetime import UTC, datetime

    from tailwatch.sources import traffic

    zurich = shared_data / TS / "onground/zurich_airport.json.gz"
    recs = orjson.loads(gzip.decompress(zurich.read_bytes()))
    for r in recs:
        r["timestamp"] = datetime.fromtimestamp(r["timestamp"] / 1000, UTC).isoformat()
    for r in recs[-500:]:
        r["note"] = "late"
    path = tmp_path / "iso.json"
    path.write_bytes(orjson.dumps(recs))
    monkeypatch.setattr(traffic, "_PARSE_PIECE", 300_000)
    assert len(list(traffic._ndjson_pieces(path))) > 3
    t, rejects = table_of(path)
    ref, _ = table_of(zurich)
    assert rejects.total == 0 and t.num_rows == len(recs)
    assert t.column("time").equals(ref.column("time")) and t.column("icao24").equals(ref.column("icao24"))

    recs[5000]["timestamp"] = 1633608773000
    path.write_bytes(orjson.dumps(recs))
    with pytest.raises(InputError, match="column 'timestamp' holds number here but text") as exc:
        table_of(path)
    assert exc.value.location == "record 5001"


def test_fallback_part_way_gives_every_record_once(shared_data: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # A text holding "},{" breaks the NDJSON rewrite of its piece: the pieces before it are
    # already positions, orjson reads the rest, and no record is given twice or lost.
    from tailwatch.sources import traffic

    zurich = shared_data / TS / "onground/zurich_airport.json.gz"
    recs = orjson.loads(gzip.decompress(zurich.read_bytes()))
    recs[12_000]["callsign"] = "AB},{C"
    path = tmp_path / "odd.json"
    path.write_bytes(orjson.dumps(recs))
    monkeypatch.setattr(traffic, "_PARSE_PIECE", 300_000)
    rejects = Rejects()
    chunks = list(get_reader("traffic").read(path, rejects))
    assert len(chunks) > 2  # some pieces came through the fast path before the fallback
    t = pa.Table.from_batches([c.batch for c in chunks])
    ref, _ = table_of(zurich)
    assert rejects.total == 0 and t.num_rows == len(recs)
    assert t.column("time").equals(ref.column("time")) and t.column("icao24").equals(ref.column("icao24"))
    assert t.column("callsign")[12_000].as_py() == "AB},{C"


def test_damaged_gzip_keeps_the_records_before_the_damage(shared_data: Path, tmp_path: Path) -> None:
    # The .json.gz cut at 3 MB: every complete record before the cut is given (counted here with
    # Python's own zlib and orjson), then the error names the compressed byte offset.
    import zlib

    data = (shared_data / TS / "collections/quickstart.json.gz").read_bytes()[:3_000_000]
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(data)
    text = zlib.decompressobj(wbits=31).decompress(data)
    complete = orjson.loads(text[: text.rindex(b"},{") + 1] + b"]")
    rejects = Rejects()
    rows = 0
    with pytest.raises(InputError, match="truncated or corrupt gzip") as exc:
        for c in get_reader("traffic").read(cut, rejects):
            rows += c.batch.num_rows
    assert exc.value.location == "byte 3000000"
    assert rows == len(complete) > 100_000


@pytest.mark.parametrize("piece", [3, 1 << 20])
def test_python_json_dumps_layout_takes_the_fast_path(shared_data: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch, piece: int) -> None:
    # Records written by Python's json.dumps ("}, {" and ": ") are split like pandas' "},{",
    # including a separator cut between pieces; the orjson fallback is never needed.
    import json

    from tailwatch.sources import traffic

    zurich = shared_data / TS / "onground/zurich_airport.json.gz"
    recs = orjson.loads(gzip.decompress(zurich.read_bytes()))
    if piece < 8:
        recs = recs[:300]  # 1-byte pieces stay quick
    path = tmp_path / "dumps.json"
    path.write_text(json.dumps(recs))
    ref, _ = table_of(zurich)
    monkeypatch.setattr(traffic, "_ND_PIECE", piece)

    def no_fallback(*_: object) -> None:
        raise AssertionError("fell back to orjson")

    monkeypatch.setattr(traffic.TrafficReader, "_slow_table", no_fallback)
    t, rejects = table_of(path)
    assert rejects.total == 0 and t.num_rows == len(recs)
    assert t.column("time").equals(ref.column("time").slice(0, len(recs)))
    assert t.column("lat").equals(ref.column("lat").slice(0, len(recs)))
