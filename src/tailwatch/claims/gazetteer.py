"""Places and states named in an article, resolved offline.

Airports and towns come from the ``airportsdata`` package (ICAO code, name,
city, subdivision, country); countries and their adjectives ("Malian",
"Nigerien") from ``pycountry``. Names are matched exactly first, then fuzzily
with rapidfuzz ("Niamay" → Niamey / DRRN), and candidates are ranked by how
the name matched and by the countries the article talks about.

>>> g = Gazetteer.default()
>>> g.resolve_place("Niamay", context=("NE", "ML")).icao
'DRRN'
>>> g.country("Malian")
'ML'
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import airportsdata
import pycountry
from rapidfuzz import fuzz, process

#: Words that say "airport" rather than name a place.
_GENERIC = {
    "airport", "international", "intl", "airfield", "airstrip", "aerodrome", "air", "base",
    "regional", "municipal", "field", "strip", "ab", "afb", "airbase", "heliport", "national",
    "de", "du", "la", "le", "l", "d", "of", "the",
}

#: Adjectives whose country cannot be found by stripping a suffix.
_IRREGULAR_ADJECTIVES = {
    "french": "FR", "british": "GB", "american": "US", "burkinabe": "BF", "burkinabé": "BF",
    "ivorian": "CI", "dutch": "NL", "swiss": "CH", "turkish": "TR", "emirati": "AE",
    "saudi": "SA", "chinese": "CN", "spanish": "ES", "danish": "DK", "polish": "PL",
    "greek": "GR", "congolese": "CD", "beninese": "BJ", "togolese": "TG", "malagasy": "MG",
    "russian": "RU", "nigerien": "NE", "nigérien": "NE", "chadian": "TD", "mauritanian": "MR",
    "malian": "ML", "nigerian": "NG", "algerian": "DZ", "libyan": "LY", "moroccan": "MA",
    "ukrainian": "UA", "german": "DE", "italian": "IT", "israeli": "IL", "iranian": "IR",
    "egyptian": "EG", "sudanese": "SD", "senegalese": "SN", "ghanaian": "GH", "guinean": "GN",
}

#: Short names people use that differ from ISO's.
_COUNTRY_ALIASES = {
    "russia": "RU", "iran": "IR", "syria": "SY", "turkey": "TR", "türkiye": "TR",
    "ivory coast": "CI", "cote d'ivoire": "CI", "uk": "GB", "britain": "GB",
    "united kingdom": "GB", "usa": "US", "united states": "US", "us": "US",
    "south korea": "KR", "north korea": "KP", "vietnam": "VN", "laos": "LA",
    "bolivia": "BO", "venezuela": "VE", "tanzania": "TZ", "moldova": "MD",
    "czech republic": "CZ", "dr congo": "CD", "drc": "CD", "uae": "AE",
}


def fold(text: str) -> str:
    """Lower-case ASCII form of a name: accents dropped, punctuation to spaces.

    >>> fold("Goïta's  Sénou-Airport")
    'goita s senou airport'
    """
    t = unicodedata.normalize("NFKD", text)
    t = "".join(c for c in t if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", t).split())


@dataclass(frozen=True)
class Place:
    """An airport a name resolved to, and how sure the match is (0-1)."""

    name: str  # as written in the article
    icao: str
    airport_name: str
    country: str  # ISO 3166 alpha-2
    lat: float
    lon: float
    score: float
    #: Other airports the name could also mean (ICAO codes), best first.
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Entry:
    icao: str
    country: str
    weight: float


class Gazetteer:
    """Name → airport and name → country lookups built from airportsdata and pycountry."""

    def __init__(self, airports: dict[str, dict[str, object]]) -> None:
        self.airports = airports
        self._index: dict[str, list[_Entry]] = {}
        for icao, a in airports.items():
            if len(icao) != 4 or not icao.isalpha():
                continue
            country = str(a.get("country") or "")
            bonus = 0.5 if a.get("iata") else 0.0
            stem = " ".join(w for w in fold(str(a.get("name") or "")).split() if w not in _GENERIC)
            for key, w in ((stem, 3.0), (fold(str(a.get("city") or "")), 2.0),
                           (fold(str(a.get("subd") or "")), 1.0)):
                if len(key) >= 3:
                    self._index.setdefault(key, []).append(_Entry(icao, country, w + bonus))
        self._keys = list(self._index)
        self._countries: dict[str, str] = {}
        for c in pycountry.countries:
            for attr in ("name", "common_name", "official_name"):
                value = getattr(c, attr, None)
                if value:
                    self._countries[fold(value)] = c.alpha_2
        for k, v in _COUNTRY_ALIASES.items():
            self._countries[fold(k)] = v
        self._adjectives = {fold(k): v for k, v in _IRREGULAR_ADJECTIVES.items()}

    @staticmethod
    @functools.cache
    def default() -> Gazetteer:
        """The gazetteer of the installed airportsdata (built once per process, ~0.5 s)."""
        return Gazetteer(airportsdata.load("ICAO"))  # type: ignore[arg-type]

    # ----------------------------------------------------------------- countries
    def country(self, word: str) -> str | None:
        """ISO alpha-2 code of a country name or adjective, or None.

        >>> Gazetteer.default().country("Niger"), Gazetteer.default().country("Nigerian")
        ('NE', 'NG')
        """
        f = fold(word)
        if not f:
            return None
        if f in self._countries:
            return self._countries[f]
        if f in self._adjectives:
            return self._adjectives[f]
        for suffix, add in (("n", ""), ("an", ""), ("ian", ""), ("ese", ""), ("i", ""), ("ian", "e"),
                            ("ian", "ia"), ("ish", "")):
            if f.endswith(suffix) and len(f) - len(suffix) >= 3:
                stem = f[: -len(suffix)] + add
                if stem in self._countries:
                    return self._countries[stem]
        return None

    def country_name(self, iso2: str) -> str:
        """English short name of a country code (the code itself if unknown)."""
        c = pycountry.countries.get(alpha_2=iso2)
        return str(getattr(c, "common_name", None) or c.name) if c is not None else iso2

    def countries_in(self, text: str) -> list[str]:
        """Countries named in ``text`` (names and adjectives), in order of first mention."""
        found: list[str] = []
        for m in re.finditer(r"\b[A-Z][\w'’é-]*(?:\s+(?:d'|of\s+)?[A-Z][\w'’é-]*){0,2}", text):
            words = [re.sub(r"['’]s$", "", w) for w in m.group(0).split()]
            i = 0
            while i < len(words):
                hit = None
                for j in range(len(words), i, -1):
                    code = self.country(" ".join(words[i:j]))
                    if code is not None:
                        hit = (code, j)
                        break
                if hit is None:
                    i += 1
                    continue
                if hit[0] not in found:
                    found.append(hit[0])
                i = hit[1]
        return found

    # ------------------------------------------------------------------ airports
    def airport(self, icao: str) -> dict[str, object] | None:
        """The airportsdata record of an ICAO code, or None."""
        return self.airports.get(icao.upper())

    def resolve_place(self, name: str, context: Iterable[str] = (), fuzzy: bool = True,
                      min_score: float = 80.0) -> Place | None:
        """The airport ``name`` most likely means, or None.

        ``name`` may be an ICAO code ("GAGO"), an airport name, a city or a
        region. ``context`` lists the countries the article is about; an airport
        inside them beats an equally good one elsewhere, and a fuzzy match must
        lie inside them when any are given.

        >>> Gazetteer.default().resolve_place("Bamako").icao
        'GABS'
        >>> Gazetteer.default().resolve_place("Gao", context=["ML"]).airport_name
        'Gao Airport'
        """
        ctx = set(context)
        raw = name.strip()
        if re.fullmatch(r"[A-Z]{4}", raw) and raw in self.airports:
            return self._place(raw, raw, 1.0, ())
        key = fold(raw)
        if not key or (self.country(raw) is not None and key in self._countries):
            return None
        candidates: list[tuple[float, _Entry]] = [(100.0, e) for e in self._index.get(key, [])]
        if not candidates and fuzzy and len(key) >= 4:
            for k, score, _ in process.extract(key, self._keys, scorer=fuzz.ratio,
                                               score_cutoff=min_score, limit=20):
                if k[0] != key[0]:
                    continue
                candidates.extend((float(score), e) for e in self._index[k]
                                  if not ctx or e.country in ctx or score >= 90.0)
        if not candidates:
            return None

        def rank(c: tuple[float, _Entry]) -> tuple[float, float, float]:
            return (c[0], 1.0 if c[1].country in ctx else 0.0, c[1].weight)

        candidates.sort(key=rank, reverse=True)
        best_score, best = candidates[0]
        alts = tuple(dict.fromkeys(e.icao for s, e in candidates[1:]
                                   if e.icao != best.icao and rank((s, e)) == rank((best_score, best))))
        return self._place(raw, best.icao, best_score / 100.0, alts)

    def _place(self, name: str, icao: str, score: float, alts: tuple[str, ...]) -> Place:
        a = self.airports[icao]
        return Place(name=name, icao=icao, airport_name=str(a["name"]), country=str(a["country"]),
                     lat=float(a["lat"]), lon=float(a["lon"]),  # type: ignore[arg-type]
                     score=score, alternatives=alts)
