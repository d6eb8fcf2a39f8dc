"""W3C trace context across SQS message attributes and the Redis result envelope.

Neither official instrumentation carries context here: botocore does not inject into SQS
message attributes (and never extracts), redis propagates nothing. So the Controller
injects ``traceparent`` into the task's MessageAttributes, the Worker extracts it, and the
Worker puts its own context in the result's ``trace`` field for the Controller.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter, Setter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from nanogrid.telemetry.request import current_request_id

logger = logging.getLogger(__name__)

#: SQS accepts at most 10 message attributes per message.
SQS_MAX_ATTRIBUTES = 10
REQUEST_ID_ATTRIBUTE = "requestId"

_propagator = TraceContextTextMapPropagator()


class SqsAttributesSetter(Setter[dict[str, Any]]):
    """Writes a header as a String SQS message attribute."""

    def set(self, carrier: dict[str, Any], key: str, value: str) -> None:
        carrier[key] = {"DataType": "String", "StringValue": value}


class SqsAttributesGetter(Getter[Mapping[str, Any]]):
    """Reads headers from received SQS MessageAttributes (String values only)."""

    def get(self, carrier: Mapping[str, Any], key: str) -> list[str] | None:
        value = _string_value(carrier.get(key))
        return [value] if value is not None else None

    def keys(self, carrier: Mapping[str, Any]) -> list[str]:
        return list(carrier)


def _string_value(attribute: Any) -> str | None:
    if isinstance(attribute, Mapping):
        value = attribute.get("StringValue")
        return value if isinstance(value, str) else None
    return None


def inject_sqs(
    attributes: Mapping[str, Any] | None = None,
    *,
    request_id: str | None = None,
    context: Context | None = None,
) -> dict[str, Any]:
    """A copy of ``attributes`` plus ``traceparent`` (``tracestate``) and ``requestId``.

    The context is the current one unless given; ``request_id`` defaults to the current
    request scope's. Headers that would exceed SQS's 10-attribute limit are left out
    (logged), never raised: tracing does not break sending.
    """
    result = dict(attributes or {})
    headers: dict[str, Any] = {}
    rid = request_id or current_request_id()
    if rid:
        SqsAttributesSetter().set(headers, REQUEST_ID_ATTRIBUTE, rid)
    _propagator.inject(headers, context=context, setter=SqsAttributesSetter())
    for key, value in headers.items():
        if key not in result and len(result) >= SQS_MAX_ATTRIBUTES:
            logger.warning("SQS attribute limit reached, %s not sent", key)
            continue
        result[key] = value
    return result


def extract_sqs(message_attributes: Mapping[str, Any] | None) -> Context:
    """The context carried by a received message's MessageAttributes (empty if none)."""
    return _propagator.extract(message_attributes or {}, context=Context(), getter=_SQS_GETTER)


def request_id_from_sqs(message_attributes: Mapping[str, Any] | None) -> str | None:
    """The ``requestId`` message attribute, if present."""
    return _string_value((message_attributes or {}).get(REQUEST_ID_ATTRIBUTE))


class _DictGetter(Getter[Mapping[str, str]]):
    def get(self, carrier: Mapping[str, str], key: str) -> list[str] | None:
        value = carrier.get(key)
        return [value] if isinstance(value, str) else None

    def keys(self, carrier: Mapping[str, str]) -> list[str]:
        return list(carrier)


def inject_dict(context: Context | None = None) -> dict[str, str]:
    """``{"traceparent": ..., "tracestate": ...}`` of the current (or given) context.

    Empty when there is no valid span: the result's ``trace`` field is then left out.
    """
    carrier: dict[str, str] = {}
    _propagator.inject(carrier, context=context)
    return carrier


def extract_dict(carrier: Mapping[str, Any] | None) -> Context:
    """The context in a result's ``trace`` field (an empty context if none or invalid)."""
    if not isinstance(carrier, Mapping):
        return Context()
    return _propagator.extract(carrier, context=Context(), getter=_DICT_GETTER)


_SQS_GETTER = SqsAttributesGetter()
_DICT_GETTER = _DictGetter()
