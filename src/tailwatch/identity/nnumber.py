"""US civil registrations (N-numbers) <-> ICAO addresses A00001-ADF7C7.

The FAA assigns the 915,399 addresses from A00001 in the order of the N-number
"tree": ``N`` + a digit 1-9, then up to four more characters, where after any
digit either a one/two letter suffix (letters without I and O) or a further digit
may follow, and the fifth character may be a letter or a digit. Each node of the
tree owns a fixed-size bucket, so both directions are arithmetic; here they are
vectorised over NumPy arrays (no loop per address).

>>> import pyarrow as pa
>>> registration_of_us(pa.array([0xA00001, 0xA00002, 0xADF7C7], pa.int32())).to_pylist()
['N1', 'N1A', 'N99999']
>>> address_of_n("N899DN") == 0xAC671B
True
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from tailwatch.identity.blocks import addresses_of

LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # 24 letters: no I, no O
FIRST = 0xA00001
SUFFIX = 1 + len(LETTERS) * (1 + len(LETTERS))  # "", A, AA..AZ, B, BA... = 601
BUCKET4 = 1 + len(LETTERS) + 10  # 5th character: none, a letter or a digit = 35
BUCKET3 = 10 * BUCKET4 + SUFFIX  # 951
BUCKET2 = 10 * BUCKET3 + SUFFIX  # 10111
BUCKET1 = 10 * BUCKET2 + SUFFIX  # 101711
LAST = FIRST + 9 * BUCKET1 - 1  # 0xADF7C7

_LETTER_CODES = np.frombuffer(LETTERS.encode(), dtype=np.uint8)


def _put_suffix(out: npt.NDArray[np.uint8], col: npt.NDArray[np.int64], rem: npt.NDArray[np.int64],
                rows: npt.NDArray[np.bool_]) -> None:
    """Write the letter suffix encoded by ``rem`` (0 < rem < SUFFIX) at ``col`` for ``rows``."""
    r = rem[rows] - 1
    first = r // (len(LETTERS) + 1)
    second = r % (len(LETTERS) + 1)
    idx = np.nonzero(rows)[0]
    out[idx, col[rows]] = _LETTER_CODES[first]
    two = second > 0
    out[idx[two], col[rows][two] + 1] = _LETTER_CODES[second[two] - 1]


def registration_of_us(icao24: pa.Array | pa.ChunkedArray) -> pa.Array:
    """N-number of each address in A00001-ADF7C7; null outside that range or for null input."""
    values, valid = addresses_of(icao24)
    inside = valid & (values >= FIRST) & (values <= LAST)
    n = len(values)
    out = np.zeros((n, 6), dtype=np.uint8)  # NUL-padded "N12345"
    off = np.where(inside, values - FIRST, 0)
    out[:, 0] = ord("N")
    out[:, 1] = ord("1") + off // BUCKET1
    rem = off % BUCKET1
    col = np.full(n, 2, dtype=np.int64)
    live = inside.copy()
    for bucket in (BUCKET2, BUCKET3):
        suffix = live & (rem > 0) & (rem < SUFFIX)
        _put_suffix(out, col, rem, suffix)
        live &= rem >= SUFFIX
        rem = np.where(live, rem - SUFFIX, rem)
        digit = rem // bucket
        out[live, col[live]] = (ord("0") + digit[live]).astype(np.uint8)
        rem = np.where(live, rem % bucket, rem)
        col = np.where(live, col + 1, col)
    # fourth character: suffix or digit, then the fifth: nothing, a letter or a digit
    suffix = live & (rem > 0) & (rem < SUFFIX)
    _put_suffix(out, col, rem, suffix)
    live &= rem >= SUFFIX
    rem = np.where(live, rem - SUFFIX, rem)
    out[live, col[live]] = (ord("0") + rem[live] // BUCKET4).astype(np.uint8)
    last = rem % BUCKET4
    letter = live & (last >= 1) & (last <= len(LETTERS))
    out[letter, col[letter] + 1] = _LETTER_CODES[last[letter] - 1]
    digit5 = live & (last > len(LETTERS))
    out[digit5, col[digit5] + 1] = (ord("0") + last[digit5] - len(LETTERS) - 1).astype(np.uint8)
    # Fixed-width NUL-padded rows -> Arrow strings without a Python loop: strip the padding
    # by building offsets from the per-row lengths.
    lengths = (out != 0).sum(axis=1).astype(np.int32)
    flat = out[out != 0]
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    validity = pa.array(inside, pa.bool_()).buffers()[1] if not inside.all() else None
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(flat.tobytes()), validity,
        null_count=int((~inside).sum()),
    )


def _suffix_offset(s: str) -> int:
    if not s:
        return 0
    first = LETTERS.index(s[0])
    second = LETTERS.index(s[1]) + 1 if len(s) == 2 else 0
    return 1 + first * (len(LETTERS) + 1) + second


def address_of_n(registration: str) -> int | None:
    """ICAO address of a US N-number (``None`` when it is not a valid N-number).

    >>> f"{address_of_n('N1'):06X}", f"{address_of_n('n99999'):06X}", address_of_n("NO1")
    ('A00001', 'ADF7C7', None)
    """
    reg = registration.strip().upper().replace("-", "").replace(" ", "")
    if not reg.startswith("N") or not 2 <= len(reg) <= 6:
        return None
    body = reg[1:]
    if body[0] not in "123456789":
        return None
    out = FIRST + (int(body[0]) - 1) * BUCKET1
    rest = body[1:]
    for bucket in (BUCKET2, BUCKET3, BUCKET4):
        if not rest:
            return out
        head = rest[0]
        if head.isdigit():
            out += SUFFIX + int(head) * bucket
            rest = rest[1:]
            continue
        if len(rest) > 2 or any(c not in LETTERS for c in rest):
            return None
        return out + _suffix_offset(rest)
    if not rest:
        return out
    if len(rest) != 1:
        return None
    c = rest[0]
    if c.isdigit():
        return out + 1 + len(LETTERS) + int(c)
    if c in LETTERS:
        return out + 1 + LETTERS.index(c)
    return None
