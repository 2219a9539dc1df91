"""Registration spellings: ``5UMBH``, ``5u mbh`` and ``5U-MBH`` are one aircraft.

Matching uses the *compact* form (upper case, no hyphen, space or dot). The
canonical spelling comes from the VRS registration-prefix table: each
nationality prefix has a regex for the hyphen-less form and a template that
puts the hyphen back (``5U`` + ``MBH`` -> ``5U-MBH``; ``N`` has none).

>>> compact("5u mbh"), compact(" 5U-MBH ")
('5UMBH', '5UMBH')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

_DROP = re.compile(r"[\s\-./]+")


def compact(text: str) -> str:
    """Upper case without separators."""
    return _DROP.sub("", text.strip().upper())


def compact_array(regs: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """:func:`compact` over an Arrow string column (vectorised)."""
    return pc.replace_substring_regex(pc.utf8_upper(regs), r"[\s\-./]+", "")


@dataclass(frozen=True)
class _Prefix:
    prefix: str
    iso2: str | None
    pattern: re.Pattern[str]
    template: str


class RegistrationFormats:
    """Nationality prefixes from VRS ``reg-prefixes.csv`` (columns prefix, iso2, nohyphen, template)."""

    def __init__(self, prefixes: pa.Table) -> None:
        rows = []
        for r in prefixes.to_pylist():
            regex = (r.get("nohyphen") or "").replace("(?<", "(?P<")
            if not r.get("prefix") or not regex or not r.get("template"):
                continue
            try:
                pattern = re.compile(regex)
            except re.error:
                continue
            rows.append(_Prefix(str(r["prefix"]).upper(), r.get("iso2"), pattern, str(r["template"])))
        # Longest prefix first: "5U" before "5", "VH" before "V".
        self._rows = sorted(rows, key=lambda p: -len(p.prefix))

    def normalise(self, text: str) -> tuple[str, str | None] | None:
        """Canonical spelling and the ISO2 country of its prefix, or ``None`` if no format fits.

        >>> import pyarrow as pa
        >>> f = RegistrationFormats(pa.table({"prefix": ["5U", "N"], "iso2": ["NE", "US"],
        ...     "nohyphen": ["5U(?<code>[A-Z]{3})", "N(?<code>[\\\\dA-Z]{1,5})"],
        ...     "template": ["5U-{code}", "N{code}"]}))
        >>> f.normalise("5u mbh"), f.normalise("n899dn"), f.normalise("ZZZ")
        (('5U-MBH', 'NE'), ('N899DN', 'US'), None)
        """
        c = compact(text)
        for p in self._rows:
            if not c.startswith(p.prefix):
                continue
            m = p.pattern.fullmatch(c)
            if m is None:
                continue
            code = m.groupdict().get("code", "")
            return p.template.replace("{code}", code or ""), p.iso2
        return None
