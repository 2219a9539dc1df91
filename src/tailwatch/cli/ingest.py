"""``tailwatch ingest``, ``tailwatch track`` and ``tailwatch files``: put data in the store and look at it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pyarrow as pa
import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from tailwatch.cli.context import DB_OPTION, STORE_OPTION
from tailwatch.cli.options import parse_time
from tailwatch.cli.output import FORMAT_OPTION, Format, emit, messages, screen

if TYPE_CHECKING:
    from tailwatch.store import IngestReport, Store

FORMATS = ("auto", "beast", "avr", "sbs", "hexcsv", "rs1090", "readsb-trace", "readsb-hist", "opensky",
           "traffic", "fr24")



def _open(store: Path | None, create: bool = True) -> Store:
    """The store; commands that only read pass ``create=False`` (a mistyped --store fails, exit 2)."""
    from tailwatch.errors import StoreError
    from tailwatch.store import open_store

    try:
        return open_store(store, create=create)
    except StoreError as e:
        messages().print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from None


def parse_reference(text: str | None) -> tuple[float, float] | None:
    """``"LAT,LON"`` → (lat, lon), validated.

    >>> parse_reference("16.25,-0.01")
    (16.25, -0.01)
    """
    if text is None:
        return None
    try:
        lat_s, lon_s = text.split(",")
        lat, lon = float(lat_s), float(lon_s)
    except ValueError:
        raise typer.BadParameter(f"expected LAT,LON in degrees, got {text!r}") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise typer.BadParameter(f"LAT,LON out of range: {text!r}")
    return lat, lon




def _short_paths(paths: list[str]) -> list[str]:
    """Paths as short as they stay clear, for narrow terminals: relative to the working folder
    when inside it, else relative to the folder all the listed paths share.

    >>> _short_paths(["/data/a/x.json", "/data/b/y.json"])
    ['a/x.json', 'b/y.json']
    """
    cwd = os.getcwd()
    outside = [p for p in paths if os.path.isabs(p) and not p.startswith(cwd + os.sep)]
    base = ""
    if outside:
        common = os.path.commonpath(outside)
        base = common if len(outside) > 1 else os.path.dirname(common)
    out = []
    for p in paths:
        if os.path.isabs(p) and p.startswith(cwd + os.sep):
            out.append(os.path.relpath(p, cwd))
        elif base and os.path.isabs(p) and p.startswith(base):
            out.append(os.path.relpath(p, base))
        else:
            out.append(p)
    return out


def _explain(reason: str) -> str:
    """What a reject reason means, when the decoder documents it ('' otherwise)."""
    from tailwatch.decode import REASON_HELP

    return REASON_HELP.get(reason, "")


def _drop_explanations(text: str) -> str:
    """``text`` without the decoder's long explanations (the rejects table shows each once)."""
    from tailwatch.decode import REASON_HELP

    for help_text in REASON_HELP.values():
        text = text.replace(f" ({help_text})", "")
    return text


def rejects_table(report: IngestReport, *, short: bool = False) -> pa.Table:
    """Rejected inputs by reason: count, what the reason means, and one sample's place and detail.

    The sample does not repeat the reason; ``short`` (the terminal) names the file without its
    folder and puts the explanation beside the reason.
    """
    merged = report.rejects
    reasons = sorted(merged.counts, key=lambda r: -merged.counts[r])
    samples = []
    for r in reasons:
        s = next((x for x in merged.samples if x.reason == r), None)
        if s is None:
            samples.append("")
            continue
        detail = s.detail
        if detail.startswith(r):  # "cannot tell the format: starts with ..." under "cannot tell the format"
            detail = detail[len(r):].lstrip(" :")
        where = f"{Path(s.path).name if short else s.path} {s.location}"
        samples.append(f"{where}: {detail}" if detail else where)
    explained = [_explain(r) for r in reasons]
    if short:
        return pa.table({
            "reason": pa.array([f"{r} ({e})" if e else r for r, e in zip(reasons, explained, strict=True)],
                               pa.string()),
            "count": pa.array([merged.counts[r] for r in reasons], pa.int64()),
            "sample": pa.array(samples, pa.string()),
        })
    return pa.table({
        "reason": pa.array(reasons, pa.string()),
        "count": pa.array([merged.counts[r] for r in reasons], pa.int64()),
        "explanation": pa.array(explained, pa.string()),
        "sample": pa.array(samples, pa.string()),
    })


def files_table(report: IngestReport, receiver: str | None, *, short: bool = False) -> pa.Table:
    """The per-file summary: every column for csv/json; for the terminal (``short``) the file
    name, status, format, receiver, stored, duplicates, rejects and the problem in short."""
    table = report.to_table()
    receivers = pa.array([receiver] * table.num_rows, pa.string())
    table = table.add_column(table.schema.get_field_index("format") + 1, "receiver", receivers)
    if not short:
        return table
    names = _short_paths(table.column("path").to_pylist())
    problems = [None if p is None else _drop_explanations(p) for p in table.column("problem").to_pylist()]
    return pa.table({
        "file": pa.array(names, pa.string()), "status": table.column("status"),
        "format": table.column("format"), "receiver": receivers,
        "stored": table.column("rows_stored"), "dupes": table.column("duplicates"),
        "rejects": table.column("rejects"), "problem": pa.array(problems, pa.string()),
    })


