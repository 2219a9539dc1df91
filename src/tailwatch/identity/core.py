"""``Identity``: who an ICAO address is, each fact with the database it came from.

>>> ident = load_identity(allow_missing=True, db_dir=Path("/nonexistent"), watchlist=None)
>>> row = ident.annotate(pa.array([0x062F01], pa.int32())).to_pylist()[0]
>>> row["country_iso2"], row["country"], row["country_source"], row["note"]
('NE', 'Niger', 'ICAO Annex 10 table (built in)', 'not in any database')
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch import paths
from tailwatch.errors import NoDatabaseError, Rejects
from tailwatch.identity import watchlist as wl
from tailwatch.identity.annex10 import annex10_table
from tailwatch.identity.blocks import ADDRESS_SPACE, IntervalIndex, addresses_of, take_or_null
from tailwatch.identity.merge import CLASSES, FIELDS, Source, merge
from tailwatch.identity.nnumber import FIRST, LAST, address_of_n, registration_of_us
from tailwatch.identity.regnorm import RegistrationFormats, compact, compact_array
from tailwatch.identity.sources import AIRCRAFT_DBS, Databases
from tailwatch.schema import hex_of, icao_of

PAD = "plane-alert-db"
VRS = "vrs-standing-data"
FA = "dump1090-fa"
ANNEX10 = "ICAO Annex 10 table (built in)"
CODE_BLOCKS = "vrs-standing-data code-blocks"
NNUMBER = "FAA N-number algorithm"
NOT_FOUND = "not in any database"
#: Addresses transponders send when nobody set a real one (octal 1111... patterns, all zeros/ones).
PLACEHOLDER_ADDRESSES = (0x000000, 0xFFFFFF, 0x249249, 0x492492, 0x924924)

_CMPG = {"mil": "military", "gov": "government", "pol": "police", "civ": "civil"}
_OPERATOR_CLASS = [
    ("military", 0.6, r"(?i)\b(air force|navy|naval|army|military|armée|armee|fuerza a[eé]rea|luftwaffe|"
                      r"aeronautica militare|marine|air corps|defen[cs]e force)"),
    ("police", 0.6, r"(?i)\b(police|polizei|policia|polícia|politie|gendarmerie|carabinieri|guardia civil)"),
    ("government", 0.5, r"(?i)\b(government|ministry|ministerio|minist[eè]re|presiden|state of|royal flight)"),
]
_STOPWORDS = {"THE", "A", "AN", "OF", "DE", "DU", "LA", "LE", "AIRCRAFT", "PLANE"}
OUTPUT_COLUMNS = ["registration", "typecode", "type_desc", "operator", "country_iso2", "country",
                  "aircraft_class", "class_confidence", "tags", "category", "alias_address"]


@dataclass(frozen=True)
class Match:
    """One answer of :meth:`Identity.lookup`: the aircraft, how well it matched and on what."""

    icao24: int
    score: float
    matched_on: str
    record: dict[str, Any]

    @property
    def hex(self) -> str:
        """Six hex digits of the address."""
        return hex_of(self.icao24)

    def get(self, field: str) -> Any:
        """A field of the record (``None`` when unknown)."""
        return self.record.get(field)


def _canon_pad(t: pa.Table) -> pa.Table:
    reg = pc.if_else(pc.match_substring_regex(t["registration"], r"^\?*$"), pa.scalar(None, pa.string()),
                     t["registration"])
    cls = pc.index_in(t["cmpg"], value_set=pa.array(list(_CMPG)))
    alias = pc.or_(pc.fill_null(pc.match_substring_regex(t["tags"], r"(?i)miscode|alias|tactical (hex|icao|address)"),
                                False), pc.is_null(reg))
    return pa.table({
        "icao24": t["icao24"], "registration": reg, "typecode": t["typecode"], "type_desc": t["type_name"],
        "operator": t["operator"], "aircraft_class": pa.array(list(_CMPG.values()), pa.string()).take(cls),
        "class_confidence": pa.array(np.full(t.num_rows, 0.9, np.float32)), "tags": t["tags"],
        "category": t["category"], "alias_address": alias,
    })


def _records_table(records: pa.Table | Sequence[Mapping[str, Any]]) -> pa.Table:
    if not isinstance(records, pa.Table):
        rows = [dict(r) for r in records]
        if any("icao24" not in r for r in rows):
            raise ValueError("records need an icao24 column (int or hex text)")
        for r in rows:
            r["icao24"] = icao_of(r["icao24"]) if isinstance(r["icao24"], str) else int(r["icao24"])
        records = pa.Table.from_pylist(rows)
    table = records
    if "icao24" not in table.column_names:
        raise ValueError("records need an icao24 column (int or hex text)")
    icao = table["icao24"]
    if pa.types.is_string(icao.type) or pa.types.is_large_string(icao.type):
        icao = pa.array([icao_of(str(v)) for v in icao.to_pylist()], pa.int32())
    cols: dict[str, Any] = {"icao24": icao.cast(pa.int32())}
    for f in [*FIELDS, "class_confidence", "alias_address"]:
        if f in table.column_names:
            cols[f] = table[f].cast(pa.float32() if f == "class_confidence" else
                                    pa.bool_() if f == "alias_address" else pa.string())
    if "aircraft_class" in cols:
        bad = set(pc.unique(cols["aircraft_class"].drop_null()).to_pylist()) - set(CLASSES)
        if bad:
            raise ValueError(f"aircraft_class must be one of {CLASSES}, got {sorted(bad)}")
    return pa.table(cols)


class Identity:
    """Aircraft identity over the databases of a folder plus declared records and the watch list."""

    def __init__(self, dbs: Databases | None, overlays: list[Source] | None = None,
                 watch: list[wl.WatchEntry] | None = None) -> None:
        self._dbs = dbs
        self._overlays = overlays or []
        self._watch = watch or []
        self._base: pa.Table | None = None
        self._merged: pa.Table | None = None
        self._ext: pa.Table | None = None
        self._lut: npt.NDArray[np.int32] | None = None
        self._codes: dict[str, tuple[int, pa.Array]] = {}
        self._patterns: list[pa.Array] = []
        self._formats: RegistrationFormats | None = None

    # ----------------------------------------------------------------- databases
    @property
    def rejects(self) -> Rejects:
        """Rows of the databases that could not be loaded (bad hex, wrong header, duplicates)."""
        if self._dbs is None:
            return Rejects()
        self.aircraft()
        return self._dbs.log.rejects

    @property
    def repairs(self) -> Rejects:
        """Rows loaded after a repair (e.g. a hex address that lost its leading zeros)."""
        if self._dbs is None:
            return Rejects()
        self.aircraft()
        return self._dbs.log.repairs

    def _db(self, name: str) -> pa.Table | None:
        return self._dbs.get(name) if self._dbs is not None else None

    def _base_table(self) -> pa.Table:
        if self._base is None:
            names = ["pad", "vrs_aircraft", "fa", "code_blocks", "countries", "mic_types", "vrs_models"]
            if self._dbs is None:
                self._base = self._finish(merge([self._placeholders()]))
            else:
                self._base = self._dbs.cached("base", self._dbs.signature(names), self._build_base)
                assert self._base is not None
        return self._base

    def _placeholders(self) -> Source:
        n = len(PLACEHOLDER_ADDRESSES)
        return Source("tailwatch placeholder-address list", pa.table({
            "icao24": pa.array(PLACEHOLDER_ADDRESSES, pa.int32()),
            "tags": pa.array(["placeholder address (not a real aircraft's)"] * n),
            "alias_address": pa.array([True] * n)}))

    def _build_base(self) -> pa.Table:
        sources = []
        pad = self._db("pad")
        if pad is not None:
            sources.append(Source(PAD, _canon_pad(pad)))
        vrs = self._db("vrs_aircraft")
        if vrs is not None:
            sources.append(Source(VRS, vrs.select(["icao24", "registration", "typecode", "operator"])
                                  .append_column("type_desc", vrs["model"])))
        fa = self._db("fa")
        if fa is not None:
            sources.append(Source(FA, fa.select(["icao24", "registration", "typecode"])))
        sources.append(self._placeholders())
        return self._finish(merge(sources))

    # ----------------------------------------------------------------- derived facts
    def _blocks(self) -> tuple[pa.Table, str]:
        blocks = self._db("code_blocks")
        if blocks is not None and blocks.num_rows:
            return blocks, CODE_BLOCKS
        t = annex10_table()
        return t.append_column("is_military", pa.array(np.zeros(t.num_rows, bool))), ANNEX10

    def _country_names(self, iso2: pa.Array) -> pa.Array:
        countries = self._db("countries")
        annex = annex10_table()
        names = pc.coalesce(*(
            t["name"].combine_chunks().take(pc.index_in(iso2, value_set=t["iso2"].combine_chunks()))
            for t in ([countries] if countries is not None else []) + [annex]))
        return names

    def _type_names(self, typecode: pa.Array) -> tuple[pa.Array, pa.Array]:
        names, srcs = [], []
        for name, label, col in (("mic_types", "mictronics types", "name"), ("vrs_models", "vrs model-type", "name"),
                                 ("fa_types", "dump1090-fa aircraft_types", "icao_class")):
            t = self._db(name)
            if t is None:
                continue
            key = t["key" if "key" in t.column_names else "typecode"].combine_chunks()
            uniq = prepare_keys(key)
            v = t[col].combine_chunks().take(uniq).take(pc.index_in(typecode, value_set=key.take(uniq)))
            names.append(v)
            srcs.append(pc.if_else(pc.is_valid(v), pa.scalar(label), pa.scalar(None, pa.string())))
        if not names:
            return pa.nulls(len(typecode), pa.string()), pa.nulls(len(typecode), pa.string())
        return pc.coalesce(*names), pc.coalesce(*srcs)

    def _finish(self, t: pa.Table) -> pa.Table:
        """Fill what the aircraft databases do not say: country, type name, class fallbacks."""
        null = pa.scalar(None, pa.string())
        blocks, block_src = self._blocks()
        index = IntervalIndex.build(blocks["start"].to_numpy(), blocks["finish"].to_numpy())
        rows = index.find(t["icao24"].to_numpy().astype(np.int64))
        iso2 = take_or_null(blocks["iso2"].combine_chunks(), rows)
        mil = np.where(rows >= 0, blocks["is_military"].to_numpy(zero_copy_only=False)[np.maximum(rows, 0)], False)
        cols = {c: t[c].combine_chunks() for c in t.column_names}
        nreg = registration_of_us(cols["icao24"])
        fill = pc.and_(pc.is_null(cols["registration"]), pc.is_valid(nreg))
        cols["registration_source"] = pc.if_else(fill, pa.scalar(NNUMBER), cols["registration_source"])
        cols["registration"] = pc.if_else(fill, nreg, cols["registration"])
        cols["country_iso2"] = iso2
        cols["country"] = self._country_names(iso2)
        cols["country_source"] = pc.if_else(pc.is_valid(iso2), pa.scalar(block_src), null)
        cols["country_iso2_source"] = cols["country_source"]
        tname, tsrc = self._type_names(cols["typecode"])
        have = pc.is_valid(cols["type_desc"])
        cols["type_desc_source"] = pc.if_else(have, cols["type_desc_source"], tsrc)
        cols["type_desc"] = pc.if_else(have, cols["type_desc"], tname)
        cls, src, conf = cols["aircraft_class"], cols["aircraft_class_source"], cols["class_confidence"]
        steps: list[tuple[pa.Array, str, str | pa.Array, float]] = [
            (pa.array(mil), "military", f"{block_src} (military address block)", 0.7)]
        for label, c, pattern in _OPERATOR_CLASS:
            hit = pc.fill_null(pc.match_substring_regex(cols["operator"], pattern), False)
            steps.append((hit, label, pc.binary_join_element_wise(
                pa.scalar("operator name ("), cols["operator_source"], pa.scalar(")"), ""), c))
        steps.append((pc.is_valid(cols["registration"]), "civil", pc.binary_join_element_wise(
            pa.scalar("registered, no military or government sign ("), cols["registration_source"],
            pa.scalar(")"), ""), 0.5))
        for hit, label, source, c in steps:
            take = pc.and_(pc.is_null(cls), hit)
            src = pc.if_else(take, source if isinstance(source, pa.Array) else pa.scalar(source), src)
            conf = pc.if_else(take, pa.scalar(c, pa.float32()), conf)
            cls = pc.if_else(take, pa.scalar(label), cls)
        unknown = pc.is_null(cls)
        cols["aircraft_class"] = pc.if_else(unknown, pa.scalar("unknown"), cls)
        cols["aircraft_class_source"] = pc.if_else(unknown, pa.scalar("no evidence"), src)
        cols["class_confidence"] = pc.if_else(unknown, pa.scalar(0.0, pa.float32()), conf)
        if "alias_address_source" not in cols:
            cols["alias_address_source"] = pa.nulls(t.num_rows, pa.string())
        cols["note"] = pa.nulls(t.num_rows, pa.string())
        cols["reg_compact"] = compact_array(cols["registration"])
        return pa.table(cols)

    # ----------------------------------------------------------------- the merged view
    def aircraft(self) -> pa.Table:
        """Every known aircraft (one row per address): fields, sources, conflicts."""
        if self._merged is None:
            base = self._base_table()
            overlays = list(self._overlays)
            watch = self._watch_source(base)
            if not overlays and watch is None:
                self._merged = base
            else:
                # Re-merge only the rows the overlays touch; the rest of the base stays as cached.
                touched = np.unique(np.concatenate([s.table["icao24"].to_numpy() for s in
                                                    [*overlays, *([watch] if watch else [])]]))
                hit = pc.is_in(base["icao24"], value_set=pa.array(touched, pa.int32())).to_numpy(zero_copy_only=False)
                sub = base.filter(pa.array(hit)).drop_columns(
                    ["country_iso2", "country", "country_source", "country_iso2_source", "note", "reg_compact"])
                srcs = [*overlays, Source("databases", sub), *([watch] if watch else [])]
                redone = self._finish(merge(srcs)).select(base.column_names)
                self._merged = pa.concat_tables([base.filter(pa.array(~hit)), redone])
        return self._merged

    def _watch_source(self, base: pa.Table) -> Source | None:
        if not self._watch:
            return None
        wanted = [compact(e.registration) for e in self._watch if e.registration and not e.hex]
        found = base.filter(pc.is_in(base["reg_compact"], value_set=pa.array(wanted, pa.string())))
        by_reg = dict(zip(found["reg_compact"].to_pylist(), found["icao24"].to_pylist(), strict=True))
        icao, tags = [], []
        for e in self._watch:
            a = int(e.hex, 16) if e.hex else by_reg.get(compact(e.registration or ""))
            if a is None and e.registration:
                a = address_of_n(e.registration)
            if a is None:
                continue
            icao.append(a)
            tags.append("; ".join(["watch: " + e.label if e.label else "watch", *e.tags]))
        if not icao:
            return None
        return Source("watch list", pa.table({"icao24": pa.array(icao, pa.int32()), "tags": tags,
                                               "category": ["Watch list"] * len(icao)}))

    def _unknown_rows(self, addresses: npt.NDArray[np.int32]) -> pa.Table:
        """Rows for addresses in no database: N-number for US civil addresses, country block."""
        n = len(addresses)
        icao = pa.array(addresses, pa.int32())
        rows = self._finish(pa.table({
            "icao24": icao,
            **{f: pa.nulls(n, pa.string()) for f in FIELDS},
            **{f + "_source": pa.nulls(n, pa.string()) for f in FIELDS},
            "conflicts": pa.nulls(n, pa.string()),
            "class_confidence": pa.nulls(n, pa.float32()),
            "alias_address": pa.array(np.zeros(n, bool)),
        }))
        return rows.set_column(rows.column_names.index("note"), "note",
                               pa.array(np.full(n, NOT_FOUND, object), pa.string()))

    def describe(self, addresses: Sequence[int]) -> pa.Table:
        """Like :meth:`annotate` for a handful of addresses, without building the full lookup table
        (plain string columns, rows in the given order)."""
        known = self.aircraft().drop_columns(["reg_compact"])
        arr = np.asarray(addresses, dtype=np.int32)
        sel = known.filter(pc.is_in(known["icao24"], value_set=pa.array(arr, pa.int32())))
        found = np.isin(arr, sel["icao24"].to_numpy())
        parts = [sel]
        if (~found).any():
            parts.append(self._unknown_rows(arr[~found]).select(known.column_names))
        both = pa.concat_tables(parts)
        order = {int(a): i for i, a in enumerate(both["icao24"].to_pylist())}
        table = both.take(pa.array([order[int(a)] for a in arr], pa.int64()))
        cols = ["icao24"] + [c for f in OUTPUT_COLUMNS for c in (f, f + "_source") if c in table.column_names]
        return table.select([*dict.fromkeys([*cols, "conflicts", "note"])])

    def _extended(self) -> tuple[pa.Table, npt.NDArray[np.int32]]:
        """Known aircraft + N-number rows for unknown US addresses + one row per address block,
        and a lookup table address -> row covering all 2^24 addresses."""
        if self._ext is None or self._lut is None:
            known = self.aircraft().drop_columns(["reg_compact"])
            keys = known["icao24"].to_numpy()
            us = np.arange(FIRST, LAST + 1, dtype=np.int32)
            us = us[~np.isin(us, keys, assume_unique=True)]
            blocks, _ = self._blocks()
            index = IntervalIndex.build(blocks["start"].to_numpy(), blocks["finish"].to_numpy())
            # Unknown US civil addresses differ only by their N-number: derive the other facts once
            # per address block and broadcast them.
            seg = np.searchsorted(index.bounds, us, side="right") - 1
            _, first, inverse = np.unique(seg, return_index=True, return_inverse=True)
            template = self._unknown_rows(us[first])
            us_rows = template.take(pa.array(inverse.astype(np.int32)))
            us_rows = us_rows.set_column(us_rows.column_names.index("registration"), "registration",
                                         registration_of_us(pa.array(us, pa.int32())))
            starts = index.bounds[:-1]
            seg_rows = self._finish(pa.table({
                "icao24": pa.array(starts.astype(np.int32), pa.int32()),
                **{f: pa.nulls(len(starts), pa.string()) for f in FIELDS},
                **{f + "_source": pa.nulls(len(starts), pa.string()) for f in FIELDS},
                "conflicts": pa.nulls(len(starts), pa.string()),
                "class_confidence": pa.nulls(len(starts), pa.float32()),
                "alias_address": pa.array(np.zeros(len(starts), bool)),
            })).drop_columns(["icao24"])
            seg_rows = seg_rows.set_column(seg_rows.column_names.index("note"), "note",
                                           pa.array(np.full(len(starts), NOT_FOUND, object), pa.string()))
            cols = [c for c in known.column_names if c != "icao24"]
            ext = pa.concat_tables([known.select(cols), us_rows.select(cols), seg_rows.select(cols)])
            m, u = known.num_rows, len(us)
            lut = np.repeat(np.arange(m + u, m + u + len(starts), dtype=np.int32), np.diff(index.bounds))
            lut[us] = np.arange(m, m + u, dtype=np.int32)
            lut[keys] = np.arange(m, dtype=np.int32)
            self._ext, self._lut = ext.combine_chunks(), lut
            # Text columns become dictionaries over the extended table. Parquet cannot store nulls
            # *inside* a dictionary, so each dictionary is null-free ("" for null) and the nulls
            # live in the indices' validity: one bit-gather per distinct validity pattern
            # (a field and its *_source share one).
            self._codes = {}
            patterns: list[npt.NDArray[np.bool_]] = []
            for name in self._ext.column_names:
                col = self._ext[name].combine_chunks()
                if not pa.types.is_string(col.type):
                    continue
                valid = pc.is_valid(col).to_numpy(zero_copy_only=False)
                group = next((i for i, p in enumerate(patterns) if np.array_equal(p, valid)), len(patterns))
                if group == len(patterns):
                    patterns.append(valid)
                self._codes[name] = (group, pc.fill_null(col, ""))
            self._patterns = [pa.array(p) for p in patterns]
        return self._ext, self._lut

    # ----------------------------------------------------------------- public API
    def annotate(self, icao24: pa.Array | pa.ChunkedArray) -> pa.Table:
        """Identity of each address (vectorised: one gather per column, no loop per row).

        Text columns are dictionary-encoded (the dictionary is the identity table), which
        keeps joining 10 million positions cheap; ``.dictionary_decode()`` gives plain strings.
        """
        ext, lut = self._extended()
        values, valid = addresses_of(icao24)
        ok = valid & (values >= 0) & (values < ADDRESS_SPACE)
        rows = lut[np.where(ok, values, 0)]
        row_arr = pa.array(rows, pa.int32())
        ok_arr = None if ok.all() else pa.array(ok)
        validity: dict[int, pa.Buffer | None] = {}
        # icao24 comes back as given (an out-of-range value stays, with every other field null)
        out: dict[str, pa.Array] = {"icao24": pa.array(np.where(valid, values, 0).astype(np.int32), pa.int32(),
                                                       mask=~valid)}
        for name in ext.column_names:
            col = ext[name].chunk(0) if ext[name].num_chunks else pa.nulls(0, ext[name].type)
            if name in self._codes:
                group, values = self._codes[name]
                if group not in validity:
                    pattern = self._patterns[group]
                    if pattern.false_count == 0:  # never null (e.g. aircraft_class)
                        validity[group] = ok_arr.buffers()[1] if ok_arr is not None else None
                    else:
                        bits = pc.take(pattern, row_arr)
                        validity[group] = (pc.and_(bits, ok_arr) if ok_arr is not None else bits).buffers()[1]
                indices = pa.Array.from_buffers(pa.int32(), len(rows), [validity[group], row_arr.buffers()[1]],
                                                null_count=-1)
                out[name] = pa.DictionaryArray.from_arrays(indices, values, safe=False)
            else:
                arr = col.to_numpy(zero_copy_only=False)
                out[name] = pa.array(arr[rows], col.type, mask=~ok)
        order = ["icao24"] + [c for f in OUTPUT_COLUMNS for c in (f, f + "_source") if c in out] + \
                ["conflicts", "note"]
        return pa.table({c: out[c] for c in dict.fromkeys(order) if c in out})

    def formats(self) -> RegistrationFormats:
        """Registration formats (VRS registration prefixes; empty without the database)."""
        if self._formats is None:
            t = self._db("prefixes")
            self._formats = RegistrationFormats(t if t is not None else pa.table(
                {"prefix": pa.array([], pa.string())}))
        return self._formats

    def normalise_registration(self, text: str) -> tuple[str, str | None] | None:
        """Canonical spelling of a registration and its prefix's country (VRS registration prefixes),
        e.g. ``"5u mbh"`` -> ``("5U-MBH", "NE")``; ``None`` when no national format fits."""
        return self.formats().normalise(text)

    def lookup(self, query: str, limit: int = 20) -> list[Match]:
        """Ranked matches for a hex address, a registration (any spelling, or part of one),
        an ICAO type designator, an operator or a type name (fuzzy)."""
        q = query.strip()
        if not q:
            return []
        known = self.aircraft()
        scores: dict[int, tuple[float, str]] = {}
        criteria: dict[int, set[str]] = {}

        def hit(addresses: Sequence[int], score: float, how: str) -> None:
            for a in addresses:
                criteria.setdefault(a, set()).add(how.split(" ")[0])
                if a not in scores or scores[a][0] < score:
                    scores[a] = (score, how)

        hexq = re.fullmatch(r"(?:0X|~)?([0-9A-F]{6})", q.upper())
        if hexq:
            hit([int(hexq.group(1), 16)], 100.0, "hex address")
        cq = compact(q)
        regs = known["reg_compact"]
        icao = known["icao24"]
        if cq:
            hit(icao.filter(pc.equal(regs, cq)).to_pylist(), 100.0, "registration")
            n_addr = address_of_n(cq)
            if n_addr is not None:
                hit([n_addr], 95.0, "registration (N-number)")
            if len(cq) >= 2:
                part = pc.fill_null(pc.match_substring(regs, cq), False)
                sub = known.filter(part)
                lens = pc.utf8_length(sub["reg_compact"]).to_numpy()
                starts = pc.starts_with(sub["reg_compact"], cq).to_numpy(zero_copy_only=False)
                for a, n, st in zip(sub["icao24"].to_pylist(), lens, starts, strict=True):
                    hit([a], 55.0 + 25.0 * len(cq) / max(int(n), 1) + 10.0 * bool(st), "partial registration")
        hit(icao.filter(pc.equal(known["typecode"], q.upper())).to_pylist(), 85.0, "ICAO type")
        words = [w for w in re.split(r"[\s,;]+", q.upper()) if w]
        rest = q
        if len(words) > 1:  # "the C130", "Niger C130": a word that is an ICAO type designator
            typed = pc.fill_null(pc.is_in(known["typecode"], value_set=pa.array(words, pa.string())), False)
            types = set(pc.unique(known["typecode"].filter(typed)).to_pylist())
            hit(icao.filter(typed).to_pylist(), 75.0, "ICAO type (word of the query)")
            rest = " ".join(w for w in words if w not in types and w not in _STOPWORDS)
        exact = any(score >= 100.0 for score, _ in scores.values())
        if len(rest) >= 3 and not hexq and not exact:  # a registration or hex hit needs no fuzzy search
            self._fuzzy(known, "operator", rest, 0.9, hit)
            self._fuzzy(known, "type_desc", rest, 0.8, hit)
            operators = self._db("mic_operators")
            if len(q) == 3 and q.isalpha() and operators is not None:
                # an ICAO operator designator ("NAF"): search its name (Mictronics operators)
                named = operators.filter(pc.equal(operators["key"], q.upper()))["name"].to_pylist()
                if named and named[0]:
                    self._fuzzy(known, "operator", str(named[0]), 0.85, hit,
                                f"operator designator {q.upper()} (mictronics operators)")
        if not scores:
            return []
        # Equal scores: aircraft we know more about first (watch-list databases, then any registration).
        addrs = np.fromiter(scores, dtype=np.int64, count=len(scores))
        sel = known.filter(pc.is_in(known["icao24"], value_set=pa.array(addrs.astype(np.int32))))
        richness = dict(zip(sel["icao24"].to_pylist(), (
            pc.add(pc.cast(pc.is_valid(sel["category"]), pa.int8()),
                   pc.cast(pc.is_valid(sel["operator"]), pa.int8())).to_pylist()), strict=True))
        # Matching on several criteria at once ("Niger C130": operator and type) ranks higher.
        scores = {a: (min(sc + 10.0 * (len(criteria[a]) - 1), 99.0) if sc < 100 else sc, how)
                  for a, (sc, how) in scores.items()}
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1][0], -richness.get(kv[0], -1), kv[0]))[:limit]
        rows = self.describe([a for a, _ in ranked]).to_pylist()
        return [Match(a, s, how, row) for (a, (s, how)), row in zip(ranked, rows, strict=True)]

    @staticmethod
    def _fuzzy(known: pa.Table, field: str, q: str, weight: float, hit: Any, how: str | None = None) -> None:
        from rapidfuzz import fuzz, process, utils

        values = pc.unique(known[field].drop_null()).to_pylist()
        for value, score, _ in process.extract(q, values, scorer=fuzz.WRatio, limit=10, score_cutoff=85,
                                                processor=utils.default_process):
            mask = pc.equal(known[field], value)
            hit(known["icao24"].filter(mask).to_pylist(), float(score) * weight, how or field.replace("_", " "))

    def with_records(self, records: pa.Table | Sequence[Mapping[str, Any]], source: str,
                     replace: bool = False) -> Identity:
        """A new Identity where ``records`` (icao24 + any of registration, typecode, type_desc,
        operator, aircraft_class, class_confidence, tags, category, alias_address) come first,
        labelled ``source`` (e.g. ``"scenario sahel-2023 (simulated)"``). With ``replace=True``
        the databases are ignored (country still comes from the address block)."""
        overlay = Source(source, _records_table(records))
        return Identity(None if replace else self._dbs, [overlay, *self._overlays], self._watch)


def prepare_keys(keys: pa.Array) -> pa.Array:
    """Indices of the first occurrence of each key (so ``index_in`` sees unique values)."""
    _, first = np.unique(np.asarray(keys.to_pylist(), dtype=object).astype(str), return_index=True)
    return pa.array(np.sort(first), pa.int64())


def load_identity(db_dir: Path | None = None, *, allow_missing: bool = False,
                  watchlist: Path | bool | None = True) -> Identity:
    """The identity databases in ``db_dir`` (default ``paths.default_db_dir()``, or the old
    cache location ``paths.legacy_db_dir()`` if only that holds databases: logged as a warning).

    Raises :class:`~tailwatch.errors.NoDatabaseError` when no aircraft database is there,
    unless ``allow_missing`` (then country comes from the built-in ICAO table and the
    rest is unknown). ``watchlist``: True = the user's ``watchlist.yaml`` (and ``.csv``)
    if present, a path = that file, None/False = none.
    """
    if db_dir is not None:
        folder = Path(db_dir)
    else:
        folder, note = paths.db_dir_to_read()
        if note:
            logging.getLogger("tailwatch").warning(note)
    dbs = Databases(folder) if folder.is_dir() else None
    if dbs is not None and not any(dbs.present(n) for n in AIRCRAFT_DBS):
        dbs = None
    if dbs is None and not allow_missing:
        raise NoDatabaseError(
            f"no aircraft database in {folder}: run `tailwatch db update` to download them, "
            f"or `tailwatch db update --from DIR` to load a local copy")
    entries: list[wl.WatchEntry] = []
    if watchlist is True:
        default = wl.default_path()
        entries = wl.read_watchlist(default) + wl.read_watchlist(default.with_suffix(".csv"))
    elif isinstance(watchlist, Path):
        entries = wl.read_watchlist(watchlist)
    return Identity(dbs, [], entries)
