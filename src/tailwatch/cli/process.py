"""Set-up of the ``tailwatch`` process itself (never done on import: a library must not
change the process that imports it; the command owns its process and may).

glibc's ``malloc`` serves a request above its *mmap threshold* with a fresh ``mmap``
and gives it back with ``munmap`` on ``free``; every page of a fresh mapping faults and
is zeroed on first touch. The threshold starts at 128 KiB and only rises as mapped
blocks are freed, so whether a column-sized numpy temporary (2.3 MB for the quickstart
sample's 284,505 rows) comes from the heap or from a new mapping depends on what the
process happened to allocate before. The legs kernel makes dozens of such temporaries
per call: measured on the project machine, 0.050–0.054 s with the heap kept, 0.062–0.083 s
with a new mapping for each (see docs/benchmarks.md, "Legs").

:func:`tune_allocator` fixes the threshold at 32 MiB (glibc's own upper bound for the
dynamic value) and lets up to 128 MiB of freed heap stay mapped for reuse.
"""

from __future__ import annotations

import ctypes
import os
import sys

#: ``mallopt`` parameters (glibc ``malloc.h``).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 128 << 20
#: Environment variables with which a user sets these themselves (then tailwatch leaves them).
USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "GLIBC_TUNABLES")


def tune_allocator() -> bool:
    """Keep column-sized temporaries in glibc's heap for this process; True when applied.

    Does nothing (False) off Linux/glibc, or when the user already tunes malloc through
    the environment (one of :data:`USER_SETTINGS`).
    """
    if not sys.platform.startswith("linux") or any(v in os.environ for v in USER_SETTINGS):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter runs on
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
