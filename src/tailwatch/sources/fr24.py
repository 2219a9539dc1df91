"""Flightradar24 flight-playback JSON (``result.response.data.flight``).

``aircraft.identification.modes`` gives the ICAO address, ``identification.callsign``
the callsign; each ``track`` point has ``timestamp`` (s), ``latitude``,
``longitude``, ``altitude.feet``, ``speed.kts``, ``verticalSpeed.fpm``,
``heading`` (FR24's track over ground) and ``squawk``. FR24 does not say
whether the aircraft is on the ground, so ``on_ground`` stays null. Rows are
marked DERIVED (FR24 merges and smooths feeds).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.errors import InputError, Rejects
from tailwatch.schema import Quality
from tailwatch.sources._tabular import tabular_positions
from tailwatch.sources.base import Chunk, ReaderOptions
from tailwatch.sources.readsb import load_json


def _get(obj: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(k)
    return obj


def _field(arr: pa.Array, *names: str) -> pa.Array:
    """Nested struct field, or nulls if the path does not exist."""
    for n in names:
        if not pa.types.is_struct(arr.type) or arr.type.get_field_index(n) < 0:
            return pa.nulls(len(arr))
        arr = pc.struct_field(arr, n)
    return arr


class Fr24Reader:
    """Reader of FR24 playback JSON (yields ``POSITIONS``)."""

    name = "fr24"

    def __init__(self, options: ReaderOptions | None = None) -> None:
        self.options = options or ReaderOptions()

    def sniff(self, head: bytes, path: Path) -> bool:
        """FR24 playback responses start with ``{"result": {"request"`` / ``"response"``."""
        h = head.lstrip()[:400].replace(b" ", b"").replace(b"\n", b"")
        return h.startswith(b'{"result":{') and (b'"request"' in h or b'"response"' in h)

    def read(self, path: Path, rejects: Rejects, chunk_rows: int = 500_000) -> Iterator[Chunk]:
        """Yield the flight's track points."""
        p = str(path)
        obj = load_json(path)
        flight = _get(obj, "result", "response", "data", "flight")
        if not isinstance(flight, dict):
            raise InputError(p, "header", "missing result.response.data.flight")
        hexid = _get(flight, "aircraft", "identification", "modes")
        if not isinstance(hexid, str):
            raise InputError(p, "header", "missing aircraft.identification.modes (ICAO hex)")
        track = flight.get("track")
        if not isinstance(track, list) or not track:
            raise InputError(p, "header", "missing or empty track")
        good = [t for t in track if isinstance(t, dict)]
        if len(good) < len(track):
            rejects.add("bad FR24 track point", p, "track", n=len(track) - len(good))
        pts = pa.array(good)
        n = len(pts)
        callsign = _get(flight, "identification", "callsign")
        table = pa.table({
            "time": _field(pts, "timestamp"), "icao24": pa.array([hexid] * n, pa.string()),
            "lat": _field(pts, "latitude"), "lon": _field(pts, "longitude"),
            "alt_baro": _field(pts, "altitude", "feet"), "gs": _field(pts, "speed", "kts"),
            "track": _field(pts, "heading"), "vrate": _field(pts, "verticalSpeed", "fpm"),
            "callsign": pa.array([callsign] * n, pa.string()), "squawk": _field(pts, "squawk"),
        })
        mapping = {k: k for k in table.column_names}
        for b in tabular_positions(table, mapping, {}, self.name, p, rejects, unit="point", first=1,
                                   quality=int(Quality.DERIVED), chunk_rows=chunk_rows):
            yield Chunk("positions", b, path.stat().st_size)
