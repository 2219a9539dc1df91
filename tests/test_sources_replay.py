"""SBS, AVR and Beast captured from a real dump1090-mutability replay, cross-checked with rs1090."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest
import rs1090

from dump1090_replay import Capture, dump1090_capture  # noqa: F401  (session fixture)
from tailwatch.errors import Rejects
from tailwatch.sources import detect, get_reader


def table_of(fmt: str, path: Path, **opts: object) -> tuple[pa.Table, Rejects]:
    rejects = Rejects()
    return pa.Table.from_batches([c.batch for c in get_reader(fmt, **opts).read(path, rejects)]), rejects


def test_capture_sizes_match_provenance(dump1090_capture: Capture) -> None:  # noqa: F811
    # PROVENANCE.md, "IQ replay": 30003 gave 28,634 bytes, 30002 8,209 bytes (319 messages), 30005 6,508.
    assert dump1090_capture.sbs.stat().st_size == 28_634
    assert dump1090_capture.avr.stat().st_size == 8_209
    assert dump1090_capture.beast.stat().st_size == 6_508


def test_sbs_agrees_with_rs1090_on_avr(dump1090_capture: Capture) -> None:  # noqa: F811
    cap = dump1090_capture
    assert detect(cap.sbs) == "sbs"
    sbs, rejects = table_of("sbs", cap.sbs)
    assert sbs.num_rows == 319 and rejects.total == 0
    avr = [ln.strip()[1:-1] for ln in cap.avr.read_text().splitlines() if ln.strip()]
    # The peer's reading of the same messages (one SBS line per AVR line, same order).
    ref = rs1090.decode(avr, [float(i) for i in range(len(avr))])
    rows = sbs.to_pylist()
    assert [r["icao24"] for r in rows] == [int(d["icao24"], 16) for d in ref]
    alts = [(d["altitude"], r["alt_baro"]) for d, r in zip(ref, rows, strict=True)
            if d.get("altitude") is not None and r["alt_baro"] is not None]
    assert len(alts) > 100 and all(a == b for a, b in alts)
    both = [(d, r) for d, r in zip(ref, rows, strict=True) if "latitude" in d and r["lat"] is not None]
    assert len(both) >= 70
    for d, r in both:
        assert r["lat"] == pytest.approx(d["latitude"], abs=1e-5)
        assert r["lon"] == pytest.approx(d["longitude"], abs=1e-5)
    squawks = [(d["squawk"], r["squawk"]) for d, r in zip(ref, rows, strict=True) if "squawk" in d]
    assert squawks and all(a == b for a, b in squawks)
    # Times are the replay's wall clock (UTC here), within seconds of when samples started.
    t0 = rows[0]["time"].timestamp()
    assert abs(t0 - cap.started) < 10


def test_sbs_local_time_zone(dump1090_capture: Capture) -> None:  # noqa: F811
    utc, _ = table_of("sbs", dump1090_capture.sbs)
    india, _ = table_of("sbs", dump1090_capture.sbs, sbs_tz="Asia/Kolkata")
    # The same wall-clock text read as India time (UTC+05:30, no DST) is 5.5 h earlier in UTC.
    assert india.column("time")[0].as_py() == utc.column("time")[0].as_py() - timedelta(hours=5, minutes=30)


def test_avr_and_beast_outputs_agree(dump1090_capture: Capture) -> None:  # noqa: F811
    avr, r1 = table_of("avr", dump1090_capture.avr)
    beast, r2 = table_of("beast", dump1090_capture.beast)
    assert detect(dump1090_capture.avr) == "avr" and detect(dump1090_capture.beast) == "beast"
    assert avr.num_rows == beast.num_rows == 319
    assert avr.column("msg").to_pylist() == beast.column("msg").to_pylist()
    assert r1.counts == {"note: no timestamps in file": 319}
    assert not [k for k in r2.counts if not k.startswith("note:")]


def test_sbs_bad_lines(dump1090_capture: Capture, tmp_path: Path) -> None:  # noqa: F811
    lines = dump1090_capture.sbs.read_text().splitlines()
    lines[4] = lines[4].replace(",4D2023,", ",4D2Z23,")  # line 5: bad address
    lines[9] = "MSG,3,1,1"  # line 10: truncated line
    lines[14] = lines[14].replace("2026/", "20x6/", 1) if "2026/" in lines[14] else "MSG" + lines[14][3:]
    lines.insert(0, "STA,,5,179,400AE7,10103,2008/11/28,14:58:51.153,2008/11/28,14:58:51.153,RM")
    p = tmp_path / "bad.sbs"
    p.write_text("\n".join(lines) + "\n")
    t, rejects = table_of("sbs", p)
    assert rejects.counts["bad icao24 address"] == 1
    assert rejects.counts["too few SBS fields"] == 1
    assert rejects.counts["note: SBS non-MSG line skipped"] == 1
    assert {s.location for s in rejects.samples} >= {"line 6", "line 11"}
    assert t.num_rows == 319 - 2 - rejects.counts.get("bad SBS date/time", 0)


def test_sbs_fast_and_line_paths_agree(dump1090_capture: Capture, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    # Clean blocks go through Arrow's CSV reader; unusual ones line by line. Same rows either way.
    from tailwatch.sources import sbs

    fast, _ = table_of("sbs", dump1090_capture.sbs)

    def refuse(*args: object, **kwargs: object) -> None:
        raise sbs._Unusual("forced")

    monkeypatch.setattr(sbs.SbsReader, "_fast", refuse)
    slow, _ = table_of("sbs", dump1090_capture.sbs)
    assert fast.num_rows == 319 and fast.equals(slow)


def test_sbs_heartbeats_and_notes(dump1090_capture: Capture, tmp_path: Path) -> None:  # noqa: F811
    # dump1090 sends a bare CRLF as heartbeat; BaseStation also writes STA/AIR lines.
    text = dump1090_capture.sbs.read_bytes().replace(b"\r\n", b"\r\n\r\n", 3)
    p = tmp_path / "hb.sbs"
    p.write_bytes(b"AIR,,333,1,4CA2D6,10105,2024/01/01,10:00:00.000,2024/01/01,10:00:00.000\r\n" + text)
    t, rejects = table_of("sbs", p)
    assert t.num_rows == 319 and rejects.counts == {"note: SBS non-MSG line skipped": 1}
