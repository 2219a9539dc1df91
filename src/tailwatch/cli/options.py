"""Option values shared by several commands, parsed one way (light: no store, no duckdb)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import typer


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
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as e:
        raise typer.BadParameter(f"{text!r} is not an ISO date or time ({e}); e.g. 2023-08-20 or "
                                 "2023-08-20T06:30") from None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if end and len(text.strip()) <= 10:
        value += timedelta(days=1) - timedelta(microseconds=1)
    return value
