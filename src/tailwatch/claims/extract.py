"""Article text → the checkable claims a careful reader finds in it.

Domain-specific pattern extraction, no network and no model: aircraft
(registrations, hex addresses, type names), routes written as sequences of
places ("Bamako-Gao-Tessalit-Niamay-Bamako"), flights "from X to Y", events
(crash, emergency, landing) at places, who supports whom ("X ... support ... Y",
"by X to Y"), and periods ("since August 20"). Tables of flights (Markdown pipe
tables with from/to columns) give one ``leg`` claim per row.

Every claim keeps the sentence it came from; restatements are merged into one
claim whose ``also`` lists the other sentences.

>>> claims = extract_claims("On 2023-09-02 5U-MBH flew from Bamako to Gao.")
>>> [(c.kind, c.places, str(c.on)) for c in claims]
[('aircraft', (), 'None'), ('leg', ('GABS', 'GAGO'), '2023-09-02')]
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass

from tailwatch.claims.dates import article_year, find_dates, parse_day
from tailwatch.claims.gazetteer import Gazetteer, Place
from tailwatch.claims.model import Claim
from tailwatch.claims.refs import find_aircraft

_ABBREV = {"gen", "lt", "col", "maj", "capt", "mr", "mrs", "ms", "dr", "st", "no", "vs", "jan", "feb",
           "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "e.g", "i.e", "approx"}
_SEP = r"\s*(?:->|→|–|—|-|>)\s*"
_NAME = r"[A-Z][\w'’]+"
_ROUTE_RE = re.compile(rf"(?<![\w-]){_NAME}(?:{_SEP}{_NAME})+(?![\w-])")
_FROM_TO_RE = re.compile(rf"\bfrom\s+(?:the\s+)?({_NAME})\s+(?:to|for)\s+(?:the\s+)?({_NAME})")
_TO_FROM_RE = re.compile(rf"\b(?:flew|flown|flying|flight|flights|trip|trips)\s+to\s+(?:the\s+)?({_NAME})\s+from\s+"
                         rf"(?:the\s+)?({_NAME})")
_BETWEEN_RE = re.compile(rf"\bbetween\s+({_NAME})\s+and\s+({_NAME})")
_MANY_RE = re.compile(r"\b(multiple|several|repeated(?:ly)?|regular(?:ly)?|rotations?|shuttl\w+|many|numerous|"
                      r"daily|weekly|back and forth|twice|(\d+|two|three|four|five|six|seven|eight|nine|ten)"
                      r"\s+(?:times|trips|rotations|round[- ]trips|flights|circuits))\b", re.IGNORECASE)
_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_ROUND_RE = re.compile(r"\b(and back|round[- ]trips?|return(?:ed|ing)? to|there and back)\b", re.IGNORECASE)
_EVENTS = (
    ("crash", re.compile(r"\b(crash\w*|went down|shot down|accident|wreck\w*)\b", re.IGNORECASE)),
    ("emergency", re.compile(r"\b(emergenc\w+|mayday|squawk\w*\s+7[567]00|7700)\b", re.IGNORECASE)),
    ("landing", re.compile(r"\b(landed|touched down|arrived)\b", re.IGNORECASE)),
)
_AT_RE = re.compile(rf"\b(?:in|at|near|outside|into|over|on approach to)\s+(?:the\s+)?({_NAME})")
_SUPPORT_RE = re.compile(r"\b(support\w*|provid\w*|provision|lend\w*|lent|suppl(?:y|ied|ying)|deploy\w*|"
                         r"sen[dt]\w*|assist\w*|help\w*|back(?:ing|ed)|loan\w*|operat\w*|stationed|based|"
                         r"disposal|donat\w*|deliver\w*|transferr?\w*|gave|giv(?:es|en|ing)|handed)\b",
                         re.IGNORECASE)
_BY_TO_RE = re.compile(rf"\bby\s+(?:the\s+)?({_NAME})\b[^.;]*?\bto\s+(?:the\s+)?({_NAME})")
_PRONOUN_RE = re.compile(r"\b(it|its|the (?:same )?(?:aircraft|jet|plane|hercules|transport|airlifter))\b",
                         re.IGNORECASE)
_ACTIVITY_RE = re.compile(r"\b(fl[yi]\w*|flew|flown|flights?|operat\w*|spotted|seen|tracked|trips?|rotations?)\b",
                          re.IGNORECASE)


@dataclass(frozen=True)
class Sentence:
    """One sentence (or table row, or post) of the article and its 1-based line number."""

    text: str
    start: int
    line: int


def sentences(text: str) -> Iterator[Sentence]:
    """Split an article into sentences, posts and table rows, keeping offsets.

    >>> [s.text for s in sentences("Gen. Tiani spoke. It flew.\\n2/ Then it landed")]
    ['Gen. Tiani spoke.', 'It flew.', '2/ Then it landed']
    """
    for lm in re.finditer(r"[^\n]+", text):
        line_text, base = lm.group(0), lm.start()
        cut = 0
        for m in re.finditer(r"[.!?](?=\s+[\"“(]?[A-Z0-9])", line_text):
            word = re.search(r"([\w.]+)$", line_text[cut:m.start()])
            if word and word.group(1).lower().rstrip(".") in _ABBREV:
                continue
            yield from _piece(text, line_text[cut:m.end()], base + cut)
            cut = m.end()
        yield from _piece(text, line_text[cut:], base + cut)


def _piece(text: str, chunk: str, start: int) -> Iterator[Sentence]:
    stripped = chunk.strip()
    if stripped:
        begin = start + chunk.index(stripped)
        yield Sentence(stripped, begin, text.count("\n", 0, begin) + 1)


class _Extractor:
    def __init__(self, text: str, year: int | None, gazetteer: Gazetteer) -> None:
        self.text = text
        self.g = gazetteer
        self.year = year if year is not None else article_year(text)
        self.context = tuple(self.g.countries_in(text))
        self.refs = find_aircraft(text)
        ids = [r for r in self.refs if r.registration or r.icao24 is not None]
        self.article_regs = tuple(dict.fromkeys(r.registration for r in ids if r.registration))
        self.article_hex = tuple(dict.fromkeys(r.icao24 for r in ids if r.icao24 is not None))
        types = list(dict.fromkeys(r.type_code for r in self.refs if r.type_code))
        self.article_type = types[0] if len(types) == 1 else None
        self.claims: list[Claim] = []

    # ------------------------------------------------------------------ helpers
    def place(self, name: str) -> Place | None:
        return self.g.resolve_place(name, context=self.context)

    def subject(self, s: Sentence, at: int | None = None) -> tuple[tuple[str, ...], tuple[int, ...], str | None]:
        """Aircraft a sentence is about: its own mentions, else the article's (or the last one before).

        With ``at`` (where the claim's verb or route is in the sentence), the aircraft named
        before it win; a pronoun there ("it", "the aircraft") means the one named earlier.
        """
        inside = [r for r in self.refs if s.start <= r.start < s.start + len(s.text)]
        types = [r.type_code for r in inside if r.type_code]
        type_code = types[0] if types else self.article_type
        ids = [r for r in inside if r.registration or r.icao24 is not None]
        if ids and at is not None:
            before = [r for r in ids if r.start - s.start < at]
            if before:
                ids = before
            elif _PRONOUN_RE.search(s.text[:at]):
                ids = []
        regs = tuple(dict.fromkeys(r.registration for r in ids if r.registration))
        hexes = tuple(dict.fromkeys(r.icao24 for r in ids if r.icao24 is not None))
        if regs or hexes:
            return regs, hexes, type_code
        if len(self.article_regs) <= 1 and len(self.article_hex) <= 1:
            return self.article_regs, self.article_hex, type_code
        earlier = [r for r in self.refs if r.start < s.start and (r.registration or r.icao24 is not None)]
        if earlier:
            last = earlier[-1]
            return ((last.registration,) if last.registration else (),
                    (last.icao24,) if last.icao24 is not None else (), type_code)
        return (), (), type_code

    def add(self, s: Sentence, kind: str, statement: str, at: int | None = None, **fields: object) -> Claim:
        regs, hexes, type_code = self.subject(s, at)
        claim = Claim(claim_id="", kind=kind, statement=statement, sentence=s.text,  # type: ignore[arg-type]
                      line=s.line, registrations=regs, icao24=hexes, type_code=type_code,
                      year_stated=self.year is not None, **fields)  # type: ignore[arg-type]
        self.claims.append(claim)
        return claim

    def who(self, s: Sentence, at: int | None = None) -> str:
        regs, hexes, type_code = self.subject(s, at)
        names = list(regs) + [f"{h:06X}" for h in hexes]
        return "/".join(names) if names else (f"the {type_code}" if type_code else "the aircraft")

    def names(self, places: list[Place]) -> str:
        """"Bamako (GABS) → Niamey [written Niamay] (DRRN)"."""
        out = []
        for p in places:
            if p.name == p.icao:
                out.append(p.icao)
                continue
            rec = self.g.airport(p.icao) or {}
            known = str(rec.get("city") or rec.get("subd") or p.name)
            shown = p.name if p.score >= 1.0 else f"{known} [written {p.name}]"
            out.append(f"{shown} ({p.icao})")
        return " → ".join(out)

    # ------------------------------------------------------------------ claim kinds
    def aircraft(self, s: Sentence) -> None:
        """One claim per aircraft first named here; a registration and a hex named together are one.

        Its type is the type name nearest to it in the sentence; the article's only type name
        counts only when the article names a single aircraft.
        """
        seen = {x for c in self.claims if c.kind == "aircraft" for x in (*c.registrations, *c.icao24)}
        inside = [r for r in self.refs if s.start <= r.start < s.start + len(s.text)]
        type_refs = [r for r in inside if r.type_code]
        single = len(self.article_regs) + len(self.article_hex) <= 1 or (
            len(self.article_regs) == 1 and len(self.article_hex) == 1)
        ids = [r for r in inside if (r.registration and r.registration not in seen)
               or (r.icao24 is not None and r.icao24 not in seen)]
        regs = list(dict.fromkeys(r.registration for r in ids if r.registration))
        hexes = list(dict.fromkeys(r.icao24 for r in ids if r.icao24 is not None))
        groups: list[tuple[tuple[str, ...], tuple[int, ...]]]
        if len(regs) == 1 and len(hexes) == 1:
            groups = [((regs[0],), (hexes[0],))]
        else:
            groups = [((r,), ()) for r in regs] + [((), (h,)) for h in hexes]
        for reg, hx in groups:
            pos = next(r.start for r in ids if (reg and r.registration == reg[0]) or (hx and r.icao24 == hx[0]))
            near = min(type_refs, key=lambda t: abs(t.start - pos), default=None)
            type_code = near.type_code if near else (self.article_type if single else None)
            name = " / ".join([*reg, *(f"{h:06X}" for h in hx)])
            what = f"is a {type_code}" if type_code else "exists"
            self.claims.append(Claim(
                claim_id="", kind="aircraft", statement=f"{name} {what}", sentence=s.text, line=s.line,
                registrations=reg, icao24=hx, type_code=type_code))

    def routes(self, s: Sentence, dates: dict[str, object]) -> list[Claim]:
        out: list[Claim] = []
        counted = [m for m in _MANY_RE.finditer(s.text) if m.group(2)]
        many = counted[0] if counted else _MANY_RE.search(s.text)
        count = 1
        if many:
            word = (many.group(2) or "").lower()
            count = int(word) if word.isdigit() else _NUMBERS.get(word, 2)
        regs = [(r.start - s.start, r.end - s.start) for r in self.refs if r.registration or r.type_code]
        found: list[tuple[list[str], bool, int]] = []
        for m in _ROUTE_RE.finditer(s.text):
            if any(a < m.end() and b > m.start() for a, b in regs):
                continue
            found.append((re.split(_SEP, m.group(0)), False, m.start()))
        for m in _FROM_TO_RE.finditer(s.text):
            found.append(([m.group(1), m.group(2)], _ROUND_RE.search(s.text[m.end():m.end() + 24]) is not None,
                          m.start()))
        for m in _TO_FROM_RE.finditer(s.text):
            found.append(([m.group(2), m.group(1)], False, m.start()))
        for m in _BETWEEN_RE.finditer(s.text):
            if _MANY_RE.search(s.text) or re.search(r"\bflights?|trips?|shuttle", s.text, re.IGNORECASE):
                found.append(([m.group(1), m.group(2)], True, m.start()))
        for names, back, at in found:
            if any(n.isupper() and len(n) != 4 for n in names):
                continue  # acronyms ("CSP-PSD") are not places
            if any(self.g.country(n) for n in names):
                continue  # "Niger-Mali" is a border or a pair of states, not a route
            resolved = [self.place(n) for n in names]
            places = [p for p in resolved if p is not None]
            if len(places) < 2 or len(places) < len(names) - 1:
                continue
            codes = [p.icao for p in places]
            if back and codes[0] != codes[-1]:
                codes.append(codes[0])
                places.append(places[0])
            unresolved = tuple(n for n, p in zip(names, resolved, strict=True) if p is None)
            round_trip = codes[0] == codes[-1]
            on = dates.get("on")
            if len(codes) == 2 and on is not None and count == 1:
                out.append(self.add(s, "leg", f"{self.who(s, at)} flew {self.names(places)} on {on}", at=at,
                                    places=tuple(codes), place_names=tuple(p.name for p in places),
                                    unresolved=unresolved, on=on))
                continue
            times = f", at least {count} times" if count > 1 else ""
            since, until = dates.get("since"), dates.get("until")
            times += (f", since {since}" if since else "") + (f", until {until}" if until else "")
            out.append(self.add(
                s, "route", f"{self.who(s, at)} flew {self.names(places)}{times}", at=at, places=tuple(codes),
                place_names=tuple(p.name for p in places), unresolved=unresolved, min_count=count,
                round_trip=round_trip, since=since, until=until, on=on))
        return out

    def recount(self, s: Sentence, routes: list[Claim]) -> None:
        """"It flew A-B-C. Three times in ten days." — a count in the next sentence of the same post."""
        m = next((m for m in _MANY_RE.finditer(s.text) if m.group(2)), None)
        if m is None:
            return
        word = m.group(2).lower()
        count = int(word) if word.isdigit() else _NUMBERS.get(word, 2)
        for i, c in enumerate(self.claims):
            if any(c is r for r in routes) and count > c.min_count:
                self.claims[i] = dataclasses.replace(
                    c, min_count=count, statement=f"{c.statement}, at least {count} times",
                    also=(*c.also, s.text))

    def events(self, s: Sentence, dates: dict[str, object]) -> None:
        for event, pattern in _EVENTS:
            m = pattern.search(s.text)
            if m is None:
                continue
            candidates = [a for a in _AT_RE.finditer(s.text) if not self.g.country(a.group(1))]
            candidates.sort(key=lambda a: (a.start() < m.start(), abs(a.start() - m.start())))
            place = next((p for p in (self.place(a.group(1)) for a in candidates) if p is not None), None)
            if place is None and event == "landing":
                continue
            if place is None and not (self.article_regs or self.article_hex):
                continue
            where = f" at {place.name} ({place.icao})" if place else ""
            verb = {"crash": "crashed", "emergency": "declared an emergency", "landing": "landed"}[event]
            when = f" on {dates['on']}" if dates.get("on") else ""
            self.add(s, "event", f"{self.who(s, m.start())} {verb}{where}{when}", at=m.start(), event=event,
                     places=(place.icao,) if place else (), place_names=(place.name,) if place else (),
                     on=dates.get("on"))

    def operation(self, s: Sentence) -> tuple[str, str] | None:
        pair: tuple[str, str] | None = None
        m = _BY_TO_RE.search(s.text)
        if m:
            a, b = self.g.country(m.group(1)), self.g.country(m.group(2))
            if a and b and a != b:
                pair = (a, b)
        for v in _SUPPORT_RE.finditer(s.text):
            if pair is not None:
                break
            before = self.g.countries_in(s.text[: v.start()])
            after = [c for c in self.g.countries_in(s.text[v.end():]) if c not in before]
            if before and after and not re.search(r"\band\s*$", s.text[: v.start()].split(",")[-1]):
                pair = (before[-1], after[0])
        if pair is None:
            return None
        x, y = (self.g.country_name(c) for c in pair)
        self.add(s, "operation", f"{x} supports {y}: aircraft of {x} ({self.who(s)}) operate in {y}",
                 states=pair)
        return pair

    def period(self, s: Sentence, dates: dict[str, object], pair: tuple[str, str] | None,
               routes: list[Claim]) -> None:
        since, until = dates.get("since"), dates.get("until")
        if (since is None and until is None) or routes:
            return
        span = (f"since {since}" if since else "") + (" " if since and until else "") + (
            f"until {until}" if until else "")
        if pair is not None:
            x, y = (self.g.country_name(c) for c in pair)
            self.add(s, "period", f"aircraft of {x} ({self.who(s)}) operate in {y} {span}", states=pair,
                     since=since, until=until)
        elif _ACTIVITY_RE.search(s.text) and (self.article_regs or self.article_hex):
            self.add(s, "period", f"{self.who(s)} has been flying {span}", since=since, until=until)

    def table(self, rows: list[Sentence]) -> None:
        cells = [[c.strip() for c in r.text.strip().strip("|").split("|")] for r in rows]
        header = [c.lower() for c in cells[0]]
        col = {k: next((i for i, h in enumerate(header) if any(w in h for w in words)), None)
               for k, words in (("from", ("from", "origin", "depart")), ("to", ("to", "dest", "arriv")),
                                ("date", ("date", "day")), ("reg", ("aircraft", "reg", "tail", "hex")))}
        if col["from"] is None or col["to"] is None:
            return
        for row, s in zip(cells[1:], rows[1:], strict=True):
            if all(set(c) <= set("-: ") for c in row) or len(row) != len(header):
                continue
            a, b = self.place(row[col["from"]]), self.place(row[col["to"]])
            if a is None or b is None:
                continue
            on = parse_day(row[col["date"]], self.year) if col["date"] is not None else None
            claim = self.add(s, "leg", "", places=(a.icao, b.icao), place_names=(a.name, b.name),
                             on=on[0] if on else None)
            if col["reg"] is not None:
                for r in find_aircraft(row[col["reg"]]):
                    if r.registration or r.icao24 is not None:
                        claim = dataclasses.replace(
                            claim, registrations=(r.registration,) if r.registration else (),
                            icao24=(r.icao24,) if r.icao24 is not None else ())
            who = "/".join(list(claim.registrations) + [f"{h:06X}" for h in claim.icao24]) or "the aircraft"
            day = f" on {claim.on}" if claim.on else ""
            self.claims[-1] = dataclasses.replace(
                claim, statement=f"{who} flew {self.names([a, b])}{day}")

    def run(self) -> list[Claim]:
        table_rows: list[Sentence] = []
        last_routes: list[Claim] = []
        last_line = 0
        for s in sentences(self.text):
            if s.text.startswith("|"):
                table_rows.append(s)
                continue
            if table_rows:
                self.table(table_rows)
                table_rows = []
            found: dict[str, object] = {}
            for d in sorted(find_dates(s.text, self.year), key=lambda d: not d.explicit):
                found.setdefault(d.role, d.day)
            self.aircraft(s)
            pair = self.operation(s)
            routes = self.routes(s, found)
            if not routes and last_routes and s.line == last_line:
                self.recount(s, last_routes)
            last_routes, last_line = [c for c in routes if c.kind == "route"], s.line
            self.period(s, found, pair, routes)
            self.events(s, found)
        if table_rows:
            self.table(table_rows)
        return _merge(self.claims)


def _merge(claims: list[Claim]) -> list[Claim]:
    merged: dict[tuple[object, ...], Claim] = {}
    for c in claims:
        k = c.key()
        if k in merged:
            first = merged[k]
            if c.sentence != first.sentence and c.sentence not in first.also:
                merged[k] = dataclasses.replace(first, also=(*first.also, c.sentence),
                                                min_count=max(first.min_count, c.min_count))
        else:
            merged[k] = c
    return [dataclasses.replace(c, claim_id=f"C{i}") for i, c in enumerate(merged.values(), start=1)]


def extract_claims(text: str, year: int | None = None, gazetteer: Gazetteer | None = None) -> list[Claim]:
    """The checkable claims of an article, in order of first appearance.

    ``year`` fills in dates written without one; by default it is the year the
    article itself states most often ("in 2023"). Without either, such dates
    keep year 1 and their claims are marked ``year_stated=False``.
    """
    return _Extractor(text, year, gazetteer or Gazetteer.default()).run()
