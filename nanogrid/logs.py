"""JSON-lines logs that carry the requestId and the trace and span ids.

Called once at a process's entry point (never from library code)::

    configure_logging("worker", level="INFO", log_file=Path("worker.log"))
    logger.info("downloaded %d bytes", size)

gives one JSON object per line::

    {"ts": "2025-12-02T10:00:00.123Z", "level": "INFO", "component": "worker",
     "logger": "nanogrid.worker.agent", "message": "downloaded 812 bytes",
     "requestId": "...", "functionId": "...", "trace_id": "...", "span_id": "..."}

``requestId`` and ``functionId`` come from ``extra=`` when given, else from the enclosing
:func:`nanogrid.telemetry.request_scope`; other ``extra`` fields are added as they are.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from opentelemetry import trace

from nanogrid.telemetry.request import current_function_id, current_request_id

# Every attribute a bare LogRecord has: anything else on a record came from ``extra``.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_OWN_FIELDS = ("requestId", "functionId")


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object (see the module docstring for the fields)."""

    def __init__(self, component: str, static: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.component = component
        self.static = dict(static or {})

    def format(self, record: logging.LogRecord) -> str:
        entry = {**self._base(record), **self.static}
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)

    def _base(self, record: logging.LogRecord) -> dict[str, Any]:
        context = trace.get_current_span().get_span_context()
        valid = context.is_valid
        return {
            "ts": _timestamp(record.created),
            "level": record.levelname,
            "component": self.component,
            "logger": record.name,
            "message": record.getMessage(),
            "requestId": getattr(record, "requestId", None) or current_request_id() or "",
            "functionId": getattr(record, "functionId", None) or current_function_id() or "",
            "trace_id": f"{context.trace_id:032x}" if valid else "",
            "span_id": f"{context.span_id:016x}" if valid else "",
        }


def _timestamp(created: float) -> str:
    moment = datetime.fromtimestamp(created, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def configure_logging(
    component: str,
    level: str | int = "INFO",
    stream: TextIO | None = None,
    log_file: Path | None = None,
    static: Mapping[str, str] | None = None,
) -> None:
    """Send the root logger's records as JSON lines to ``stream`` (default stderr) and
    ``log_file``; ``static`` fields (a worker's ``workerId``) go on every line. Calling it
    again replaces the handlers it installed before."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_nanogrid", False)]:
        root.removeHandler(handler)
        handler.close()
    formatter = JsonFormatter(component, static)
    handlers: list[logging.Handler] = [logging.StreamHandler(stream or sys.stderr)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler._nanogrid = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
