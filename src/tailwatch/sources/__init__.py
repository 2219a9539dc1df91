"""File-format readers: detection, gzip handling, and one reader per format.

>>> sorted(READERS)[:3]
['avr', 'beast', 'fr24']
>>> get_reader("beast").name
'beast'

``detect(path)`` looks at the (decompressed) content, not the file name;
``get_reader(name, **options)`` builds a reader (options: ``start_time``,
``sbs_tz``; see :class:`~tailwatch.sources.base.ReaderOptions`); every reader's
``read(path, rejects, chunk_rows)`` yields :class:`~tailwatch.sources.base.Chunk`.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from tailwatch.errors import InputError
from tailwatch.sources._io import InputStream, open_binary, read_head
from tailwatch.sources.base import Chunk, Reader, ReaderOptions

#: Format name -> "module:class" (imported on first use).
READERS: dict[str, str] = {
    "beast": "beast:BeastReader",
    "avr": "avr:AvrReader",
    "sbs": "sbs:SbsReader",
    "hexcsv": "hexcsv:HexCsvReader",
    "rs1090": "jsonl1090:Rs1090Reader",
    "readsb-trace": "readsb:TraceReader",
    "readsb-hist": "readsb:HistReader",
    "opensky": "opensky:OpenSkyReader",
    "traffic": "traffic:TrafficReader",
    "fr24": "fr24:Fr24Reader",
}

#: Order in which ``detect`` asks the readers (most specific first).
DETECT_ORDER = ("beast", "readsb-trace", "readsb-hist", "fr24", "rs1090", "opensky", "traffic", "sbs", "avr",
                "hexcsv")

__all__ = ["READERS", "Chunk", "InputStream", "Reader", "ReaderOptions", "detect", "get_reader",
           "open_binary", "read_head"]


def get_reader(name: str, **options: object) -> Reader:
    """The reader of format ``name``, configured with ``options``.

    Raises ``ValueError`` for an unknown format or option.
    """
    try:
        target = READERS[name]
    except KeyError:
        raise ValueError(f"unknown format {name!r}; known: {', '.join(sorted(READERS))}") from None
    module, cls = target.split(":")
    mod = importlib.import_module(f"tailwatch.sources.{module}")
    reader: Reader = getattr(mod, cls)(ReaderOptions.make(**options))
    return reader


_TEXT_BYTES = frozenset(range(32, 127)) | {9, 10, 13}


def _describe(head: bytes) -> str:
    """The first bytes as a user recognises them: text (line breaks kept, shown escaped) or hex.

    >>> _describe(b'ICAO,time,')
    "'ICAO,time,'"
    >>> _describe(bytes([0x81, 0x7f, 0x7e]))
    '81 7f 7e'
    """
    shown = head[:24]
    if all(b in _TEXT_BYTES for b in shown):
        return repr(shown.decode())
    return shown[:16].hex(" ")


def _not_a_capture(head: bytes) -> str | None:
    """Why a recognisable non-capture file is not ingested (None for anything else)."""
    start = head.lstrip()
    if start.startswith(b"{") and b'"scenario"' in start[:200] and b"SIMULATED" in start[:400]:
        return ("not a receiver capture: the simulator's ground truth (truth.json); "
                "ingest the .beast/.avr/.sbs files beside it")
    return None


def detect(path: str | Path) -> str:
    """The format of ``path``, judged from its first KiB (decompressed if gzip).

    Raises :class:`InputError` for an empty file or content no reader recognises.
    """
    p = Path(path)
    head = read_head(p, 1024)
    if not head.strip():
        raise InputError(str(p), "byte 0", "empty file")
    for name in DETECT_ORDER:
        if get_reader(name).sniff(head, p):
            return name
    why = _not_a_capture(head)
    if why is not None:
        raise InputError(str(p), "byte 0", why)
    raise InputError(str(p), "byte 0", f"cannot tell the format: starts with {_describe(head)}")
