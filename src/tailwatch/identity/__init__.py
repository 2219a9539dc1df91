"""tailwatch.identity: hex <-> registration <-> type <-> operator <-> country <-> military.

Every fact carries the database it came from (``*_source``). Entry points:
:func:`load_identity`, :class:`Identity` (``lookup``, ``annotate``, ``with_records``),
and the pure :func:`country_of` / :func:`is_military_block`.
"""

from __future__ import annotations

from tailwatch.identity.blocks import country_of, is_military_block
from tailwatch.identity.core import Identity, Match, load_identity
from tailwatch.identity.nnumber import address_of_n, registration_of_us

__all__ = ["Identity", "Match", "address_of_n", "country_of", "is_military_block", "load_identity",
           "registration_of_us"]
