"""Parse each aircraft database of the ``tailwatch db update`` layout into Arrow tables.

Every loader validates what it reads: a file with the wrong header is skipped as a
whole, a bad row (bad hex, Excel-mangled hex such as ``3.2E+05``, a duplicate
address) is counted in the :class:`~tailwatch.errors.Rejects` ledger with the file
and row, and the valid rows still load. Addresses that lost their leading zeros
(``10166`` for ``010166``, a spreadsheet habit) are padded and counted in ``repairs``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tailwatch.errors import Rejects
from tailwatch.identity.merge import join_strings

PAD_CSV = "plane_alert_db/plane-alert-db.csv"
VRS_AIRCRAFT = "vrs_standing_data/aircraft/schema-01"
VRS_BLOCKS = "vrs_standing_data/code-blocks/schema-01/code-blocks.csv"
VRS_PREFIXES = "vrs_standing_data/registration-prefixes/schema-01/reg-prefixes.csv"
VRS_COUNTRIES = "vrs_standing_data/countries/schema-01/countries.csv"
VRS_MODELS = "vrs_standing_data/model-type/schema-01"
FA_DIR = "dump1090_fa_db"
FA_TYPES = "dump1090_fa_db/aircraft_types/icao_aircraft_types.json"
MIC_OPERATORS = "mictronics_readsb_db/operators.json"
MIC_TYPES = "mictronics_readsb_db/types.json"

PAD_HEADER = ["$ICAO", "$Registration", "$Operator", "$Type", "$ICAO Type", "#CMPG",
              "$Tag 1", "$#Tag 2", "$#Tag 3", "Category", "$#Link"]
VRS_AIRCRAFT_HEADER = ["ICAO", "Registration", "ModelICAO", "Manufacturer", "Model",
                       "ManufacturerAndModel", "IsPrivateOperator", "Operator", "AirlineCode",
                       "SerialNumber", "YearBuilt"]
VRS_BLOCKS_HEADER = ["Start", "Finish", "Count", "Bitmask", "SignificantBitmask", "IsMilitary", "CountryISO2"]
VRS_PREFIXES_HEADER = ["Prefix", "CountryISO2", "HasHyphen", "DecodeFullRegex", "DecodeNoHyphenRegex",
                       "FormatTemplate"]
VRS_COUNTRIES_HEADER = ["ISO", "Name"]
VRS_MODELS_HEADER = ["ICAO", "Manufacturer", "Model", "Engines", "EngineTypeCode", "EnginePlacementCode",
                     "SpeciesCode", "WakeTurbulenceCode", "IsActive"]


@dataclass
class LoadLog:
    """What went wrong while loading: rejected rows and repaired ones, by reason."""

    rejects: Rejects = field(default_factory=Rejects)
    repairs: Rejects = field(default_factory=Rejects)


def _reject_rows(ledger: Rejects, reason: str, path: Path, where: npt.NDArray[np.intp],
                 lines: npt.NDArray[np.int64], details: Sequence[str], what: str | Sequence[str] = "row") -> None:
    """Record rejected rows ``where``: the first few with their location, the rest as a count.

    ``what`` is the word before the line number ("row"), or one location label per row
    (e.g. ``"3C.json key 6444"``) when the rows come from several files.
    """
    n = len(where)
    if n == 0:
        return
    head = min(n, ledger.keep)
    for k in range(head):
        i = int(where[k])
        loc = f"{what} {int(lines[i])}" if isinstance(what, str) else str(what[i])
        ledger.add(reason, str(path), loc, details[k])
    if n > head:
        ledger.counts[reason] += n - head


def read_csv_strings(path: Path, header: list[str], log: LoadLog) -> pa.Table | None:
    """Read a CSV with every column as text plus ``_line`` (1-based line in the file).

    The header must start with ``header`` (later columns are allowed, as VRS promises);
    otherwise the file is rejected as a whole (``None``). Rows with the wrong number of
    fields are rejected one by one.
    """
    try:
        with path.open("rb") as fh:
            first = fh.readline().decode("utf-8-sig", errors="replace").strip()
    except OSError as exc:
        log.rejects.add("unreadable file", str(path), "line 1", str(exc))
        return None
    names = next(csv.reader([first]), []) if first else []
    if names[: len(header)] != header:
        log.rejects.add("wrong header", str(path), "line 1", f"expected {','.join(header)}, got {first[:80]}")
        return None
    bad: list[int] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        line = row.number if row.number is not None else -1
        bad.append(line)
        log.rejects.add("wrong number of fields", str(path), f"row {line}", row.text[:80])
        return "skip"

    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(use_threads=False, column_names=names, skip_rows=1),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                             strings_can_be_null=False, quoted_strings_can_be_null=False),
    )
    lines = np.arange(table.num_rows, dtype=np.int64) + 2
    for b in sorted(x for x in bad if x > 0):
        lines[lines >= b] += 1
    return table.append_column("_line", pa.array(lines, pa.int64()))


_NIBBLE = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789ABCDEF"):
    _NIBBLE[_c] = _i


def parse_hex6(text: pa.Array | pa.ChunkedArray, lines: npt.NDArray[np.int64], path: Path, log: LoadLog,
               what: str | Sequence[str] = "row") -> tuple[npt.NDArray[np.int32], npt.NDArray[np.bool_]]:
    """Parse 24-bit hex addresses; returns (values, ok). Bad ones are rejected with their row.

    >>> log = LoadLog()
    >>> v, ok = parse_hex6(pa.array(["062f01", "10166", "3.2E+05", "XYZ", "~abc123"]),
    ...                    np.arange(2, 7), Path("db.csv"), log)
    >>> [f"{x:06X}" for x in v[ok]], sorted(log.rejects.counts)
    (['062F01', '010166'], ['Excel-mangled hex (scientific notation)', 'bad hex address'])
    """
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks() if text.num_chunks else pa.array([], pa.string())
    t = pc.utf8_upper(pc.utf8_trim_whitespace(pc.fill_null(text.cast(pa.string()), "")))
    sci = pc.match_substring_regex(t, r"^[0-9](\.[0-9]+)?E[+-]?[0-9]+$").to_numpy(zero_copy_only=False)
    good6 = pc.match_substring_regex(t, r"^[0-9A-F]{6}$").to_numpy(zero_copy_only=False)
    sci &= ~good6  # "3E0501" is a real address, "3.2E+05" / "3E05" are spreadsheet numbers
    short = pc.match_substring_regex(t, r"^[0-9A-F]{1,5}$").to_numpy(zero_copy_only=False) & ~sci
    ok = good6 | short
    padded = pc.utf8_lpad(pc.if_else(pa.array(ok), t, "000000"), width=6, padding="0")
    raw = np.frombuffer(padded.buffers()[2], dtype=np.uint8) if len(padded) else np.zeros(0, np.uint8)
    offsets = np.frombuffer(padded.buffers()[1], dtype=np.int32)[padded.offset:padded.offset + len(padded) + 1]
    idx = offsets[:-1, None] + np.arange(6)[None, :]
    nib = _NIBBLE[raw[idx]].astype(np.int32) if len(padded) else np.zeros((0, 6), np.int32)
    values = (nib << np.array([20, 16, 12, 8, 4, 0], dtype=np.int32)).sum(axis=1).astype(np.int32)
    strs = t.to_pylist() if (~ok | short).any() else []
    for reason, mask, ledger in (
        ("Excel-mangled hex (scientific notation)", sci, log.rejects),
        ("bad hex address", ~ok & ~sci, log.rejects),
        ("hex address lost its leading zeros (zero-padded)", short, log.repairs),
    ):
        where = np.nonzero(mask)[0]
        _reject_rows(ledger, reason, path, where, lines, [repr(strs[i]) for i in where[:ledger.keep]], what)
    return values, ok


def drop_duplicates(values: npt.NDArray[np.int32], keep: npt.NDArray[np.bool_], lines: npt.NDArray[np.int64],
                    path: Path, log: LoadLog, what: str | Sequence[str] = "row") -> npt.NDArray[np.bool_]:
    """``keep`` minus later rows repeating an address already kept (each counted as a reject)."""
    idx = np.nonzero(keep)[0]
    _, first = np.unique(values[idx], return_index=True)
    dup = np.ones(len(idx), dtype=bool)
    dup[first] = False
    out = keep.copy()
    out[idx[dup]] = False
    where = idx[dup]
    def loc(i: int) -> str:
        return f"{what} {int(lines[i])}" if isinstance(what, str) else str(what[i])

    firsts = {int(values[i]): int(i) for i in idx[first]} if len(where) else {}
    details = [f"{int(values[i]):06X} already at {loc(firsts[int(values[i])])}" for i in where[: log.rejects.keep]]
    _reject_rows(log.rejects, "duplicate address", path, where, lines, details, what)
    return out


def _blank_to_null(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    arr = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _with_addresses(table: pa.Table, column: str, path: Path, log: LoadLog) -> tuple[pa.Table, pa.Array]:
    lines = table["_line"].to_numpy()
    values, ok = parse_hex6(table[column], lines, path, log)
    ok = drop_duplicates(values, ok, lines, path, log)
    mask = pa.array(ok)
    return table.filter(mask), pa.array(values[ok], pa.int32())


def load_plane_alert(db_dir: Path, log: LoadLog) -> pa.Table | None:
    """plane-alert-db: icao24, registration, operator, type_name, typecode, cmpg, tags, category, link."""
    path = db_dir / PAD_CSV
    if not path.exists():
        return None
    table = read_csv_strings(path, PAD_HEADER, log)
    if table is None:
        return None
    table, icao = _with_addresses(table, "$ICAO", path, log)
    tags = join_strings([_blank_to_null(table[c]) for c in ("$Tag 1", "$#Tag 2", "$#Tag 3")], "; ")
    cmpg = pc.utf8_lower(_blank_to_null(table["#CMPG"]))
    return pa.table({
        "icao24": icao,
        "registration": _blank_to_null(table["$Registration"]),
        "operator": _blank_to_null(table["$Operator"]),
        "type_name": _blank_to_null(table["$Type"]),
        "typecode": pc.utf8_upper(_blank_to_null(table["$ICAO Type"])),
        "cmpg": cmpg,
        "tags": pc.if_else(pc.equal(tags, ""), pa.scalar(None, pa.string()), tags),
        "category": _blank_to_null(table["Category"]),
        "link": _blank_to_null(table["$#Link"]),
        "line": table["_line"],
    })


def _csv_tree(root: Path, header: list[str], log: LoadLog) -> list[tuple[Path, pa.Table]]:
    out = []
    for path in sorted(root.rglob("*.csv")):
        table = read_csv_strings(path, header, log)
        if table is not None:
            out.append((path, table))
    return out


def load_vrs_aircraft(db_dir: Path, log: LoadLog) -> pa.Table | None:
    """VRS standing-data aircraft: icao24, registration, typecode, model, operator, is_private..."""
    root = db_dir / VRS_AIRCRAFT
    if not root.is_dir():
        return None
    parts = []
    for path, table in _csv_tree(root, VRS_AIRCRAFT_HEADER, log):
        table, icao = _with_addresses(table, "ICAO", path, log)
        parts.append(pa.table({
            "icao24": icao,
            "registration": _blank_to_null(table["Registration"]),
            "typecode": pc.utf8_upper(_blank_to_null(table["ModelICAO"])),
            "model": _blank_to_null(table["ManufacturerAndModel"]),
            "operator": _blank_to_null(table["Operator"]),
            "is_private": pc.equal(table["IsPrivateOperator"], "1"),
            "airline_code": _blank_to_null(table["AirlineCode"]),
            "file": pa.array([str(path.relative_to(db_dir))] * table.num_rows, pa.string()),
            "line": table["_line"],
        }))
    if not parts:
        return None
    merged = pa.concat_tables(parts)
    # The same address in two shard files is a duplicate too.
    labels = [f"{f} row {n}" for f, n in zip(merged["file"].to_pylist(), merged["line"].to_pylist(), strict=True)]
    keep = drop_duplicates(merged["icao24"].to_numpy(), np.ones(merged.num_rows, bool),
                           merged["line"].to_numpy(), root, log, what=labels)
    return merged.filter(pa.array(keep))


def _load_json(path: Path, log: LoadLog) -> object | None:
    try:
        data: object = orjson.loads(path.read_bytes())
        return data
    except (OSError, orjson.JSONDecodeError) as exc:
        log.rejects.add("unreadable JSON", str(path), "byte 0", str(exc))
        return None


def load_fa(db_dir: Path, log: LoadLog) -> pa.Table | None:
    """dump1090-fa sharded JSON: icao24, registration, typecode, icao_class (e.g. ``L4T``)."""
    root = db_dir / FA_DIR
    if not root.is_dir():
        return None
    keys: list[str] = []
    reg: list[str | None] = []
    typ: list[str | None] = []
    desc: list[str | None] = []
    where: list[str] = []
    for path in sorted(root.glob("*.json")):
        data = _load_json(path, log)
        if not isinstance(data, dict):
            if data is not None:
                log.rejects.add("wrong JSON layout", str(path), "byte 0", "expected an object")
            continue
        prefix = path.stem.upper()
        for k, v in data.items():
            if k == "children":
                continue
            if not isinstance(v, dict):
                log.rejects.add("wrong JSON layout", str(path), f"key {k}", repr(v)[:60])
                continue
            keys.append(prefix + str(k))
            reg.append(v.get("r") or None)
            typ.append(v.get("t") or None)
            desc.append(v.get("desc") or None)
            where.append(f"{path.name} key {k}")
    if not keys:
        return None
    key_arr = pa.array(keys, pa.string())
    lines = np.arange(len(keys), dtype=np.int64)
    values, ok = parse_hex6(pc.if_else(pc.less_equal(pc.utf8_length(key_arr), 6), key_arr, "bad"),
                            lines, root, log, what=where)
    ok = drop_duplicates(values, ok, lines, root, log, what=where)
    mask = pa.array(ok)
    return pa.table({
        "icao24": pa.array(values[ok], pa.int32()),
        "registration": pa.array(reg, pa.string()).filter(mask),
        "typecode": pc.utf8_upper(pa.array(typ, pa.string()).filter(mask)),
        "icao_class": pa.array(desc, pa.string()).filter(mask),
        "entry": pa.array(where, pa.string()).filter(mask),
    })


def load_code_blocks(db_dir: Path, log: LoadLog) -> pa.Table | None:
    """VRS code-blocks: start, finish (int32), is_military, iso2."""
    path = db_dir / VRS_BLOCKS
    if not path.exists():
        return None
    table = read_csv_strings(path, VRS_BLOCKS_HEADER, log)
    if table is None:
        return None
    lines = table["_line"].to_numpy()
    start, ok1 = parse_hex6(table["Start"], lines, path, log)
    finish, ok2 = parse_hex6(table["Finish"], lines, path, log)
    ok = ok1 & ok2 & (finish >= start)
    iso2 = pc.utf8_upper(_blank_to_null(table["CountryISO2"]))
    return pa.table({
        "start": pa.array(start[ok], pa.int32()),
        "finish": pa.array(finish[ok], pa.int32()),
        "is_military": pc.equal(table["IsMilitary"], "1").filter(pa.array(ok)),
        # VRS writes "ZZ" (ISO user-assigned) for "no country": keep it as null.
        "iso2": pc.if_else(pc.equal(iso2, "ZZ"), pa.scalar(None, pa.string()), iso2).filter(pa.array(ok)),
    })


def load_simple_csv(db_dir: Path, rel: str, header: list[str], columns: dict[str, str],
                    log: LoadLog) -> pa.Table | None:
    """A small reference CSV (countries, prefixes): ``columns`` maps file column -> output name."""
    path = db_dir / rel
    if not path.exists():
        return None
    table = read_csv_strings(path, header, log)
    if table is None:
        return None
    return pa.table({out: _blank_to_null(table[col]) for col, out in columns.items()})


def load_vrs_models(db_dir: Path, log: LoadLog) -> pa.Table | None:
    """VRS model-type: typecode -> manufacturer and model."""
    root = db_dir / VRS_MODELS
    if not root.is_dir():
        return None
    parts = [pa.table({
        "typecode": pc.utf8_upper(_blank_to_null(t["ICAO"])),
        "name": join_strings([_blank_to_null(t["Manufacturer"]), _blank_to_null(t["Model"])], " "),
    }) for _, t in _csv_tree(root, VRS_MODELS_HEADER, log)]
    return pa.concat_tables(parts) if parts else None


def load_json_map(db_dir: Path, rel: str, columns: Sequence[str], pick: Callable[[object], Sequence[object]],
                  log: LoadLog) -> pa.Table | None:
    """A JSON object ``{key: value}`` as a table: ``key`` plus ``columns`` taken by ``pick(value)``."""
    path = db_dir / rel
    if not path.exists():
        return None
    data = _load_json(path, log)
    if not isinstance(data, dict):
        if data is not None:
            log.rejects.add("wrong JSON layout", str(path), "byte 0", "expected an object")
        return None
    keys: list[str] = []
    cols: list[list[object]] = [[] for _ in columns]
    for k, v in data.items():
        try:
            vals = pick(v)
        except (TypeError, KeyError, IndexError):
            log.rejects.add("wrong JSON layout", str(path), f"key {k}", repr(v)[:60])
            continue
        keys.append(str(k).upper())
        for c, x in zip(cols, vals, strict=True):
            c.append(x if x not in ("", None) else None)
    return pa.table({"key": pa.array(keys, pa.string()),
                     **{name: pa.array(c, pa.string()) for name, c in zip(columns, cols, strict=True)}})
