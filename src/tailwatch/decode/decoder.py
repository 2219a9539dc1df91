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

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tailwatch.decode import fields as F
from tailwatch.decode.bits import address, be_uint, downlink_format, field, frame_matrix, syndrome
from tailwatch.decode.cpr import CprState, decode_batch
from tailwatch.errors import Rejects
from tailwatch.schema import POSITIONS, Quality

I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

#: How long a CRC-checked frame vouches for an address seen only through Address/Parity.
CONFIRM_US = 60_000_000
_SHORT = (0, 4, 5, 11)
_LONG = (16, 17, 18, 19, 20, 21, 22, 24)
_AP = (0, 4, 5, 16, 20, 21)


class Decoder:
    """Decode Mode S frames column-wise, keeping per-aircraft state across calls.

    ``reference`` is the receiver site (lat, lon), used for surface positions of
    aircraft with no position yet. ``source`` fills the ``source`` column.
    Feeding a file in chunks of any size gives exactly the rows of one call.
    """

    def __init__(self, reference: tuple[float, float] | None = None, source: str = "beast") -> None:
        self.reference = reference
        self.source = source
        self._cpr = CprState()
        self._conf_icao: I64 = np.zeros(0, np.int64)
        self._conf_t: I64 = np.zeros(0, np.int64)

    def decode(self, frames: pa.RecordBatch, path: str, rejects: Rejects) -> pa.RecordBatch:
        """Decode one ``FRAMES`` batch into ``POSITIONS`` rows (``file_id``/``receiver`` null).

        Frames with a wrong length, an unknown DF, a bad CRC or an Address/Parity
        address not confirmed by a CRC-checked frame in the last 60 s are counted
        in ``rejects`` (with the frame's offset) and produce no row.
        """
        n = frames.num_rows
        if n == 0:
            return _empty()
        t_us = np.asarray(frames.column("time").cast(pa.int64()).to_numpy(zero_copy_only=False), np.int64)
        offsets = np.asarray(frames.column("offset").to_numpy(zero_copy_only=False), np.int64)
        mat, length = frame_matrix(frames.column("msg"))
        df = downlink_format(mat)
        short_df = np.isin(df, _SHORT)
        padded = (length == 14) & short_df & ~mat[:, 7:].any(axis=1)
        length = np.where(padded, 7, length)
        known = short_df | np.isin(df, _LONG)
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
        ap = ok & np.isin(df, _AP)
        verified = self._verify(aa, syn, t_us, confirmer, ap)
        unverified = ap & ~verified
        self._reject(rejects, unverified, "unverified address", path, offsets, mat, length)
        ap &= verified
        icao = np.where(ap, syn, aa)
        return self._fields(mat, df, cf, t_us, icao, es, df11, ap)

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
            order = np.lexsort((idx, k))
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
        nan = np.full(n, np.nan)
        me = be_uint(mat, 4, 7)
        tc = np.where(es, field(me, 56, 1, 5), 0)
        es_fine = es & ((df == 17) | np.isin(cf, (0, 1, 2, 5, 6)))
        tc = np.where(es_fine, tc, 0)
        ident = es_fine & (tc >= 1) & (tc <= 4)
        surf = es_fine & (tc >= 5) & (tc <= 8)
        airb = es_fine & (((tc >= 9) & (tc <= 18)) | ((tc >= 20) & (tc <= 22)))
        vel = es_fine & (tc == 19) & (field(me, 56, 6, 3) >= 1) & (field(me, 56, 6, 3) <= 4)
        emerg = es_fine & (tc == 28) & (field(me, 56, 6, 3) == 1)

        alt12 = field(me, 56, 9, 12)
        alt_baro = np.where(airb & (tc <= 18), F.es_altitude(alt12), nan)
        alt_geom = np.where(airb & (tc >= 20), F.gnss_height(alt12), nan)
        head32 = be_uint(mat, 0, 4)
        ac13 = field(head32, 32, 20, 13)
        alt_ac = F.ac13_altitude(ac13)
        has_ac = ap & np.isin(df, (0, 4, 16, 20))
        alt_baro = np.where(has_ac, alt_ac, alt_baro)

        gs, trk, vr = F.velocity(me)
        gs = np.where(vel, gs, nan)
        trk = np.where(vel, trk, nan)
        vr = np.where(vel, vr, nan)
        mov = field(me, 56, 6, 7)
        s_ok = field(me, 56, 13, 1) == 1
        gs = np.where(surf, F.movement_speed(mov), gs)
        trk = np.where(surf, np.where(s_ok, field(me, 56, 14, 7) * (360.0 / 128.0), np.nan), trk)

        # positions
        pos = surf | airb
        pidx = np.flatnonzero(pos)
        lat, lon = nan.copy(), nan.copy()
        qual = np.zeros(n, np.uint16)
        if len(pidx):
            res, self._cpr = decode_batch(
                self._cpr,
                icao[pidx],
                t_us[pidx],
                surf[pidx],
                field(me[pidx], 56, 22, 1),
                field(me[pidx], 56, 23, 17).astype(np.float64),
                field(me[pidx], 56, 40, 17).astype(np.float64),
                self.reference,
            )
            lat[pidx], lon[pidx] = res.lat, res.lon
            qual[pidx[res.local]] |= np.uint16(Quality.CPR_LOCAL)

        # identity: squawk (DF5/21, TC28), callsign (TC1-4, Comm-B BDS2,0)
        sq_ap = ap & np.isin(df, (5, 21))
        id13 = np.where(emerg, field(me, 56, 12, 13), ac13)
        has_sq = sq_ap | emerg
        mb_ident = ap & np.isin(df, (20, 21)) & (field(me, 56, 1, 8) == 0x20)
        cs_all = F.callsign(me)
        cs_valid = F.valid_callsign(me)
        has_cs = ident | (mb_ident & cs_valid)

        # on ground
        ca = field(head32, 32, 6, 3)
        fs = ca
        vs = field(head32, 32, 6, 1)
        og = np.full(n, -1, np.int8)
        og = np.where((df11 | (es & (df == 17))) & (ca == 4), 1, og)
        og = np.where((df11 | (es & (df == 17))) & (ca == 5), 0, og)
        og = np.where(es_fine & ((tc >= 9) & (tc <= 22)), 0, og)
        og = np.where(surf, 1, og)
        og = np.where(ap & np.isin(df, (0, 16)), vs, og)
        fs_df = ap & np.isin(df, (4, 5, 20, 21))
        og = np.where(fs_df & np.isin(fs, (0, 2)), 0, og)
        og = np.where(fs_df & np.isin(fs, (1, 3)), 1, og)
        og = np.where(fs_df & ~np.isin(fs, (0, 1, 2, 3)), -1, og)

        emergency = np.where(emerg, field(me, 56, 9, 3), -1)

        qual |= np.where(es | df11 | ap, np.uint16(Quality.CRC_OK), np.uint16(0)).astype(np.uint16)
        qual |= np.where(ap, np.uint16(Quality.ADDRESS_FROM_PARITY), np.uint16(0)).astype(np.uint16)
        qual |= np.where(surf, np.uint16(Quality.SURFACE), np.uint16(0)).astype(np.uint16)
        tisb = es_fine & (df == 18) & (cf != 0)
        qual |= np.where(tisb, np.uint16(Quality.TISB), np.uint16(0)).astype(np.uint16)

        carries = (
            ~np.isnan(alt_baro) | ~np.isnan(alt_geom) | ~np.isnan(gs) | ~np.isnan(trk) | ~np.isnan(vr)
            | ~np.isnan(lat) | has_sq | has_cs | (og >= 0) | (emergency >= 0)
        ) & (es_fine | df11 | ap)
        keep = np.flatnonzero(carries)
        k = pa.array(keep)

        def f32(x: npt.NDArray[np.float64]) -> pa.Array:
            v = x[keep]
            return pa.array(v.astype(np.float32), pa.float32(), mask=np.isnan(v))

        def f64(x: npt.NDArray[np.float64]) -> pa.Array:
            v = x[keep]
            return pa.array(v, pa.float64(), mask=np.isnan(v))

        sq = F.squawk_text(id13[keep])
        sq = pc.if_else(pa.array(has_sq[keep]), sq, pa.scalar(None, pa.string()))
        cs = pc.if_else(pa.array(has_cs[keep]), cs_all.take(k), pa.scalar(None, pa.string()))
        ogk = og[keep]
        emk = emergency[keep]
        m = len(keep)
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
            cs,
            sq,
            pa.array(ogk == 1, pa.bool_(), mask=ogk < 0),
            pa.array(emk.astype(np.int8), pa.int8(), mask=emk < 0),
            pa.array(np.full(m, self.source, dtype=object), pa.string()) if m else pa.array([], pa.string()),
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


def _empty() -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([], schema=POSITIONS)
