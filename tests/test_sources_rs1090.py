"""rs1090/jet1090 JSONL reader, on JSONL written by rs1090 itself from pyModeS' real CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson
import pyarrow as pa
import pytest
import rs1090

from tailwatch.errors import InputError, Rejects
from tailwatch.sources import detect, get_reader


def table_of(path: Path) -> tuple[pa.Table, Rejects]:
    rejects = Rejects()
    return pa.Table.from_batches([c.batch for c in get_reader("rs1090").read(path, rejects)]), rejects


@pytest.fixture
def jsonl(shared_data: Path, tmp_path: Path) -> tuple[Path, list[dict[str, object]]]:
    with open(shared_data / "pymodes/sample_data_adsb.csv", newline="") as f:
        recs = list(csv.reader(f))
    msgs, ts = [r[1] for r in recs], [float(r[0]) + i / 1000 for i, r in enumerate(recs)]
    decoded = rs1090.decode(msgs, ts)
    for i, d in enumerate(decoded):  # jet1090 adds receiver metadata with an rssi
        d["metadata"] = [{"system_timestamp": ts[i], "rssi": -20.5 - i % 7, "serial": 1, "name": "test"}]
    p = tmp_path / "jet1090.jsonl"
    p.write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in decoded))
    return p, decoded


def test_rs1090_jsonl_frames(jsonl: tuple[Path, list[dict[str, object]]]) -> None:
    path, decoded = jsonl
    assert detect(path) == "rs1090"
    t, rejects = table_of(path)
    assert t.num_rows == 2000 and rejects.total == 0
    assert [m.hex() for m in t.column("msg").to_pylist()] == [d["frame"] for d in decoded]
    assert [x.timestamp() for x in t.column("time").to_pylist()] == pytest.approx(
        [d["timestamp"] for d in decoded], abs=1e-6)
    assert t.column("signal").to_pylist()[:3] == [-20.5, -21.5, -22.5]


def test_rs1090_bad_lines(jsonl: tuple[Path, list[dict[str, object]]], tmp_path: Path) -> None:
    path, _ = jsonl
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b'"frame":"8d', b'"frame":"8x')  # line 3: non-hex frame
    lines[4] = b""  # line 5: blank
    lines[6] = lines[6][:40]  # line 7: broken JSON
    lines[8] = b'{"timestamp": 1457996400.0, "df": "17"}'  # line 9: no frame
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\n".join(lines[:-1])[:-25])  # last line truncated too
    t, rejects = table_of(bad)
    assert rejects.counts == {"non-hex frame": 1, "invalid JSON line": 2, "line without a frame": 1}
    assert {s.location for s in rejects.samples} == {"line 3", "line 7", "line 9", "line 2000"}
    assert t.num_rows == 2000 - 5
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty file"):
        table_of(empty)
