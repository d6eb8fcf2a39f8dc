"""The request scope: trace id = requestId, and request attributes on every span.

Inside :func:`request_scope` every new trace gets the requestId's 128 bits as its id
(:class:`RequestIdGenerator`), and every span started gets ``nanogrid.request_id`` and
``nanogrid.function_id`` (:class:`RequestAttributesProcessor`), instrumentation spans
(botocore, redis, ASGI) included. The scope lives in a context variable, so asyncio tasks
and Starlette's thread pool inherit it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.util.types import AttributeValue

from nanogrid.telemetry import semconv

REQUEST_ID = semconv.REQUEST_ID
FUNCTION_ID = semconv.FUNCTION_ID


@dataclass
class _RequestState:
    """One request's ids, shared (by reference) by every context copied from the scope."""

    request_id: str
    function_id: str | None = None
    trace_id: int | None = None
    # Spans started in the scope and not yet ended: set_function_id() reaches them too.
    open_spans: dict[int, Span] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


_current: ContextVar[_RequestState | None] = ContextVar("nanogrid_request", default=None)


def _trace_id_of(request_id: str) -> int | None:
    try:
        value = int(semconv.trace_id_of(request_id), 16)
    except ValueError:
        return None
    return value or None


@contextmanager
def request_scope(request_id: str, function_id: str | None = None) -> Iterator[None]:
    """Within the block, new traces take ``request_id`` as their id and spans carry it."""
    state = _RequestState(request_id, function_id, _trace_id_of(request_id))
    token = _current.set(state)
    try:
        yield
    finally:
        _current.reset(token)


def current_request_id() -> str | None:
    """The requestId of the enclosing :func:`request_scope`, or ``None``."""
    state = _current.get()
    return state.request_id if state else None


def current_function_id() -> str | None:
    """The functionId of the enclosing :func:`request_scope`, or ``None``."""
    state = _current.get()
    return state.function_id if state else None


def set_function_id(function_id: str) -> None:
    """Record the request's functionId, on the spans still open and on those to come."""
    state = _current.get()
    if state is None:
        return
    with state.lock:
        state.function_id = function_id
        spans = list(state.open_spans.values())
    for span in spans:
        span.set_attribute(FUNCTION_ID, function_id)


class RequestIdGenerator(RandomIdGenerator):
    """Trace ids are the current requestId's 128 bits; random outside a request.

    Pass it as ``TracerProvider(id_generator=RequestIdGenerator())``.
    """

    def generate_trace_id(self) -> int:
        state = _current.get()
        if state is not None and state.trace_id is not None:
            return state.trace_id
        return super().generate_trace_id()


class RequestAttributesProcessor(SpanProcessor):
    """Copies the request's ids onto every span started inside a request scope.

    Outside a scope it copies them from a local parent span that has them, so a span
    started in a thread that received only the OpenTelemetry context is covered too.
    """

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        state = _current.get()
        if state is None:
            _copy_from_parent(span, parent_context)
            return
        span.set_attribute(REQUEST_ID, state.request_id)
        with state.lock:
            if state.function_id:
                span.set_attribute(FUNCTION_ID, state.function_id)
            state.open_spans[id(span)] = span

    def on_end(self, span: ReadableSpan) -> None:
        state = _current.get()
        if state is not None:
            with state.lock:
                state.open_spans.pop(id(span), None)


def _copy_from_parent(span: Span, parent_context: Context | None) -> None:
    parent = trace.get_current_span(parent_context)
    attributes = getattr(parent, "attributes", None)
    if not isinstance(attributes, Mapping):
        return
    for key in (REQUEST_ID, FUNCTION_ID):
        value = attributes.get(key)
        if value is not None:
            span.set_attribute(key, value)


@contextmanager
def start_request_span(
    tracer: trace.Tracer,
    name: str,
    request_id: str,
    function_id: str | None = None,
    *,
    kind: trace.SpanKind = trace.SpanKind.SERVER,
    attributes: Mapping[str, AttributeValue] | None = None,
    parent: Context | None = None,
    links: Sequence[trace.Link] | None = None,
) -> Iterator[trace.Span]:
    """Start a request's span, as current, inside :func:`request_scope`.

    Without ``parent`` the span is the trace's root (an empty ``Context()``, so no ambient
    span wins) and the trace id is the requestId. A worker passes the context extracted
    from the message as ``parent`` instead. Exceptions are recorded and set status ERROR.

    Example::

        with start_request_span(tracer, "POST /run", request_id, function_id) as span:
            ...
    """
    with request_scope(request_id, function_id):
        with tracer.start_as_current_span(
            name,
            context=parent if parent is not None else Context(),
            kind=kind,
            attributes=attributes,
            links=links,
        ) as span:
            yield span