def _run_ingest(st: Store, paths: list[str], fmt: str, receiver: str | None,
                reader_options: dict[str, Any] | None, reference: tuple[float, float] | None,
                quiet: bool) -> IngestReport:
    from tailwatch.store.ingest import expand_paths

    files, _missing = expand_paths(paths)
    total = sum(f.stat().st_size for f in files if f.exists())
    console = messages()
    columns = (
        TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
        TextColumn("{task.fields[rows]:,} rows"), TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, disable=quiet or not console.is_terminal, transient=False) as bar:
        task = bar.add_task("ingest", total=total or None, rows=0)
        seen: dict[str, int] = {}
        rows_before: dict[str, int] = {}
        rows_total = [0]

        def progress(path: str, done: int, _size: int, rows: int) -> None:
            delta = done - seen.get(path, 0)
            seen[path] = done
            rows_total[0] += rows - rows_before.get(path, 0)
            rows_before[path] = rows
            bar.update(task, advance=max(delta, 0), rows=rows_total[0], description=Path(path).name[:30])

        return st.ingest(paths, format=fmt, receiver=receiver, reader_options=reader_options,
                         reference=reference, progress=progress)


def register(app: typer.Typer) -> None:
    """Add ``ingest``, ``track`` and ``files`` to the tailwatch app."""

    @app.command()
    def ingest(
        paths: Annotated[list[str], typer.Argument(help="Files, folders (searched recursively) or globs; .gz is fine.")],
        store: Annotated[Path | None, STORE_OPTION] = None,
        fmt: Annotated[str, typer.Option("--format", help="Input format: " + "|".join(FORMATS))] = "auto",
        receiver: Annotated[str | None, typer.Option("--receiver", help="Receiver id recorded with every row.")] = None,
        start_time: Annotated[str | None, typer.Option("--start-time", help="ISO time of the first frame, for captures without absolute times.")] = None,
        reference: Annotated[str | None, typer.Option("--reference", help="Receiver site LAT,LON (surface and local CPR positions).")] = None,
        sbs_tz: Annotated[str | None, typer.Option("--sbs-tz", help="IANA time zone of SBS date/time fields (default UTC).")] = None,
        summary: Annotated[Format, typer.Option("--summary", help="Summary as table, csv or json.")] = Format.table,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    ) -> None:
        """Ingest ADS-B / Mode S files into the store (idempotent; safe to interrupt and re-run)."""
        if fmt not in FORMATS:
            raise typer.BadParameter(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}", param_hint="--format")
        t0 = parse_time(start_time)
        ref = parse_reference(reference)
        st = _open(store)
        options: dict[str, Any] = {}
        if t0 is not None:
            options["start_time"] = t0
        if sbs_tz is not None:
            options["sbs_tz"] = sbs_tz
        report = _run_ingest(st, paths, fmt, receiver, options or None, ref, quiet)
        err = messages()
        for f in report.files:
            if f.error:
                err.print(f"[yellow]warning:[/yellow] {_drop_explanations(f.error)}", highlight=False)
        if summary is Format.json:
            doc = {
                "files": files_table(report, receiver).to_pylist(),
                "rejects": rejects_table(report).to_pylist(),
                "rows_stored": report.rows_stored,
                "duplicates": report.duplicates,
            }
            sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        else:
            fmt_out = Format.csv if summary is Format.csv else Format.table
            short = fmt_out is Format.table
            emit(files_table(report, receiver, short=short), fmt_out, title="Files")
            if report.rejects.total:
                emit(rejects_table(report, short=short), fmt_out, title="Rejected inputs")
            if fmt_out is Format.table:
                stored = sum(1 for f in report.files if f.status == "stored")
                skipped = sum(1 for f in report.files if f.status == "skipped")
                failed = sum(1 for f in report.files if f.status == "failed")
                screen().print(
                    f"{report.rows_stored:,} rows stored from {stored} file(s); {report.duplicates:,} duplicates"
                    f" skipped; {skipped} file(s) already in the store; {failed} failed;"
                    f" {report.rejects.total:,} inputs rejected.", highlight=False)
                screen().print(f"Store: {st.root}", highlight=False)
        if not report.ok:
            raise typer.Exit(1)

    @app.command()
    def track(
        aircraft: Annotated[str, typer.Argument(metavar="AIRCRAFT", help="ICAO address (062F01), or a registration, operator or type as --aircraft takes it (5U-MBH).")],
        since: Annotated[str | None, typer.Option("--since", help="ISO date/time (UTC) of the first position.")] = None,
        until: Annotated[str | None, typer.Option("--until", help="ISO date/time (UTC), exclusive; a date includes the day.")] = None,
        fmt: Format = FORMAT_OPTION,
        out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")] = None,
        store: Annotated[Path | None, STORE_OPTION] = None,
        db: Annotated[Path | None, DB_OPTION] = None,
    ) -> None:
        """Positions of an aircraft (or of every aircraft the query names), in time order."""
        from tailwatch.cli.context import describe_selection, resolve_aircraft, store_identity

        for value in (since, until):
            if value is not None:
                parse_time(value)
        st = _open(store, create=False)
        ids = resolve_aircraft(store_identity(st, db), aircraft)
        table = st.positions(icao24=ids, since=since, until=until)
        emit(table, fmt, out=out, title=f"{aircraft} ({describe_selection(ids)}): {table.num_rows} positions")

    @app.command()
    def files(
        fmt: Format = FORMAT_OPTION,
        store: Annotated[Path | None, STORE_OPTION] = None,
    ) -> None:
        """Files in the store with rows read/stored, duplicates, rejects and status."""
        st = _open(store, create=False)
        table = st.files().select(
            ["file_id", "path", "format", "receiver", "status", "rows_read", "rows_stored", "duplicates",
             "rejects", "error", "finished"])
        emit(table, fmt, title=f"Files in {st.root}")
