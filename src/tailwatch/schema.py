"""The canonical Arrow schemas every tailwatch stage speaks.

Data flows ``sources -> decode -> store -> identity -> analysis``; each stage
hands the next one Arrow record batches in one of the schemas below, so a
reader, a kernel or a report never has to know which file format a row came
from.  ``docs/schema.md`` documents every column for users.

Conventions (shared by all schemas):

* ``time`` is UTC, microsecond precision (``timestamp[us, tz=UTC]``; physically
  an int64 of microseconds since the epoch, so ``.cast(pa.int64())`` is free).
* ``icao24`` is the 24-bit ICAO address as a (non-negative) ``int32``.
  Use :func:`hex_of` / :func:`icao_of` to convert.
* Altitudes are feet, speeds knots, vertical rate feet/minute, track degrees
  clockwise from true north.
* Columns a source does not provide are null, never zero.

>>> POSITIONS.field("icao24").type
DataType(int32)
>>> hex_of(0x062F01)
'062F01'
>>> icao_of("062f01")
405249
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa

TIME = pa.timestamp("us", tz="UTC")


class Quality(enum.IntFlag):
    """Bits of the ``quality`` column of :data:`POSITIONS`.

    A row's flags say how much to trust it; analysis may filter on them.
    """

    NONE = 0
    #: The frame's CRC was checked and is zero (DF11/17/18, or DF20/21 whose
    #: address was confirmed by a recent CRC-checked frame of the same address).
    CRC_OK = 1
    #: The address was recovered from Address/Parity (DF0/4/5/16/20/21) and was
    #: confirmed by a recent CRC-checked frame of the same aircraft.
    ADDRESS_FROM_PARITY = 2
    #: Position decoded with CPR *local* decoding (reference position), not global.
    CPR_LOCAL = 4
    #: Surface position (TC 5-8).
    SURFACE = 8
    #: Multilateration (MLAT) rather than the aircraft's own report.
    MLAT = 16
    #: Position from TIS-B / ADS-R / other non-direct source.
    TISB = 32
    #: Value came from a source that may smooth or interpolate (FR24, traces).
    DERIVED = 64
    #: Flagged by a plausibility check at ingest (speed/position jump).
    SUSPECT = 128
    #: Produced by tailwatch's simulator, not a real receiver.
    SIMULATED = 256


#: One row per observation (a decoded frame, a state vector, a trace point).
#: Rows are sparse: a velocity frame carries gs/track/vrate and null lat/lon.
POSITIONS = pa.schema(
    [
        pa.field("time", TIME, nullable=False),
        pa.field("icao24", pa.int32(), nullable=False),
        pa.field("lat", pa.float64()),
        pa.field("lon", pa.float64()),
        pa.field("alt_baro", pa.float32()),  # ft; barometric (pressure) altitude
        pa.field("alt_geom", pa.float32()),  # ft; GNSS height
        pa.field("gs", pa.float32()),  # kt
        pa.field("track", pa.float32()),  # deg
        pa.field("vrate", pa.float32()),  # ft/min
        pa.field("callsign", pa.string()),
        pa.field("squawk", pa.string()),  # four octal digits as text, e.g. "7700"
        pa.field("on_ground", pa.bool_()),
        pa.field("emergency", pa.int8()),  # DF17 TC28 emergency state 0-7, null if unknown
        pa.field("source", pa.string()),  # format name, e.g. "beast", "readsb-trace"
        pa.field("file_id", pa.int64()),  # catalog id of the file the row came from
        pa.field("receiver", pa.string()),  # receiver id given at ingest, null if unknown
        pa.field("quality", pa.uint16(), nullable=False),  # Quality flags
    ]
)

#: Raw Mode S frames as framed by a reader (Beast, AVR, hex CSV...), before decoding.
#: ``msg`` holds the 7 or 14 bytes of the frame (Mode A/C frames are not kept).
#: ``offset`` is where the frame starts in the file (byte offset for binary
#: formats, 1-based line number for text formats), so errors can name it.
FRAMES = pa.schema(
    [
        pa.field("time", TIME, nullable=False),
        pa.field("msg", pa.binary(), nullable=False),
        pa.field("signal", pa.float32()),  # RSSI as the receiver gave it, null if none
        pa.field("offset", pa.int64(), nullable=False),
    ]
)

#: One row per leg: a continuous airborne movement from one ground state to the next.
LEGS = pa.schema(
    [
        pa.field("leg_id", pa.string(), nullable=False),  # "<HEX>-<start epoch seconds>"
        pa.field("icao24", pa.int32(), nullable=False),
        pa.field("callsign", pa.string()),  # first non-null callsign of the leg
        pa.field("t_start", TIME, nullable=False),
        pa.field("t_end", TIME, nullable=False),
        pa.field("origin", pa.string()),  # ICAO airport code, null when not evidenced
        pa.field("origin_confidence", pa.float32()),
        pa.field("origin_reason", pa.string(), nullable=False),
        pa.field("destination", pa.string()),
        pa.field("destination_confidence", pa.float32()),
        pa.field("destination_reason", pa.string(), nullable=False),
        pa.field("diverted_from", pa.string()),  # airport approached but not landed at
        pa.field("touch_and_go", pa.list_(pa.string())),  # airports touched and left again
        pa.field("go_around", pa.list_(pa.string())),  # airports with a go-around
        pa.field("n_points", pa.int32(), nullable=False),
        pa.field("first_lat", pa.float64()),
        pa.field("first_lon", pa.float64()),
        pa.field("first_alt", pa.float32()),
        pa.field("last_lat", pa.float64()),
        pa.field("last_lon", pa.float64()),
        pa.field("last_alt", pa.float32()),
        pa.field("max_alt", pa.float32()),
        pa.field("distance_km", pa.float32()),
    ]
)

#: One row per stop: the ground time at an airport between two legs.
STOPS = pa.schema(
    [
        pa.field("stop_id", pa.string(), nullable=False),
        pa.field("icao24", pa.int32(), nullable=False),
        pa.field("airport", pa.string()),  # null if the ground time was away from any airport
        pa.field("arrival", TIME),  # null when the data starts with the aircraft on the ground
        pa.field("departure", TIME),  # null when the data ends with the aircraft on the ground
        pa.field("dwell_s", pa.float64()),  # null if either end is unknown
        pa.field("arrival_leg_id", pa.string()),
        pa.field("departure_leg_id", pa.string()),
        pa.field("lat", pa.float64()),
        pa.field("lon", pa.float64()),
        pa.field("confidence", pa.float32(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
    ]
)

#: One row per finding (rotation, foreign operation, incident...).
FINDINGS = pa.schema(
    [
        pa.field("finding_id", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("subject", pa.string(), nullable=False),  # "062F01" or "operator:Niger Air Force"
        pa.field("icao24", pa.int32()),  # null for fleet-level findings
        pa.field("t_start", TIME, nullable=False),
        pa.field("t_end", TIME, nullable=False),
        pa.field("places", pa.list_(pa.string())),  # ICAO airport codes or country codes
        pa.field("confidence", pa.float32(), nullable=False),
        pa.field("summary", pa.string(), nullable=False),  # one human sentence
        pa.field("evidence", pa.string(), nullable=False),  # JSON: leg ids, time ranges, thresholds
    ]
)


def hex_of(icao24: int) -> str:
    """Six upper-case hex digits of an ICAO address.

    >>> hex_of(405249)
    '062F01'
    """
    return f"{icao24 & 0xFFFFFF:06X}"


def icao_of(text: str) -> int:
    """Parse a hex ICAO address (any case, optional ``~`` non-ICAO prefix stripped).

    Raises ``ValueError`` for anything that is not 1-6 hex digits.

    >>> icao_of("~ae503d")
    11423805
    """
    t = text.strip().lstrip("~")
    if not 1 <= len(t) <= 6:
        raise ValueError(f"not an ICAO 24-bit address: {text!r}")
    try:
        return int(t, 16)
    except ValueError:
        raise ValueError(f"not an ICAO 24-bit address: {text!r}") from None


TimeLike = datetime | date | str


def utc_time(value: TimeLike | None, end: bool = False) -> datetime | None:
    """A UTC datetime from a datetime, date or ISO text (naive and ``Z`` mean UTC).

    With ``end=True`` a bare date means the end of that day, as an exclusive bound (the next
    midnight). Raises ``ValueError`` naming the text when it is not ISO 8601.

    >>> utc_time("2023-08-20", end=True).isoformat()
    '2023-08-21T00:00:00+00:00'
    >>> utc_time("2023-08-20T10:00Z").isoformat()
    '2023-08-20T10:00:00+00:00'
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) <= 10 else datetime.fromisoformat(text)
        except ValueError as e:
            raise ValueError(f"not an ISO date or time: {text!r} ({e})") from None
    if not isinstance(value, datetime):
        start = datetime(value.year, value.month, value.day, tzinfo=UTC)
        return start + timedelta(days=1) if end else start
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def empty(schema: pa.Schema) -> pa.Table:
    """An empty table of ``schema`` (handy for kernels with nothing to say)."""
    return schema.empty_table()
