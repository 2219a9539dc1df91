"""What several commands share: the store, the identity seen through it, and turning a
user's ``--aircraft`` text into ICAO addresses.

A store may carry *declared* aircraft (the derived table ``aircraft``: icao24,
registration, typecode, operator, ..., and a ``source`` column), for example the
simulated scenario's fleet written by ``tailwatch demo``. They are overlaid on the
databases so that ``--aircraft 5U-MBH`` works on the demo store on a machine where
``tailwatch db update`` never ran.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import typer

from tailwatch.schema import hex_of, icao_of

if TYPE_CHECKING:  # the store (DuckDB) and identity load only when a command runs, not for --help
    from tailwatch.identity import Identity
    from tailwatch.store import Store

STORE_OPTION = typer.Option("--store", help="store folder (default $TAILWATCH_STORE or the XDG data dir)")
DB_OPTION = typer.Option("--db", help="aircraft database folder (default: where `tailwatch db update` put it)")

#: Name of the derived table holding declared aircraft.
DECLARED = "aircraft"


def get_store(path: Path | None) -> Store:
    """Open (or create) the store at ``path`` or the default one."""
    from tailwatch.store import open_store

    return open_store(path)


def existing_store(path: Path | None) -> Store:
    """Open the store at ``path`` (or the default one) for reading; it must exist.

    A typo'd ``--store`` must not silently create an empty store and report nothing.
    Raises :class:`~tailwatch.errors.StoreError` telling how to make one.
    """
    from tailwatch.store import open_store

    return open_store(path, create=False)


def _not_hex_hint(query: str) -> str:
    """Why ``query`` that looks like a mistyped hex address is not one ('' otherwise).

    >>> _not_hex_hint("062F0G")
    "; '062F0G' is not an ICAO address: 'G' is not a hex digit"
    >>> _not_hex_hint("06F01")
    "; '06F01' is not an ICAO address: 5 hex digits, an address has 6"
    >>> _not_hex_hint("5U-MBH")
    ''
    """
    q = query.strip()
    hexdigits = set("0123456789abcdefABCDEF")
    if len(q) == 6 and q[0] in hexdigits and sum(c in hexdigits for c in q) == 5:
        bad = next(c for c in q if c not in hexdigits)
        return f"; {q!r} is not an ICAO address: {bad!r} is not a hex digit"
    if 4 <= len(q) <= 7 and all(c in hexdigits for c in q) and any(c.isdigit() for c in q) and len(q) != 6:
        return f"; {q!r} is not an ICAO address: {len(q)} hex digits, an address has 6"
    return ""


def declare_aircraft(store: Store, records: pa.Table, source: str) -> None:
    """Record ``records`` (icao24 + identity fields) in ``store`` as declared by ``source``."""
    icao = records["icao24"]
    if not pa.types.is_integer(icao.type):
        icao = pa.array([icao_of(str(v)) for v in icao.to_pylist()], pa.int32())
    table = records.set_column(records.schema.get_field_index("icao24"), "icao24", icao.cast(pa.int32()))
    table = table.append_column("source", pa.array([source] * records.num_rows, pa.string()))
    store.write_derived(DECLARED, table, icao24=table["icao24"].to_pylist())


def store_identity(store: Store | None, db: Path | None = None) -> Identity:
    """The databases (if any; the built-in address-block table otherwise) plus the aircraft
    declared in ``store``, each overlay labelled with its source."""
    from tailwatch.identity import load_identity

    ident = load_identity(db, allow_missing=True)
    if store is None:
        return ident
    declared = store.derived(DECLARED)
    if declared.num_rows == 0 or "source" not in declared.column_names:
        return ident
    for source in pc.unique(declared["source"]).to_pylist():
        rows = declared.filter(pc.equal(declared["source"], source)).drop_columns(["source"])
        ident = ident.with_records(rows, source=str(source))
    return ident


def resolve_aircraft(ident: Identity, query: str) -> list[int]:
    """ICAO addresses meant by ``query``: a hex address, a registration in any spelling, an
    operator or a type. Exact matches (score 100) win; otherwise the best-scoring group.

    Raises ``typer.BadParameter`` naming the query when nothing matches.
    """
    matches = ident.lookup(query, limit=200)
    if not matches:
        hint = _not_hex_hint(query)
        raise typer.BadParameter(
            f"no aircraft matches {query!r}{hint} (a 6-digit hex address always works; registrations, "
            "operators and types need `tailwatch db update` or aircraft declared in the store)"
        )
    best = matches[0].score
    exact = [m.icao24 for m in matches if m.score >= 100.0]
    if exact:
        return exact
    if matches[0].matched_on in ("operator", "ICAO type", "type desc"):
        return [m.icao24 for m in matches if m.score >= best - 1e-6 or m.matched_on == matches[0].matched_on]
    return [matches[0].icao24]


def describe_selection(addresses: list[int]) -> str:
    """Short text for a selection of addresses (for titles and messages)."""
    shown = ", ".join(hex_of(a) for a in addresses[:5])
    return shown + (f" and {len(addresses) - 5} more" if len(addresses) > 5 else "")
