"""``tailwatch findings``: list (and with ``--build``, compute) rotations, foreign operations,
basing, co-location, transponder gaps, incidents and spoofing, each with its evidence."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tailwatch.cli.context import DB_OPTION, STORE_OPTION
from tailwatch.cli.options import parse_time
from tailwatch.cli.output import FORMAT_OPTION, Format, emit, messages
from tailwatch.errors import InputError, TailwatchError

#: Below this terminal width the table leaves out places and confidence.
NARROW_BELOW = 120
KINDS_HELP = "rotation, foreign_operation, basing, co_location, transponder_gap, incident, spoofing"




def filter_findings(table: pa.Table, *, kinds: list[str] | None = None, icao24: list[int] | None = None,
                    operator_ids: list[int] | None = None, operator: str | None = None,
                    country: str | None = None, country_ids: list[int] | None = None,
                    since: datetime | None = None, until: datetime | None = None) -> pa.Table:
    """Apply the CLI filters to a ``FINDINGS`` table (aircraft-level and fleet-level rows alike)."""
    t = table
    if kinds:
        t = t.filter(pc.is_in(t.column("kind"), value_set=pa.array(kinds)))

    def involves(ids: list[int]) -> pa.Array:
        hexes = [f"{i:06X}" for i in ids]
        own = pc.fill_null(pc.is_in(t.column("icao24"), value_set=pa.array(ids, pa.int32())), False)
        ev = t.column("evidence")
        mentioned = pa.array([False] * t.num_rows, pa.bool_())  # typed: an empty list is null-typed
        for h in hexes[:50]:  # fleet and co-location rows list their aircraft in the evidence
            mentioned = pc.or_(mentioned, pc.match_substring(ev, f'"{h}"'))
        return pc.or_(own, mentioned)

    if icao24 is not None:
        t = t.filter(involves(icao24))
    if operator is not None:
        by_subject = pc.match_substring(t.column("subject"), f"operator:{operator}", ignore_case=True)
        t = t.filter(pc.or_(by_subject, involves(operator_ids or [])))
    if country is not None:
        cc = country.upper()
        in_places = pa.array([cc in (p or []) for p in t.column("places").to_pylist()])
        t = t.filter(pc.or_(in_places, involves(country_ids or [])))
    if since is not None:
        t = t.filter(pc.greater_equal(t.column("t_end"), pa.scalar(since, t.schema.field("t_end").type)))
    if until is not None:
        t = t.filter(pc.less_equal(t.column("t_start"), pa.scalar(until, t.schema.field("t_start").type)))
    return t


def _parse_sets(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or "." not in key:
            raise typer.BadParameter(f"--set wants section.name=value, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def register(app: typer.Typer) -> None:
    """Add ``findings`` to the tailwatch app."""

    @app.command("findings")
    def findings(
        kind: Annotated[list[str] | None, typer.Option("--kind", "-k", help=f"only these kinds: {KINDS_HELP}")] = None,
        aircraft: Annotated[str | None, typer.Option("--aircraft", "-a", help="hex address or registration")] = None,
        operator: Annotated[str | None, typer.Option("--operator", help="operator name (part of it)")] = None,
        country: Annotated[str | None, typer.Option("--country", help="ISO country code (registry or places)")] = None,
        since: Annotated[str | None, typer.Option("--since", help="ISO date/time")] = None,
        until: Annotated[str | None, typer.Option("--until", help="ISO date/time (a bare date includes the day)")] = None,
        store: Annotated[Path | None, STORE_OPTION] = None,
        db: Annotated[Path | None, DB_OPTION] = None,
        build: Annotated[bool, typer.Option("--build", help="recompute the findings even when they look up to date (they are built automatically when missing or older than the data)")] = False,
        config: Annotated[Path | None, typer.Option("--config", help="thresholds YAML (default: config dir findings.yaml)")] = None,
        sets: Annotated[list[str] | None, typer.Option("--set", help="override a threshold: section.name=value")] = None,
        evidence: Annotated[bool, typer.Option("--evidence", help="show the evidence JSON column in tables")] = False,
        fmt: Format = FORMAT_OPTION,
        out: Annotated[Path | None, typer.Option("--out", "-o", help="write to this file (parquet needs it)")] = None,
    ) -> None:
        """Patterns in the legs that make a story, each pointing back to the rows that prove it."""
        from tailwatch.analysis.build import build_legs, stale_aircraft
        from tailwatch.analysis.findings.build import KINDS, build_findings
        from tailwatch.analysis.findings.config import load_config
        from tailwatch.cli.context import existing_store, resolve_aircraft, store_identity

        console = messages()
        bad = [k for k in kind or [] if k not in KINDS]
        if bad:
            raise typer.BadParameter(f"unknown kind(s) {', '.join(bad)}; known: {KINDS_HELP}")
        try:
            cfg = load_config(config, _parse_sets(sets or []), use_default_file=config is None)
        except (InputError, ValueError) as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
        try:
            st = existing_store(store)
            needs_build = build or stale_aircraft(st) or st.derived_outdated("findings", ("legs", "stops"))
            ident = store_identity(st, db) if (needs_build or aircraft or operator or country) else None
        except TailwatchError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
        ids = resolve_aircraft(ident, aircraft) if (aircraft and ident is not None) else None
        if needs_build:
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=console) as bar:
                if stale_aircraft(st):  # as `tailwatch legs` does: findings stand on fresh legs
                    legs_task = bar.add_task("legs and stops: aircraft", total=None)
                    built = build_legs(st, progress=lambda d, t: bar.update(legs_task, completed=d, total=t))
                    console.print(f"[dim]legs and stops rebuilt for {built} aircraft with new data[/dim]")
                task = bar.add_task("findings: positions", total=None)

                def tick(stage: str, done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total, description=f"findings: {stage}")

                n = build_findings(st, ident, cfg, tick)
            console.print(f"[dim]{n} findings written to {st.root}[/dim]")
            if st.derived("legs").num_rows == 0:
                console.print("[yellow]no legs in this store: rotations, foreign operations, basing, "
                              "co-location and gaps between legs need positions that make legs — "
                              "ingest data with `tailwatch ingest`[/yellow]")
        table = st.derived("findings")
        op_ids: list[int] = []
        cc_ids: list[int] = []
        involved = pc.unique(table.column("icao24").drop_null()) if table.num_rows else pa.array([], pa.int32())
        if (operator or country) and len(involved):
            from tailwatch.analysis.findings.build import aircraft_table

            info = aircraft_table(involved, ident)
            if operator and "operator" in info.column_names:
                m = pc.fill_null(pc.match_substring(info.column("operator"), operator, ignore_case=True), False)
                op_ids = info.filter(m).column("icao24").to_pylist()
            if country:
                m = pc.fill_null(pc.equal(info.column("country_iso2"), country.upper()), False)
                cc_ids = info.filter(m).column("icao24").to_pylist()
        shown = filter_findings(table, kinds=kind or None, icao24=ids, operator_ids=op_ids, operator=operator,
                                country=country, country_ids=cc_ids, since=parse_time(since), until=parse_time(until, True))
        if fmt is Format.table and shown.num_rows == 0:
            console.print("[yellow]no findings match (ingest more data, or widen the filters)[/yellow]")
        if fmt is Format.table and not evidence:
            # The sentence carries the exact times; the table keeps the start and a rounded confidence
            # (and on a narrow terminal leaves places and confidence to --evidence, csv and json).
            cols = {"kind": shown.column("kind"), "subject": shown.column("subject"),
                    "start": pc.strftime(shown.column("t_start"), format="%Y-%m-%d %H:%M"),
                    "places": shown.column("places"), "conf": pc.round(shown.column("confidence"), 2),
                    "summary": shown.column("summary")}
            if Console().width < NARROW_BELOW:
                cols = {k: v for k, v in cols.items() if k not in ("places", "conf")}
            shown = pa.table(cols)
        if fmt is Format.json:
            # evidence is JSON text; hand it to scripts as JSON, not as a quoted string.
            rows = shown.to_pylist()
            for r in rows:
                r["evidence"] = orjson.loads(r["evidence"])
                r["icao24"] = None if r["icao24"] is None else f"{r['icao24']:06X}"
                for k in ("t_start", "t_end"):
                    r[k] = r[k].strftime("%Y-%m-%dT%H:%M:%SZ")
            data = orjson.dumps(rows, option=orjson.OPT_INDENT_2) + b"\n"
            if out:
                out.write_bytes(data)
            else:
                typer.echo(data.decode(), nl=False)
            return
        emit(shown, fmt, out=out)
