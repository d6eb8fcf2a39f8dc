"""What an adapter reads out of a file, before the log contract is applied.

An adapter knows a format, not the platform's vocabulary: it yields a :class:`LogEntry`
per log record (its time as written, level, message, the writer it names, the fields it
carries), a :class:`SpanEntry` per span, a :class:`CallEntry` per client-visible answer,
and an :class:`Unparsed` per line it could not read. :mod:`harness.ingest.normalise`
turns entries into the platform's log lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.evidence import CallRecord
from harness.ingest.moment import Moment
from harness.traces import SpanRecord


@dataclass
class LogEntry:
    """One log record as its file wrote it. ``line`` is where it starts (1-based)."""

    line: int
    moment: Moment | None
    level: str | None
    message: str
    component: str | None = None  # the writer the record names, if it does
    event: str | None = None  # a known platform event code, if the record carries one
    fields: dict[str, Any] = field(default_factory=dict)
    outside_request: bool = False  # it says so: an empty requestId, as the platform writes


@dataclass(frozen=True)
class SpanEntry:
    line: int  # 0: the file is one document
    span: SpanRecord


@dataclass(frozen=True)
class CallEntry:
    line: int  # 0: the file is one document
    call: CallRecord
    note: str = ""  # how the answer was read (shown in the file's report)


@dataclass(frozen=True)
class Unparsed:
    line: int  # 0: the file is one document
    text: str
    reason: str


Record = LogEntry | SpanEntry | CallEntry | Unparsed
