"""Log levels from any stack, written as the platform writes them (Python's names).

The platform's lines carry Python's level names (``DEBUG`` ... ``CRITICAL``), and the
analysis reads ``ERROR`` and ``CRITICAL`` as failures, so every other spelling is mapped
onto them: ``WARN`` -> ``WARNING``, ``FATAL`` -> ``CRITICAL``, ``ERR`` -> ``ERROR``...
Numbers: pino and bunyan write 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal;
Python's ``levelno`` is 10 debug ... 50 critical; OpenTelemetry's ``severity_number`` is
1-4 trace ... 21-24 fatal. A name not known here is kept, upper-cased.
"""

from __future__ import annotations

TRACE, DEBUG, INFO, WARNING, ERROR, CRITICAL = (
    "TRACE",
    "DEBUG",
    "INFO",
    "WARNING",
    "ERROR",
    "CRITICAL",
)

_NAMES = {
    "trace": TRACE,
    "finest": TRACE,
    "finer": DEBUG,
    "fine": DEBUG,
    "debug": DEBUG,
    "config": INFO,
    "info": INFO,
    "information": INFO,
    "informational": INFO,
    "notice": INFO,
    "warn": WARNING,
    "warning": WARNING,
    "error": ERROR,
    "err": ERROR,
    "severe": ERROR,
    "fatal": CRITICAL,
    "critical": CRITICAL,
    "crit": CRITICAL,
    "alert": CRITICAL,
    "emerg": CRITICAL,
    "emergency": CRITICAL,
    "panic": CRITICAL,
}

#: Lower bounds, highest first, of each numbering's levels.
PINO = ((60, CRITICAL), (50, ERROR), (40, WARNING), (30, INFO), (20, DEBUG), (0, TRACE))
PYTHON = ((50, CRITICAL), (40, ERROR), (30, WARNING), (20, INFO), (0, DEBUG))
OTEL = ((21, CRITICAL), (17, ERROR), (13, WARNING), (9, INFO), (5, DEBUG), (0, TRACE))

#: Every spelling a plain-text layout may show in its level column.
TEXT_NAMES = "|".join(sorted(_NAMES, key=len, reverse=True))


def level_name(value: object, numbering: tuple[tuple[int, str], ...] = PINO) -> str | None:
    """The platform's name of a level written as a name or a number (None if neither)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return next((name for bound, name in numbering if value >= bound), None)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return level_name(int(text), numbering)
    return _NAMES.get(text.lower(), text.upper()[:32])
