"""``tailwatch aircraft``, ``tailwatch db update`` and ``tailwatch watch add|list|remove``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from tailwatch import paths
from tailwatch.cli.context import DB_OPTION, _not_hex_hint
from tailwatch.cli.output import FORMAT_OPTION, Format, emit, messages, screen
from tailwatch.errors import InputError, NoDatabaseError, TailwatchError
from tailwatch.schema import icao_of

_FIELDS = [("icao24", None), ("registration", "registration_source"), ("typecode", "typecode_source"),
           ("type_desc", "type_desc_source"), ("operator", "operator_source"), ("country", "country_source"),
           ("country_iso2", "country_iso2_source"), ("aircraft_class", "aircraft_class_source"),
           ("class_confidence", "aircraft_class_source"), ("tags", "tags_source"),
           ("category", "category_source"), ("alias_address", "alias_address_source"), ("conflicts", None),
           ("note", None)]


FileOpt = Annotated[Path | None, typer.Option("--file", help="watch list file (default: config dir watchlist.yaml)")]


def _card(match: Any, console: Console) -> None:
    rec = match.record
    table = Table(title=f"{match.hex}  {rec.get('registration') or ''}  "
                        f"(score {match.score:.0f}, matched on {match.matched_on})",
                  show_header=True, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    table.add_column("source", style="dim", overflow="fold")
    for field, src in _FIELDS:
        value = match.hex if field == "icao24" else rec.get(field)
        if field == "alias_address":
            value = "yes (tactical/alias/placeholder address)" if value else "no"
        if field == "class_confidence" and value is not None:
            value = f"{value:.2f}"
        if value is None and field in ("conflicts", "note"):
            continue
        table.add_row(field, "" if value is None else str(value), (rec.get(src) or "") if src else "")
    console.print(table)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())


def register(app: typer.Typer) -> None:
    """Add ``aircraft``, ``db`` and ``watch`` to the tailwatch app."""

    @app.command("aircraft")
    def aircraft(
        query: Annotated[str, typer.Argument(help="hex address, registration (any spelling), operator or type")],
        db: Annotated[Path | None, DB_OPTION] = None,
        limit: Annotated[int, typer.Option("--limit", "-n", help="at most this many matches")] = 20,
        fmt: Format = FORMAT_OPTION,
    ) -> None:
        """Who is this aircraft? Every match with each field and the database it came from."""
        from tailwatch.identity import load_identity

        console = screen()
        try:
            ident = load_identity(db)
            matches = ident.lookup(query, limit=max(limit, 0) + 1)  # one more: to tell that --limit cut the list
        except (NoDatabaseError, InputError) as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
        if ident.rejects.total:
            err = messages()
            err.print(f"[yellow]{ident.rejects.total} database rows skipped: "
                          f"{', '.join(f'{k} ({v})' for k, v in ident.rejects.counts.items())}[/yellow]")
            for s in ident.rejects.samples[:3]:
                err.print(f"[yellow]  {s}[/yellow]")
        if not matches:
            console.print(f"no aircraft matches {query!r}{_not_hex_hint(query)}", highlight=False)
            norm = ident.normalise_registration(query)
            if norm is not None:
                console.print(f"{norm[0]} would be a registration of {norm[1] or '?'} "
                              f"(VRS registration prefixes) but is not in any database")
            raise typer.Exit(1)
        hint = _not_hex_hint(query)
        if hint and all(m.score < 100.0 for m in matches):
            messages().print(f"[yellow]note[/yellow]{hint}; showing the closest matches", highlight=False)
        cut = len(matches) > limit
        if cut:
            total = len(ident.lookup(query, limit=1_000_000))
            matches = matches[:limit]
        if fmt is Format.table:
            for m in matches:
                _card(m, console)
            if cut:
                console.print(f"{len(matches)} of {total} matches shown (use --limit)", highlight=False)
            return
        if cut:
            messages().print(f"{len(matches)} of {total} matches shown (use --limit)", highlight=False)
        rows = [{"icao24": m.icao24, "score": m.score, "matched_on": m.matched_on,
                 **{k: v for k, v in m.record.items() if k != "icao24"}} for m in matches]
        emit(pa.Table.from_pylist(rows), fmt)

    db_app = typer.Typer(help="The aircraft databases (plane-alert-db, VRS standing data, dump1090-fa).",
                         no_args_is_help=True)
    app.add_typer(db_app, name="db")

    @db_app.command("update")
    def db_update(
        from_dir: Annotated[Path | None, typer.Option("--from", help="install from a local folder, same layout")] = None,
        db: Annotated[Path | None, typer.Option("--db", help="target folder (default $TAILWATCH_DB or $XDG_DATA_HOME/tailwatch/db)")] = None,
    ) -> None:
        """Download (or copy with --from) the public aircraft databases, verify and version them."""
        from tailwatch.identity import load_identity
        from tailwatch.identity.update import update_from_folder, update_from_network

        target = db or paths.default_db_dir()
        console = screen()
        tasks: dict[str, Any] = {}
        try:
            with _progress() as bar:
                def progress(label: str, done: int, total: int | None) -> None:
                    if label not in tasks:
                        tasks[label] = bar.add_task(label, total=total)
                    bar.update(tasks[label], completed=done, total=total)

                if from_dir is not None:
                    manifest = update_from_folder(from_dir, target, progress)
                else:
                    manifest = update_from_network(target, progress=progress)
            with console.status("indexing (parsing the databases once, cached as Parquet)"):
                ident = load_identity(target, watchlist=None)
                n = ident.aircraft().num_rows
        except TailwatchError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
        rows = manifest.get("rows", {})
        detail = f" ({', '.join(f'{k} {v}' for k, v in rows.items())})" if isinstance(rows, dict) and rows else ""
        console.print(f"[green]databases installed in {target}[/green]: {n} aircraft{detail}")
        if ident.rejects.total:
            err = messages()
            err.print(f"[yellow]{ident.rejects.total} rows skipped:[/yellow]")
            for s in ident.rejects.samples:
                err.print(f"[yellow]  {s}[/yellow]")

    @db_app.command("status")
    def db_status(
        db: Annotated[Path | None, DB_OPTION] = None,
        fmt: Format = FORMAT_OPTION,
    ) -> None:
        """Which databases are installed: origin, sha256, size, when fetched, rows loaded."""
        import json

        target, note = (db, None) if db is not None else paths.db_dir_to_read()
        if note:
            messages().print(f"[yellow]note:[/yellow] {note}", highlight=False)
        manifest_path = target / "manifest.json"
        if not manifest_path.exists():
            messages().print(f"[red]no databases installed in {target}: run `tailwatch db update` "
                             f"(or `tailwatch db update --from DIR`)[/red]")
            raise typer.Exit(2)
        m = json.loads(manifest_path.read_text())
        rows: list[dict[str, Any]] = []
        sources = m.get("sources") or {}
        for name, info in sources.items():
            files = info.get("files")
            entries = files.items() if isinstance(files, dict) else [(name, info)]
            for fname, f in entries:
                rows.append({"database": name, "file": fname, "url": f.get("url"), "sha256": f.get("sha256"),
                             "bytes": f.get("bytes"), "version": f.get("etag") or f.get("last_modified"),
                             "fetched_at": m.get("fetched_at")})
        if not sources:
            rows.append({"database": "all", "file": f"{m.get('files')} files", "url": m.get("from"),
                         "sha256": m.get("sha256_of_files"), "bytes": m.get("bytes"), "version": None,
                         "fetched_at": m.get("fetched_at")})
        for name, n in (m.get("rows") or {}).items():
            rows.append({"database": name, "file": f"{n} aircraft rows loaded", "url": None, "sha256": None,
                         "bytes": None, "version": None, "fetched_at": None})
        emit(pa.Table.from_pylist(rows), fmt, title=f"databases in {target}" if fmt is Format.table else None)

    watch_app = typer.Typer(help="Your watch list (merged with plane-alert-db).", no_args_is_help=True)
    app.add_typer(watch_app, name="watch")

    @watch_app.command("add")
    def watch_add(
        key: Annotated[str, typer.Argument(help="hex address or registration")],
        label: Annotated[str, typer.Option("--label", "-l")] = "",
        tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="repeat for several tags")] = None,
        file: FileOpt = None,
    ) -> None:
        """Watch an aircraft (by hex address or registration)."""
        from tailwatch.identity import watchlist as wl

        path = file or wl.default_path()
        text = key.strip()
        is_hex = len(text.lstrip("~")) == 6 and all(c in "0123456789abcdefABCDEF" for c in text.lstrip("~"))
        entry = wl.WatchEntry(hex=f"{icao_of(text):06X}" if is_hex else None,
                              registration=None if is_hex else text, label=label, tags=tuple(tag or []))
        try:
            entries = wl.add_entry(path, entry)
        except InputError as exc:
            screen().print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
        screen().print(f"watching {entry.key} ({len(entries)} entries in {path})")

    @watch_app.command("list")
    def watch_list(file: FileOpt = None, fmt: Format = FORMAT_OPTION) -> None:
        """List the watch list."""
        from tailwatch.identity import watchlist as wl

        path = file or wl.default_path()
        try:
            entries = wl.read_watchlist(path)
            if file is None:
                entries += wl.read_watchlist(path.with_suffix(".csv"))
        except InputError as exc:
            screen().print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
        emit(wl.watch_table(entries), fmt, title=f"watch list ({path})" if fmt is Format.table else None)

    @watch_app.command("remove")
    def watch_remove(key: Annotated[str, typer.Argument(help="hex address or registration")],
                     file: FileOpt = None) -> None:
        """Stop watching an aircraft."""
        from tailwatch.identity import watchlist as wl

        path = file or wl.default_path()
        if not wl.remove_entry(path, key):
            screen().print(f"{key} is not in {path}")
            raise typer.Exit(1)
        screen().print(f"removed {key}")
