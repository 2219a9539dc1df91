"""rs1090 / jet1090 JSON lines (``jet1090 --output file.jsonl``, ``decode1090``).

Each line is one decoded message: ``{"timestamp": <epoch s>, "frame": "<hex>",
"df": ..., "icao24": ..., <decoded fields>, "metadata": [{"rssi": ...}]}``.
Decision: because every line carries the raw ``frame``, this reader yields
``FRAMES`` (time, bytes, signal from ``rssi``) and lets tailwatch's decoder
re-decode them, so these rows get the same CRC/address checks and quality
flags as Beast or AVR input instead of trusting rs1090's unchecked fields.
Lines without a ``frame`` are rejected.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from tailwatch.errors import InputError, Rejects
from tailwatch.sources._arrow import count_frame_rejects, epoch_us, frames_batch, hex_frames, reject_rows
from tailwatch.sources._io import iter_blocks
from tailwatch.sources.base import Chunk, ReaderOptions


def _arrow(block: bytes) -> pa.Table:
    return pj.read_json(io.BytesIO(block), read_options=pj.ReadOptions(block_size=1 << 24),
                        parse_options=pj.ParseOptions(newlines_in_values=False))


def _slow(block: bytes, first: int, path: str, rejects: Rejects) -> tuple[pa.Table, np.ndarray]:
    """Line-by-line fallback that names each broken line (used only when Arrow refuses a block)."""
    rows: list[dict[str, object]] = []
    where: list[int] = []
    for i, line in enumerate(block.split(b"\n")):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            rejects.add("invalid JSON line", path, f"line {first + i}", f"{exc.msg} at column {exc.pos}")
            continue
        if not isinstance(obj, dict):
            rejects.add("invalid JSON line", path, f"line {first + i}", "not an object")
            continue
        meta = obj.get("metadata")
        rssi = obj.get("rssi")
        if rssi is None and isinstance(meta, list) and meta and isinstance(meta[0], dict):
            rssi = meta[0].get("rssi")
        rows.append({"timestamp": obj.get("timestamp"), "frame": obj.get("frame"),
                     "rssi": rssi if isinstance(rssi, int | float) else None})
        where.append(first + i)
    table = pa.table({
        "timestamp": pa.array([r["timestamp"] if isinstance(r["timestamp"], int | float) else None
                               for r in rows], pa.float64()),
        "frame": pa.array([r["frame"] if isinstance(r["frame"], str) else None for r in rows], pa.string()),
        "rssi": pa.array([r["rssi"] for r in rows], pa.float64()),
    })
    return table, np.array(where, np.int64)


class Rs1090Reader:
    """Reader of rs1090/jet1090 JSONL (yields ``FRAMES``; ``offset`` = line number)."""

    name = "rs1090"

    def __init__(self, options: ReaderOptions | None = None) -> None:
        self.options = options or ReaderOptions()

    def sniff(self, head: bytes, path: Path) -> bool:
        """The first line is a JSON object with ``"timestamp"`` and ``"frame"``."""
        line = head.lstrip().split(b"\n", 1)[0]
        return line.startswith(b"{") and b'"frame"' in line and b'"timestamp"' in line

    def read(self, path: Path, rejects: Rejects, chunk_rows: int = 500_000) -> Iterator[Chunk]:
        """Yield ``FRAMES`` chunks; broken lines are counted with their line number."""
        p = str(path)
        for block, first, pos in iter_blocks(path):
            if b"\x00" in block[:4096]:
                raise InputError(p, f"line {first}", "binary data, not JSON lines (NUL bytes)")
            try:
                table = _arrow(block)
                if "frame" not in table.column_names or "timestamp" not in table.column_names:
                    raise pa.ArrowInvalid("missing columns")
                if table.num_rows != block.count(b"\n") + (0 if block.endswith(b"\n") else 1):
                    raise pa.ArrowInvalid("blank lines: use the line-numbered path")
                rssi = None
                if "rssi" in table.column_names:
                    rssi = table.column("rssi")
                elif "metadata" in table.column_names:
                    meta = table.column("metadata").combine_chunks()
                    if pa.types.is_list(meta.type) and pa.types.is_struct(meta.type.value_type) \
                            and meta.type.value_type.get_field_index("rssi") >= 0:
                        rssi = pc.struct_field(pc.list_element(meta, 0), "rssi")
                table = pa.table({"timestamp": table.column("timestamp"),
                                  "frame": table.column("frame").cast(pa.string()),
                                  "rssi": pa.nulls(table.num_rows, pa.float64()) if rssi is None
                                  else rssi.cast(pa.float64())})
                where = np.arange(first, first + table.num_rows, dtype=np.int64)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                table, where = _slow(block, first, p, rejects)
            t = epoch_us(table.column("timestamp"))
            frame = table.column("frame").combine_chunks()
            no_frame = ~frame.is_valid().to_numpy(zero_copy_only=False)
            reject_rows(no_frame, "line without a frame", p, "line", where, rejects)
            msg, status = hex_frames(frame)
            count_frame_rejects(np.where(no_frame, 0, status).astype(np.int8), where, frame, p, rejects)
            bad_t = ~np.isfinite(t) & (status == 0)
            reject_rows(bad_t, "missing or bad time", p, "line", where, rejects)
            good = np.nonzero((status == 0) & ~bad_t)[0]
            rssi_np = table.column("rssi").combine_chunks().to_numpy(zero_copy_only=False).astype(np.float32)
            sig = rssi_np[good]
            signal = pa.array(sig, pa.float32(), mask=np.isnan(sig))
            msg = msg.take(pa.array(good))
            t_us = np.round(t[good]).astype(np.int64)
            for i in range(0, len(good), chunk_rows):
                j = i + chunk_rows
                yield Chunk("frames", frames_batch(t_us[i:j], msg[i:j], signal[i:j], where[good][i:j]), pos)
