"""Exporting a process's part of a trace in one piece, when its local root span ends.

A batch processor writes spans as they end: children before their parent, so a reader of
the span files can see a trace with its parents missing until the next flush. This
processor holds a trace's finished spans until the process's *local root* of that trace
ends (a span without a parent, or whose parent is remote: the controller's ``POST /run``,
the worker's ``process nanogrid-tasks``), then exports them together, at once. A reader
therefore sees each process's share of a trace complete or not at all.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter

logger = logging.getLogger(__name__)

#: Spans held at most, over all traces; past it a span is exported on its own at once.
MAX_PENDING_SPANS = 50_000


class TraceGroupingProcessor(SpanProcessor):
    """Holds finished spans per trace until the local root ends; see the module docstring."""

    def __init__(self, exporter: SpanExporter, max_pending: int = MAX_PENDING_SPANS) -> None:
        self.exporter = exporter
        self.max_pending = max_pending
        self._pending: dict[int, list[ReadableSpan]] = {}
        self._count = 0
        self._lock = threading.Lock()
        self._export_lock = threading.Lock()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        context = span.get_span_context()
        if context is None:
            return
        local_root = span.parent is None or span.parent.is_remote
        with self._lock:
            if not local_root and self._count < self.max_pending:
                self._pending.setdefault(context.trace_id, []).append(span)
                self._count += 1
                return
            group = [*self._pending.pop(context.trace_id, []), span]
            self._count -= len(group) - 1
        self._export(group)

    def _export(self, spans: Sequence[ReadableSpan]) -> None:
        # Side channel: a failing export is logged, never raised into the request.
        try:
            with self._export_lock:
                self.exporter.export(spans)
        except Exception:
            logger.exception("exporting %d spans failed", len(spans))

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Export every held span, complete trace or not (at shutdown, nothing more comes)."""
        with self._lock:
            groups = list(self._pending.values())
            self._pending.clear()
            self._count = 0
        for group in groups:
            self._export(group)
        return True

    def shutdown(self) -> None:
        self.force_flush()
        self.exporter.shutdown()
