"""Span export that survives a crash: each span written as it ends, long steps as they start.

A process that is SIGKILLed (OOM killer, ``docker kill``, a fault injection) runs no
``finally`` and no flush, so a processor that holds spans back loses them. This one writes
every span to its exporter synchronously in ``on_end`` (with :class:`OtlpJsonFileExporter`:
one line written and flushed to the OS per span, no fsync: the process can die, not the
kernel). For a *long step* it also writes a **start record** in ``on_start``: the span as
known then (ids, parent, name, kind, start time, attributes, resource, scope), with no end
time and the attribute ``nanogrid.span.state = "started"``. A reader that finds a start
record and no ended record for a span knows the step started and never finished.

Spans therefore reach the file children first, and a long step twice; merging the two
records and ordering parents before children is the reader's job
(:func:`harness.traces.load_spans`).

Example::

    provider.add_span_processor(CrashSafeSpanProcessor(OtlpJsonFileExporter(path)))
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter

from nanogrid.telemetry.semconv import LONG_STEP_PREFIXES, SPAN_STATE, SPAN_STATE_STARTED

logger = logging.getLogger(__name__)


def is_long_step(name: str) -> bool:
    """Whether a span of this name gets a start record (see :data:`LONG_STEP_PREFIXES`)."""
    return name.startswith(LONG_STEP_PREFIXES)


def start_record(span: ReadableSpan) -> ReadableSpan:
    """The start record of ``span``: what is known at start, no end, marked ``started``."""
    return ReadableSpan(
        name=span.name,
        context=span.get_span_context(),
        parent=span.parent,
        resource=span.resource,
        attributes={**(span.attributes or {}), SPAN_STATE: SPAN_STATE_STARTED},
        events=span.events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class CrashSafeSpanProcessor(SpanProcessor):
    """Exports each sampled span as it ends, and a start record of each long step.

    ``long_step`` says from a span's name whether it gets a start record. Thread-safe
    (exports are serialised); an exporter's failure is logged, never raised into the code
    that ends the span.
    """

    def __init__(
        self, exporter: SpanExporter, long_step: Callable[[str], bool] = is_long_step
    ) -> None:
        self.exporter = exporter
        self.long_step = long_step
        self._lock = threading.Lock()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        # Called before the span is handed to its caller: nobody else can mutate it yet.
        if span.context.trace_flags.sampled:
            self._export(span, started=True)

    def on_end(self, span: ReadableSpan) -> None:
        context = span.get_span_context()
        if context is not None and context.trace_flags.sampled:
            self._export(span, started=False)

    def _export(self, span: ReadableSpan, started: bool) -> None:
        # A side channel on the request path: whatever goes wrong is logged, never raised.
        try:
            if started:
                if not self.long_step(span.name):
                    return
                span = start_record(span)
            with self._lock:
                self.exporter.export([span])
        except Exception:
            logger.exception("exporting span %r failed", span.name)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is held back; asks the exporter to flush."""
        return self.exporter.force_flush(timeout_millis)

    def shutdown(self) -> None:
        with self._lock:
            self.exporter.shutdown()
