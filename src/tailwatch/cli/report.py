"""``tailwatch report``: the dossier of one aircraft (or an operator's fleet) as offline HTML,
GeoJSON, KML and CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
import typer

from tailwatch.cli.context import (
    DB_OPTION,
    STORE_OPTION,
    describe_selection,
    existing_store,
    resolve_aircraft,
    store_identity,
)
from tailwatch.cli.options import parse_time
from tailwatch.cli.output import screen
from tailwatch.schema import hex_of


def dossier_title(query: str, addresses: list[int], facts: list[dict[str, Any]]) -> str:
    """Heading of the dossier: who the aircraft is, not the query repeated.

    >>> dossier_title("5U-MBH", [0x062F01], [{"registration": "5U-MBH", "type_desc": "Lockheed C-130H Hercules",
    ...                                        "typecode": "C130", "operator": "Niger Air Force"}])
    '5U-MBH (062F01) — Lockheed C-130H Hercules, Niger Air Force'
    >>> dossier_title("Niger Air Force", [0x062F01, 0x062F0F], [{"registration": "5U-MBH"}, {"registration": "5U-MBI"}])
    'Niger Air Force — 5U-MBH, 5U-MBI'
    >>> dossier_title("062F01", [0x062F01], [{}])
    '062F01'
    """
    if len(addresses) == 1:
        f = facts[0] if facts else {}
        reg = f.get("registration")
        head = f"{reg} ({hex_of(addresses[0])})" if reg else hex_of(addresses[0])
        what = [x for x in (f.get("type_desc") or f.get("typecode"), f.get("operator")) if x]
        return head + (" — " + ", ".join(what) if what else "")
    regs = [str(f["registration"]) for f in facts if f.get("registration")]
    listed = ", ".join(regs[:3]) + (f" and {len(addresses) - 3} more" if len(addresses) > 3 else "")
    return f"{query} — " + (listed if regs else describe_selection(addresses))


def make_report(store_path: Path | None, aircraft: str, out: Path, since: str | None = None,
                until: str | None = None, db: Path | None = None) -> dict[str, Path]:
    """Build the dossier of ``aircraft`` from the store and write it to ``out``."""
    from tailwatch.report.dossier import collect
    from tailwatch.report.html import write_dossier

    first, last = parse_time(since), parse_time(until, end=True)
    store = existing_store(store_path)
    ident = store_identity(store, db)
    addresses = resolve_aircraft(ident, aircraft)
    annotation = ident.annotate(pa.array(addresses, pa.int32()))
    title = dossier_title(aircraft, addresses, annotation.to_pylist())
    dossier = collect(store, addresses, annotation, first, last, title=title)
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
        console = screen()
        with console.status("building the dossier"):
            paths = make_report(store, aircraft, out, since, until, db)
        console.print(f"dossier written: [bold]{paths['html']}[/bold]")
        for key, path in paths.items():
            if key != "html":
                console.print(f"  {path}")
