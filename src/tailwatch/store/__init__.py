"""tailwatch.store: Parquet parts + DuckDB catalog; see :class:`tailwatch.store.store.Store`."""

from __future__ import annotations

from tailwatch.store.ingest import FileReport, IngestReport
from tailwatch.store.store import Store, open_store

__all__ = ["FileReport", "IngestReport", "Store", "open_store"]
