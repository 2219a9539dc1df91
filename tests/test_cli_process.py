"""The tailwatch command keeps column-sized temporaries in glibc's heap (checked with glibc's
own accounting, ``mallinfo2``), and leaves a user's own malloc settings alone."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import ctypes, sys
import numpy as np

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "tuned":
    from tailwatch.cli.process import tune_allocator
    assert tune_allocator()
before = libc.mallinfo2().hblks
a = np.ones(300_000)  # 2.4 MB, a column of the quickstart sample
print(libc.mallinfo2().hblks - before)
"""


def _mapped_blocks(mode: str, env: dict[str, str] | None = None) -> int:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True,
                         env={**os.environ, **(env or {})})
    return int(out.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc tuning is Linux-only")
def test_tuned_process_serves_columns_from_the_heap() -> None:
    assert _mapped_blocks("plain") == 1  # glibc's default: a fresh mapping for 2.4 MB
    assert _mapped_blocks("tuned") == 0


def test_user_settings_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from tailwatch.cli.process import tune_allocator

    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "131072")
    assert tune_allocator() is False
