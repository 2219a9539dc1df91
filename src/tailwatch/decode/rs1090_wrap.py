"""rs1090 behind tailwatch's validation: it can neither crash the run nor lie about an address.

rs1090 0.7.0 raises an uncatchable Rust panic on non-hex or odd-length input (one bad
frame fails a whole batch), accepts DF18 frames with a broken CRC, and turns a bit-flipped
Address/Parity frame into a new aircraft. :func:`decode_rs1090` first runs
:meth:`Decoder.validate` (lengths, DF, CRC, confirmed addresses; counted in ``rejects``) and
hands rs1090 only the accepted frames, as hex built by tailwatch, with their timestamps.
Use it for what the columnar decoder does not output (Comm-B registers such as BDS 4,0,
5,0, 6,0; ADS-B operational status); positions belong to :class:`Decoder`, whose CPR state
survives chunk boundaries (rs1090's lives inside one call).

>>> import pyarrow as pa
>>> from tailwatch.errors import Rejects
>>> from tailwatch.schema import FRAMES
>>> frames = pa.record_batch([pa.array([0, 1], FRAMES.field("time").type),
...     pa.array([bytes.fromhex("8D4840D6202CC371C32CE0576098"), bytes.fromhex("8D4840D6202CC371C32CE0576099")]),
...     pa.array([None, None], pa.float32()), pa.array([0, 1], pa.int64())], schema=FRAMES)
>>> r = Rejects()
>>> [m["callsign"] for m in decode_rs1090(Decoder(), frames, "x", r)], r.counts
(['KLM1023'], {'bad crc': 1})
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pyarrow as pa
import rs1090

from tailwatch.decode.decoder import Decoder
from tailwatch.errors import Rejects


def decode_rs1090(
    decoder: Decoder,
    frames: pa.RecordBatch,
    path: str,
    rejects: Rejects,
    reference: tuple[float, float] | None = None,
) -> list[dict[str, Any]]:
    """rs1090's full decoding (one dict per accepted frame) of a ``FRAMES`` batch, validated first."""
    if frames.num_rows == 0:
        return []
    v = decoder.validate(frames, path, rejects)
    keep = np.flatnonzero(v.accepted)
    if len(keep) == 0:
        return []
    full = v.mat[keep].tobytes().hex()  # 28 hex digits per frame; short frames use the first 14
    ends = (v.length[keep] * 2).tolist()
    hexes = [full[28 * i : 28 * i + e] for i, e in enumerate(ends)]  # rs1090 wants one str per frame
    secs = (v.t_us[keep] / 1e6).tolist()
    return cast(list[dict[str, Any]], rs1090.decode(hexes, secs, reference=reference))
