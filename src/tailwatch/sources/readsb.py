"""readsb / tar1090 JSON: ``trace_full_*.json`` traces and ``aircraft.json`` snapshots.

Trace (readsb ``README-json.md``, tar1090 globe history): ``{icao, timestamp,
trace: [[dt, lat, lon, alt_baro|"ground"|null, gs, track, flags, vrate,
details|null, source type, alt_geom, geom_rate, ias, roll], ...]}``; a point's
time is ``timestamp + dt``. Flags: ``&1`` stale position, ``&2`` new leg, ``&4``
vertical rate is geometric, ``&8`` altitude is geometric (then the altitude
goes to ``alt_geom``). ``"ground"`` sets ``on_ground``; the details object
gives ``flight`` (callsign) and ``squawk``; source types ``mlat`` → MLAT,
``tisb_*``/``adsr_*`` → TISB. Trace points are marked DERIVED (readsb may
thin them out).

Snapshot (``aircraft.json``): ``{now, aircraft: [{hex, flight, alt_baro, ...}]}``;
a row's time is ``now - seen_pos`` when it has a position, else ``now - seen``.
The older dump1090-mutability keys (``altitude``, ``speed``, ``vert_rate``)
are read too. ``~`` (non-ICAO) addresses are flagged TISB.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.errors import InputError, Rejects
from tailwatch.schema import Quality
from tailwatch.sources._io import json_error, read_all
from tailwatch.sources._tabular import tabular_positions
from tailwatch.sources.base import Chunk, ReaderOptions

EMERGENCY = {"none": 0, "general": 1, "lifeguard": 2, "minfuel": 3, "nordo": 4, "unlawful": 5,
             "downed": 6, "reserved": 7}
MLAT_TYPES = {"mlat"}
TISB_PREFIX = ("tisb", "adsr")


def load_json(path: Path) -> Any:
    """Parse a whole JSON file; ``InputError`` with the byte offset if it is broken."""
    raw, _ = read_all(path)
    if b"\x00" in raw[:4096]:
        raise InputError(str(path), "byte 0", "binary data, not JSON (NUL bytes)")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise json_error(str(path), raw, exc) from None


def _source_flags(types: list[Any]) -> np.ndarray:
    q = np.zeros(len(types), np.uint16)
    arr = pa.array([t if isinstance(t, str) else None for t in types], pa.string())

    mlat = pc.fill_null(pc.is_in(arr, pa.array(sorted(MLAT_TYPES))), False).to_numpy(zero_copy_only=False)
    tisb = pc.fill_null(pc.or_(pc.starts_with(arr, TISB_PREFIX[0]), pc.starts_with(arr, TISB_PREFIX[1])),
                        False).to_numpy(zero_copy_only=False)
    q[mlat] |= int(Quality.MLAT)
    q[tisb] |= int(Quality.TISB)
    return q


def _num(values: list[Any]) -> pa.Array:
    return pa.array([v if isinstance(v, int | float) and not isinstance(v, bool) else None for v in values],
                    pa.float64())


class TraceReader:
    """Reader of readsb/tar1090 ``trace_full_*.json(.gz)`` (yields ``POSITIONS``)."""

    name = "readsb-trace"

    def __init__(self, options: ReaderOptions | None = None) -> None:
        self.options = options or ReaderOptions()

    def sniff(self, head: bytes, path: Path) -> bool:
        """A JSON object with ``"icao"`` and ``"trace"`` keys near the start."""
        h = head.lstrip()
        return h.startswith(b"{") and b'"icao"' in h and (b'"trace"' in h or b'"timestamp"' in h) \
            and b'"aircraft"' not in h

    def read(self, path: Path, rejects: Rejects, chunk_rows: int = 500_000) -> Iterator[Chunk]:
        """Yield the trace's points as ``POSITIONS`` chunks."""
        p = str(path)
        obj = load_json(path)
        if not isinstance(obj, dict):
            raise InputError(p, "byte 0", "not a readsb trace (top level is not an object)")
        missing = [k for k in ("icao", "timestamp", "trace") if k not in obj]
        if missing:
            raise InputError(p, "header", f"missing required key(s): {', '.join(missing)}")
        trace = obj["trace"]
        if not isinstance(trace, list):
            raise InputError(p, "header", "'trace' is not a list")
        ok = [isinstance(pt, list) and len(pt) >= 6 for pt in trace]
        bad = [i for i, good in enumerate(ok) if not good]
        for i in bad[: rejects.keep]:
            rejects.add("bad trace point", p, f"point {i + 1}", repr(trace[i])[:60])
        if len(bad) > rejects.keep:
            rejects.add("bad trace point", p, f"point {bad[rejects.keep] + 1}", n=len(bad) - rejects.keep)
        pts = [pt + [None] * (14 - len(pt)) for pt, good in zip(trace, ok, strict=True) if good]
        where = [i + 1 for i, good in enumerate(ok) if good]
        cols = list(zip(*pts, strict=True)) if pts else [()] * 14
        n = len(pts)
        dt = np.array([v if isinstance(v, int | float) else np.nan for v in cols[0]], np.float64)
        try:
            base = float(obj["timestamp"])
        except (TypeError, ValueError):
            raise InputError(p, "header", f"bad 'timestamp': {obj['timestamp']!r}") from None
        time_us = (base + dt) * 1e6
        alt = list(cols[3])
        ground = pa.array([a == "ground" for a in alt], pa.bool_())
        flags = np.array([f if isinstance(f, int) else 0 for f in cols[6]], np.int64)
        alt_num = _num(alt).to_numpy(zero_copy_only=False)
        geom_flag = (flags & 8) != 0
        alt_geom = _num(list(cols[10])).to_numpy(zero_copy_only=False)
        alt_geom = np.where(geom_flag & np.isnan(alt_geom), alt_num, alt_geom)
        alt_baro = np.where(geom_flag, np.nan, alt_num)
        details = [d if isinstance(d, dict) else {} for d in cols[8]]
        table = pa.table({
            "icao24": pa.array([str(obj["icao"])] * n, pa.string()),
            "lat": _num(list(cols[1])), "lon": _num(list(cols[2])),
            "alt_baro": pa.array(alt_baro, pa.float64(), mask=np.isnan(alt_baro)),
            "alt_geom": pa.array(alt_geom, pa.float64(), mask=np.isnan(alt_geom)),
            "gs": _num(list(cols[4])), "track": _num(list(cols[5])), "vrate": _num(list(cols[7])),
            "callsign": pa.array([d.get("flight") for d in details], pa.string()),
            "squawk": pa.array([d.get("squawk") for d in details], pa.string()),
            "emergency": pa.array([EMERGENCY.get(d.get("emergency", "")) for d in details], pa.int8()),
            "on_ground": ground,
        })
        quality = _source_flags(list(cols[9])) | np.uint16(Quality.DERIVED)
        mapping = {k: k for k in table.column_names}
        first = where[0] if where else 1
        size = path.stat().st_size
        for b in tabular_positions(table, mapping, {}, self.name, p, rejects, unit="point", first=first,
                                   quality=quality, time_override=time_us, chunk_rows=chunk_rows):
            yield Chunk("positions", b, size)


