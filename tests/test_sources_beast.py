"""Beast reader against the real capture and an independent sequential de-framer."""

from __future__ import annotations

import os
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tailwatch.errors import InputError, Rejects
from tailwatch.sources import detect, get_reader

SAMPLE = "traffic_samples/dump1090/sample_dump1090.bin"


def reference_frames(data: bytes) -> list[tuple[int, int, bytes, int]]:
    """A plain sequential Beast de-framer (the textbook state machine), for comparison.

    Returns (offset, 48-bit counter, message, signal) of every Mode S frame.
    """
    out = []
    i = 0
    sizes = {0x31: 2, 0x32: 7, 0x33: 14}
    while i < len(data) - 1:
        if data[i] != 0x1A or data[i + 1] not in sizes:
            i += 1
            continue
        start, j, body = i, i + 2, bytearray()
        need = 6 + 1 + sizes[data[i + 1]]
        while len(body) < need and j < len(data):
            if data[j] == 0x1A:
                if j + 1 < len(data) and data[j + 1] == 0x1A:
                    body.append(0x1A)
                    j += 2
                    continue
                break
            body.append(data[j])
            j += 1
        if len(body) == need and data[i + 1] != 0x31:
            out.append((start, int.from_bytes(body[:6], "big"), bytes(body[7:]), body[6]))
        i = j
    return out


def read_all(path: Path, **opts: object) -> tuple[list[dict[str, object]], Rejects]:
    rejects = Rejects()
    rows = []
    for chunk in get_reader("beast", **opts).read(path, rejects):
        assert chunk.kind == "frames"
        rows += chunk.batch.to_pylist()
    return rows, rejects


def test_real_capture_df_counts(shared_data: Path) -> None:
    path = shared_data / SAMPLE
    assert detect(path) == "beast"
    rows, rejects = read_all(path)
    # Independently measured (research/receivers-and-alerts.md): 239 Mode S frames.
    assert Counter(r["msg"][0] >> 3 for r in rows) == {
        11: 90, 0: 44, 4: 39, 17: 23, 20: 16, 21: 14, 5: 12, 16: 1}
    assert not [k for k in rejects.counts if not k.startswith("note:")]
    ref = reference_frames(path.read_bytes())
    assert [(r["offset"], r["msg"], r["signal"]) for r in rows] == [(o, m, float(s)) for o, _, m, s in ref]


def test_timestamps_anchor_on_mtime_or_start_time(shared_data: Path, tmp_path: Path) -> None:
    path = tmp_path / "cap.bin"
    path.write_bytes((shared_data / SAMPLE).read_bytes())
    os.utime(path, (1_700_000_000, 1_700_000_000))
    ref = reference_frames(path.read_bytes())
    ticks = [c for _, c, _, _ in ref]
    assert ticks == sorted(ticks)  # this capture has no counter reset
    rows, _ = read_all(path)
    us = [int(r["time"].timestamp() * 1_000_000) for r in rows]
    assert us[-1] == 1_700_000_000_000_000
    # 12 MHz counter: 12 ticks per microsecond.
    assert [u - us[0] for u in us] == [(c - ticks[0]) // 12 for c in ticks]
    rows2, _ = read_all(path, start_time="2023-08-20T06:00:00Z")
    assert rows2[0]["time"].isoformat() == "2023-08-20T06:00:00+00:00"


def test_counter_reset_continues_monotonic(shared_data: Path, tmp_path: Path) -> None:
    data = (shared_data / SAMPLE).read_bytes()
    path = tmp_path / "twice.bin"
    path.write_bytes(data + data)  # the counter jumps back at the join
    rows, rejects = read_all(path, start_time=0)
    assert len(rows) == 2 * 239
    times = [r["time"] for r in rows]
    assert times == sorted(times)
    assert rejects.counts["note: beast counter reset"] == 1


def test_garbage_and_truncation(shared_data: Path, tmp_path: Path) -> None:
    data = (shared_data / SAMPLE).read_bytes()
    ref = reference_frames(data)
    # Insert garbage right after the 10th frame starts its successor.
    cut = ref[10][0]
    bad = tmp_path / "bad.bin"
    bad.write_bytes(data[:cut] + b"\x00\xff\x1a\x99garbage" + data[cut:-5])
    rows, rejects = read_all(bad)
    assert rejects.counts["beast resync"] >= 2  # the garbage and the truncated last frame
    assert any(s.location == f"byte {cut}" for s in rejects.samples)
    # Every complete frame survives; the last one (cut short) does not.
    assert [r["msg"] for r in rows] == [m for _, _, m, _ in ref[:-1]]


def test_empty_and_truncated_gzip(shared_data: Path, tmp_path: Path) -> None:
    import gzip

    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty file"):
        read_all(empty)
    gz = tmp_path / "cap.bin.gz"
    gz.write_bytes(gzip.compress((shared_data / SAMPLE).read_bytes() * 50))
    assert detect(gz) == "beast"
    full, _ = read_all(gz)
    assert len(full) == 239 * 50
    trunc = tmp_path / "trunc.bin.gz"
    trunc.write_bytes(gz.read_bytes()[:-200])  # keeps the first copies, cuts the stream
    rejects = Rejects()
    got = []
    with pytest.raises(InputError, match=r"truncated or corrupt gzip") as exc:
        for chunk in get_reader("beast").read(trunc, rejects):
            got.append(chunk.batch.num_rows)
    assert exc.value.location.startswith("byte ")
    assert 0 < sum(got) < len(full)


def _escape(b: bytes) -> bytes:
    return b.replace(b"\x1a", b"\x1a\x1a")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    frames=st.lists(
        st.tuples(st.integers(0, 2**40), st.integers(0, 255), st.sampled_from([7, 14]),
                  st.binary(min_size=14, max_size=14).map(lambda b: b.replace(b"\x00", b"\x1a"))),
        min_size=1, max_size=40),
    block=st.integers(3, 64),
)
def test_escaping_and_block_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       frames: list[tuple[int, int, int, bytes]], block: int) -> None:
    # Frames full of 0x1a bytes, written with Beast escaping, read back through tiny blocks
    # so that escapes and frames straddle block boundaries: the generated frames are the truth.
    from tailwatch.sources import beast

    monkeypatch.setattr(beast, "BLOCK", block)
    stream = b""
    ticks = 0
    for step, sig, size, body in frames:
        ticks += step
        typ = b"2" if size == 7 else b"3"
        stream += b"\x1a" + typ + _escape(ticks.to_bytes(6, "big") + bytes([sig]) + body[:size])
    path = tmp_path / f"gen{block}.bin"
    path.write_bytes(stream)
    rows, rejects = read_all(path, start_time=0)
    assert not rejects.counts
    assert [r["msg"] for r in rows] == [body[:size] for _, _, size, body in frames]
    assert [r["signal"] for r in rows] == [float(sig) for _, sig, _, _ in frames]
    first = frames[0][0]
    expect, t = [], 0
    for step, _, _, _ in frames:
        t += step
        expect.append((t - first) // 12)
    # 12 MHz ticks -> whole microseconds since the first frame.
    assert [(r["time"] - rows[0]["time"]) // timedelta(microseconds=1) for r in rows] == expect
