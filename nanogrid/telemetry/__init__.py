"""Tracing for NanoGrid: one trace per request, whose id *is* the requestId.

::

    telemetry = setup_telemetry("controller", telemetry_dir, otlp_endpoint)
    telemetry.install_sigterm_flush()
    instrument_libraries(app)
    tracer = telemetry.tracer(__name__)

    with start_request_span(tracer, "POST /run", request_id, function_id):
        attributes = inject_sqs({}, request_id=request_id)   # -> SQS MessageAttributes

    # worker
    with start_request_span(tracer, "process nanogrid-tasks", request_id,
                            kind=SpanKind.CONSUMER, parent=extract_sqs(attrs)):
        result.trace = inject_dict()                          # -> result JSON "trace"

Modules: :mod:`.request` (request scope, id generator, attributes processor),
:mod:`.propagation` (SQS and dict carriers), :mod:`.otlp_json` (file exporter),
:mod:`.crashsafe` (span processor writing each span as it ends, long steps as they start),
:mod:`.provider` (setup and shutdown), :mod:`.global_provider`, :mod:`.instrumentation`.
"""

from __future__ import annotations

from nanogrid.telemetry.crashsafe import CrashSafeSpanProcessor
from nanogrid.telemetry.instrumentation import instrument_libraries, untraced
from nanogrid.telemetry.otlp_json import OtlpJsonFileExporter, encode_otlp_json
from nanogrid.telemetry.propagation import (
    extract_dict,
    extract_sqs,
    inject_dict,
    inject_sqs,
    request_id_from_sqs,
)
from nanogrid.telemetry.provider import (
    Telemetry,
    setup_telemetry,
    setup_telemetry_from_env,
    traces_url,
)
from nanogrid.telemetry.request import (
    FUNCTION_ID,
    REQUEST_ID,
    RequestAttributesProcessor,
    RequestIdGenerator,
    current_function_id,
    current_request_id,
    request_scope,
    set_function_id,
    start_request_span,
)

__all__ = [
    "FUNCTION_ID",
    "REQUEST_ID",
    "CrashSafeSpanProcessor",
    "OtlpJsonFileExporter",
    "RequestAttributesProcessor",
    "RequestIdGenerator",
    "Telemetry",
    "current_function_id",
    "current_request_id",
    "encode_otlp_json",
    "extract_dict",
    "extract_sqs",
    "inject_dict",
    "inject_sqs",
    "instrument_libraries",
    "request_id_from_sqs",
    "request_scope",
    "set_function_id",
    "setup_telemetry",
    "setup_telemetry_from_env",
    "start_request_span",
    "traces_url",
    "untraced",
]
