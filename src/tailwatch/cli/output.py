"""Print an Arrow table the way the user asked: ``table``, ``csv``, ``json`` or ``parquet``.

Every listing command uses :func:`emit`, so ``--format`` means the same thing
everywhere. ``json`` is one JSON document (a list of row objects) a script can
parse; times are ISO 8601 UTC and ``icao24`` is shown as six hex digits.
"""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import typer
from rich.console import Console
from rich.table import Table


class Format(str, enum.Enum):
    """Output formats of listing commands."""

    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


FORMAT_OPTION = typer.Option(Format.table, "--format", "-f", help="table, csv, json or parquet")


def _display(table: pa.Table) -> pa.Table:
    """Human-facing copy: icao24 as hex text, times as ISO strings, lists joined."""
    cols = []
    for name in table.column_names:
        col = table.column(name)
        t = col.type
        if name == "icao24" and pa.types.is_integer(t):
            col = pc.utf8_upper(
                pc.utf8_lpad(
                    pa.chunked_array(
                        [pa.array([None if v is None else f"{v:06x}" for v in c.to_pylist()], pa.string())
                         for c in col.chunks],
                        pa.string(),
                    ),
                    width=6,
                    padding="0",
                )
            )
        elif pa.types.is_timestamp(t):
            col = pc.strftime(col, format="%Y-%m-%dT%H:%M:%SZ")
        elif pa.types.is_list(t):
            col = pa.chunked_array(
                [pa.array([None if v is None else ",".join(map(str, v)) for v in c.to_pylist()], pa.string())
                 for c in col.chunks],
                pa.string(),
            )
        cols.append(col)
    return pa.table(cols, names=table.column_names)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.5g}" if abs(value) < 1e6 else f"{value:.0f}"
    return str(value)


def emit(
    table: pa.Table,
    fmt: Format | str = Format.table,
    *,
    title: str | None = None,
    out: Path | None = None,
    console: Console | None = None,
) -> None:
    """Write ``table`` to stdout (or ``out``) in format ``fmt``.

    ``parquet`` needs ``out`` or writes binary Parquet to stdout.
    """
    fmt = Format(fmt)
    if fmt is Format.parquet:
        sink = str(out) if out else pa.PythonFile(sys.stdout.buffer, mode="w")
        pq.write_table(table, sink)
        return
    shown = _display(table)
    if fmt is Format.csv:
        sink_path = str(out) if out else pa.PythonFile(sys.stdout.buffer, mode="w")
        pacsv.write_csv(shown, sink_path)
        return
    if fmt is Format.json:
        data = orjson.dumps(shown.to_pylist(), option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY)
        if out:
            out.write_bytes(data + b"\n")
        else:
            sys.stdout.buffer.write(data + b"\n")
            sys.stdout.flush()
        return
    console = console or Console()
    rich_table = Table(title=title, show_lines=False)
    for name in shown.column_names:
        rich_table.add_column(name, overflow="fold")
    for row in shown.to_pylist():
        rich_table.add_row(*(_cell(row[n]) for n in shown.column_names))
    console.print(rich_table)
    if title is None:
        console.print(f"[dim]{table.num_rows} rows[/dim]")
