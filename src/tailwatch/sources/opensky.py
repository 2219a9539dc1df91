"""OpenSky Network state vectors, as CSV (the public ``states_*.csv`` datasets) or Parquet.

Columns: ``time, icao24, lat, lon, velocity (m/s), heading (deg), vertrate (m/s),
callsign, onground, alert, spi, squawk, baroaltitude (m), geoaltitude (m),
lastposupdate, lastcontact`` (times in epoch seconds). Converted exactly:
metres → feet (/0.3048), m/s → knots (×3600/1852), m/s → ft/min (×60/0.3048).
A row's time is ``lastposupdate`` (when its position was last updated) if
present, else ``time``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tailwatch.errors import InputError, Rejects
from tailwatch.sources._arrow import epoch_us
from tailwatch.sources._io import open_binary
from tailwatch.sources._tabular import require, tabular_positions
from tailwatch.sources.base import Chunk, ReaderOptions

FT = 1 / 0.3048
KT = 3600 / 1852
FPM = 60 / 0.3048
COLUMNS = {"time": "time", "icao24": "icao24", "lat": "lat", "lon": "lon", "gs": "velocity",
           "track": "heading", "vrate": "vertrate", "callsign": "callsign", "on_ground": "onground",
           "squawk": "squawk", "alt_baro": "baroaltitude", "alt_geom": "geoaltitude"}
SCALE = {"gs": KT, "vrate": FPM, "alt_baro": FT, "alt_geom": FT}
_TEXT = ("icao24", "callsign", "squawk")


class OpenSkyReader:
    """Reader of OpenSky state vectors (yields ``POSITIONS``)."""

    name = "opensky"

    def __init__(self, options: ReaderOptions | None = None) -> None:
        self.options = options or ReaderOptions()

    def sniff(self, head: bytes, path: Path) -> bool:
        """A CSV header or Parquet schema with OpenSky's column names."""
        if head.startswith(b"PAR1"):
            try:
                names = pq.read_schema(path).names
            except Exception:
                return False
            return "icao24" in names and "lastposupdate" in names
        first = head.split(b"\n", 1)[0]
        return b"icao24" in first and b"lastposupdate" in first and b"," in first

    def _csv(self, path: Path, rejects: Rejects) -> pa.Table:
        p = str(path)

        with open_binary(path) as s:
            data = s.read()
            s.read()  # raises for a damaged gzip

        def bad_row(row: pacsv.InvalidRow) -> str:
            line = row.number
            if line is None or line < 1:  # unknown when parsing in parallel: find the text
                at = data.find((row.text or "").encode())
                line = data.count(b"\n", 0, at) + 1 if at >= 0 else 0
            rejects.add("wrong number of CSV fields", p, f"line {line}", (row.text or "")[:80])
            return "skip"

        if not data.strip():
            raise InputError(p, "byte 0", "empty file")
        if b"\x00" in data[:4096]:
            raise InputError(p, "byte 0", "binary data, not an OpenSky CSV (NUL bytes)")
        try:
            return pacsv.read_csv(
                pa.BufferReader(data),
                parse_options=pacsv.ParseOptions(invalid_row_handler=bad_row),
                convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in _TEXT},
                                                     strings_can_be_null=True),
            )
        except pa.ArrowInvalid as exc:
            raise InputError(p, "line ?", f"unreadable CSV: {exc}") from None

    def read(self, path: Path, rejects: Rejects, chunk_rows: int = 500_000) -> Iterator[Chunk]:
        """Yield ``POSITIONS`` chunks (units converted, see module docstring)."""
        p = str(path)
        with open(path, "rb") as f:
            parquet = f.read(4) == b"PAR1"
        if parquet:
            try:
                table = pq.read_table(path)
            except Exception as exc:
                raise InputError(p, "byte 0", f"unreadable Parquet: {exc}") from None
        else:
            table = self._csv(path, rejects)
        require(table, ["time", "icao24", "lat", "lon"], p)
        t = epoch_us(table.column("time"))
        if "lastposupdate" in table.column_names:
            lpu = epoch_us(table.column("lastposupdate"))
            t = np.where(np.isfinite(lpu), lpu, t)
        size = path.stat().st_size
        for b in tabular_positions(table, COLUMNS, SCALE, self.name, p, rejects, unit="row", first=1,
                                   time_override=t, chunk_rows=chunk_rows):
            yield Chunk("positions", b, size)
