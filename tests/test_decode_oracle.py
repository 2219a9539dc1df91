"""The test oracle for the decoder: real captures from ../shared/data and rs1090's reading of them.

Helpers here are imported by the other ``test_decode_*`` modules:

* ``load_captures(shared)`` -> ``{name: (times_s, hex_msgs)}`` for every raw capture;
* ``frames_batch(times_s, hex_msgs)`` -> a ``FRAMES`` record batch;
* ``rs1090_expected(times_s, hex_msgs, reference)`` -> per-frame dicts of the POSITIONS
  fields as rs1090 0.7.0 decodes them (``_raw`` None for frames it drops).

The Beast capture is unescaped here independently of ``tailwatch.sources`` (0x1a
doubling, 6-byte 12 MHz timestamp, 1-byte signal, 7/14-byte message).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyModeS
import rs1090

from tailwatch.schema import FRAMES

EMERGENCY = {
    "none": 0,
    "general": 1,
    "medical": 2,
    "minimum_fuel": 3,
    "no_communication": 4,
    "unlawful_interference": 5,
    "downed_aircraft": 6,
    "reserved": 7,
}


def unescape_beast(data: bytes) -> list[tuple[float, str]]:
    """(seconds, hex) of the Mode S frames (types '2' and '3') of a Beast byte stream."""
    out: list[tuple[float, str]] = []
    i, n = 0, len(data)
    sizes = {0x31: 2, 0x32: 7, 0x33: 14}
    while i < n:
        if data[i] != 0x1A or i + 1 >= n or data[i + 1] not in sizes:
            i += 1
            continue
        size = sizes[data[i + 1]]
        j, buf = i + 2, bytearray()
        while len(buf) < 7 + size and j < n:
            if data[j] == 0x1A:
                if j + 1 < n and data[j + 1] == 0x1A:
                    buf.append(0x1A)
                    j += 2
                    continue
                break
            buf.append(data[j])
            j += 1
        if len(buf) == 7 + size and size > 2:
            out.append((int.from_bytes(buf[:6], "big") / 12e6, buf[7:].hex()))
        i = j
    return out


def load_captures(shared: Path) -> dict[str, tuple[list[float], list[str]]]:
    """Every raw capture of the shared data, as (times in seconds, lower-case hex)."""
    caps: dict[str, tuple[list[float], list[str]]] = {}
    rows = list(csv.reader((shared / "pymodes/sample_data_adsb.csv").read_text("utf-8").splitlines()))
    caps["adsb"] = ([float(r[0]) for r in rows], [r[1].lower() for r in rows])
    for k in ("df20", "df21"):
        text = (shared / f"pymodes/sample_data_commb_{k}.csv").read_text("utf-8-sig")
        rows = list(csv.reader(text.splitlines()))
        caps[k] = with_confirmations([float(r[0]) for r in rows], [r[2].strip().lower() for r in rows], [r[1] for r in rows])
    golden = json.loads((shared / "pymodes/golden_v2.json").read_text())
    caps["golden"] = with_confirmations(
        [1.7e9 + i * 0.05 for i in range(len(golden))], list(golden), [v["icao"] for v in golden.values()]
    )
    beast = unescape_beast((shared / "traffic_samples/dump1090/sample_dump1090.bin").read_bytes())
    caps["beast"] = ([t for t, _ in beast], [m for _, m in beast])
    return caps


def acquisition_squitter(icao: int) -> str:
    """A DF11 all-call reply (CA=5, II=0) of ``icao``, its parity computed with pyModeS' CRC."""
    from pyModeS.util import crc

    head = f"{(11 << 3 | 5):02X}{icao:06X}"
    return f"{head}{crc(head + '000000'):06X}".lower()


def with_confirmations(times: list[float], msgs: list[str], addresses: list[str]) -> tuple[list[float], list[str]]:
    """Prefix a capture with one DF11 squitter per address (as a live receiver would have heard).

    The Comm-B captures hold only Address/Parity frames; their addresses come from
    the capture's own ``icao`` column, so the decoder can check them.
    """
    first = min(times) - 1.0
    pre = sorted({a.lower() for a in addresses})
    return [first] * len(pre) + list(times), [acquisition_squitter(int(a, 16)) for a in pre] + list(msgs)


def unique_times(times: list[float]) -> list[float]:
    """Times made strictly unique by adding the frame index in microseconds (keeps order)."""
    return [round(t, 6) + i * 1e-6 for i, t in enumerate(times)]


def frames_batch(times: list[float], msgs: list[str], offset0: int = 0) -> pa.RecordBatch:
    """A FRAMES batch of hex messages at ``times`` seconds."""
    us = [round(t * 1e6) for t in times]
    return pa.record_batch(
        [
            pa.array(us, pa.int64()).cast(FRAMES.field("time").type),
            pa.array([bytes.fromhex(m) for m in msgs], pa.binary()),
            pa.nulls(len(msgs), pa.float32()),
            pa.array(range(offset0, offset0 + len(msgs)), pa.int64()),
        ],
        schema=FRAMES,
    )


