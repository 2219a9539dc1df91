"""tailwatch: ADS-B / Mode S data turned into evidence about military and government aircraft.

The public Python API starts at :func:`open_store`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tailwatch.store import Store

__version__ = "0.1.0"
__all__ = ["__version__", "open_store"]


def open_store(path: str | Path | None = None, memory_limit: str | None = None, create: bool = True) -> Store:
    """Open a tailwatch store; queries return Arrow tables.

    ``path`` defaults to ``$TAILWATCH_STORE`` or ``$XDG_DATA_HOME/tailwatch/store``.
    A missing store is created (empty) unless ``create=False``, which raises
    :class:`tailwatch.errors.StoreError` instead: use that when you only mean to read, so a
    mistyped path fails rather than showing an empty store.
    DuckDB is imported only when this is called, not when ``tailwatch`` is imported.

    >>> import tempfile, tailwatch
    >>> tailwatch.open_store(tempfile.mkdtemp()).positions().num_rows
    0
    """
    from tailwatch.store import open_store as _open

    return _open(path, memory_limit, create)