def _pick(rows: list[dict[str, Any]], *keys: str) -> list[Any]:
    """First present key of each row (readsb names first, then the older mutability names)."""
    return [next((r[k] for k in keys if r.get(k) is not None), None) for r in rows]


class HistReader:
    """Reader of readsb/dump1090 ``aircraft.json`` snapshots (yields ``POSITIONS``)."""

    name = "readsb-hist"

    def __init__(self, options: ReaderOptions | None = None) -> None:
        self.options = options or ReaderOptions()

    def sniff(self, head: bytes, path: Path) -> bool:
        """A JSON object with ``"now"`` and ``"aircraft"`` keys near the start."""
        h = head.lstrip()
        return h.startswith(b"{") and b'"now"' in h and b'"aircraft"' in h

    def read(self, path: Path, rejects: Rejects, chunk_rows: int = 500_000) -> Iterator[Chunk]:
        """Yield one row per listed aircraft."""
        p = str(path)
        obj = load_json(path)
        if not isinstance(obj, dict):
            raise InputError(p, "byte 0", "not an aircraft.json snapshot (top level is not an object)")
        missing = [k for k in ("now", "aircraft") if k not in obj]
        if missing:
            raise InputError(p, "header", f"missing required key(s): {', '.join(missing)}")
        listed = obj["aircraft"] if isinstance(obj["aircraft"], list) else []
        keep = [i for i, a in enumerate(listed) if isinstance(a, dict) and isinstance(a.get("hex"), str)]
        bad = sorted(set(range(len(listed))) - set(keep))
        for i in bad[: rejects.keep]:
            rejects.add("aircraft without hex", p, f"aircraft {i + 1}", repr(listed[i])[:60])
        if len(bad) > rejects.keep:
            rejects.add("aircraft without hex", p, f"aircraft {bad[rejects.keep] + 1}", n=len(bad) - rejects.keep)
        rows = [listed[i] for i in keep]
        now = float(obj["now"])
        lat = _num(_pick(rows, "lat")).to_numpy(zero_copy_only=False)
        has_pos = ~np.isnan(lat)
        seen_pos = _num(_pick(rows, "seen_pos")).to_numpy(zero_copy_only=False)
        seen = _num(_pick(rows, "seen")).to_numpy(zero_copy_only=False)
        age = np.where(has_pos & ~np.isnan(seen_pos), seen_pos, np.where(np.isnan(seen), 0.0, seen))
        time_us = (now - age) * 1e6
        alt = _pick(rows, "alt_baro", "altitude")
        table = pa.table({
            "icao24": pa.array([r["hex"] for r in rows], pa.string()),
            "lat": pa.array(lat, mask=np.isnan(lat)), "lon": _num(_pick(rows, "lon")),
            "alt_baro": _num(alt), "alt_geom": _num(_pick(rows, "alt_geom")),
            "gs": _num(_pick(rows, "gs", "speed")), "track": _num(_pick(rows, "track")),
            "vrate": _num(_pick(rows, "baro_rate", "geom_rate", "vert_rate")),
            "callsign": pa.array(_pick(rows, "flight"), pa.string()),
            "squawk": pa.array(_pick(rows, "squawk"), pa.string()),
            "emergency": pa.array([EMERGENCY.get(e) if isinstance(e, str) else None
                                   for e in _pick(rows, "emergency")], pa.int8()),
            "on_ground": pa.array([True if a == "ground" else (False if a is not None else None) for a in alt],
                                  pa.bool_()),
        })
        quality = _source_flags(_pick(rows, "type"))
        mapping = {k: k for k in table.column_names}
        for b in tabular_positions(table, mapping, {}, self.name, p, rejects, unit="aircraft", first=1,
                                   quality=quality, time_override=time_us, chunk_rows=chunk_rows):
            yield Chunk("positions", b, path.stat().st_size)
