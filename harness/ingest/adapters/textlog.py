"""Plain-text log lines in the common layouts, each with or without a leading date.

=============  ======================================================================
memo           ``07:40:19.996 [INFO] Successfully downloaded zip file: 34 bytes``
               (the incident memo's worker log)
logback        ``2025-12-02 07:40:19.996 [main] INFO  com.acme.Worker - message``
               (logback's and log4j2's default pattern; the date is optional)
python-asctime ``2025-12-02 07:40:19,996 - worker - INFO - message``
               (``%(asctime)s - %(name)s - %(levelname)s - %(message)s``)
python-colon   ``2025-12-02 07:40:19,996 INFO worker: message``
               (``%(asctime)s %(levelname)s %(name)s: %(message)s``)
python-basic   ``WARNING:worker:message`` (``logging.basicConfig()``: no time at all)
=============  ======================================================================

A date may be ``YYYY-MM-DD`` followed by a space or ``T``; a time may carry a zone
(``Z``, ``+01:00``). A line that starts none of them but continues the record before it,
such as a Java stack trace (``\\tat ...``, ``Caused by: ...``, ``... 5 more``) or a Python
traceback (``Traceback (most recent call last):``, indented frames, the final
``ValueError: ...``), is added to that record's message. Any other line is yielded as
unparsed, and counted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from harness.ingest import levels
from harness.ingest.adapters.base import Context
from harness.ingest.moment import time_of_day
from harness.ingest.problems import WarningKind
from harness.ingest.records import LogEntry, Record, Unparsed
from harness.ingest.source import Source

_DATE = r"(?:(?P<date>\d{4}-\d{2}-\d{2})[T ])?"
_TIME = r"(?P<time>\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?)"
_LEVEL = rf"(?P<level>(?i:{levels.TEXT_NAMES}))"


@dataclass(frozen=True)
class Layout:
    name: str
    pattern: re.Pattern[str]


LAYOUTS = (
    Layout(
        "logback",
        re.compile(
            rf"^{_DATE}{_TIME}\s+\[(?P<thread>[^\]]*)\]\s+{_LEVEL}\s+(?P<logger>\S+)\s+-\s"
            r"(?P<message>.*)$"
        ),
    ),
    Layout("memo", re.compile(rf"^{_DATE}{_TIME}\s+\[{_LEVEL}\]\s+(?P<message>.*)$")),
    Layout(
        "python-asctime",
        re.compile(
            rf"^{_DATE}{_TIME} - (?P<logger>.+?) - {_LEVEL} - (?P<message>.*)$",
        ),
    ),
    Layout(
        "python-colon",
        re.compile(rf"^{_DATE}{_TIME}\s+{_LEVEL}\s+(?P<logger>[^\s:]+): (?P<message>.*)$"),
    ),
    Layout(
        "python-basic",
        re.compile(
            r"^(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL):(?P<logger>[^:\s]*):(?P<message>.*)$"
        ),
    ),
)

_CONTINUATION = re.compile(
    r"^(?:\s"  # indented: a stack frame, a traceback's code line, "Suppressed:"
    r"|Traceback \(most recent call last\):"
    r"|Caused by: "
    r"|During handling of the above exception"
    r"|The above exception was the direct cause"
    r"|\.\.\. \d+ (?:more|common frames omitted)"
    r"|[A-Za-z_$][\w$.]*(?:Error|Exception|Throwable|Exit|Interrupt|Warning)\b)"
)


def match_layout(text: str) -> tuple[Layout, re.Match[str]] | None:
    for layout in LAYOUTS:
        found = layout.pattern.match(text)
        if found is not None:
            return layout, found
    return None


class TextLogAdapter:
    name = "text-log"
    formats = (
        "plain-text logs (HH:MM:SS.mmm [LEVEL] message; logback/log4j; Python logging's "
        "default and asctime layouts; each with or without a date)"
    )

    def sniff(self, source: Source) -> int:
        return sum(1 for text in source.head if match_layout(text) is not None)

    def read(self, source: Source, ctx: Context) -> Iterator[Record]:
        pending: LogEntry | None = None
        seen: set[str] = set()
        for line in source.lines():
            matched = match_layout(line.text)
            if matched is not None:
                if pending is not None:
                    yield pending
                seen.add(matched[0].name)
                pending = _entry(line.number, matched[1])
            elif pending is not None and _CONTINUATION.match(line.text):
                _continue(pending, line.text, source)
            else:
                if pending is not None:
                    yield pending
                    pending = None
                yield Unparsed(line.number, line.text, "matches no known log layout")
        if pending is not None:
            yield pending
        if seen:
            ctx.note("layouts: " + ", ".join(sorted(seen)))


def _entry(number: int, found: re.Match[str]) -> LogEntry:
    groups = found.groupdict()
    moment = time_of_day(groups["time"], groups.get("date")) if groups.get("time") else None
    fields: dict[str, object] = {k: groups[k] for k in ("logger", "thread") if groups.get(k)}
    level = levels.level_name(groups["level"])
    return LogEntry(number, moment, level, groups["message"], fields=dict(fields))


def _continue(entry: LogEntry, text: str, source: Source) -> None:
    if len(entry.message) + len(text) + 1 > source.limits.record_chars:
        if not entry.fields.get("truncated"):
            source.warn(WarningKind.OVERSIZED_RECORD)
            entry.fields["truncated"] = True
        return
    entry.message += "\n" + text
