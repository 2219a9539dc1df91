"""Dates and periods written in prose: "since August 20", "on 3 Sept. 2023", "2023-08-20".

The year often lives elsewhere in the article ("... in 2023"); :func:`article_year`
finds it, and :func:`find_dates` fills it in when a date has none. Parsing is
done by ``dateparser`` on the matched span only (no guessing from free text).

>>> [(d.role, d.day.isoformat()) for d in find_dates("Since August 20, flights resumed.", 2023)]
[('since', '2023-08-20')]
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass

import dateparser

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_DAY = r"(?:[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d{2}"
DATE_RE = re.compile(
    rf"\b(?:(?P<iso>{_YEAR}-[01]\d-[0-3]\d)"
    rf"|(?P<md>{_MONTH}\s+{_DAY})(?:,?\s+(?P<y1>{_YEAR}))?"
    rf"|(?P<dm>{_DAY}\s+(?:of\s+)?{_MONTH})(?:,?\s+(?P<y2>{_YEAR}))?)\b",
    re.IGNORECASE,
)
_ROLE_BEFORE = re.compile(
    r"(?P<w>since|from|starting(?:\s+on)?|beginning(?:\s+on)?|as\s+of|after|until|till|to|through|"
    r"ending(?:\s+on)?|before|on|between|and)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_ROLES = {
    "since": "since", "from": "since", "starting": "since", "beginning": "since", "as of": "since",
    "after": "since", "until": "until", "till": "until", "to": "until", "through": "until",
    "ending": "until", "before": "until", "on": "on", "between": "since", "and": "until",
}


@dataclass(frozen=True)
class DateMention:
    """A date found in a sentence: the day, what it bounds, and whether the year was written."""

    day: dt.date
    role: str  # "since", "until" or "on"
    text: str
    start: int
    year_stated: bool
    #: True when a word before the date says its role ("since", "on"...), False for a bare date.
    explicit: bool = True


def article_year(text: str) -> int | None:
    """The year an article is about: the most frequent four-digit year it states.

    >>> article_year("Flights in 2023 ... showcasing cooperation in 2023, unlike 1999.")
    2023
    """
    years = Counter(int(m.group(0)) for m in re.finditer(rf"(?<![\d-]){_YEAR}(?![\d-])", text))
    years.update(int(m.group(1)) for m in re.finditer(rf"\b({_YEAR})-[01]\d-[0-3]\d\b", text))
    if not years:
        return None
    return max(years.items(), key=lambda kv: (kv[1], kv[0]))[0]


def parse_day(text: str, year: int | None) -> tuple[dt.date, bool] | None:
    """Parse one date span; fill in ``year`` when the span has none.

    Returns ``(day, year_stated)``; a span without a year and no ``year`` given
    is parsed with year 1 as a marker (``year_stated`` False, ``day.year == 1``).

    >>> parse_day("20th of Aug.", 2023)
    (datetime.date(2023, 8, 20), False)
    """
    stated = re.search(_YEAR, text) is not None
    clean = re.sub(r"(?<=\d)(st|nd|rd|th)\b", "", text, flags=re.IGNORECASE).replace(" of ", " ")
    base_year = year if year is not None else 2000  # a leap year, so 29 February parses
    parsed = dateparser.parse(
        clean,
        languages=["en"],
        settings={"RELATIVE_BASE": dt.datetime(base_year, 1, 1), "PREFER_DATES_FROM": "current_period",
                  "REQUIRE_PARTS": ["day", "month"], "DATE_ORDER": "DMY"},
    )
    if parsed is None:
        return None
    day = parsed.date()
    if not stated:
        day = day.replace(year=year if year is not None else 1)
    return day, stated


def find_dates(sentence: str, year: int | None) -> list[DateMention]:
    """Every date in ``sentence`` with its role (since / until / on) from the word before it."""
    out: list[DateMention] = []
    for m in DATE_RE.finditer(sentence):
        parsed = parse_day(m.group(0), year)
        if parsed is None:
            continue
        before = _ROLE_BEFORE.search(sentence[max(0, m.start() - 24): m.start()])
        role = _ROLES[" ".join(before.group("w").lower().split()).split(" on")[0]] if before else "on"
        out.append(DateMention(parsed[0], role, m.group(0), m.start(), parsed[1], before is not None))
    return out
