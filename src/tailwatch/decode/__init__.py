"""Mode S frames to canonical positions: a columnar (NumPy) decoder with per-aircraft state.

``Decoder(reference=None, source="beast").decode(frames, path, rejects)`` turns a
``FRAMES`` batch into ``POSITIONS`` rows; see ``docs/decoding.md``.
"""

from tailwatch.decode.decoder import REASON_HELP, Decoder

__all__ = ["REASON_HELP", "Decoder"]
