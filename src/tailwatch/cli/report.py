"""``tailwatch report``: the dossier of one aircraft (or an operator's fleet) as offline HTML,
GeoJSON, KML and CSV."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import typer
from rich.console import Console

from tailwatch.cli.context import (
    DB_OPTION,
    STORE_OPTION,
    describe_selection,
    get_store,
    resolve_aircraft,
    store_identity,
)


def _when(text: str | None, end: bool = False) -> dt.datetime | None:
    if not text:
        return None
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    if end and len(text) <= 10:  # a bare date means the whole day
        value += dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    return value


def make_report(store_path: Path | None, aircraft: str, out: Path, since: str | None = None,
                until: str | None = None, db: Path | None = None) -> dict[str, Path]:
    """Build the dossier of ``aircraft`` from the store and write it to ``out``."""
    from tailwatch.report.dossier import collect
    from tailwatch.report.html import write_dossier

    store = get_store(store_path)
    ident = store_identity(store, db)
    addresses = resolve_aircraft(ident, aircraft)
    annotation = ident.annotate(pa.array(addresses, pa.int32()))
    regs = [r for r in annotation["registration"].to_pylist() if r] if "registration" in annotation.column_names else []
    title = f"{aircraft} — " + (", ".join(regs[:3]) if regs else describe_selection(addresses))
    dossier = collect(store, addresses, annotation, _when(since), _when(until, end=True), title=title)
    return write_dossier(dossier, out)


def register(app: typer.Typer) -> None:
    """Add ``report`` to the app."""

    @app.command("report")
    def report_cmd(
        aircraft: Annotated[str, typer.Option("--aircraft", "-a", help="hex, registration (any spelling), operator or type")],
        out: Annotated[Path, typer.Option("--out", "-o", help="folder for dossier.html, .kml, .geojson, .csv")] = Path("dossier"),
        since: Annotated[str | None, typer.Option("--since", help="ISO date or time (UTC)")] = None,
        until: Annotated[str | None, typer.Option("--until", help="ISO date or time (UTC)")] = None,
        store: Annotated[Path | None, STORE_OPTION] = None,
        db: Annotated[Path | None, DB_OPTION] = None,
    ) -> None:
        """Write an offline dossier: map of legs and stops, timeline, findings with evidence, identity card."""
        console = Console()
        with console.status("building the dossier"):
            paths = make_report(store, aircraft, out, since, until, db)
        console.print(f"dossier written: [bold]{paths['html']}[/bold]")
        for key, path in paths.items():
            if key != "html":
                console.print(f"  {path}")
