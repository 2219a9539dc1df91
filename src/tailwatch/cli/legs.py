"""``tailwatch legs`` and ``tailwatch stops``: where aircraft went, with the reason for each airport.

Both list the store's materialised tables, building them first (with a progress bar) when
ingests left aircraft stale.  ``--set name=value`` changes a threshold of
:class:`tailwatch.analysis.legs.LegParams`; the selected aircraft are then recomputed on
the fly from their positions (the stored tables are left alone).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import pyarrow as pa
import pyarrow.compute as pc
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tailwatch.cli.context import DB_OPTION, STORE_OPTION
from tailwatch.cli.options import parse_time
from tailwatch.cli.output import FORMAT_OPTION, Format, emit, messages
from tailwatch.schema import TIME

if TYPE_CHECKING:
    from tailwatch.identity import Identity

LEG_TABLE_COLUMNS = ["icao24", "callsign", "t_start", "t_end", "origin", "destination", "diverted_from",
                     "touch_and_go", "go_around", "origin_reason", "destination_reason"]
STOP_TABLE_COLUMNS = ["icao24", "airport", "arrival", "departure", "dwell_s", "confidence", "reason"]
#: Below this terminal width the table shows the narrow column sets (``--wide`` shows everything).
NARROW_BELOW = 120


def narrow_legs(table: pa.Table) -> pa.Table:
    """The legs table for a narrow terminal: who, when (start to the minute, end as a time of
    day, with its date only when later), from where to where, and one ``reason`` column
    joining the origin's and the destination's reasons (diversions, touch-and-go and
    go-around airports are in ``--wide`` and csv/json).

    >>> import datetime as dt
    >>> t0 = dt.datetime(2023, 8, 20, 6, 36, 37, tzinfo=dt.UTC)
    >>> t = pa.table({"icao24": [1], "callsign": ["X"], "t_start": [t0], "t_end": [t0 + dt.timedelta(hours=20)],
    ...               "origin": ["GABS"], "destination": [None], "origin_reason": ["on ground"],
    ...               "destination_reason": ["lost 40 km short"]})
    >>> row = narrow_legs(t).to_pylist()[0]
    >>> row["start"], row["end"], row["reason"]
    ('2023-08-20T06:36', '08-21T02:36', 'from: on ground; to: lost 40 km short')
    """
    reason = pc.binary_join_element_wise(
        "from: ", pc.fill_null(table["origin_reason"].cast(pa.string()), "-"),
        "; to: ", pc.fill_null(table["destination_reason"].cast(pa.string()), "-"), "")
    start, end = _short_times(table["t_start"], table["t_end"])
    return pa.table({"icao24": table["icao24"], "call": table["callsign"], "start": start, "end": end,
                     "from": table["origin"], "to": table["destination"], "reason": reason})


def _short_times(t0: pa.ChunkedArray, t1: pa.ChunkedArray) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """Start to the minute; end as a time of day, with month-day only when on a later day."""
    same_day = pc.equal(pc.strftime(t0, format="%Y-%m-%d"), pc.strftime(t1, format="%Y-%m-%d"))
    end = pc.if_else(pc.fill_null(same_day, True), pc.strftime(t1, format="%H:%M"),
                     pc.strftime(t1, format="%m-%dT%H:%M"))
    return pc.strftime(t0, format="%Y-%m-%dT%H:%M"), end


def narrow_stops(table: pa.Table) -> pa.Table:
    """The stops table for a narrow terminal: arrival to the minute, departure as a time of day,
    the dwell in hours and minutes, and the reason.

    >>> import datetime as dt
    >>> t0 = dt.datetime(2023, 8, 20, 8, 33, 24, tzinfo=dt.UTC)
    >>> t = pa.table({"icao24": [1], "airport": ["GAGO"], "arrival": [t0], "departure": [t0 + dt.timedelta(seconds=5286)],
    ...               "dwell_s": [5285.7], "reason": ["on ground"]})
    >>> row = narrow_stops(t).to_pylist()[0]
    >>> row["arrival"], row["departure"], row["dwell"]
    ('2023-08-20T08:33', '10:01', '1h28')
    """
    arrival, departure = _short_times(table["arrival"], table["departure"])
    minutes = pc.cast(pc.round(pc.divide(pc.cast(table["dwell_s"], pa.float64()), 60.0)), pa.int64())
    hours = pc.divide(minutes, 60)
    rest = pc.utf8_lpad(pc.cast(pc.subtract(minutes, pc.multiply(hours, 60)), pa.string()), width=2, padding="0")
    dwell = pc.binary_join_element_wise(pc.cast(hours, pa.string()), rest, "h")
    return pa.table({"icao24": table["icao24"], "airport": table["airport"], "arrival": arrival,
                     "departure": departure, "dwell": dwell, "reason": table["reason"]})




def parse_sets(items: list[str]) -> dict[str, float]:
    """``["max_gap_s=900"]`` → ``{"max_gap_s": 900.0}``, checked against :class:`LegParams`.

    >>> parse_sets(["max_gap_s=900"])
    {'max_gap_s': 900.0}
    """
    from tailwatch.analysis.legs import LegParams

    names = {f.name for f in dataclasses.fields(LegParams)}
    out: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in names:
            raise typer.BadParameter(f"--set wants name=value with name one of {', '.join(sorted(names))}; got {item!r}")
        try:
            out[key] = float(value)
        except ValueError:
            raise typer.BadParameter(f"--set {key}: not a number: {value!r}") from None
    return out


def _by_identity(ids_in: pa.Array, ident: Identity, operator: str | None, country: str | None) -> list[int]:
    info = ident.annotate(ids_in)
    keep = pa.array([True] * len(ids_in), pa.bool_())
    if operator:
        keep = pc.and_(keep, pc.fill_null(pc.match_substring(info["operator"], operator, ignore_case=True), False))
    if country:
        keep = pc.and_(keep, pc.fill_null(pc.equal(info["country_iso2"], country.upper()), False))
    return [int(x) for x in pc.filter(ids_in, keep).to_pylist()]


def _overlap(t0: pa.ChunkedArray, t1: pa.ChunkedArray, since: datetime | None, until: datetime | None) -> pa.Array:
    keep = pc.is_valid(pc.coalesce(t0, t1))
    if since is not None:
        keep = pc.and_(keep, pc.fill_null(pc.greater_equal(pc.coalesce(t1, t0), pa.scalar(since, TIME)), True))
    if until is not None:
        keep = pc.and_(keep, pc.fill_null(pc.less(pc.coalesce(t0, t1), pa.scalar(until, TIME)), True))
    return keep


def _listing(kind: Literal["legs", "stops"], aircraft: str | None, operator: str | None, country: str | None,
             airport: str | None, since: str | None, until: str | None, store: Path | None, db: Path | None,
             sets: list[str] | None, fmt: Format, out: Path | None, full: bool) -> None:
    from tailwatch.analysis.airports import load_airports
    from tailwatch.analysis.build import build_legs, stale_aircraft
    from tailwatch.analysis.legs import LegParams, legs_and_stops
    from tailwatch.cli.context import existing_store, resolve_aircraft, store_identity
    from tailwatch.errors import TailwatchError

    console = messages()
    narrow = Console().width < NARROW_BELOW
    t0, t1 = parse_time(since), parse_time(until, end=True)
    overrides = parse_sets(sets or [])
    try:
        st = existing_store(store)
        ident = store_identity(st, db) if (aircraft or operator or country) else None
    except TailwatchError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    ids = resolve_aircraft(ident, aircraft) if (aircraft and ident is not None) else None

    if overrides:
        params = LegParams(**overrides)  # type: ignore[arg-type]
        pad = timedelta(days=1)
        pos = st.positions(icao24=ids, since=t0 - pad if t0 else None, until=t1 + pad if t1 else None)
        legs, stops = legs_and_stops(pos, load_airports(), params)
        console.print(f"[dim]recomputed from {pos.num_rows:,} positions with {overrides}[/dim]")
    else:
        if stale_aircraft(st):
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=console) as bar:
                task = bar.add_task("legs and stops: aircraft", total=None)
                n = build_legs(st, progress=lambda d, t: bar.update(task, completed=d, total=t))
            console.print(f"[dim]legs and stops rebuilt for {n} aircraft with new data[/dim]")
        legs, stops = st.derived("legs"), st.derived("stops")

    table = legs if kind == "legs" else stops
    if ids is not None:
        table = table.filter(pc.is_in(table["icao24"], pa.array(ids, pa.int32())))
    if (operator or country) and ident is not None:
        involved = pc.unique(table["icao24"].combine_chunks())
        table = table.filter(pc.is_in(table["icao24"], pa.array(_by_identity(involved, ident, operator, country),
                                                                 pa.int32())))
    if kind == "legs":
        table = table.filter(_overlap(table["t_start"], table["t_end"], t0, t1))
        if airport:
            code = airport.upper()
            hit = pc.or_(pc.fill_null(pc.equal(table["origin"], code), False),
                         pc.fill_null(pc.equal(table["destination"], code), False))
            hit = pc.or_(hit, pc.fill_null(pc.equal(table["diverted_from"], code), False))
            for col in ("touch_and_go", "go_around"):
                hit = pc.or_(hit, _list_has(table[col], code))
            table = table.filter(hit)
        table = table.sort_by([("icao24", "ascending"), ("t_start", "ascending")])
        if full or fmt is not Format.table:
            shown = table
        else:
            shown = narrow_legs(table) if narrow else table.select(LEG_TABLE_COLUMNS)
    else:
        table = table.filter(_overlap(table["arrival"], table["departure"], t0, t1))
        if airport:
            table = table.filter(pc.fill_null(pc.equal(table["airport"], airport.upper()), False))
        if full or fmt is not Format.table:
            shown = table
        else:
            shown = narrow_stops(table) if narrow else table.select(STOP_TABLE_COLUMNS)
    if fmt is Format.table:  # whole seconds are enough to read
        for name in ("t_start", "t_end", "arrival", "departure"):
            if name in shown.column_names and pa.types.is_timestamp(shown.schema.field(name).type):
                i = shown.column_names.index(name)
                shown = shown.set_column(i, name, pc.floor_temporal(shown[name], unit="second"))
    if table.num_rows == 0 and fmt is Format.table:
        console.print(f"[yellow]no {kind} match (ingest data with `tailwatch ingest`, or widen the filters)[/yellow]")
    if narrow and fmt is Format.table and not full and table.num_rows:
        console.print("[dim]narrow terminal: fewer columns; --wide (or -f csv/json) shows them all[/dim]")
    emit(shown, fmt, out=out)


def _list_has(col: pa.ChunkedArray, code: str) -> pa.Array:
    """Rows whose list column contains ``code`` (vectorised through the flattened values)."""
    arr = col.combine_chunks()
    flat = pc.list_flatten(arr)
    owner = pc.list_parent_indices(arr)
    hits = pc.filter(owner, pc.fill_null(pc.equal(flat, code), False))
    return pc.is_in(pa.array(range(len(arr)), pa.int64()), pc.cast(hits, pa.int64()))


def register(app: typer.Typer) -> None:
    """Add ``legs`` and ``stops`` to the tailwatch app."""

    def make(kind: Literal["legs", "stops"], doc: str) -> None:
        def command(
            aircraft: Annotated[str | None, typer.Option("--aircraft", "-a", help="hex address, registration (or operator/type via the databases)")] = None,
            operator: Annotated[str | None, typer.Option("--operator", help="operator name or part of it (needs `tailwatch db update`)")] = None,
            country: Annotated[str | None, typer.Option("--country", help="ISO2 country of the aircraft's registry")] = None,
            airport: Annotated[str | None, typer.Option("--airport", help="ICAO airport code (origin, destination, touch-and-go, go-around, diversion; for stops: the stop's airport)")] = None,
            since: Annotated[str | None, typer.Option("--since", help="ISO date/time (UTC)")] = None,
            until: Annotated[str | None, typer.Option("--until", help="ISO date/time (a bare date includes that day)")] = None,
            store: Annotated[Path | None, STORE_OPTION] = None,
            db: Annotated[Path | None, DB_OPTION] = None,
            sets: Annotated[list[str] | None, typer.Option("--set", help="threshold override name=value, e.g. max_gap_s=900 (see docs/legs.md)")] = None,
            full: Annotated[bool, typer.Option("--wide", "--all-columns", help="show every column in the table format (narrow terminals get a short set)")] = False,
            fmt: Format = FORMAT_OPTION,
            out: Annotated[Path | None, typer.Option("--out", "-o", help="write to this file (parquet needs it)")] = None,
        ) -> None:
            _listing(kind, aircraft, operator, country, airport, since, until, store, db, sets, fmt, out, full)

        command.__doc__ = doc
        app.command(kind)(command)

    make("legs", "Legs of each aircraft: take-off and landing airports only where the data shows them, with reasons.")
    make("stops", "Stops: ground time at an airport between legs (arrival, departure, dwell), with reasons.")
