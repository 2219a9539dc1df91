"""What a claim and a verdict are.

A :class:`Claim` is one checkable statement of an article, normalised (ICAO
airport codes, ISO country codes, canonical registrations, dates) and kept with
the sentence it came from. A :class:`Verdict` is what the data says about it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

ClaimKind = Literal["aircraft", "operation", "period", "route", "leg", "event"]
VerdictKind = Literal["supported", "contradicted", "not observable", "ambiguous"]
VERDICTS: tuple[VerdictKind, ...] = ("supported", "contradicted", "not observable", "ambiguous")


@dataclass(frozen=True)
class Claim:
    """One checkable statement of an article.

    * ``aircraft``: the aircraft is ``registrations``/``icao24`` of type ``type_code``.
    * ``operation``: ``states[0]``'s aircraft operate in (support) ``states[1]``.
    * ``period``: the activity (``states`` operation or the aircraft flying) began on
      ``since`` and/or lasted ``until``.
    * ``route``: the aircraft flew the airports ``places`` in that order, at least
      ``min_count`` times (``round_trip`` when it ends where it began).
    * ``leg``: one flight ``places[0]`` → ``places[1]`` on day ``on``.
    * ``event``: ``event`` ("crash", "emergency", "landing") at ``places[0]``.
    """

    claim_id: str
    kind: ClaimKind
    statement: str
    sentence: str
    line: int
    registrations: tuple[str, ...] = ()
    icao24: tuple[int, ...] = ()
    type_code: str | None = None
    places: tuple[str, ...] = ()  # ICAO airport codes, in the order written
    place_names: tuple[str, ...] = ()  # as written
    unresolved: tuple[str, ...] = ()  # place names no airport matched
    states: tuple[str, ...] = ()  # ISO alpha-2
    event: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    on: dt.date | None = None
    year_stated: bool = True  # False when no year was given and none could be inferred
    min_count: int = 1
    round_trip: bool = False
    also: tuple[str, ...] = ()  # other sentences that say the same

    def key(self) -> tuple[Any, ...]:
        """What makes two claims the same claim (for merging restatements)."""
        return (self.kind, self.registrations, self.icao24, self.type_code, self.places, self.states,
                self.event, self.since, self.until, self.on)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (dates as ISO text, icao24 as hex)."""
        return {
            "id": self.claim_id, "kind": self.kind, "statement": self.statement,
            "sentence": self.sentence, "line": self.line,
            "registrations": list(self.registrations),
            "icao24": [f"{i:06X}" for i in self.icao24], "type": self.type_code,
            "places": list(self.places), "place_names": list(self.place_names),
            "unresolved": list(self.unresolved), "states": list(self.states), "event": self.event,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "on": self.on.isoformat() if self.on else None, "year_stated": self.year_stated,
            "min_count": self.min_count, "round_trip": self.round_trip, "also": list(self.also),
        }


@dataclass(frozen=True)
class Verdict:
    """The data's answer to one claim, with the rows behind it and a one-line reason."""

    claim_id: str
    verdict: VerdictKind
    reason: str
    evidence: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"claim": self.claim_id, "verdict": self.verdict, "reason": self.reason,
                "evidence": self.evidence}
