"""JSON log lines: one object per line, from the platform or from another stack.

A line is a log record when it has a message and a time or a level. Recognised keys:

========== =================================================================================
time       ``ts`` (the platform), ``time`` (pino: epoch ms; bunyan: ISO), ``timestamp``
           (structlog: ISO or epoch seconds), ``@timestamp`` (logstash), ``asctime``,
           ``created`` (python-json-logger: epoch seconds), ``datetime``
level      ``level`` (a name, or pino/bunyan's 10..60), ``levelname``, ``severity``,
           ``log.level`` (flat or nested, ECS), ``lvl``, ``loglevel``, ``severity_text``;
           ``levelno`` (Python's numbers), ``severity_number`` (OpenTelemetry's)
message    ``message``, ``msg`` (pino, bunyan), ``@message``; structlog's ``event``
event      ``event`` when it is one of the platform's codes (``package.downloaded``);
           any other ``event`` is structlog's message (kept as ``originalEvent`` when the
           line has a message too)
writer     ``component`` (the platform), ``service.name`` (flat or nested), ``service``,
           ``name`` on a pino or bunyan line (one with ``hostname`` and ``pid``)
requestId  ``requestId``, ``request_id``, ``requestID``, ``reqId``, ``req_id``
========== =================================================================================

Every other key is kept as a field, as written (``bytes``, ``logger``, ``trace_id``...).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from harness.ingest import jsontext, levels
from harness.ingest.adapters.base import Context, json_line
from harness.ingest.components import service_component
from harness.ingest.events import KNOWN_EVENTS
from harness.ingest.moment import Moment, parse
from harness.ingest.records import LogEntry, Record, Unparsed
from harness.ingest.source import Source

TIME_KEYS = ("ts", "time", "timestamp", "@timestamp", "asctime", "created", "datetime")
LEVEL_KEYS = ("level", "levelname", "severity", "log.level", "lvl", "loglevel", "severity_text")
NUMBERED_LEVELS = (("levelno", levels.PYTHON), ("severity_number", levels.OTEL))
MESSAGE_KEYS = ("message", "msg", "@message")
WRITER_KEYS = ("component", "service.name", "service")
REQUEST_KEYS = ("requestId", "request_id", "requestID", "reqId", "req_id")
EVENT = "event"


class JsonLogAdapter:
    name = "json-log"
    formats = "JSON log lines (the platform's, pino, bunyan, structlog, logstash, ECS)"

    def sniff(self, source: Source) -> int:
        return sum(1 for text in source.head if as_log_object(text, source) is not None)

    def read(self, source: Source, ctx: Context) -> Iterator[Record]:
        for line in source.lines():
            if not line.text.lstrip().startswith("{"):
                yield Unparsed(line.number, line.text, "not a JSON log line")
                continue
            value = json_line(source, line)
            if isinstance(value, Unparsed):
                yield value
                continue
            if isinstance(value, dict) and is_log_shaped(value):
                yield entry_of(value, line.number)
            else:
                yield Unparsed(line.number, line.text, "JSON, but not a log record")


def as_log_object(text: str, source: Source) -> dict[str, Any] | None:
    """The line's object when it is a log record (quietly)."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        value = jsontext.loads(text, source.limits.json_depth)
    except jsontext.NotJson:
        return None
    return value if isinstance(value, dict) and is_log_shaped(value) else None


def is_log_shaped(obj: Mapping[str, Any]) -> bool:
    """A message (or structlog's ``event``) and a time or a level."""
    has_message = any(key in obj for key in MESSAGE_KEYS) or isinstance(obj.get(EVENT), str)
    timed = any(key in obj for key in TIME_KEYS) or _first(obj, LEVEL_KEYS)[0] is not None
    return has_message and (timed or any(key in obj for key, _ in NUMBERED_LEVELS))


def entry_of(obj: dict[str, Any], number: int) -> LogEntry:
    fields = dict(obj)
    moment = _moment(fields)
    level = _level(fields)
    event, message = _event_and_message(fields)
    writer = _writer(fields)
    stated = any(key in fields for key in REQUEST_KEYS)
    request_id = _pop_first(fields, REQUEST_KEYS)
    if isinstance(request_id, str) and request_id:
        fields["requestId"] = request_id
    outside = stated and not request_id  # the platform writes "" outside a request
    return LogEntry(number, moment, level, message, writer, event, fields, outside)


def _moment(fields: dict[str, Any]) -> Moment | None:
    for key in TIME_KEYS:
        if key in fields:
            moment = parse(fields[key])
            if moment is not None:
                del fields[key]
                return moment
    return None


def _level(fields: dict[str, Any]) -> str | None:
    for key, numbering in NUMBERED_LEVELS:
        if key in fields and (name := levels.level_name(fields[key], numbering)):
            fields.pop(key)
            _pop_first(fields, LEVEL_KEYS)
            return name
    found, value = _first(fields, LEVEL_KEYS)
    if found is None:
        return None
    fields.pop(found, None)
    return levels.level_name(value)


def _event_and_message(fields: dict[str, Any]) -> tuple[str | None, str]:
    event = fields.pop(EVENT, None)
    message = _pop_first(fields, MESSAGE_KEYS)
    if isinstance(event, str) and event in KNOWN_EVENTS:
        return event, _text(message)
    if message is None:
        return None, _text(event)  # structlog: the event is the message
    if event is not None:
        fields["originalEvent"] = event
    return None, _text(message)


def _writer(fields: dict[str, Any]) -> str | None:
    key, value = _first(fields, WRITER_KEYS)
    if key is None and "hostname" in fields and "pid" in fields:
        key, value = "name", fields.get("name")  # pino, bunyan: the logger's (app's) name
    if not isinstance(value, str) or not value.strip():
        return None
    fields.pop(key or "", None)
    return service_component(value.strip())


def _first(obj: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[str | None, Any]:
    """The first of ``keys`` present, flat (``log.level``) or nested (``log: {level}``)."""
    for key in keys:
        if key in obj:
            return key, obj[key]
        head, _, rest = key.partition(".")
        nested = obj.get(head) if rest else None
        if isinstance(nested, dict) and rest in nested:
            return f"{head}.{rest}", nested[rest]
    return None, None


def _pop_first(fields: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in fields:
            return fields.pop(key)
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, ensure_ascii=False)
