"""open_binary's gzip stream against Python's own gzip and zlib: members, padding, damage."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tailwatch.errors import InputError
from tailwatch.sources._io import open_binary


def _read_all(path: Path, sizes: list[int]) -> tuple[bytes, InputError | None]:
    """Read with the given request sizes (cycled; -1 = all), until the end or an error."""
    out = b""
    with open_binary(path) as s:
        i = 0
        while True:
            try:
                piece = s.read(sizes[i % len(sizes)])
            except InputError as exc:
                return out, exc
            if not piece:
                return out, None
            out += piece
            i += 1


BLOBS = st.lists(st.binary(max_size=3000) | st.just(b"0123456789" * 5000), min_size=1, max_size=4)
SIZES = st.lists(st.sampled_from([-1, 1, 7, 100, 4096, 1 << 20]), min_size=1, max_size=4)


@settings(max_examples=60, deadline=None)
@given(blobs=BLOBS, sizes=SIZES, padding=st.integers(0, 3))
def test_members_and_padding_read_like_python_gzip(tmp_path_factory: pytest.TempPathFactory, blobs: list[bytes],
                                                   sizes: list[int], padding: int) -> None:
    path = tmp_path_factory.mktemp("gz") / "x.gz"
    raw = b"".join(gzip.compress(b) for b in blobs) + b"\x00" * padding
    path.write_bytes(raw)
    data, err = _read_all(path, sizes)
    assert err is None and data == b"".join(blobs)


@settings(max_examples=60, deadline=None)
@given(blobs=BLOBS, sizes=SIZES, cut=st.floats(0.05, 0.95))
def test_truncation_gives_what_zlib_gives_then_names_the_offset(tmp_path_factory: pytest.TempPathFactory,
                                                                blobs: list[bytes], sizes: list[int],
                                                                cut: float) -> None:
    whole = b"".join(gzip.compress(b) for b in blobs)
    raw = whole[: max(3, int(len(whole) * cut))]
    path = tmp_path_factory.mktemp("gz") / "cut.gz"
    path.write_bytes(raw)
    data, err = _read_all(path, sizes)
    full = gzip.decompress(whole)
    assert full.startswith(data)
    if err is None:  # cut exactly between members: a clean, shorter file
        assert len(data) < len(full) and gzip.decompress(raw) == data
        return
    assert err.location == f"byte {len(raw)}"
    # Python's zlib, member by member, on the same bytes: nothing it recovers may be missing
    # (isal may hold back the last few bytes of an unfinished deflate block; zlib too)
    zl, rest = b"", raw
    while rest:
        d = zlib.decompressobj(wbits=31)
        zl += d.decompress(rest)
        rest = d.unused_data if d.eof else b""
    assert len(data) >= len(zl) - 258  # a deflate match is at most 258 bytes


def test_stray_bytes_after_the_stream(tmp_path: Path) -> None:
    path = tmp_path / "stray.gz"
    path.write_bytes(gzip.compress(b"hello") + b"garbage")
    data, err = _read_all(path, [-1])
    assert data == b"hello" and err is not None and "stray bytes" in str(err)


def test_corrupt_member_is_not_used_at_all(shared_data: Path, tmp_path: Path) -> None:
    # 64 flipped bytes in the middle of quickstart.json.gz: isal decodes the damaged deflate data
    # into wrong text for a while before the CRC catches it, so nothing of that member may be used.
    src = (shared_data / "traffic_samples/collections/quickstart.json.gz").read_bytes()
    bad = bytearray(src)
    for i in range(2_000_000, 2_000_064):
        bad[i] ^= 0xFF
    d = zlib.decompressobj(wbits=31)
    wrong = d.decompress(bytes(bad)[:3_000_000])  # what a naive stream would have handed on
    assert not gzip.decompress(src).startswith(wrong)
    path = tmp_path / "bad.json.gz"
    path.write_bytes(bytes(bad))
    data, err = _read_all(path, [1 << 20])
    assert data == b"" and err is not None and "nothing of the damaged gzip member is used" in str(err)
    # ... while the members before a damaged one are whole and checked, so they are used
    first = gzip.compress(b"checked member\n")
    path.write_bytes(first + bytes(bad))
    data, err = _read_all(path, [7])
    assert data == b"checked member\n" and err is not None
