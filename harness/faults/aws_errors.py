"""AWS error responses in the wire protocol of the request they answer.

A fault proxy that answers a matched AWS request itself sends :func:`error_response`: the
status line, headers and body the service sends for that error, in the request's protocol
(the one the installed botocore speaks to the service)::

    SQS, CloudWatch   AWS JSON 1.0, ``__type`` and the ``x-amzn-query-error`` header of an
                      awsQueryCompatible service (also query XML and Smithy RPC v2 CBOR)
    DynamoDB          AWS JSON 1.0, ``__type``
    S3                REST-XML ``<Error>``; an answer to HEAD has no body, as S3's
    anything else     JSON with ``x-amzn-ErrorType``

:data:`PRESETS` holds, per preset and service, the status and code the service returns;
:func:`describe` also says which status and code it answered, for the ledger::

    answer = describe(request, "throttling")  # an S3 GetObject
    answer.status, answer.code                # (503, "SlowDown")
    proxy_sends(answer.raw)                   # b"HTTP/1.1 503 Slow Down\\r\\n..."
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import uuid
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from email.utils import formatdate
from enum import StrEnum
from http import HTTPStatus
from types import MappingProxyType
from typing import Final
from xml.sax.saxutils import escape

from harness.faults.errors import InvalidFault
from harness.wire.http import HttpMessage, aws_operation

DEFAULT_SERVICE: Final = "*"  # the PRESETS entry of a service without its own


class Protocol(StrEnum):
    """The wire protocol of a request, and so of its error response."""

    JSON = "json"  # AWS JSON 1.0 / 1.1: an X-Amz-Target header
    CBOR = "cbor"  # Smithy RPC v2 CBOR: smithy-protocol header, /service/X/operation/Y
    QUERY = "query"  # AWS query: a form with Action=, answered in XML
    REST_XML = "rest-xml"  # S3
    REST_JSON = "rest-json"  # anything else


@dataclass(frozen=True)
class AwsError:
    """One error as a service sends it.

    ``code`` is what clients read as the error code (botocore's ``Error.Code``): for an
    awsQueryCompatible service the query code its ``x-amzn-query-error`` header carries.
    ``shape`` is the JSON / CBOR ``__type`` when it is not ``<namespace>#<code>``;
    ``reason`` the status line's phrase when it is not the standard one.
    """

    status: int
    code: str
    message: str
    shape: str = ""
    reason: str = ""


@dataclass(frozen=True)
class AwsErrorAnswer:
    """What :func:`describe` answers: the response bytes and what they say."""

    raw: bytes
    status: int
    code: str
    message: str
    request_id: str


@dataclass(frozen=True)
class _Service:
    namespace: str  # the Smithy namespace of its error shapes, the prefix of ``__type``
    query_compatible: bool = False  # awsQueryCompatible: errors carry x-amzn-query-error
    xmlns: str = ""  # the namespace of its query protocol's <ErrorResponse>
    crc32: bool = False  # its JSON answers carry x-amz-crc32, the body's CRC32


_SERVICES: Final = {
    "SQS": _Service("com.amazonaws.sqs", True, "http://queue.amazonaws.com/doc/2012-11-05/"),
    "DynamoDB": _Service("com.amazonaws.dynamodb.v20120810", crc32=True),
    "CloudWatch": _Service(
        "com.amazonaws.cloudwatch", True, "http://monitoring.amazonaws.com/doc/2010-08-01/"
    ),
    "S3": _Service(""),
    DEFAULT_SERVICE: _Service(""),
}
_THROTTLED: Final = "com.amazon.coral.availability#ThrottlingException"
_INTERNAL: Final = "com.amazon.coral.service#InternalFailure"
_UNAVAILABLE: Final = "com.amazon.coral.service#ServiceUnavailableException"
_DENIED: Final = "com.amazon.coral.service#AccessDeniedException"


_RATE, _FAILED, _DOWN = "Rate exceeded", "An internal error occurred.", "Service unavailable"
_NOT_AUTHORIZED = "User is not authorized to perform this operation"

# Where each entry was checked: botocore's service models (the modeled shapes, their error
# metadata); for SQS the query codes of the Smithy model's awsQueryError traits (as in the
# aws-sdk-js-v3 SQS schemas); the S3 error-code list; DynamoDB's error-handling guide.
_TABLE: Final = {
    "throttling": {
        "SQS": AwsError(403, "RequestThrottled", _RATE),  # awsQueryError(RequestThrottled, 403)
        "S3": AwsError(503, "SlowDown", "Please reduce your request rate.", reason="Slow Down"),
        "DynamoDB": AwsError(
            400,
            "ProvisionedThroughputExceededException",  # the data plane's throttling
            "The level of configured provisioned throughput for the table was exceeded. "
            "Consider increasing your provisioning level with the UpdateTable API.",
        ),
        "CloudWatch": AwsError(400, "Throttling", _RATE, _THROTTLED),
        DEFAULT_SERVICE: AwsError(400, "ThrottlingException", _RATE, _THROTTLED),
    },
    "internal": {
        "SQS": AwsError(500, "InternalFailure", _FAILED, _INTERNAL),
        "S3": AwsError(500, "InternalError", "We encountered an internal error. Please try again."),
        "DynamoDB": AwsError(500, "InternalServerError", "Internal server error"),
        # the model's InternalServiceFault, whose query code is InternalServiceError
        "CloudWatch": AwsError(
            500, "InternalServiceError", _FAILED, "com.amazonaws.cloudwatch#InternalServiceFault"
        ),
        DEFAULT_SERVICE: AwsError(500, "InternalFailure", _FAILED, _INTERNAL),
    },
    "unavailable": {
        "SQS": AwsError(503, "ServiceUnavailable", _DOWN, _UNAVAILABLE),
        "S3": AwsError(503, "ServiceUnavailable", "Service is unable to handle request."),
        "DynamoDB": AwsError(503, "ServiceUnavailable", _DOWN),
        "CloudWatch": AwsError(503, "ServiceUnavailable", _DOWN, _UNAVAILABLE),
        DEFAULT_SERVICE: AwsError(503, "ServiceUnavailable", _DOWN, _UNAVAILABLE),
    },
    "access_denied": {
        "SQS": AwsError(403, "AccessDenied", "Access to the resource is denied.", _DENIED),
        "S3": AwsError(403, "AccessDenied", "Access Denied"),
        # DynamoDB answers every client error with 400, this one included
        "DynamoDB": AwsError(400, "AccessDeniedException", _NOT_AUTHORIZED, _DENIED),
        "CloudWatch": AwsError(403, "AccessDenied", _NOT_AUTHORIZED, _DENIED),
        DEFAULT_SERVICE: AwsError(403, "AccessDeniedException", _NOT_AUTHORIZED, _DENIED),
    },
}

#: preset -> service (``SQS``, ``S3``, ``DynamoDB``, ``CloudWatch``, ``*``) -> the error.
PRESETS: Final[Mapping[str, Mapping[str, AwsError]]] = MappingProxyType(
    {name: MappingProxyType(row) for name, row in _TABLE.items()}
)

_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")  # no ":" or "#": clients split there
_SMITHY_PATH = re.compile(r"/service/[^/?]+/operation/[^/?]+")
_ACTION = re.compile(r"(?:^|&)Action=")


def error_response(
    request: HttpMessage,
    error: str = "throttling",
    *,
    status: int | None = None,
    code: str | None = None,
    message: str | None = None,
) -> bytes:
    """The raw HTTP/1.1 response with which the service would refuse ``request``.

    ``error`` names a preset of :data:`PRESETS`; ``status``, ``code`` and ``message``
    override its parts. Raises :class:`~harness.faults.errors.InvalidFault` (a
    ``ValueError``) for an unknown preset, a status outside 400-599 or a malformed code.
    """
    return describe(request, error, status=status, code=code, message=message).raw


def describe(
    request: HttpMessage,
    error: str = "throttling",
    *,
    status: int | None = None,
    code: str | None = None,
    message: str | None = None,
) -> AwsErrorAnswer:
    """:func:`error_response`, with the status, code, message and request id it carries.

    ``code`` is the code the body says; an answer to HEAD has no body, so a client reads
    only the status (botocore reports the status as the code, as for S3's own). The answer
    keeps the connection alive unless the request asked to close it or is not complete
    (decided on its head).
    """
    service = aws_operation(request)[0].partition(".")[0]
    service = service if service in _SERVICES else DEFAULT_SERVICE
    spec = _override(_preset(error, service), status, code, message)
    protocol = protocol_of(request)
    request_id = (
        secrets.token_hex(8).upper() if protocol is Protocol.REST_XML else str(uuid.uuid4())
    )
    headers, body = _RENDERERS[protocol](spec, _SERVICES[service], request, request_id)
    if request.method == "HEAD":
        body = b""  # Content-Length 0 then, so that no reader waits for the body GET would have
    # A request answered on its head (Expect: 100-continue) leaves its body unsent or
    # unread: only a new connection is sure to start at a request (RFC 9110 10.1.1).
    close = _wants_close(request) or not request.complete
    raw = _assemble(spec, headers, body, close=close)
    return AwsErrorAnswer(raw, spec.status, spec.code, spec.message, request_id)


def protocol_of(request: HttpMessage) -> Protocol:
    """The AWS wire protocol ``request`` was sent in."""
    headers = request.headers
    path, _, query = request.target.partition("?")
    if headers.get("smithy-protocol") == "rpc-v2-cbor" or _SMITHY_PATH.search(path):
        return Protocol.CBOR
    if "x-amz-target" in headers:
        return Protocol.JSON
    form = (
        bytes(request.body) if "x-www-form-urlencoded" in headers.get("content-type", "") else b""
    )
    if _ACTION.search(form.decode("latin-1")) or _ACTION.search(query):
        return Protocol.QUERY
    if aws_operation(request)[0].startswith("S3."):
        return Protocol.REST_XML
    return Protocol.REST_JSON


def _preset(error: str, service: str) -> AwsError:
    row = PRESETS.get(error)
    if row is None:
        raise InvalidFault(f"unknown AWS error preset {error!r}; known: {', '.join(PRESETS)}")
    return row.get(service) or row[DEFAULT_SERVICE]


def _override(
    spec: AwsError, status: int | None, code: str | None, message: str | None
) -> AwsError:
    if status is not None:
        if not 400 <= status <= 599:
            raise InvalidFault(f"status must be an HTTP error status (400-599), got {status}")
        spec = replace(spec, status=status, reason="")
    if code is not None:
        if not _CODE.fullmatch(code):
            raise InvalidFault(f"code must be letters, digits and ._- (at most 128), got {code!r}")
        spec = replace(spec, code=code, shape="")
    if message is not None:
        spec = replace(spec, message=message)
    return spec


_Headers = list[tuple[str, str]]
_Renderer = Callable[[AwsError, _Service, HttpMessage, str], tuple[_Headers, bytes]]


def _render_json(
    spec: AwsError, service: _Service, request: HttpMessage, request_id: str
) -> tuple[_Headers, bytes]:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/x-amz-json-"):
        content_type = "application/x-amz-json-1.0"
    payload = {"__type": _shape(spec, service), "message": spec.message}
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = [("x-amzn-RequestId", request_id), *_query_error(spec, service)]
    headers.append(("Content-Type", content_type))
    if service.crc32:
        headers.append(("x-amz-crc32", str(zlib.crc32(body))))
    return headers, body


def _render_cbor(
    spec: AwsError, service: _Service, request: HttpMessage, request_id: str
) -> tuple[_Headers, bytes]:
    body = _cbor_map({"__type": _shape(spec, service), "message": spec.message})
    headers = [("x-amzn-RequestId", request_id), *_query_error(spec, service)]
    headers += [("smithy-protocol", "rpc-v2-cbor"), ("Content-Type", "application/cbor")]
    return headers, body


def _render_query(
    spec: AwsError, service: _Service, request: HttpMessage, request_id: str
) -> tuple[_Headers, bytes]:
    xmlns = f' xmlns="{service.xmlns}"' if service.xmlns else ""
    body = (
        f'<?xml version="1.0"?><ErrorResponse{xmlns}><Error><Type>{_fault(spec)}</Type>'
        f"<Code>{escape(spec.code)}</Code><Message>{escape(spec.message)}</Message><Detail/>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return [("x-amzn-RequestId", request_id), ("Content-Type", "text/xml")], body.encode()


def _render_s3(
    spec: AwsError, service: _Service, request: HttpMessage, request_id: str
) -> tuple[_Headers, bytes]:
    host_id = base64.b64encode(secrets.token_bytes(54)).decode()
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(spec.code)}</Code>'
        f"<Message>{escape(spec.message)}</Message><RequestId>{request_id}</RequestId>"
        f"<HostId>{host_id}</HostId></Error>"
    )
    headers = [("x-amz-request-id", request_id), ("x-amz-id-2", host_id)]
    headers += [("Content-Type", "application/xml"), ("Server", "AmazonS3")]
    return headers, body.encode()


def _render_rest_json(
    spec: AwsError, service: _Service, request: HttpMessage, request_id: str
) -> tuple[_Headers, bytes]:
    body = json.dumps({"message": spec.message}, separators=(",", ":")).encode()
    headers = [("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", spec.code)]
    return [*headers, ("Content-Type", "application/json")], body


_RENDERERS: Final[Mapping[Protocol, _Renderer]] = {
    Protocol.JSON: _render_json,
    Protocol.CBOR: _render_cbor,
    Protocol.QUERY: _render_query,
    Protocol.REST_XML: _render_s3,
    Protocol.REST_JSON: _render_rest_json,
}


def _shape(spec: AwsError, service: _Service) -> str:
    if spec.shape:
        return spec.shape
    return f"{service.namespace}#{spec.code}" if service.namespace else spec.code


def _fault(spec: AwsError) -> str:
    return "Receiver" if spec.status >= 500 else "Sender"


def _query_error(spec: AwsError, service: _Service) -> _Headers:
    if not service.query_compatible:
        return []
    return [("x-amzn-query-error", f"{spec.code};{_fault(spec)}")]


def _wants_close(request: HttpMessage) -> bool:
    tokens = request.headers.get("connection", "").lower().split(",")
    return "close" in (token.strip() for token in tokens)


def _assemble(spec: AwsError, headers: _Headers, body: bytes, *, close: bool) -> bytes:
    try:
        reason = spec.reason or HTTPStatus(spec.status).phrase
    except ValueError:
        reason = "Error"  # a status without a registered phrase, such as 499
    headers = [*headers, ("Content-Length", str(len(body))), ("Date", formatdate(usegmt=True))]
    headers.append(("Connection", "close" if close else "keep-alive"))
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return f"HTTP/1.1 {spec.status} {reason}\r\n{head}\r\n".encode("latin-1") + body


def _cbor_map(fields: Mapping[str, str]) -> bytes:
    """A CBOR map of text strings to text strings (RFC 8949 major types 5 and 3)."""
    out = bytearray(_cbor_head(5, len(fields)))
    for key, value in fields.items():
        for text in (key.encode(), value.encode()):
            out += _cbor_head(3, len(text)) + text
    return bytes(out)


def _cbor_head(major: int, size: int) -> bytes:
    if size < 24:
        return bytes([major << 5 | size])
    for info, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if size < 1 << (8 * width):
            return bytes([major << 5 | info]) + size.to_bytes(width, "big")
    raise ValueError(f"CBOR item too long: {size}")
