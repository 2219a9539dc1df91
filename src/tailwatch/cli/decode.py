"""``tailwatch decode FILE...``: decode raw Mode S captures to positions without a store.

Reads Beast / AVR / hex-CSV / rs1090-JSONL files (format from content), decodes them with
the columnar decoder (one :class:`~tailwatch.decode.Decoder` per file, chunk by chunk) and
prints the rows with ``--format table|csv|json|parquet``. Rejected frames are summarised on
stderr by reason, with the first example's file and offset.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from tailwatch.cli.output import FORMAT_OPTION, Format, emit, messages
from tailwatch.errors import InputError, Rejects
from tailwatch.schema import POSITIONS, icao_of


def _reference(text: str | None) -> tuple[float, float] | None:
    if not text:
        return None
    try:
        lat, lon = (float(x) for x in text.split(","))
    except ValueError:
        raise typer.BadParameter(f"expected LAT,LON, got {text!r}") from None
    return lat, lon


def decode_files(
    paths: list[Path], reference: tuple[float, float] | None, rejects: Rejects, fmt: str = "auto"
) -> pa.Table:
    """Decode raw-frame files into one POSITIONS table (files that hold decoded positions are refused)."""
    from tailwatch.decode import Decoder
    from tailwatch.sources import detect, get_reader

    parts: list[pa.RecordBatch] = []
    total = sum(p.stat().st_size for p in paths if p.is_file())
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  transient=True, console=messages()) as bar:
        task = bar.add_task("decoding", total=total)
        done = 0
        for path in paths:
            try:
                name = detect(path) if fmt == "auto" else fmt
                decoder = Decoder(reference=reference, source=name)
                for chunk in get_reader(name).read(path, rejects):
                    if chunk.kind != "frames":
                        rejects.add("not a raw-frame file", str(path), "file", f"format {name}")
                        break
                    parts.append(decoder.decode(chunk.batch, str(path), rejects))
                    bar.update(task, completed=done + chunk.bytes_read)
            except (InputError, ValueError, OSError) as exc:
                rejects.add("unreadable file", str(path), "file", str(exc))
            done += path.stat().st_size if path.is_file() else 0
            bar.update(task, completed=done)
    return pa.Table.from_batches(parts, schema=POSITIONS)


PATHS = typer.Argument(..., help="raw-frame files (Beast, AVR, hex CSV, rs1090 JSONL; .gz ok)")
REFERENCE = typer.Option(None, "--reference", help="receiver site LAT,LON (for surface positions)")
AIRCRAFT = typer.Option(None, "--aircraft", help="only this ICAO address (hex)")
POSITIONS_ONLY = typer.Option(False, "--positions", help="only rows with a latitude/longitude")
OUT = typer.Option(None, "--out", "-o", help="write to this file instead of stdout")
INPUT_FORMAT = typer.Option("auto", "--input-format", help="force a reader (default: detect from content)")
#: Columns shown by ``--format table`` (the terminal is narrow; csv/json/parquet get all).
TABLE_COLUMNS = ["time", "icao24", "lat", "lon", "alt_baro", "gs", "track", "vrate", "callsign", "squawk", "on_ground"]


def register(app: typer.Typer) -> None:
    """Add ``tailwatch decode`` to the app."""

    @app.command("decode")
    def decode_cmd(
        paths: list[Path] = PATHS,
        reference: str | None = REFERENCE,
        aircraft: str | None = AIRCRAFT,
        positions_only: bool = POSITIONS_ONLY,
        fmt: Format = FORMAT_OPTION,
        out: Path | None = OUT,
        input_format: str = INPUT_FORMAT,
    ) -> None:
        """Decode raw Mode S captures to positions (no store), e.g. ``tailwatch decode capture.bin -f csv``."""
        rejects = Rejects()
        table = decode_files(paths, _reference(reference), rejects, input_format)
        if aircraft:
            table = table.filter(pc.equal(table.column("icao24"), icao_of(aircraft)))
        if positions_only:
            table = table.filter(pc.is_valid(table.column("lat")))
        table = table.drop_columns(["file_id", "receiver"])
        if Format(fmt) is Format.table:
            table = table.select(TABLE_COLUMNS)
        emit(table, fmt, out=out)
        err = messages()
        for reason, n in sorted(rejects.counts.items(), key=lambda kv: -kv[1]):
            sample = next((s for s in rejects.samples if s.reason == reason), None)
            err.print(f"[yellow]{n:,} rejected: {reason}[/yellow]" + (f" (first: {sample})" if sample else ""))
