"""The date of lines that wrote only a time of day (``07:40:19.996 [INFO] ...``).

In order: the caller's ``date``; else the earliest date the other evidence of the same
ingest shows (a dated log line, a span, a call's time), as ``evidence: <file>``; else
none is known: such lines stay on the placeholder 1970-01-01 (so they still order among
themselves), each is marked ``"dateUnknown": true``, and the ingest's ``date_source`` is
``"unknown"`` so that reports say their times are times of day only. Times of day are
read as UTC. Within one file, a clock that goes back by more than 12 hours has passed
midnight: the lines after it are on the next day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from harness.ingest.moment import PLACEHOLDER_DATE, Moment

OPTION = "option"
UNKNOWN = "unknown"
_MIDNIGHT_JUMP = timedelta(hours=12)


@dataclass(frozen=True)
class Dating:
    day: date
    source: str  # "option", "evidence: <file>" or "unknown"

    @property
    def known(self) -> bool:
        return self.source != UNKNOWN


def choose(option: date | None, dated: Iterable[tuple[datetime, str]]) -> Dating:
    """The date for times of day: ``option``, else the earliest of ``dated``
    ((moment, file) pairs), else the placeholder."""
    if option is not None:
        return Dating(option, OPTION)
    earliest = min(dated, key=lambda pair: pair[0], default=None)
    if earliest is not None:
        return Dating(earliest[0].astimezone(UTC).date(), f"evidence: {earliest[1]}")
    return Dating(PLACEHOLDER_DATE, UNKNOWN)


def place(moments: Sequence[Moment | None], dating: Dating) -> list[tuple[datetime | None, bool]]:
    """One file's moments in order as (datetime or None, date unknown)."""
    placed: list[tuple[datetime | None, bool]] = []
    previous: datetime | None = None
    days = 0
    for moment in moments:
        if moment is None or moment.dated:
            placed.append((moment.at if moment else None, False))
            continue
        at = moment.on(dating.day + timedelta(days=days)) if _fits(dating.day, days) else None
        if at is not None and previous is not None and at < previous - _MIDNIGHT_JUMP:
            days += 1
            at = moment.on(dating.day + timedelta(days=days)) if _fits(dating.day, days) else at
        previous = at or previous
        placed.append((at, at is not None and not dating.known))
    return placed


def _fits(day: date, days: int) -> bool:
    return day <= date.max - timedelta(days=days)
