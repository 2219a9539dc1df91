"""``tailwatch findings``: list (and with ``--build``, compute) rotations, foreign operations,
basing, co-location, transponder gaps, incidents and spoofing, each with its evidence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tailwatch.cli.output import FORMAT_OPTION, Format, emit
from tailwatch.errors import InputError, NoDatabaseError, TailwatchError
from tailwatch.schema import icao_of

KINDS_HELP = "rotation, foreign_operation, basing, co_location, transponder_gap, incident, spoofing"


def _time(text: str | None, end: bool = False) -> datetime | None:
    if text is None:
        return None
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"not an ISO date or time: {text!r}") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    if end and len(text) == 10:  # a bare date includes that whole day
        t = t.replace(hour=23, minute=59, second=59, microsecond=999999)
    return t


def _identity(db: Path | None) -> Any:
    from tailwatch.identity import load_identity

    try:
        return load_identity(db, allow_missing=True)
    except (NoDatabaseError, InputError):
        return None


def _aircraft_ids(query: str, ident: Any) -> list[int]:
    """Addresses matching ``query``: a hex address, else whatever the identity lookup finds."""
    text = query.strip()
    if ident is not None:
        try:
            matches = ident.lookup(text, limit=20)
        except TailwatchError:
            matches = []
        if matches:
            best = matches[0].score
            return sorted({int(m.icao24) for m in matches if m.score >= best - 5})
    try:
        return [icao_of(text)]
    except ValueError:
        return []


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
        mentioned = pa.array([False] * t.num_rows)
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
        store: Annotated[Path | None, typer.Option("--store", help="store folder (default: XDG data folder)")] = None,
        db: Annotated[Path | None, typer.Option("--db", help="aircraft databases (default: XDG cache)")] = None,
        build: Annotated[bool, typer.Option("--build", help="compute the findings from legs, stops and positions first")] = False,
        config: Annotated[Path | None, typer.Option("--config", help="thresholds YAML (default: config dir findings.yaml)")] = None,
        sets: Annotated[list[str] | None, typer.Option("--set", help="override a threshold: section.name=value")] = None,
        evidence: Annotated[bool, typer.Option("--evidence", help="show the evidence JSON column in tables")] = False,
        fmt: Format = FORMAT_OPTION,
        out: Annotated[Path | None, typer.Option("--out", "-o", help="write to this file (parquet needs it)")] = None,
    ) -> None:
        """Patterns in the legs that make a story, each pointing back to the rows that prove it."""
        from tailwatch.analysis.findings.build import KINDS, build_findings
        from tailwatch.analysis.findings.config import load_config
        from tailwatch.store import open_store

        console = Console(stderr=True)
        bad = [k for k in kind or [] if k not in KINDS]
        if bad:
            raise typer.BadParameter(f"unknown kind(s) {', '.join(bad)}; known: {KINDS_HELP}")
        try:
            cfg = load_config(config, _parse_sets(sets or []), use_default_file=config is None)
        except (InputError, ValueError) as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
        try:
            st = open_store(store)
        except TailwatchError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
        ident = _identity(db) if (build or aircraft or operator or country) else None
        if build and st.derived("legs").num_rows == 0:
            console.print("[yellow]no legs in this store yet: rotations, foreign operations, basing, "
                          "co-location and gaps between legs need them — run `tailwatch build` "
                          "(legs, stops and findings) after ingest[/yellow]")
        if build:
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=console) as bar:
                task = bar.add_task("findings: positions", total=None)

                def tick(stage: str, done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total, description=f"findings: {stage}")

                n = build_findings(st, ident, cfg, tick)
            console.print(f"{n} findings written to {st.root}")
        table = st.derived("findings")
        if table.num_rows == 0 and not build:
            console.print("[yellow]no findings in this store yet: run `tailwatch findings --build` "
                          "(after ingest and legs)[/yellow]")
        ids = _aircraft_ids(aircraft, ident) if aircraft else None
        if aircraft and not ids:
            console.print(f"[red]no aircraft matches {aircraft!r}[/red]")
            raise typer.Exit(1)
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
                                country=country, country_ids=cc_ids, since=_time(since), until=_time(until, True))
        if fmt is Format.table and not evidence:
            # The sentence carries the exact times; the table keeps the start and a rounded confidence.
            shown = pa.table({
                "kind": shown.column("kind"), "subject": shown.column("subject"),
                "start": pc.strftime(shown.column("t_start"), format="%Y-%m-%d %H:%M"),
                "places": shown.column("places"), "conf": pc.round(shown.column("confidence"), 2),
                "summary": shown.column("summary")})
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
