"""A question's time scope: which articles count as "this week", "recently" or "the latest".

News questions are anchored to the day they are asked. "Which show was green-lit this week?" is
about articles from the last seven days before that day, and "the latest budget" about the newest
one. The reference day is today, or the `as_of` day a caller gives ("answer as if it were
2022-06-16"); with an explicit `as_of`, articles published after it do not exist yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_WEEKDAY = r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
# The span each phrase covers, in days before the reference day; the narrowest phrase found wins.
_WINDOWS: tuple[tuple[re.Pattern[str], int], ...] = tuple(
    (re.compile(pattern, re.I), days)
    for pattern, days in (
        (r"\b(today|tonight|this (morning|afternoon|evening))\b", 1),
        (r"\byesterday\b", 2),
        (rf"\b(this|last|past) weekend\b|\b(this|past) week\b|\b(on|last) {_WEEKDAY}\b|\bearlier this week\b", 7),
        (r"\blast week\b|\bpast (two|2|few) weeks\b", 14),
        (r"\b(recent(ly)?|latest|newest|most recent(ly)?|currently|now|so far|to date|up to date)\b", 14),
        (r"\b(this|past|last) month\b", 31),
        (r"\b(this|past|last) year\b", 366),
    )
)
_LATEST = re.compile(r"\b(latest|most recent(ly)?|newest|last (week|month)|up to date)\b", re.I)


@dataclass(frozen=True)
class TimeScope:
    reference: date  # the day the question is asked
    window_days: int | None  # articles published within this many days before `reference` are in scope
    latest: bool  # the question wants the newest article ("the latest", "most recent")
    cutoff: bool  # articles published after `reference` are left out (an explicit as-of day)

    def in_window(self, published: date | None) -> bool:
        if self.window_days is None or published is None:
            return False
        # A difference, not `reference - window`: that underflows for a reference near year 1 (--as-of 0001-01-05).
        return 0 <= (self.reference - published).days <= self.window_days

    def too_new(self, published: date | None) -> bool:
        return self.cutoff and published is not None and published > self.reference


def time_scope(question: str, as_of: date | None = None) -> TimeScope:
    windows = [days for pattern, days in _WINDOWS if pattern.search(question)]
    return TimeScope(
        reference=as_of or date.today(),
        window_days=min(windows) if windows else None,
        latest=bool(_LATEST.search(question)),
        cutoff=as_of is not None,
    )
