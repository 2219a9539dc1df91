"""``tailwatch demo``: the seed's airlift end to end on SIMULATED data.

1. simulate the built-in ``sahel-2023`` scenario into Beast captures, one per receiver;
2. ingest them through the same raw-frame path as a real receiver, into a fresh store;
3. declare the scenario's aircraft in the store (identity works with no database);
4. rebuild legs, stops and findings;
5. check a report (``article.txt``, our own words) claim by claim;
6. write the dossier of 5U-MBH.

Every step reports progress through the ``Steps`` callbacks so the CLI can draw bars.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import pyarrow as pa

SCENARIO = "sahel-2023"
SUBJECT = "062F01"
SOURCE = "scenario sahel-2023 (SIMULATED)"

#: ``step(name, done, total)``: called as each stage advances.
StepFn = Callable[[str, float, float], None]


@dataclass
class DemoResult:
    """What the demo produced and where."""

    out: Path
    store: Path
    captures: dict[str, dict[str, Any]]
    rows_stored: int
    duplicates: int
    rejects: dict[str, int]
    legs: int
    stops: int
    findings: pa.Table
    verdicts: list[Any]
    claims: list[Any]
    report: dict[str, Path]
    verify_md: Path
    truth_legs: int


def article_text() -> str:
    """The demo's report to check (our own words; labelled as a simulated demo)."""
    return files("tailwatch.demo").joinpath("article.txt").read_text(encoding="utf-8")


def run_demo(out: Path, step: StepFn | None = None, seed: int | None = None) -> DemoResult:
    """Run the whole demo into ``out`` (a fresh ``out/store`` each time) and return what it made."""
    from tailwatch.analysis.build import build_legs
    from tailwatch.analysis.findings.build import build_findings
    from tailwatch.claims import check_article
    from tailwatch.claims.render import to_json, to_markdown
    from tailwatch.cli.context import declare_aircraft, store_identity
    from tailwatch.cli.report import make_report
    from tailwatch.sim import load_scenario, simulate, write_capture
    from tailwatch.store import open_store

    def tick(name: str, done: float, total: float) -> None:
        if step:
            step(name, done, total)

    out.mkdir(parents=True, exist_ok=True)
    tick("simulate", 0, 1)
    scn = load_scenario(SCENARIO)
    sim = simulate(scn, seed=seed)
    tick("simulate", 1, 1)
    capture_dir = out / "capture"
    if capture_dir.exists():
        shutil.rmtree(capture_dir)
    captures = write_capture(sim, capture_dir, "beast",
                             progress=lambda d, t: tick("write Beast captures", d, t))

    store_dir = out / "store"
    if store_dir.exists():
        shutil.rmtree(store_dir)
    store = open_store(store_dir)
    sites = {r.id: r for r in scn.receivers}
    total = sum(int(m["bytes"]) for m in captures.values())
    done_before = 0
    rows = dups = 0
    rejects: dict[str, int] = {}
    for rid, meta in captures.items():
        path = capture_dir / meta["path"]
        base = done_before

        def prog(name: str, done: int, size: int, n: int, base: int = base) -> None:
            tick("ingest (Beast, raw frames)", base + done, total)

        rep = store.ingest([path], format="beast", receiver=rid,
                           reference=(sites[rid].lat, sites[rid].lon), progress=prog)
        done_before += int(meta["bytes"])
        rows += rep.rows_stored
        dups += rep.duplicates
        for reason, n in rep.rejects.counts.items():
            rejects[reason] = rejects.get(reason, 0) + n

    records = pa.Table.from_pylist(sim.truth.identity_records())
    declare_aircraft(store, records, SOURCE)
    ident = store_identity(store)

    build_legs(store, progress=lambda d, t: tick("legs and stops", d, t))
    build_findings(store, identity=ident, progress=lambda stage, d, t: tick("findings", d, t))
    legs = store.derived("legs")
    stops = store.derived("stops")
    findings = store.derived("findings")

    tick("verify the report", 0, 1)
    checked = check_article(article_text(), store, ident)
    claims = [c for c, _ in checked]
    verdicts = [v for _, v in checked]
    verify_md = out / "verify.md"
    verify_md.write_text(
        to_markdown(claims, verdicts, "demo article (SIMULATED)", str(store_dir), "demo") + "\n", encoding="utf-8"
    )
    (out / "verify.json").write_bytes(to_json(claims, verdicts, "demo article (SIMULATED)", str(store_dir), "demo"))
    tick("verify the report", 1, 1)

    tick("dossier", 0, 1)
    report = make_report(store_dir, SUBJECT, out / "dossier")
    tick("dossier", 1, 1)
    return DemoResult(
        out=out, store=store_dir, captures=captures, rows_stored=rows, duplicates=dups, rejects=rejects,
        legs=legs.num_rows, stops=stops.num_rows, findings=findings,
        verdicts=verdicts, claims=claims, report=report, verify_md=verify_md,
        truth_legs=sim.truth.legs.num_rows,
    )
