"""tailwatch: ADS-B / Mode S data turned into evidence about military and government aircraft.

The public Python API starts at :func:`open_store`.
"""

from __future__ import annotations

__version__ = "0.1.0"
