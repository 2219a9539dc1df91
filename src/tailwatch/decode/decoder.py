"""The stateful columnar decoder: ``FRAMES`` batches in, ``POSITIONS`` batches out.

>>> import pyarrow as pa
>>> from tailwatch.errors import Rejects
>>> from tailwatch.schema import FRAMES
>>> frames = pa.record_batch(
...     [pa.array([0, 1_000_000], FRAMES.field("time").type),
...      pa.array([bytes.fromhex(h) for h in ("8D40621D58C382D690C8AC2863A7", "8D40621D58C386435CC412692AD6")]),
...      pa.array([None, None], pa.float32()), pa.array([1, 2], pa.int64())], schema=FRAMES)
>>> rows = Decoder().decode(frames, "demo.bin", Rejects())
>>> rows.column("alt_baro").to_pylist(), [round(x, 4) for x in rows.column("lat").to_pylist()[1:]]
([38000.0, 38000.0], [52.2658])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from tailwatch.decode import fields as F
from tailwatch.decode.bits import address, be_uint, downlink_format, field, frame_matrix, syndrome
from tailwatch.decode.cpr import CprState, decode_batch
from tailwatch.errors import Rejects
from tailwatch.schema import POSITIONS, Quality

I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

#: How long a CRC-checked frame vouches for an address seen only through Address/Parity.
CONFIRM_US = 60_000_000

#: What each reject reason of the decoder means, for summaries (the reason itself stays the short key).
REASON_HELP: dict[str, str] = {
    "unverified address": (
        "Comm-B/surveillance replies (DF0/4/5/16/20/21) carry their address only in the parity, so they "
        "are kept only for addresses confirmed by a CRC-checked DF11/17/18 frame within "
        f"{CONFIRM_US // 1_000_000} s before, in the same data"),
    "bad crc": "the CRC of a DF11/17/18 frame does not check: a corrupted frame, never decoded",
    "bad length": "the frame's length does not match its downlink format",
    "unknown downlink format": "a downlink format Mode S does not define",
    "unsupported downlink format": "DF19/22/24 (military, Comm-D): no address that can be checked",
}
_SHORT = (0, 4, 5, 11)
_LONG = (16, 17, 18, 19, 20, 21, 22, 24)
_AP = (0, 4, 5, 16, 20, 21)


def _table(values: tuple[int, ...], size: int = 32) -> npt.NDArray[np.bool_]:
    out = np.zeros(size, bool)
    out[list(values)] = True
    return out


_IS_SHORT, _IS_LONG, _IS_AP = _table(_SHORT), _table(_LONG), _table(_AP)
_IS_FINE_CF = _table((0, 1, 2, 5, 6), 8)
_IS_AC, _IS_ID = _table((0, 4, 16, 20)), _table((5, 21))
_IS_COMMB, _IS_VS, _IS_FS = _table((20, 21)), _table((0, 16)), _table((4, 5, 20, 21))


@dataclass
class Validated:
    """Per-frame results of :meth:`Decoder.validate` (NumPy columns, batch order)."""

    mat: npt.NDArray[np.uint8]  # (n, 14) frame bytes
    length: I64  # 7 or 14 (padded short frames count as 7)
    df: I64
    cf: I64  # DF18 control field (CA for other DFs)
    t_us: I64
    icao: I64  # AA, or the address recovered from Address/Parity
    es: B  # DF17/18 with a clean CRC
    df11: B  # DF11 with a clean CRC (or an II/SI code)
    ap: B  # Address/Parity frame whose address is confirmed
    accepted: B  # safe to decode: es | df11 | ap


class Decoder:
    """Decode Mode S frames column-wise, keeping per-aircraft state across calls.

    ``reference`` is the receiver site (lat, lon), used for surface positions of
    aircraft with no position yet. ``source`` fills the ``source`` column.
    ``pair_window`` is the longest gap (s) between an even and an odd airborne frame
    decoded together (DO-260B: 10 s; rs1090 0.7.0 uses 30 s).
    Feeding a file in chunks of any size gives exactly the rows of one call.
    """

    def __init__(
        self, reference: tuple[float, float] | None = None, source: str = "beast", pair_window: float = 10.0
    ) -> None:
        self.reference = reference
        self.source = source
        self.pair_window_us = round(pair_window * 1e6)
        self._cpr = CprState()
        self._conf_icao: I64 = np.zeros(0, np.int64)
        self._conf_t: I64 = np.zeros(0, np.int64)

    def decode(self, frames: pa.RecordBatch, path: str, rejects: Rejects) -> pa.RecordBatch:
        """Decode one ``FRAMES`` batch into ``POSITIONS`` rows (``file_id``/``receiver`` null).

        Frames with a wrong length, an unknown DF, a bad CRC or an Address/Parity
        address not confirmed by a CRC-checked frame in the last 60 s are counted
        in ``rejects`` (with the frame's offset) and produce no row.
        """
        if frames.num_rows == 0:
            return _empty()
        v = self.validate(frames, path, rejects)
        return self._fields(v.mat, v.df, v.cf, v.t_us, v.icao, v.es, v.df11, v.ap)

    def validate(self, frames: pa.RecordBatch, path: str, rejects: Rejects) -> Validated:
        """Check lengths, DF, CRC and Address/Parity addresses of a batch (updates the address state).

        ``Validated.accepted`` marks the frames that may be decoded; the others are
        counted in ``rejects``. Used by :meth:`decode` and by the rs1090 wrapper.
        """
        t_us = np.asarray(frames.column("time").cast(pa.int64()).to_numpy(zero_copy_only=False), np.int64)
        offsets = np.asarray(frames.column("offset").to_numpy(zero_copy_only=False), np.int64)
        mat, length = frame_matrix(frames.column("msg"))
        df = downlink_format(mat)
        short_df = _IS_SHORT[df]
        padded = (length == 14) & short_df & ~mat[:, 7:].any(axis=1)
        length = np.where(padded, 7, length)
        known = short_df | _IS_LONG[df]
        good_len = np.where(short_df, length == 7, np.where(known, length == 14, (length == 7) | (length == 14)))
        bad_len = ~good_len
        self._reject(rejects, bad_len, "bad length", path, offsets, mat, length)
        unknown = good_len & ~known
        self._reject(rejects, unknown, "unknown downlink format", path, offsets, mat, length)
        ok = good_len & known
        syn = syndrome(mat, length).astype(np.int64)
        es = ok & ((df == 17) | (df == 18))
        df11 = ok & (df == 11)
        crc_bad = (es & (syn != 0)) | (df11 & (syn >= 0x80))
        self._reject(rejects, crc_bad, "bad crc", path, offsets, mat, length)
        es &= ~crc_bad
        df11 &= ~crc_bad
        cf = field(be_uint(mat, 0, 1), 8, 6, 3)
        confirmer = (es & ((df == 17) | (cf == 0))) | df11
        aa = address(mat)
        ap = ok & _IS_AP[df]
        verified = self._verify(aa, syn, t_us, confirmer, ap)
        unverified = ap & ~verified
        self._reject(rejects, unverified, "unverified address", path, offsets, mat, length)
        ap &= verified
        icao = np.where(ap, syn, aa)
        unsupported = ok & ((df == 19) | (df == 22) | (df == 24))  # military / Comm-D: no checkable address
        self._reject(rejects, unsupported, "unsupported downlink format", path, offsets, mat, length)
        accepted = es | df11 | ap
        return Validated(mat, length, df, cf, t_us, icao, es, df11, ap, accepted)

    # -- address confirmation ---------------------------------------------------------------

    def _verify(self, aa: I64, syn: I64, t: I64, confirmer: B, ap: B) -> B:
        """True for Address/Parity frames whose address a CRC-checked frame confirmed within 60 s before."""
        n = len(aa)
        key = np.where(ap, syn, aa)
        sel = confirmer | ap
        idx = np.flatnonzero(sel)
        out = np.zeros(n, bool)
        if len(idx):
            k, tt, conf = key[idx], t[idx], confirmer[idx]
            order = np.argsort(k, kind="stable")  # idx is increasing: stable sort keeps stream order
            ks, ts, cs = k[order], tt[order], conf[order]
            m = len(ks)
            pos = np.arange(m)
            start = np.empty(m, bool)
            start[0] = True
            start[1:] = ks[1:] != ks[:-1]
            gstart = np.maximum.accumulate(np.where(start, pos, 0))
            last = np.maximum.accumulate(np.where(cs, pos, -1))
            in_grp = last >= gstart
            p = np.searchsorted(self._conf_icao, ks)
            pc_ = np.minimum(p, max(len(self._conf_icao) - 1, 0))
            has_c = (p < len(self._conf_icao)) & (self._conf_icao[pc_] == ks) if len(self._conf_icao) else np.zeros(m, bool)
            conf_t = np.where(in_grp, ts[np.maximum(last, 0)], self._conf_t[pc_] if len(self._conf_icao) else 0)
            have = in_grp | has_c
            good = have & (ts - conf_t <= CONFIRM_US) & ~cs
            res = np.zeros(m, bool)
            res[order] = good
            out[idx] = res
            # carry the last confirmation per address
            ends = np.append(np.flatnonzero(start)[1:] - 1, m - 1)
            g_last = last[ends]
            has_new = g_last >= np.flatnonzero(start)
            new_k, new_t = ks[ends][has_new], ts[g_last[has_new]]
            keep = ~np.isin(self._conf_icao, new_k)
            ci = np.concatenate([self._conf_icao[keep], new_k])
            ct = np.concatenate([self._conf_t[keep], new_t])
            srt = np.argsort(ci, kind="stable")
            self._conf_icao, self._conf_t = ci[srt], ct[srt]
        return out

    # -- field decoding ------------------------------------------------------------------

    def _fields(
        self, mat: npt.NDArray[np.uint8], df: I64, cf: I64, t_us: I64, icao: I64, es: B, df11: B, ap: B
    ) -> pa.RecordBatch:
        n = len(df)
        alt_baro, alt_geom = np.full(n, np.nan), np.full(n, np.nan)
        gs, trk, vr = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
        lat, lon = np.full(n, np.nan), np.full(n, np.nan)
        og = np.full(n, -1, np.int8)
        emergency = np.full(n, -1, np.int8)
        qual = np.zeros(n, np.uint16)
        has_sq = np.zeros(n, bool)
        sq_code = np.zeros(n, np.int64)
        has_cs = np.zeros(n, bool)
        cs_me = np.zeros(n, np.uint64)

        head32 = be_uint(mat, 0, 4)
        ca = field(head32, 32, 6, 3)
        # CA of DF11 / DF17: 4 on the ground, 5 airborne
        ca_rows = df11 | (es & (df == 17))
        og[ca_rows & (ca == 4)] = 1
        og[ca_rows & (ca == 5)] = 0

        # -- extended squitters (DF17, DF18 fine formats) --------------------------------
        es_fine = es & ((df == 17) | _IS_FINE_CF[cf])
        ie = np.flatnonzero(es_fine)
        me = be_uint(mat[ie], 4, 7)
        tc = field(me, 56, 1, 5)
        st3 = field(me, 56, 6, 3)
        airb = ((tc >= 9) & (tc <= 18)) | ((tc >= 20) & (tc <= 22))
        surf = (tc >= 5) & (tc <= 8)
        ident = (tc >= 1) & (tc <= 4)
        vel = (tc == 19) & (st3 >= 1) & (st3 <= 4)
        emerg = (tc == 28) & (st3 == 1)

        ia = ie[airb]
        alt12 = field(me[airb], 56, 9, 12)
        baro = tc[airb] <= 18
        alt_baro[ia[baro]] = F.es_altitude(alt12[baro])
        alt_geom[ia[~baro]] = F.gnss_height(alt12[~baro])
        iv = ie[vel]
        gs[iv], trk[iv], vr[iv] = F.velocity(me[vel])
        isf = ie[surf]
        msf = me[surf]
        gs[isf] = F.movement_speed(field(msf, 56, 6, 7))
        trk[isf] = np.where(field(msf, 56, 13, 1) == 1, field(msf, 56, 14, 7) * (360.0 / 128.0), np.nan)
        iem = ie[emerg]
        emergency[iem] = field(me[emerg], 56, 9, 3)
        has_sq[iem] = True
        sq_code[iem] = field(me[emerg], 56, 12, 13)
        has_cs[ie[ident]] = True
        cs_me[ie[ident]] = me[ident]
        og[ie[(tc >= 9) & (tc <= 22)]] = 0
        og[isf] = 1
        qual[isf] |= np.uint16(Quality.SURFACE)
        qual[ie[df[ie] == 18][cf[ie[df[ie] == 18]] != 0]] |= np.uint16(Quality.TISB)

        pos = surf | airb
        if pos.any():
            ip = ie[pos]
            mp = me[pos]
            res, self._cpr = decode_batch(
                self._cpr,
                icao[ip],
                t_us[ip],
                surf[pos],
                field(mp, 56, 22, 1),
                field(mp, 56, 23, 17).astype(np.float64),
                field(mp, 56, 40, 17).astype(np.float64),
                self.reference,
                self.pair_window_us,
            )
            lat[ip], lon[ip] = res.lat, res.lon
            qual[ip[res.local]] |= np.uint16(Quality.CPR_LOCAL)

        # -- Address/Parity replies (DF0/4/5/16/20/21) -------------------------------------
        iap = np.flatnonzero(ap)
        dfa = df[iap]
        ac13 = field(head32[iap], 32, 20, 13)
        with_ac = _IS_AC[dfa]
        alt_baro[iap[with_ac]] = F.ac13_altitude(ac13[with_ac])
        with_id = _IS_ID[dfa]
        has_sq[iap[with_id]] = True
        sq_code[iap[with_id]] = ac13[with_id]
        commb = _IS_COMMB[dfa]
        icb = iap[commb]
        mb = be_uint(mat[icb], 4, 7)
        bds20 = field(mb, 56, 1, 8) == 0x20
        bds20[bds20] = F.valid_callsign(mb[bds20])
        has_cs[icb[bds20]] = True
        cs_me[icb[bds20]] = mb[bds20]
        vs_rows = _IS_VS[dfa]
        og[iap[vs_rows]] = field(head32[iap[vs_rows]], 32, 6, 1).astype(np.int8)
        fs_rows = _IS_FS[dfa]
        fs = ca[iap[fs_rows]]
        og[iap[fs_rows]] = np.array([0, 1, 0, 1, -1, -1, -1, -1], np.int8)[fs]
        qual[iap] |= np.uint16(Quality.ADDRESS_FROM_PARITY)
        qual[es | df11 | ap] |= np.uint16(Quality.CRC_OK)

        carries = (es_fine | df11 | ap) & (
            ~np.isnan(alt_baro) | ~np.isnan(alt_geom) | ~np.isnan(gs) | ~np.isnan(trk) | ~np.isnan(vr)
            | ~np.isnan(lat) | has_sq | has_cs | (og >= 0) | (emergency >= 0)
        )
        keep = np.flatnonzero(carries)
        m = len(keep)

        def f32(x: npt.NDArray[np.float64]) -> pa.Array:
            v = x[keep]
            return pa.array(v.astype(np.float32), pa.float32(), mask=np.isnan(v))

        def f64(x: npt.NDArray[np.float64]) -> pa.Array:
            v = x[keep]
            return pa.array(v, pa.float64(), mask=np.isnan(v))

        def sparse(has: B, values: pa.Array) -> pa.Array:
            """Place ``values`` (one per True of ``has[keep]``) into a column of length m with nulls."""
            hk = has[keep]
            pos_ = np.cumsum(hk) - 1
            return values.take(pa.array(pos_, pa.int64(), mask=~hk))

        hk_sq = has_sq[keep]
        hk_cs = has_cs[keep]
        ogk = og[keep]
        emk = emergency[keep]
        cols = [
            pa.array(t_us[keep], pa.int64()).cast(POSITIONS.field("time").type),
            pa.array(icao[keep].astype(np.int32), pa.int32()),
            f64(lat),
            f64(lon),
            f32(alt_baro),
            f32(alt_geom),
            f32(gs),
            f32(trk),
            f32(vr),
            sparse(has_cs, F.callsign(cs_me[keep][hk_cs])),
            sparse(has_sq, F.squawk_text(sq_code[keep][hk_sq])),
            pa.array(ogk == 1, pa.bool_(), mask=ogk < 0),
            pa.array(emk, pa.int8(), mask=emk < 0),
            _repeat_string(self.source, m),
            pa.nulls(m, pa.int64()),
            pa.nulls(m, pa.string()),
            pa.array(qual[keep], pa.uint16()),
        ]
        return pa.RecordBatch.from_arrays(cols, schema=POSITIONS)

    @staticmethod
    def _reject(
        rejects: Rejects, mask: B, reason: str, path: str, offsets: I64, mat: npt.NDArray[np.uint8], length: I64
    ) -> None:
        count = int(mask.sum())
        if not count:
            return
        where = np.flatnonzero(mask)[: rejects.keep]
        for i in where:  # only the few kept samples, not every rejected frame
            detail = bytes(mat[i, : min(int(length[i]), 14)]).hex()
            rejects.add(reason, path, f"frame at offset {int(offsets[i])}", detail)
        rest = count - len(where)
        if rest:
            rejects.counts[reason] = rejects.counts.get(reason, 0) + rest


def _repeat_string(text: str, m: int) -> pa.Array:
    """A string column holding ``text`` m times, built from buffers (no Python loop)."""
    raw = np.frombuffer(text.encode("utf-8"), np.uint8)
    data = pa.py_buffer(np.tile(raw, m).tobytes())
    offsets = pa.py_buffer((np.arange(m + 1, dtype=np.int32) * len(raw)).tobytes())
    return pa.Array.from_buffers(pa.string(), m, [None, offsets, data])


def _empty() -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([], schema=POSITIONS)
