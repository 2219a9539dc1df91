"""``tailwatch simulate``: write SIMULATED receiver captures (Beast/AVR/SBS) and their ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tailwatch.cli.output import messages, screen

CAPTURE_FORMATS = ("beast", "avr", "avr-plain", "sbs")


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to the app."""

    @app.command("simulate")
    def simulate_cmd(
        scenario: Annotated[str | None, typer.Argument(help="Built-in scenario name (e.g. sahel-2023) or a YAML path.")]
        = None,
        out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default ./sim-<name>).")] = None,
        fmt: Annotated[str, typer.Option("--format", "-f", help="beast, avr (with @ timestamps), avr-plain or sbs.")]
        = "beast",
        seed: Annotated[int | None, typer.Option("--seed", help="Random seed (default: the scenario's).")] = None,
        list_: Annotated[bool, typer.Option("--list", help="List the built-in scenarios and exit.")] = False,
    ) -> None:
        """Simulate a scenario into receiver capture files plus truth.json (everything is labelled SIMULATED)."""
        from tailwatch.errors import InputError
        from tailwatch.sim import describe, load_scenario, simulate, write_capture
        from tailwatch.sim.scenario import builtin_scenarios

        console = messages()
        if list_ or scenario is None:
            table = Table(title="built-in scenarios (SIMULATED)")
            table.add_column("name")
            table.add_column("description", overflow="fold")
            for name in builtin_scenarios():
                table.add_row(name, load_scenario(name).description)
            screen().print(table)
            if scenario is None and not list_:
                console.print("give a scenario name or YAML path, e.g. `tailwatch simulate sahel-2023`")
                raise typer.Exit(2)
            return
        if fmt not in CAPTURE_FORMATS:
            raise typer.BadParameter(f"--format must be one of {', '.join(CAPTURE_FORMATS)}, not {fmt!r}")
        try:
            scn = load_scenario(scenario)
        except InputError as e:
            console.print(f"[red]error:[/red] {e}")
            console.print(f"built-in scenarios: {', '.join(builtin_scenarios())}")
            raise typer.Exit(2) from None
        slug = scn.name.split(" ")[0]
        folder = out or Path(f"sim-{slug}")
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), console=console, transient=False) as progress:
            fly = progress.add_task(f"SIMULATED {scn.name}: flying {len(scn.aircraft)} aircraft", total=1)
            result = simulate(scn, seed=seed)
            progress.update(fly, completed=1)
            task = progress.add_task(f"writing {fmt} files", total=len(scn.receivers))
            try:
                files = write_capture(result, folder, fmt,  # type: ignore[arg-type]
                                      progress=lambda done, total: progress.update(task, completed=done))
            except (ValueError, OSError) as e:
                console.print(f"[red]error:[/red] {folder}: {e}")
                raise typer.Exit(2) from None
        screen().print(describe(result))
        table = Table(title=f"SIMULATED capture files in {folder}")
        for col in ("file", "records", "bytes", "first frame", "last frame (= mtime)"):
            table.add_column(col)
        for meta in files.values():
            table.add_row(meta["path"], str(meta["records"]), str(meta["bytes"]), meta["first_frame"] or "",
                          meta["last_frame"] or "")
        screen().print(table)
        screen().print(f"ground truth: {folder / 'truth.json'}")
        screen().print("next, for each receiver (its --reference places the surface positions, so legs "
                        "see the landings; a plain `tailwatch ingest FOLDER` misses many of them):")
        sites = {r.id: r for r in scn.receivers}
        for rid, meta in files.items():
            site = sites[rid]
            screen().print(f"  tailwatch ingest {folder / meta['path']} --receiver {rid} "
                            f"--reference {site.lat:g},{site.lon:g}")
