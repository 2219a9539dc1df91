"""``tailwatch formats``: the input formats, and what tailwatch makes of given files.

* ``tailwatch formats`` lists the readers.
* ``tailwatch formats FILE...`` says which format each file is (from its content).
* ``tailwatch formats --check FILE...`` also reads each file through its reader and
  counts rows, rejects and notes, without storing anything.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pyarrow as pa
import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from tailwatch.cli.output import FORMAT_OPTION, Format, emit
from tailwatch.errors import InputError, Rejects


def _listing() -> pa.Table:
    from tailwatch.sources import READERS

    names, kinds, about = [], [], []
    for name, target in READERS.items():
        module, cls = target.split(":")
        reader = getattr(importlib.import_module(f"tailwatch.sources.{module}"), cls)
        doc = (reader.__doc__ or "").strip().splitlines()
        first = doc[0].replace("``", "") if doc else ""
        names.append(name)
        kinds.append("frames" if "FRAMES" in first else "positions")
        about.append(first.removeprefix("Reader of ").split(" (yields")[0])
    return pa.table({"format": names, "yields": kinds, "description": about})


def _check(paths: list[Path], read: bool, fmt: str) -> pa.Table:
    from tailwatch.sources import detect, get_reader

    cols: dict[str, list[object]] = {k: [] for k in ("path", "format", "rows", "rejects", "notes", "problem")}
    total = sum(p.stat().st_size for p in paths if p.is_file())
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  transient=True, disable=not read) as bar:
        task = bar.add_task("reading", total=total)
        done = 0
        for path in paths:
            rejects = Rejects()
            rows: int | None = None
            problem = None
            name = None
            try:
                if not path.is_file():
                    raise InputError(str(path), "path", "not a file")
                name = detect(path) if fmt == "auto" else fmt
                if read:
                    rows = 0
                    for chunk in get_reader(name).read(path, rejects):
                        rows += chunk.batch.num_rows
                        bar.update(task, completed=done + chunk.bytes_read)
            except (InputError, ValueError) as exc:
                problem = str(exc)
            done += path.stat().st_size if path.is_file() else 0
            bar.update(task, completed=done)
            notes = {k: v for k, v in rejects.counts.items() if k.startswith("note:")}
            bad = {k: v for k, v in rejects.counts.items() if not k.startswith("note:")}
            if problem is None and rejects.samples:
                first_bad = next((s for s in rejects.samples if not s.reason.startswith("note:")), None)
                problem = str(first_bad) if first_bad else None
            cols["path"].append(str(path))
            cols["format"].append(name)
            cols["rows"].append(rows)
            cols["rejects"].append(sum(bad.values()) if read else None)
            cols["notes"].append("; ".join(f"{k[6:]} ×{v}" for k, v in notes.items()) or None)
            cols["problem"].append(problem)
    return pa.table({
        "path": pa.array(cols["path"], pa.string()), "format": pa.array(cols["format"], pa.string()),
        "rows": pa.array(cols["rows"], pa.int64()), "rejects": pa.array(cols["rejects"], pa.int64()),
        "notes": pa.array(cols["notes"], pa.string()), "problem": pa.array(cols["problem"], pa.string()),
    })


def register(app: typer.Typer) -> None:
    """Add the ``formats`` command to ``app``."""

    @app.command("formats")
    def formats(
        paths: list[Path] = typer.Argument(None, help="Files to identify (none: list the formats)."),  # noqa: B008
        check: bool = typer.Option(False, "--check", help="Read each file and count rows and rejects."),
        as_format: str = typer.Option("auto", "--as", help="Read the files as this format instead of detecting."),
        fmt: Format = FORMAT_OPTION,
    ) -> None:
        """List the input formats, or tell which format each FILE is (from its content)."""
        if not paths:
            emit(_listing(), fmt)
            return
        table = _check(list(paths), check, as_format)
        emit(table, fmt)
        if any(v is not None for v in table.column("problem").to_pylist()) and check:
            raise typer.Exit(1)
