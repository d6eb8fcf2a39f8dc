"""When a record happened, as its file wrote it, and as the log contract writes it.

Files write time in many ways: ISO-8601 with or without a zone (``2025-12-02T07:40:19.996Z``,
``2025-12-02 07:40:19,996``), epoch seconds (structlog, python-json-logger: a float),
epoch milliseconds (pino, bunyan's ``time`` when numeric), micro- or nanoseconds, or a
time of day alone (``07:40:19.996``, the incident memo's worker log).

A :class:`Moment` keeps which: a dated one is a point in time; a time-of-day one waits for
its date (see :mod:`harness.ingest.dating`). A time without a zone is taken as UTC.
:func:`iso` writes the contract's form: ISO-8601 in UTC with ``Z``, milliseconds (or
microseconds when the source had them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

#: The day a time-of-day moment sits on until its real date is known.
PLACEHOLDER_DATE = date(1970, 1, 1)

_TIME = re.compile(
    r"(?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})(?:[.,](?P<frac>\d{1,9}))?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)
_DIGITS = re.compile(r"-?\d+(?:\.\d+)?")
_ERRORS = (ValueError, OverflowError, OSError)
_EARLIEST = 1e8  # epoch seconds: 1973-03-03


@dataclass(frozen=True)
class Moment:
    """A point in time (``dated``), or a time of day on :data:`PLACEHOLDER_DATE`."""

    at: datetime  # timezone-aware
    dated: bool = True

    def on(self, day: date) -> datetime | None:
        """This time of day on ``day`` (a dated moment stays as it is); None on overflow."""
        if self.dated:
            return self.at
        try:
            return self.at + (day - PLACEHOLDER_DATE)
        except OverflowError:
            return None


def parse(value: Any) -> Moment | None:
    """A moment from a JSON value (ISO string, time of day, epoch number); None if not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return from_epoch(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _DIGITS.fullmatch(text):
        return from_epoch(float(text))
    return time_of_day(text) if _TIME.match(text) else from_iso(text)


def from_iso(text: str) -> Moment | None:
    """An ISO-8601 date and time (a comma before the fraction, or no zone, accepted)."""
    if len(text) < 10 or not text[:4].isdigit():
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return _aware(moment)


def from_epoch(number: float) -> Moment | None:
    """Epoch seconds, milliseconds, microseconds or nanoseconds, told apart by size; a
    number before 1973 in any of them (0, a counter) is not taken for a time."""
    try:
        seconds = _seconds(float(number))
        if seconds < _EARLIEST:
            return None
        return Moment(datetime.fromtimestamp(seconds, tz=UTC))
    except _ERRORS:
        return None


def _seconds(value: float) -> float:
    """Epoch seconds from a number in s, ms, µs or ns (each unit's values from 1973 on)."""
    magnitude = abs(value)
    if magnitude >= 1e17:
        return value / 1e9
    if magnitude >= 1e14:
        return value / 1e6
    if magnitude >= 1e11:
        return value / 1e3
    return value


def time_of_day(text: str, day: str | None = None) -> Moment | None:
    """``HH:MM:SS[.fff][zone]``, on ``day`` (``YYYY-MM-DD``) when given."""
    found = _TIME.match(text.strip())
    if found is None:
        return None
    frac = (found["frac"] or "0")[:6].ljust(6, "0")
    try:
        clock = time(int(found["h"]), int(found["m"]), int(found["s"]), int(frac))
        on = date.fromisoformat(day) if day else PLACEHOLDER_DATE
        moment = datetime.combine(on, clock, tzinfo=_zone(found["tz"]))
    except _ERRORS:
        return None
    return _aware(moment, dated=day is not None)


def _zone(text: str | None) -> timezone:
    if not text or text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _aware(moment: datetime, dated: bool = True) -> Moment | None:
    try:
        at = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        at.astimezone(UTC)  # a zone that overflows the calendar: not a moment
    except _ERRORS:
        return None
    return Moment(at, dated)


def iso(moment: datetime) -> str | None:
    """The log contract's ``ts``: UTC, ``Z``, milliseconds (microseconds if it has them)."""
    try:
        utc = moment.astimezone(UTC)
    except _ERRORS:
        return None
    spec = "milliseconds" if utc.microsecond % 1000 == 0 else "microseconds"
    return utc.isoformat(timespec=spec).replace("+00:00", "Z")


def from_ns(ns: int) -> datetime | None:
    """Epoch nanoseconds as a UTC datetime (None when 0 or out of range)."""
    if not ns:
        return None
    try:
        return datetime.fromtimestamp(ns / 1e9, tz=UTC)
    except _ERRORS:
        return None
