"""``tailwatch demo`` and ``tailwatch build``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from tailwatch.cli.context import DB_OPTION, STORE_OPTION, existing_store, store_identity
from tailwatch.cli.output import screen


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description:<28}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                    console=console)


class _Bars:
    """One rich task per named step, created on first use."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, name: str, done: float, total: float) -> None:
        if name not in self.tasks:
            self.tasks[name] = self.progress.add_task(name, total=max(total, 1))
        self.progress.update(self.tasks[name], completed=done, total=max(total, 1))


def register(app: typer.Typer) -> None:
    """Add ``demo`` and ``build`` to the app."""

    @app.command("demo")
    def demo_cmd(
        out: Annotated[Path | None, typer.Option("--out", "-o", help="demo folder (default: XDG data dir/tailwatch/demo)")] = None,
        seed: Annotated[int | None, typer.Option("--seed", help="simulator seed (default: the scenario's)")] = None,
    ) -> None:
        """The seed's airlift end to end on SIMULATED data (simulate, ingest, legs, findings, verify, dossier).

        Simulates the sahel-2023 scenario, ingests its Beast captures, rebuilds legs and
        findings, checks the report's claims and writes the dossier of 5U-MBH."""
        from tailwatch.demo import run_demo
        from tailwatch.paths import default_store

        console = screen()
        folder = out or default_store().parent / "demo"
        console.print(f"[bold]tailwatch demo[/bold]: scenario sahel-2023 ([yellow]SIMULATED[/yellow]) into {folder}")
        with _progress(console) as progress:
            result = run_demo(folder, step=_Bars(progress), seed=seed)
        console.print(
            f"ingested {result.rows_stored:,} rows from {len(result.captures)} receivers "
            f"({result.duplicates:,} duplicate receptions skipped; rejected: "
            + (", ".join(f"{n} {r}" for r, n in result.rejects.items()) or "none") + ")"
        )
        console.print(f"{result.legs} legs and {result.stops} stops rebuilt (the scenario flew {result.truth_legs} legs)")
        table = Table(title="findings for 062F01 / 5U-MBH and the fleet around it")
        for col in ("kind", "subject", "when", "summary"):
            table.add_column(col, overflow="fold")
        for row in result.findings.sort_by("t_start").to_pylist():
            when = f"{row['t_start']:%Y-%m-%d} → {row['t_end']:%Y-%m-%d}"
            table.add_row(row["kind"], row["subject"], when, row["summary"])
        console.print(table)
        vt = Table(title="the report's claims, checked")
        for col in ("claim", "verdict", "why"):
            vt.add_column(col, overflow="fold")
        for claim, verdict in zip(result.claims, result.verdicts, strict=True):
            vt.add_row(claim.statement, str(verdict.verdict), verdict.reason)
        console.print(vt)
        console.print(f"claims check: {result.verify_md}")
        console.print(f"dossier: [bold]{result.report['html']}[/bold] (KML: {result.report['kml']})")
        console.print(f"store: {result.store}")
        console.print(f"try: tailwatch legs --aircraft 5U-MBH --store {result.store}")

    @app.command("build")
    def build_cmd(
        store: Annotated[Path | None, STORE_OPTION] = None,
        db: Annotated[Path | None, DB_OPTION] = None,
    ) -> None:
        """Bring legs, stops and findings up to date with what was ingested (only changed aircraft-days)."""
        from tailwatch.analysis.build import build_legs
        from tailwatch.analysis.findings.build import build_findings

        console = screen()
        st = existing_store(store)
        ident = store_identity(st, db)
        with _progress(console) as progress:
            bars = _Bars(progress)
            n = build_legs(st, progress=lambda d, t: bars("legs and stops", d, t))
            f = build_findings(st, identity=ident, progress=lambda stage, d, t: bars("findings", d, t))
        console.print(f"legs rebuilt for {n} aircraft; {f} findings")