def rs1090_expected(
    times: list[float], msgs: list[str], reference: tuple[float, float] | None = None
) -> list[dict[str, Any]]:
    """rs1090's decoding of each frame mapped onto POSITIONS column names."""
    us = [round(t * 1e6) / 1e6 for t in times]
    out: list[dict[str, Any]] = []
    decoded = {round(m["timestamp"] * 1e6): m for m in rs1090.decode(msgs, us, reference=reference)}
    for t in us:
        if round(t * 1e6) not in decoded:  # rs1090 drops frames it cannot parse
            out.append({"icao24": None, "_raw": None})
            continue
        m = decoded[round(t * 1e6)]
        row: dict[str, Any] = {"icao24": int(m["icao24"], 16) if "icao24" in m else None}
        df = m.get("df")
        bds = m.get("bds")
        if "latitude" in m and m.get("latitude") is not None:
            row["lat"], row["lon"] = m["latitude"], m["longitude"]
        if df in ("0", "4", "16", "20"):
            metric = (int(m["frame"][:8], 16) >> 6) & 1  # M bit of AC13: pyModeS and tailwatch give null
            row["alt_baro"] = None if metric else m.get("altitude")
        if bds == "05" and m.get("source") == "barometric":
            row["alt_baro"] = m.get("altitude")
        if row.get("alt_baro", 0) is None:
            # rs1090 gives no altitude for Gillham-coded DF17 altitudes and negative Gillham
            # DF0/4/16/20 altitudes; pyModeS (the other peer) does: use its reading there
            row["alt_baro"] = (pyModeS.decode(m["frame"]) or {}).get("altitude")
        if bds == "05" and m.get("source") == "GNSS":
            # rs1090 reads TC 20-22 heights as a barometric code; pyModeS reads metres (DO-260B)
            # (an all-zero field means "no height", as for the barometric code: pyModeS says 0)
            alt12 = (int(m["frame"][8:22], 16) >> 36) & 0xFFF
            row["alt_geom"] = (pyModeS.decode(m["frame"]) or {}).get("altitude") if alt12 else None
        if bds == "09" and not 1 <= (int(m["frame"][8:22], 16) >> 48) & 7 <= 4:
            bds = "09-reserved-subtype"  # rs1090 decodes reserved subtypes 0/5-7; tailwatch does not
        if bds in ("06", "09"):
            row["gs"], row["track"] = m.get("groundspeed"), m.get("track")
        if bds == "09":
            me = int(m["frame"][8:22], 16)
            if (me >> 48) & 7 == 2 and row["gs"] is not None:
                # supersonic subtype: 4 kt units. rs1090 0.7.0 forgets the factor 4; pyModeS applies
                # it (e.g. E-W 100, N-S 200: rs1090 222.3 kt, pyModeS 889 kt)
                row["gs"] = 4 * row["gs"]
            if ((me >> 32) & 0x3FF) == 0 or ((me >> 21) & 0x3FF) == 0:
                # a zero E-W or N-S field means "no velocity information"; rs1090 reads it as -1 kt
                row["gs"] = row["track"] = None
        if bds == "09":
            row["vrate"] = m.get("vertical_rate")
            if "groundspeed" not in m:
                row.pop("gs"), row.pop("track")
        if bds == "08":
            row["callsign"] = m.get("callsign")
        if df in ("20", "21") and isinstance(m.get("bds20"), dict):
            cs = m["bds20"].get("callsign")
            # rs1090 also reports "callsigns" made of illegal characters ('#'); tailwatch refuses them
            row["callsign"] = None if cs is None or "#" in cs else cs
        # TC 28 subtype 0 ("no information") carries no squawk: rs1090 reports "0000"/none there,
        # tailwatch reports null (docs/decoding.md)
        es_emergency = bds == "61" and m.get("subtype") == "emergency_priority"
        if df in ("5", "21") or es_emergency:
            row["squawk"] = m.get("squawk")
        if es_emergency:
            row["emergency"] = EMERGENCY[m["emergency_state"]]
        if df == "11":
            row["on_ground"] = {"ground": True, "airborne": False}.get(m.get("capability", ""))
        if df in ("0", "4", "5", "16", "20", "21"):
            # rs1090 does not report VS / FS: pyModeS does (VS: 1 ground; FS 0/2 airborne, 1/3 ground)
            pm = pyModeS.decode(m["frame"]) or {}
            if "vertical_status" in pm:
                row["on_ground"] = pm["vertical_status"] == "on-ground"
            elif "flight_status" in pm:
                row["on_ground"] = {0: False, 2: False, 1: True, 3: True}.get(pm["flight_status"])
        row["_raw"] = m
        out.append(row)
    return out


def test_beast_unescape_matches_rs1090_addresses(shared_data: Path) -> None:
    """The Beast unescaper yields whole frames: every DF17 one has a clean CRC per pyModeS."""
    from pyModeS.util import crc

    caps = load_captures(shared_data)
    _, msgs = caps["beast"]
    assert len(msgs) > 200 and {len(m) for m in msgs} == {14, 28}
    df17 = [m for m in msgs if int(m[:2], 16) >> 3 == 17]
    assert df17 and all(crc(m) == 0 for m in df17)
