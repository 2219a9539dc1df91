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
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text


class Format(enum.StrEnum):
    """Output formats of listing commands."""

    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


FORMAT_OPTION = typer.Option(Format.table, "--format", "-f", help="table, csv, json or parquet")


def screen() -> Console:
    """The stdout console for what a command says besides its listing.

    Like :func:`messages`, its lines never fold, so a path or a suggested command stays
    one copyable line; tables printed on it still fit the terminal.
    """
    return Console(soft_wrap=True)


def messages() -> Console:
    """The stderr console for warnings, errors and reject reports.

    Its lines never fold at the terminal width, so a message that names a file and the
    line or byte offset in it stays on one line: greppable, and copyable as one piece.
    Progress bars drawn on it still fit the terminal.
    """
    return Console(stderr=True, soft_wrap=True)


def _iso_times(col: pa.ChunkedArray, whole_seconds: bool) -> pa.ChunkedArray:
    """ISO 8601 UTC text of a timestamp column.

    Sub-second digits are kept only for machines (``whole_seconds=False``) and only when
    the column has any: ``2023-08-20T06:36:38Z``, not ``...38.000000Z``.
    """
    unit = col.type.unit
    if unit != "s":
        floored = pc.floor_temporal(col, unit="second")
        if whole_seconds or not pc.any(pc.not_equal(col, floored)).as_py():
            col = floored.cast(pa.timestamp("s", tz=col.type.tz))
    return pc.strftime(col, format="%Y-%m-%dT%H:%M:%SZ")


def _display(table: pa.Table, *, human: bool = False) -> pa.Table:
    """Copy for output: icao24 as hex text, times as ISO strings, lists joined.

    float32 columns are widened through their shortest text (0.9, not 0.8999999761581421);
    ``human`` (the terminal table) shows times to the second.
    """
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
            col = _iso_times(col, whole_seconds=human)
        elif pa.types.is_float32(t):
            col = col.cast(pa.string()).cast(pa.float64())
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
    if fmt is Format.csv:
        shown = _display(table)
        sink_path = str(out) if out else pa.PythonFile(sys.stdout.buffer, mode="w")
        pacsv.write_csv(shown, sink_path)
        return
    if fmt is Format.json:
        shown = _display(table)
        data = orjson.dumps(shown.to_pylist(), option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY)
        if out:
            out.write_bytes(data + b"\n")
        else:
            sys.stdout.buffer.write(data + b"\n")
            sys.stdout.flush()
        return
    console = console or Console()
    _print_table(_display(table, human=True), console, title)


#: Text wider than this, or with spaces, may be folded; shorter tokens (times, codes, numbers) not.
_TOKEN = 24
#: Narrowest a folded text column is allowed to become before tokens may fold too.
_MIN_TEXT = 16


def _print_table(shown: pa.Table, console: Console, title: str | None) -> None:
    """The terminal table: columns empty in every row left out (and named below it); times,
    codes and numbers kept whole when the sentences beside them can fold instead."""
    names = shown.column_names
    rows = [[_cell(r[n]) for n in names] for r in shown.to_pylist()]
    empty = [n for i, n in enumerate(names) if rows and all(not r[i] for r in rows)] if len(names) > 1 else []
    keep = [i for i, n in enumerate(names) if n not in empty]
    widths = {i: max([cell_len(names[i])] + [cell_len(r[i]) for r in rows]) for i in keep}
    tokens = {i for i in keep if all(" " not in r[i] and cell_len(r[i]) <= _TOKEN for r in rows)}
    whole: set[int] = set()
    for i in sorted(tokens, key=lambda i: widths[i]):  # narrowest first: as many kept whole as fit
        folded = [j for j in keep if j not in whole and j != i]
        needed = sum(widths[j] for j in whole | {i}) + sum(min(_MIN_TEXT, widths[j]) for j in folded)
        if needed + 3 * len(keep) + 1 > console.width:
            break
        whole.add(i)
    rich_table = Table(title=title, show_lines=False)
    for i in keep:
        rich_table.add_column(names[i], overflow="fold", no_wrap=i in whole)
    for r in rows:  # as Text: data like "Niamey [written Niamay]" is not rich markup
        rich_table.add_row(*(Text(r[i]) for i in keep))
    console.print(rich_table)
    notes = [] if title is not None else [f"{shown.num_rows} rows"]
    if empty:
        notes.append("empty in every row: " + ", ".join(empty))
    if notes:
        console.print(f"[dim]{'; '.join(notes)}[/dim]")
