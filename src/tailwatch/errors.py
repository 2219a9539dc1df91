"""Typed errors and the reject ledger shared by every stage.

Bad input never stops an ingest: each bad record is counted by reason, the
first few are kept with their location (file and line, byte offset or frame),
and the good records go on.

>>> r = Rejects()
>>> r.add("non-hex frame", "caps.avr", "line 12", "'*8D4X..;'")
>>> r.counts
{'non-hex frame': 1}
>>> print(r.samples[0])
caps.avr line 12: non-hex frame ('*8D4X..;')
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


class TailwatchError(Exception):
    """Base class of tailwatch's own errors."""


class InputError(TailwatchError):
    """A whole input cannot be read (wrong format, truncated, unreadable).

    ``location`` names where it went wrong: ``"line 12"``, ``"byte 4096"``, ``"frame 7"``.
    """

    def __init__(self, path: str, location: str, reason: str) -> None:
        self.path = path
        self.location = location
        self.reason = reason
        super().__init__(f"{path} {location}: {reason}")


class StoreError(TailwatchError):
    """The store cannot be opened or written."""


class NoDatabaseError(TailwatchError):
    """Aircraft databases are missing; the message tells the user how to get them."""


@dataclass(frozen=True)
class Reject:
    """One rejected record, with where it was."""

    reason: str
    path: str
    location: str
    detail: str = ""

    def __str__(self) -> str:
        tail = f" ({self.detail})" if self.detail else ""
        return f"{self.path} {self.location}: {self.reason}{tail}"


@dataclass
class Rejects:
    """Counts of rejected records by reason, plus the first ``keep`` examples of each."""

    keep: int = 5
    counts: dict[str, int] = field(default_factory=dict)
    samples: list[Reject] = field(default_factory=list)

    def add(self, reason: str, path: str, location: str, detail: str = "", n: int = 1) -> None:
        """Count ``n`` rejects for ``reason``; remember the first few with their location."""
        before = self.counts.get(reason, 0)
        self.counts[reason] = before + n
        if before < self.keep:
            self.samples.append(Reject(reason, path, location, detail[:120]))

    def merge(self, other: Rejects) -> None:
        """Add another ledger's counts and samples into this one."""
        for reason, n in other.counts.items():
            kept = sum(1 for s in self.samples if s.reason == reason)
            self.counts[reason] = self.counts.get(reason, 0) + n
            for s in other.samples:
                if s.reason == reason and kept < self.keep:
                    self.samples.append(s)
                    kept += 1

    @property
    def total(self) -> int:
        """All rejects, every reason."""
        return sum(self.counts.values())

    def as_counter(self) -> Counter[str]:
        """The counts as a :class:`collections.Counter`."""
        return Counter(self.counts)
