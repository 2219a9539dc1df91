"""Aircraft named in prose: registrations in any spelling, hex addresses, type names.

Registrations are recognised by their ICAO nationality mark (the prefix rules:
"5UMBH" → "5U-MBH", "tz prm" → "TZ-PRM"); when the identity stage offers a
normaliser it is used instead of the built-in prefix list. Type names map to
ICAO type designators ("C-130", "C130", "Hercules" → ``C130``).

>>> [r.registration for r in find_aircraft("identified with the registration number 5UMBH")]
['5U-MBH']
>>> [r.type_code for r in find_aircraft("a C-130 Hercules and an A400M")]
['C130', 'C130', 'A400']
>>> [r.icao24 for r in find_aircraft("ICAO hex 062f01")]
[405249]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: ICAO nationality marks (ICAO Annex 7 / ITU allocations as listed by the VRS
#: standing data, CC0) whose registrations are written with a hyphen.
_HYPHEN_MARKS = (
    "2 3A 3B 3C 3DC 3X 4K 4L 4O 4R 4U 4W 4X 5A 5B 5H 5N 5R 5T 5U 5V 5W 5X 5Y 6O 6V 6W 6Y 7O 7P 7Q "
    "7T 8P 8Q 8R 9A 9G 9H 9J 9K 9L 9M 9N 9S 9U 9V 9XR 9Y A2 A3 A4O A5 A6 A7 A8 A9C AP B C C2 C3 C5 "
    "C6 C9 CC CN CNA CP CR CS CU CX D D2 D4 D6 DQ E3 E4 E5 E7 EC EI EJ EK EM EP ER ES ET EW EX EY EZ "
    "F G H4 HA HB HC HH HJ HK HP HR HS HZ I J2 J3 J5 J6 J7 J8 JA JU JY LN LQ LV LX LY LZ M OB OD OE "
    "OH OK OM OO OY P P2 P4 PH PJ PK PP PR PS PT PU PZ RA RDPL RF RP S2 S5 S7 S9 SE SN SP ST SU SX "
    "T2 T3 T7 TC TF TG TI TJ TL TN TR TS TT TU TY TZ UK UP UR V2 V3 V4 V5 V6 V7 V8 VH VN VP VQ VT "
    "XA XB XC XT XU XY XZ YA YI YJ YK YL YN YR YS YU Z Z3 Z6 Z8 ZA ZJ ZK ZL ZM ZP ZS ZT ZU"
)
_HYPHEN_PREFIXES = frozenset(_HYPHEN_MARKS.split())
#: Marks written without a hyphen (N12345, HL7xxx, JA8xxx, YV1234, HI1234).
_PLAIN_PREFIXES = frozenset({"N", "HL", "JA", "JR", "YV", "HI"})

#: Type names in prose → ICAO type designator.
_TYPES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), code)
    for p, code in (
        (r"\b(?:[KMAEHLW]C-?)?C-?130-?J\b|\bSuper\s+Hercules\b", "C30J"),
        (r"\b(?:[KMAEHLW]C-?)?C-?130(?:-?[A-HK-Z]\d*)?\b|\bL-?100\b|\bHercules\b", "C130"),
        (r"\bC-?17A?\b|\bGlobemaster(?:\s+III)?\b", "C17"),
        (r"\bA400M?\b|\bAtlas\s+transport\b", "A400"),
        (r"\bC-?295[MW]?\b", "C295"),
        (r"\bCN-?235\b", "CN35"),
        (r"\bC-?160\b|\bTransall\b", "C160"),
        (r"\bIl(?:yushin)?[- ]?76\w*\b", "IL76"),
        (r"\bAn(?:tonov)?[- ]?124\b", "A124"),
        (r"\bAn(?:tonov)?[- ]?26\b", "AN26"),
        (r"\bAn(?:tonov)?[- ]?12\b", "AN12"),
        (r"\bAn(?:tonov)?[- ]?72\b", "AN72"),
        (r"\bKC-?135\w*\b|\bStratotanker\b", "K35R"),
        (r"\bKC-?46\w*\b|\bPegasus\s+tanker\b", "KC46"),
        (r"\bA330\s*MRTT\b|\bVoyager\s+tanker\b", "A332"),
        (r"\bC-?27J?\b|\bSpartan\b", "C27J"),
        (r"\bKing\s*Air\b|\bB350\b", "B350"),
        (r"\bBoeing\s+737(?:-?[6-9]00|\s*MAX)?(?:\s*BBJ)?\b|\bB73[6-9]\b|\b737\s*BBJ\b", "B737"),
        (r"\bBoeing\s+727(?:-?[12]00)?\b|\bB72[12]\b", "B722"),
        (r"\bMi-?17\b|\bMi-?8\b", "MI8"),
        (r"\bMi-?24\b|\bMi-?35\b", "MI24"),
        (r"\bTB-?2\b|\bBayraktar\b", "TB2"),
    )
)
#: Designators of one family (a claim of "C-130" is borne out by a C-130J).
FAMILIES: dict[str, frozenset[str]] = {
    "C130": frozenset({"C130", "C30J"}), "C30J": frozenset({"C30J"}),
    "B737": frozenset({"B737", "B733", "B734", "B735", "B736", "B738", "B739", "B37M", "B38M", "B39M", "BBJ"}),
    "B722": frozenset({"B721", "B722", "B727"}),
}

_REG_WORDS = re.compile(r"(?:registration|registered(?:\s+as)?|reg\.|tail(?:\s+number)?|marked)"
                        r"(?:\s+(?:number|no\.?|code|mark|of))?\W*$", re.IGNORECASE)
_HEX_WORDS = re.compile(r"(?:icao(?:24)?|hex|mode[- ]s|address|transponder)\W*(?:\w+\W+){0,3}$", re.IGNORECASE)


@dataclass(frozen=True)
class AircraftRef:
    """One mention of an aircraft: at most one of registration, icao24 or type_code is set."""

    text: str
    start: int
    end: int
    registration: str | None = None
    icao24: int | None = None
    type_code: str | None = None


def normalise_registration(token: str, keyword: bool = False) -> str | None:
    """Canonical spelling of a registration (``5U-MBH``), or None if ``token`` is not one.

    Without a registration keyword nearby (``keyword``), a token written without
    a hyphen must hold a digit, and the part after the mark must be letters, so
    ordinary words and type names ("C130") are not taken for registrations.

    >>> normalise_registration("5umbh"), normalise_registration("TZ-PRM"), normalise_registration("C130")
    ('5U-MBH', 'TZ-PRM', None)
    >>> normalise_registration("RA-78830"), normalise_registration("F-35A")
    ('RA-78830', None)
    """
    t = re.sub(r"\s+", "", token.upper())
    if "-" in t:
        prefix, _, rest = t.partition("-")
        # "F-16C", "B-52H", "C-130", "E-3A" are type designations, not registrations: a suffix
        # starting with a digit must be all digits and at least four long ("RA-78830", "B-1234").
        type_like = re.fullmatch(r"\d{1,3}[A-Z]{0,2}", rest or "") is not None
        if (prefix in _HYPHEN_PREFIXES and re.fullmatch(r"[A-Z0-9]{2,5}", rest or "") and not type_like
                and (re.search(r"[A-Z]", rest) or len(rest) >= 4)):
            return f"{prefix}-{rest}"
        return None
    if not re.fullmatch(r"[A-Z0-9]{3,8}", t):
        return None
    for n in (4, 3, 2, 1):
        prefix, rest = t[:n], t[n:]
        if prefix in _PLAIN_PREFIXES and (keyword or re.search(r"\d", rest)) and re.fullmatch(
                r"[0-9][0-9A-Z]{0,4}", rest):
            return t
        if prefix in _HYPHEN_PREFIXES and 2 <= len(rest) <= 5:
            digit_ok = keyword or re.search(r"\d", t) is not None
            if digit_ok and re.fullmatch(r"[A-Z]{2,5}", rest):
                return f"{prefix}-{rest}"
    return None


def country_of_registration(registration: str) -> str | None:
    """The nationality mark of a canonical registration ("5U-MBH" → "5U"), or None."""
    head = registration.split("-")[0] if "-" in registration else None
    if head in _HYPHEN_PREFIXES:
        return head
    for n in (2, 1):
        if registration[:n] in _PLAIN_PREFIXES:
            return registration[:n]
    return None


def find_aircraft(text: str) -> list[AircraftRef]:
    """Registrations, hex addresses and type names in ``text``, in order of appearance."""
    refs: list[AircraftRef] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    for pattern, code in _TYPES:
        for m in pattern.finditer(text):
            if free(m.start(), m.end()):
                refs.append(AircraftRef(m.group(0), m.start(), m.end(), type_code=code))
                taken.append((m.start(), m.end()))
    for m in re.finditer(r"(?<![\w-])(?:0x)?([0-9A-Fa-f]{6})(?![\w-])", text):
        token = m.group(1)
        keyword = _HEX_WORDS.search(text[max(0, m.start() - 40): m.start()]) is not None
        mixed = re.search(r"\d", token) and re.search(r"[A-Fa-f]", token)
        if free(m.start(), m.end()) and (keyword or m.group(0).startswith("0x") or mixed):
            refs.append(AircraftRef(m.group(0), m.start(), m.end(), icao24=int(token, 16)))
            taken.append((m.start(), m.end()))
    for m in re.finditer(r"(?<![\w-])([A-Za-z0-9]{1,4}-[A-Za-z0-9]{2,5}|[A-Za-z0-9]{3,8}"
                         r"|[0-9][A-Za-z]\s[A-Za-z]{3})(?![\w-])", text):
        if not free(m.start(), m.end()):
            continue
        token = m.group(0)
        keyword = _REG_WORDS.search(text[max(0, m.start() - 40): m.start()]) is not None
        if not re.search(r"\d", token) and (token.islower() or (token[0].isupper() and token[1:].islower())):
            continue  # ordinary words ("Action", "the") are never registrations
        reg = normalise_registration(token, keyword)
        if reg is not None:
            refs.append(AircraftRef(token, m.start(), m.end(), registration=reg))
            taken.append((m.start(), m.end()))
    refs.sort(key=lambda r: r.start)
    return refs
