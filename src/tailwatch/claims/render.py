"""Claims and verdicts as Markdown (for a journalist's notes), one JSON document, one HTML page,
or an Arrow table (one row per claim, for the terminal and CSV).

The HTML page is self-contained (inline CSS, no script, no external resource).

>>> from tailwatch.claims.model import Claim, Verdict
>>> c = Claim("C1", "event", "5U-MBH crashed at Gao (GAGO)", "It crashed in Gao.", 3, places=("GAGO",))
>>> v = Verdict("C1", "not observable", "no coverage near GAGO")
>>> print(to_markdown([c], [v], "a.txt").splitlines()[0])
# Claims check: a.txt
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from typing import Any

import orjson
import pyarrow as pa

from tailwatch.claims.model import VERDICTS, Claim, Verdict

_MARK = {"supported": "✅", "contradicted": "❌", "not observable": "⬜", "ambiguous": "❔"}
_COLOUR = {"supported": "#1a7f37", "contradicted": "#cf222e", "not observable": "#6e7781", "ambiguous": "#9a6700"}
NOTE = ("“not observable” means no receiver saw any aircraft near that place at that time: "
        "absence of data is not evidence either way.")
_MAX_ITEMS = 12


def _counts(verdicts: Sequence[Verdict]) -> str:
    c = Counter(v.verdict for v in verdicts)
    return ", ".join(f"{c[k]} {k}" for k in VERDICTS if c[k]) or "no claims found"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _items(values: list[str]) -> list[str]:
    if len(values) <= _MAX_ITEMS:
        return values
    return [*values[: _MAX_ITEMS - 2], f"… {len(values) - _MAX_ITEMS + 1} more …", values[-1]]


def to_markdown(claims: Sequence[Claim], verdicts: Sequence[Verdict], article: str,
                store: str | None = None, generated: str | None = None) -> str:
    """A Markdown report: one section per claim with its sentence, verdict, reason and evidence."""
    out = [f"# Claims check: {article}", ""]
    meta = [f"store `{store}`" if store else "no store", f"checked {generated}" if generated else ""]
    out += [f"*{'; '.join(m for m in meta if m)}.* **{_counts(verdicts)}.**", "", f"> {NOTE}", ""]
    for c, v in zip(claims, verdicts, strict=True):
        out.append(f"## {c.claim_id}. {_MARK[v.verdict]} {v.verdict} — {_cap(c.statement)}")
        out.append("")
        out.append(f"> {c.sentence}  ")
        out.append(f"> — line {c.line}" + (f" (said {len(c.also) + 1} times)" if c.also else ""))
        out.append("")
        out.append(f"**Why:** {v.reason}")
        for key, values in v.evidence.items():
            if values:
                out.append(f"- **{key}:** " + ", ".join(f"`{x}`" if " " not in x else x for x in _items(values)))
        out.append("")
    return "\n".join(out)


def to_json(claims: Sequence[Claim], verdicts: Sequence[Verdict], article: str,
            store: str | None = None, generated: str | None = None) -> bytes:
    """One JSON document: article, store, counts, and each claim with its verdict."""
    doc: dict[str, Any] = {
        "article": article, "store": store, "generated": generated,
        "counts": dict(Counter(v.verdict for v in verdicts)),
        "note": NOTE,
        "claims": [{**c.as_dict(), "verdict": v.verdict, "reason": v.reason, "evidence": v.evidence}
                   for c, v in zip(claims, verdicts, strict=True)],
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"


def to_table(claims: Sequence[Claim], verdicts: Sequence[Verdict]) -> pa.Table:
    """One row per claim (for ``--format table|csv``): id, article line, verdict, claim, why,
    the evidence as one JSON object, and the article's sentence.

    >>> from tailwatch.claims.model import Claim, Verdict
    >>> c = Claim("C1", "event", "5U-MBH crashed at Gao (GAGO)", "It crashed in Gao.", 3, places=("GAGO",))
    >>> t = to_table([c], [Verdict("C1", "not observable", "no coverage near GAGO", {"times": ["x"]})])
    >>> t.column("verdict").to_pylist(), t.column("evidence").to_pylist()
    (['not observable'], ['{"times":["x"]}'])
    """
    pairs = list(zip(claims, verdicts, strict=True))
    return pa.table({
        "claim_id": pa.array([c.claim_id for c, _ in pairs], pa.string()),
        "line": pa.array([c.line for c, _ in pairs], pa.int32()),
        "verdict": pa.array([v.verdict for _, v in pairs], pa.string()),
        "claim": pa.array([_cap(c.statement) for c, _ in pairs], pa.string()),
        "why": pa.array([v.reason for _, v in pairs], pa.string()),
        "evidence": pa.array([orjson.dumps(v.evidence).decode() for _, v in pairs], pa.string()),
        "sentence": pa.array([c.sentence for c, _ in pairs], pa.string()),
    })


_CSS = """
body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2328}
h1{font-size:1.5rem}.meta{color:#57606a}.note{border-left:4px solid #d0d7de;padding:.2rem .8rem;color:#57606a}
.claim{border:1px solid #d0d7de;border-radius:8px;padding:.8rem 1rem;margin:1rem 0}
.badge{display:inline-block;color:#fff;border-radius:1rem;padding:.05rem .7rem;font-weight:600;font-size:.85rem}
blockquote{margin:.5rem 0;padding:.2rem .8rem;background:#f6f8fa;border-radius:4px}
.ev{font-family:ui-monospace,monospace;font-size:.82rem;color:#424a53;word-break:break-all}
"""


def to_html(claims: Sequence[Claim], verdicts: Sequence[Verdict], article: str,
            store: str | None = None, generated: str | None = None) -> str:
    """A self-contained HTML page (inline CSS, no scripts, nothing fetched)."""
    e = html.escape
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Claims check: {e(article)}"
             f"</title><style>{_CSS}</style></head><body>",
             f"<h1>Claims check: {e(article)}</h1>",
             f"<p class='meta'>{e(f'store {store}' if store else 'no store')}"
             f"{e(f' · checked {generated}') if generated else ''} · <strong>{e(_counts(verdicts))}</strong></p>",
             f"<p class='note'>{e(NOTE)}</p>"]
    for c, v in zip(claims, verdicts, strict=True):
        ev = "".join(f"<li><b>{e(k)}</b>: <span class='ev'>{e(', '.join(_items(vals)))}</span></li>"
                     for k, vals in v.evidence.items() if vals)
        parts.append(
            f"<section class='claim' id='{e(c.claim_id)}'><h2>{e(c.claim_id)}. {e(_cap(c.statement))}</h2>"
            f"<span class='badge' style='background:{_COLOUR[v.verdict]}'>{e(v.verdict)}</span> {e(v.reason)}"
            f"<blockquote>{e(c.sentence)}<br><small>line {c.line}"
            f"{f' · said {len(c.also) + 1} times' if c.also else ''}</small></blockquote>"
            f"{f'<ul>{ev}</ul>' if ev else ''}</section>")
    parts.append("</body></html>\n")
    return "".join(parts)
