"""Timing helper shared by the bench scripts (run as ``python bench/bench_x.py``, so this
folder is on ``sys.path``)."""

from __future__ import annotations

import time
from collections.abc import Callable


def timed_result(fn: Callable[[], object], repeat: int) -> tuple[list[float], object]:
    """Wall-clock seconds of ``repeat`` calls of ``fn``, and the last call's result."""
    times: list[float] = []
    out: object = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Wall-clock seconds of ``repeat`` calls of ``fn``."""
    return timed_result(fn, repeat)[0]
