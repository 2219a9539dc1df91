"""Option values shared by several commands, parsed one way (light: no store, no duckdb)."""

from __future__ import annotations

from datetime import datetime, timedelta

import typer

from tailwatch.schema import utc_time


def parse_time(text: str | None, end: bool = False) -> datetime | None:
    """A ``--since``/``--until`` value as an aware UTC datetime (naive and ``Z`` mean UTC).

    With ``end=True`` a bare date covers that whole day (its last microsecond).
    Raises ``typer.BadParameter`` naming the text when it is not ISO 8601.

    >>> parse_time("2023-08-20T10:00").isoformat()
    '2023-08-20T10:00:00+00:00'
    >>> parse_time("2023-08-20", end=True).isoformat()
    '2023-08-20T23:59:59.999999+00:00'
    """
    if not text:
        return None
    try:
        start, value = utc_time(text), utc_time(text, end=end)
    except ValueError as e:
        raise typer.BadParameter(f"{e}; e.g. 2023-08-20 or 2023-08-20T06:30") from None
    assert start is not None and value is not None
    # a bare date as an end: the commands' filters want an inclusive bound, its last microsecond
    return value - timedelta(microseconds=1) if value != start else value
