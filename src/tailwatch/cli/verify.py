"""``tailwatch verify ARTICLE``: check a news report's claims against the store."""

from __future__ import annotations

import enum
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from tailwatch.cli.context import DB_OPTION, STORE_OPTION
from tailwatch.cli.output import messages


class ReportFormat(enum.StrEnum):
    """Output forms of ``tailwatch verify``."""

    md = "md"
    json = "json"
    html = "html"
    table = "table"
    csv = "csv"


def _identity(store: Any, db: Path | None, err: Console) -> tuple[Any, bool]:
    """The aircraft databases plus the aircraft declared in the store (e.g. by ``tailwatch demo``),
    and whether anything stands behind them."""
    from tailwatch.cli.context import DECLARED, store_identity
    from tailwatch.errors import NoDatabaseError, StoreError
    from tailwatch.identity import load_identity

    try:
        load_identity(db, watchlist=None)  # lazy: only checks that a database is there
        has_db, why = True, ""
    except NoDatabaseError as e:
        has_db, why = False, str(e)
    try:
        declared = store.derived(DECLARED).num_rows
    except StoreError:  # no declared aircraft in this store
        declared = 0
    if not has_db and not declared:
        err.print(f"[yellow]warning:[/yellow] {why}; registrations cannot be tied to addresses")
    if declared:
        return store_identity(store, db), True
    return load_identity(db, allow_missing=True, watchlist=None), has_db


def verify_command(
    article: Annotated[Path, typer.Argument(help="The article: a UTF-8 text file, or - for standard input.")],
    store: Annotated[Path | None, STORE_OPTION] = None,
    year: Annotated[int | None, typer.Option("--year", min=1900, max=2100,
                                             help="Year of dates written without one (default: the "
                                                  "year the article states most often).")] = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="md, json, html, table or csv (one row per claim)")] = ReportFormat.md,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here instead of standard output.")] = None,
    db: Annotated[Path | None, DB_OPTION] = None,
) -> None:
    """Check each claim of ARTICLE against the data: supported, contradicted, not observable or ambiguous.

    Extracts the checkable claims of ARTICLE and gives each a verdict from the data:
    supported, contradicted, not observable (no coverage there and then) or ambiguous,
    with the legs, stops, findings and times behind it."""
    from tailwatch.claims.extract import extract_claims
    from tailwatch.claims.gather import gather
    from tailwatch.claims.render import to_html, to_json, to_markdown
    from tailwatch.claims.verify import verify_claims
    from tailwatch.errors import StoreError
    from tailwatch.paths import default_store
    from tailwatch.store import open_store

    err = messages()
    try:
        text = sys.stdin.read() if str(article) == "-" else article.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        err.print(f"[red]error:[/red] cannot read {article}: {e}")
        raise typer.Exit(2) from None
    root = store if store is not None else default_store()
    if not root.is_dir():
        err.print(f"[red]error:[/red] no store at {root}: run `tailwatch ingest FILES --store {root}` "
                  "or `tailwatch demo` first")
        raise typer.Exit(2)
    with err.status("Reading the article…"):
        claims = extract_claims(text, year=year)
    try:
        with err.status(f"Checking {len(claims)} claims against {root}…"):
            st = open_store(root, create=False)
            identity, known = _identity(st, db, err)
            evidence = gather(st, claims, identity, has_identity=known)
            verdicts = verify_claims(claims, evidence)
    except StoreError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from None
    name = "stdin" if str(article) == "-" else article.name
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if fmt in (ReportFormat.table, ReportFormat.csv):
        from tailwatch.claims.render import to_table
        from tailwatch.cli.output import emit

        rows = to_table(claims, verdicts)
        if fmt is ReportFormat.table:  # the terminal: the verdicts; --out does not apply
            emit(rows.select(["claim_id", "verdict", "claim", "why"]), "table",
                 title=f"{name}: the claims, checked")
            return
        emit(rows, "csv", out=out)
        if out is not None:
            err.print(f"{len(claims)} claims → {out}")
        return
    if fmt is ReportFormat.json:
        data = to_json(claims, verdicts, name, str(root), stamp)
    elif fmt is ReportFormat.html:
        data = to_html(claims, verdicts, name, str(root), stamp).encode()
    else:
        data = (to_markdown(claims, verdicts, name, str(root), stamp) + "\n").encode()
    if out is not None:
        out.write_bytes(data)
        err.print(f"{len(claims)} claims → {out}")
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


def register(app: typer.Typer) -> None:
    """Add ``tailwatch verify`` to ``app``."""
    app.command("verify")(verify_command)
