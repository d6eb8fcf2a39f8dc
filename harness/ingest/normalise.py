"""A log entry as the platform's log line: what :mod:`harness.analysis` reads.

::

    {"ts": "2025-12-02T07:40:19.996Z", "level": "INFO", "component": "worker",
     "message": "Successfully downloaded zip file: 34 bytes",
     "event": "package.downloaded", "bytes": 34, "source": "worker.log:1"}

- ``ts``: ISO-8601 in UTC (:func:`harness.ingest.moment.iso`); absent when the line had
  no time at all (Python's ``LEVEL:logger:message``), which the analysis reads as 0.
  A time of day whose date nothing told is on 1970-01-01 and the line has
  ``"dateUnknown": true`` (see :mod:`harness.ingest.dating`).
- ``level``: the platform's level names (:mod:`harness.ingest.levels`); absent if none.
- ``component``: the record's own writer, else its file's (:mod:`harness.ingest.components`).
- ``message``: the original wording, continuation lines included.
- ``event`` and its fields: the record's own platform event, else the first wording rule
  that matches (:mod:`harness.ingest.patterns`); absent when neither says.
- ``requestId``: the record's, else a pattern's group, else the first ``requestId=<uuid>``
  or ``result:<uuid>`` in the message.
- the record's other fields, as written; one whose name is taken by the above is kept
  with ``Original`` appended (``sourceOriginal``).
- ``source``: ``file:line`` where the record starts, for reports to cite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from harness.ingest.patterns import PatternRule, PatternSet
from harness.ingest.records import LogEntry
from nanogrid.telemetry import semconv as sc

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
REQUEST_ID_IN_TEXT = re.compile(
    rf"(?:\brequest_?id\s*[=:]\s*|\bresult:)(?P<id>{_UUID})(?![0-9a-fA-F-])", re.IGNORECASE
)
DATE_UNKNOWN = "dateUnknown"
#: Names this module sets; a record's own field of one of these names is renamed.
RESERVED = ("ts", "level", "component", "message", sc.EVENT, "source", DATE_UNKNOWN)


@dataclass(frozen=True)
class Placement:
    """Where a record sits: its contract ``ts`` (None: no time), whether its date is a
    placeholder, its component and its ``file:line``."""

    ts: str | None
    date_unknown: bool
    component: str
    source: str


def contract_line(
    entry: LogEntry, place: Placement, patterns: PatternSet, match_chars: int
) -> tuple[dict[str, Any], PatternRule | None]:
    """The platform's log line for ``entry``, and the wording rule that named its event."""
    own = {(f"{k}Original" if k in RESERVED else k): v for k, v in entry.fields.items()}
    event, rule, found = entry.event, None, {}
    if event is None:
        matched = patterns.match(entry.message[:match_chars], place.component, entry.level)
        if matched is not None:
            event, rule, found = matched.event, matched.rule, matched.fields
    line: dict[str, Any] = {}
    if place.ts is not None:
        line["ts"] = place.ts
    if entry.level:
        line["level"] = entry.level
    line["component"] = place.component
    line["message"] = entry.message
    if event:
        line[sc.EVENT] = event
    request_id = own.pop(sc.F_REQUEST_ID, None) or found.pop(sc.F_REQUEST_ID, None)
    request_id = request_id or request_id_in(entry.message[:match_chars])
    if request_id:
        line[sc.F_REQUEST_ID] = request_id
    line.update({k: v for k, v in found.items() if k not in own and k not in RESERVED})
    line.update(own)
    line["source"] = place.source
    if place.date_unknown:
        line[DATE_UNKNOWN] = True
    return line, rule


def request_id_in(text: str) -> str | None:
    """The first ``requestId=<uuid>`` (or ``request_id: <uuid>``) or ``result:<uuid>``."""
    found = REQUEST_ID_IN_TEXT.search(text)
    return found["id"] if found else None
