"""HTTP/1.1 on the wire: an incremental message decoder and the tap that names AWS calls.

:class:`HttpDecoder` reads one direction (requests or responses): keep-alive, pipelining,
``Content-Length`` and chunked bodies, interim ``1xx`` responses, bodiless ``HEAD``
responses and bodies that end with the connection. Bodies are counted; only their first
``keep`` bytes are kept. It never raises on bad input: it stops, with ``broken`` saying why
and ``broken_at`` where.

:class:`HttpTap` pairs responses with requests in order and records ``request`` and
``response`` events named by their AWS operation (:func:`aws_operation`)::

    request   SQS.ReceiveMessage  target=nanogrid-tasks  {seq, method, path, bytes}
    response  SQS.ReceiveMessage  {seq, status, bytes, ttfb_ns, ttlb_ns, message_ids}
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final
from urllib.parse import parse_qs, unquote, urlsplit

from harness.wire.model import (
    DETAIL_BYTES,
    DETAIL_COMPLETE,
    DETAIL_ERROR_CODE,
    DETAIL_INTERIM,
    DETAIL_MESSAGE_IDS,
    DETAIL_METHOD,
    DETAIL_PATH,
    DETAIL_QUERY,
    DETAIL_SEQ,
    DETAIL_STATUS,
    DETAIL_TTFB_NS,
    DETAIL_TTLB_NS,
    DIRECTION_DOWNSTREAM,
    DIRECTION_UPSTREAM,
    KIND_REQUEST,
    KIND_RESPONSE,
    TARGET_LIMIT,
    Emitter,
)

MAX_HEAD: Final = 64 * 1024  # a longer start line + headers breaks the decoder
MAX_CHUNK_LINE: Final = 4096  # a longer chunk-size line breaks it
BODY_KEEP: Final = 64 * 1024  # the first bytes of a body kept for error codes, ids, targets
PATH_LIMIT: Final = 200
QUERY_LIMIT: Final = 100
MAX_MESSAGE_IDS: Final = 10

_REQUEST_LINE = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) (HTTP/\d\.\d)")
_STATUS_LINE = re.compile(rb"(HTTP/\d\.\d) (\d{3})(?: .*)?")
_HEADER = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,15})[ \t]*(?:;.*)?")
_DIGITS = re.compile(r"\d{1,18}")


class _State(Enum):
    HEAD = "head"
    BODY = "body"  # Content-Length bytes left
    CHUNK_SIZE = "chunk size"
    CHUNK_DATA = "chunk data"
    CHUNK_END = "chunk end"  # the CRLF after a chunk's data
    TRAILER = "trailer"
    UNTIL_CLOSE = "until close"  # a response body without length: ends with the connection


@dataclass
class HttpMessage:
    """One request or response; a request has ``method``, a response ``status``.

    ``headers`` has lower-case names, repeated headers joined with ", ". ``body`` is the
    first bytes of the (de-chunked) body, ``body_bytes`` its whole length. ``start_ns`` and
    ``end_ns`` are the times of the chunks that held its first and last byte.
    """

    seq: int
    method: str = ""
    target: str = ""
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)
    body_bytes: int = 0
    start_ns: int = 0
    end_ns: int = 0
    complete: bool = False
    head_end: int = -1  # stream offset just past the head's blank line
    end: int = -1  # stream offset just past the message's last byte, once complete

    @property
    def interim(self) -> bool:
        """A ``1xx`` response (100 Continue, 103 Early Hints) that a final one follows."""
        return 100 <= self.status < 200 and self.status != 101


class HttpDecoder:
    """Incremental HTTP/1.1 decoder of one direction of a connection.

    For responses, ``request_method(seq)`` tells the method of the request a response
    answers (a response to ``HEAD`` has no body); ``seq`` counts final responses from 0.
    """

    def __init__(
        self,
        *,
        response: bool,
        request_method: Callable[[int], str | None] | None = None,
        keep: int = BODY_KEEP,
    ) -> None:
        self.response = response
        self.keep = keep
        self.broken: str | None = None
        self.broken_at: int | None = None
        self.heads: list[HttpMessage] = []  # heads completed by the last feed(), in order
        self.count = 0  # final messages begun
        self._request_method = request_method
        self._buf = bytearray()
        self._base = 0
        self._state = _State.HEAD
        self._left = 0
        self._msg: HttpMessage | None = None
        self._head_ns: int | None = None
        self._out: list[HttpMessage] = []

    @property
    def offset(self) -> int:
        """The stream offset of the first byte not consumed yet."""
        return self._base

    def feed(self, data: bytes, ts_ns: int) -> list[HttpMessage]:
        """Decode ``data``; returns the messages it completes (interim ones included)."""
        self.heads = []
        if self.broken is not None:
            return []
        self._buf += data
        pos, heads, ended = 0, 0, 0
        while self.broken is None and pos < len(self._buf):
            step = self._step(pos, ts_ns)
            if step == pos:
                break
            pos = step
            for msg in self.heads[heads:]:
                msg.head_end = self._base + pos
            for msg in self._out[ended:]:
                msg.end = self._base + pos
            heads, ended = len(self.heads), len(self._out)
        del self._buf[:pos]
        self._base += pos
        out, self._out = self._out, []
        return out

    def close(self, ts_ns: int) -> HttpMessage | None:
        """The message the end of the stream cuts (or ends, for an until-close body)."""
        msg, self._msg = self._msg, None
        if msg is None or self.broken is not None:
            return None
        msg.complete = self._state is _State.UNTIL_CLOSE
        msg.end_ns = ts_ns if msg.complete else msg.end_ns
        return msg

    def _break(self, reason: str, pos: int) -> int:
        self.broken, self.broken_at = reason, self._base + pos
        self._buf.clear()
        self._msg = None
        return pos

    def _step(self, pos: int, ts_ns: int) -> int:
        state = self._state
        if state is _State.HEAD:
            return self._take_head(pos, ts_ns)
        if state in (_State.CHUNK_SIZE, _State.CHUNK_END, _State.TRAILER):
            return self._take_chunk_line(pos, ts_ns)
        msg = self._msg
        assert msg is not None
        take = len(self._buf) - pos
        if state is not _State.UNTIL_CLOSE:
            take = min(take, self._left)
            self._left -= take
        room = self.keep - len(msg.body)
        if room > 0:
            msg.body += self._buf[pos : pos + min(take, room)]
        msg.body_bytes += take
        msg.end_ns = ts_ns
        if state is _State.BODY and not self._left:
            self._finish(ts_ns)
        elif state is _State.CHUNK_DATA and not self._left:
            self._state = _State.CHUNK_END
        return pos + take

    def _take_head(self, pos: int, ts_ns: int) -> int:
        buf = self._buf
        while buf.startswith(b"\r\n", pos):  # empty lines between messages are allowed
            pos += 2
        if pos >= len(buf) or buf[pos:] == b"\r":
            return pos
        if self._head_ns is None:
            self._head_ns = ts_ns
        start = bytes(buf[pos : pos + 5])
        if not (b"HTTP/".startswith(start) if self.response else start[:1].isalpha()):
            return self._break(f"not HTTP: {start!r}", pos)
        end = buf.find(b"\r\n\r\n", pos, pos + MAX_HEAD)
        if end < 0:
            return self._break("head too long", pos) if len(buf) - pos > MAX_HEAD else pos
        msg, reason = self._parse_head(bytes(buf[pos:end]).split(b"\r\n"))
        if msg is None:
            return self._break(reason, pos)
        msg.start_ns, msg.end_ns, self._head_ns = self._head_ns or ts_ns, ts_ns, None
        self._msg = msg
        self.heads.append(msg)
        framing = self._frame_body(msg, ts_ns)
        return self._break(framing, end + 4) if framing else end + 4

    def _parse_head(self, lines: list[bytes]) -> tuple[HttpMessage | None, str]:
        pattern = _STATUS_LINE if self.response else _REQUEST_LINE
        first = pattern.fullmatch(lines[0])
        if first is None:
            return None, f"bad start line: {lines[0][:40]!r}"
        msg = HttpMessage(seq=self.count)
        if self.response:
            msg.status = int(first.group(2))
        else:
            msg.method, msg.target = first.group(1).decode(), first.group(2).decode("latin-1")
        for line in lines[1:]:
            header = _HEADER.fullmatch(line)
            if header is None:
                return None, f"bad header line: {line[:40]!r}"
            name, value = header.group(1).decode().lower(), header.group(2).decode("latin-1")
            msg.headers[name] = f"{msg.headers[name]}, {value}" if name in msg.headers else value
        if not msg.interim:
            self.count += 1
        return msg, ""

    def _frame_body(self, msg: HttpMessage, ts_ns: int) -> str | None:
        """Choose how the body of ``msg`` ends; returns why it cannot be told, if so."""
        headers = msg.headers
        if self.response and (msg.interim or msg.status in (204, 304) or self._no_body(msg)):
            self._finish(ts_ns)
            return "switched protocols" if msg.status == 101 else None
        if headers.get("transfer-encoding", "").lower().rstrip().endswith("chunked"):
            self._state = _State.CHUNK_SIZE
            return None
        lengths = {v.strip() for v in headers.get("content-length", "").split(",") if v.strip()}
        if len(lengths) > 1 or (lengths and not _DIGITS.fullmatch(next(iter(lengths)))):
            return f"bad content-length: {headers['content-length'][:40]!r}"
        if lengths and int(next(iter(lengths))) > 0:
            self._state, self._left = _State.BODY, int(next(iter(lengths)))
        elif self.response and not lengths:
            self._state = _State.UNTIL_CLOSE
        else:
            self._finish(ts_ns)
        return None

    def _no_body(self, msg: HttpMessage) -> bool:
        method = self._request_method(msg.seq) if self._request_method else None
        return msg.status == 101 or method == "HEAD" or (method == "CONNECT" and msg.status < 300)

    def _take_chunk_line(self, pos: int, ts_ns: int) -> int:
        end = self._buf.find(b"\r\n", pos, pos + MAX_CHUNK_LINE)
        if end < 0:
            too_long = len(self._buf) - pos > MAX_CHUNK_LINE
            return self._break(f"{self._state.value} line too long", pos) if too_long else pos
        line = bytes(self._buf[pos:end])
        if self._state is _State.CHUNK_END and line:
            return self._break("no CRLF after a chunk", pos)
        if self._state is _State.CHUNK_END:
            self._state = _State.CHUNK_SIZE
        elif self._state is _State.TRAILER and not line:
            self._finish(ts_ns)
        elif self._state is _State.CHUNK_SIZE:
            size = _CHUNK_SIZE.fullmatch(line)
            if size is None:
                return self._break(f"bad chunk size: {line[:20]!r}", pos)
            self._left = int(size.group(1), 16)
            self._state = _State.CHUNK_DATA if self._left else _State.TRAILER
        return end + 2

    def _finish(self, ts_ns: int) -> None:
        msg = self._msg
        assert msg is not None
        msg.complete, msg.end_ns = True, ts_ns
        self._out.append(msg)
        self._msg, self._state = None, _State.HEAD


@dataclass
class _Exchange:
    """A request, named, and what its response needs to know of it."""

    request: HttpMessage
    name: str = ""
    target: str = ""
    recorded: bool = False  # the request event is out
    answered: bool = False  # the response event is out


class HttpTap:
    """Decodes one HTTP/1.1 connection into ``request`` and ``response`` events."""

    def __init__(self, emitter: Emitter, *, keep: int = BODY_KEEP) -> None:
        self._emitter = emitter
        self._exchanges: dict[int, _Exchange] = {}
        self._interim: list[int] = []
        self._decoders = {
            DIRECTION_UPSTREAM: HttpDecoder(response=False, keep=keep),
            DIRECTION_DOWNSTREAM: HttpDecoder(
                response=True, request_method=self._method_of, keep=keep
            ),
        }

    def feed(self, direction: str, data: bytes, ts_ns: int) -> None:
        """Decode ``data`` of ``direction`` and record the messages it completes."""
        if not self._emitter.decoding(direction):
            return
        decoder = self._decoders[direction]
        messages = decoder.feed(data, ts_ns)
        if direction == DIRECTION_UPSTREAM:
            for head in decoder.heads:
                self._exchanges[head.seq] = _Exchange(head)
        for msg in messages:
            self._record(direction, msg, ts_ns)
        if decoder.broken is not None and decoder.broken_at is not None:
            self._emitter.give_up(ts_ns, direction, decoder.broken, decoder.broken_at)
            if decoder.broken == "switched protocols":
                upstream = self._decoders[DIRECTION_UPSTREAM]
                self._emitter.give_up(ts_ns, DIRECTION_UPSTREAM, decoder.broken, upstream.offset)

    def close(self, ts_ns: int) -> None:
        """Record the messages the close cuts (``complete: False``) or ends."""
        for direction, decoder in self._decoders.items():
            if self._emitter.decoding(direction) and (msg := decoder.close(ts_ns)) is not None:
                self._record(direction, msg, ts_ns)

    def _method_of(self, seq: int) -> str | None:
        exchange = self._exchanges.get(seq)
        return exchange.request.method if exchange else None

    def _record(self, direction: str, msg: HttpMessage, ts_ns: int) -> None:
        if direction == DIRECTION_UPSTREAM:
            exchange = self._exchanges.setdefault(msg.seq, _Exchange(msg))
            self._name(exchange)
            exchange.recorded = True
            if exchange.answered:
                del self._exchanges[msg.seq]
            detail = _request_detail(msg)
            name, target = exchange.name, exchange.target
            self._emitter.emit(ts_ns, direction, KIND_REQUEST, name, target, detail)
        elif msg.interim:
            self._interim.append(msg.status)
        else:
            self._record_response(msg, ts_ns)

    def _record_response(self, msg: HttpMessage, ts_ns: int) -> None:
        detail: dict[str, Any] = {DETAIL_SEQ: msg.seq, DETAIL_STATUS: msg.status}
        detail[DETAIL_BYTES] = msg.body_bytes
        exchange = self._exchanges.get(msg.seq)
        if exchange is not None:
            self._name(exchange)
            request = exchange.request
            last = request.end_ns if request.complete else request.start_ns
            detail[DETAIL_TTFB_NS] = msg.start_ns - last
            detail[DETAIL_TTLB_NS] = msg.end_ns - last
            exchange.answered = True
            if exchange.recorded:  # else the request, still coming, is recorded at its end
                del self._exchanges[msg.seq]
        if code := error_code(msg):
            detail[DETAIL_ERROR_CODE] = code
        name, target = (exchange.name, exchange.target) if exchange else ("", "")
        if name.startswith(_MESSAGING) and (ids := message_ids(msg.body)):
            detail[DETAIL_MESSAGE_IDS] = ids
        if self._interim:
            detail[DETAIL_INTERIM], self._interim = self._interim, []
        if not msg.complete:
            detail[DETAIL_COMPLETE] = False
        self._emitter.emit(ts_ns, DIRECTION_DOWNSTREAM, KIND_RESPONSE, name, target, detail)

    @staticmethod
    def _name(exchange: _Exchange) -> None:
        """Name the exchange from its request, once the body is in (or from the head)."""
        if not exchange.name or exchange.request.complete:
            exchange.name, exchange.target = aws_operation(exchange.request)


def _request_detail(msg: HttpMessage) -> dict[str, Any]:
    path, query = _split_target(msg.target)
    detail: dict[str, Any] = {DETAIL_SEQ: msg.seq, DETAIL_METHOD: msg.method}
    detail[DETAIL_PATH] = path[:PATH_LIMIT]
    if query:
        detail[DETAIL_QUERY] = _SIGNATURE.sub(r"\1=-", query)[:QUERY_LIMIT]
    detail[DETAIL_BYTES] = msg.body_bytes
    if not msg.complete:
        detail[DETAIL_COMPLETE] = False
    return detail


def _split_target(target: str) -> tuple[str, str]:
    """``(path, query)`` of a request target, origin-form or absolute-form."""
    if target.startswith(("http://", "https://")):
        parts = urlsplit(target)
        return parts.path or "/", parts.query
    path, _, query = target.partition("?")
    return path, query


# --- AWS ----------------------------------------------------------------------------------

_MESSAGING: Final = ("SQS.", "SNS.")  # whose responses carry MessageId values
_SIGNATURE = re.compile(r"(X-Amz-Signature|X-Amz-Security-Token|X-Amz-Credential)=[^&]*", re.I)
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")
_SMITHY_PATH = re.compile(r"/service/([^/]+)/operation/([^/?]+)")
_VIRTUAL_HOST = re.compile(r"(?P<bucket>.+?)\.s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com(?::\d+)?")
#: X-Amz-Target prefixes and smithy service ids -> service.
_TARGET_PREFIXES: Final = {
    "AmazonSQS": "SQS",
    "DynamoDB_20120810": "DynamoDB",
    "DynamoDBStreams_20120810": "DynamoDBStreams",
    "GraniteServiceVersion20100801": "CloudWatch",
    "Logs_20140328": "CloudWatchLogs",
    "AWSEvents": "EventBridge",
    "Kinesis_20131202": "Kinesis",
    "TrentService": "KMS",
    "secretsmanager": "SecretsManager",
    "AmazonSSM": "SSM",
    "AWSStepFunctions": "SFN",
}
#: SigV4 signing names -> service.
_SIGNING_NAMES: Final = {
    "sqs": "SQS",
    "dynamodb": "DynamoDB",
    "monitoring": "CloudWatch",
    "s3": "S3",
    "sns": "SNS",
    "sts": "STS",
    "logs": "CloudWatchLogs",
    "events": "EventBridge",
    "lambda": "Lambda",
    "kms": "KMS",
    "iam": "IAM",
}
#: Body fields naming what a call is about, in order of preference.
_TARGET_FIELDS: Final = ("QueueUrl", "QueueName", "TableName", "TopicArn", "Namespace")
_S3_OBJECT: Final = {
    "GET": "GetObject",
    "PUT": "PutObject",
    "HEAD": "HeadObject",
    "DELETE": "DeleteObject",
}
_S3_BUCKET: Final = {
    "GET": "ListObjects",
    "PUT": "CreateBucket",
    "HEAD": "HeadBucket",
    "DELETE": "DeleteBucket",
}
#: (method, on an object, query key) -> S3 operation.
_S3_QUERY: Final = {
    ("POST", True, "uploads"): "CreateMultipartUpload",
    ("POST", True, "uploadId"): "CompleteMultipartUpload",
    ("PUT", True, "uploadId"): "UploadPart",
    ("GET", True, "uploadId"): "ListParts",
    ("DELETE", True, "uploadId"): "AbortMultipartUpload",
    ("GET", False, "list-type"): "ListObjectsV2",
    ("GET", False, "uploads"): "ListMultipartUploads",
    ("GET", False, "versions"): "ListObjectVersions",
    ("GET", False, "location"): "GetBucketLocation",
    ("POST", False, "delete"): "DeleteObjects",
}
_S3_VERBS: Final = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}
_JSON_TYPE = re.compile(rb'"__type"\s*:\s*"([^"]{1,200})"')
_JSON_CODE = re.compile(rb'"code"\s*:\s*"([^"]{1,200})"')
_XML_CODE = re.compile(rb"<Code>([^<]{1,200})</Code>")
_CBOR_TYPE = b"f__type"  # CBOR text string of length 6, "__type"
_MESSAGE_ID = re.compile(rb'"MessageId"\s*:\s*"([^"]{1,100})"|<MessageId>([^<]{1,100})</MessageId>')


def aws_operation(request: HttpMessage) -> tuple[str, str]:
    """``(name, target)`` of a request: ``("SQS.SendMessage", "queue")``, ``("S3.GetObject",
    "bucket/key")``; a request that is not an AWS call is named ``"METHOD /path"``."""
    headers = request.headers
    path, query = _split_target(request.target)
    service = _service(headers, query)
    form = _form(request, query)
    if amz_target := headers.get("x-amz-target"):
        prefix, _, operation = amz_target.partition(".")
        name = f"{_service_of_prefix(prefix)}.{operation}"
    elif smithy := _SMITHY_PATH.fullmatch(path):
        name = f"{_service_of_prefix(smithy.group(1))}.{smithy.group(2)}"
    elif action := form.get("Action"):
        name = f"{service or 'AWS'}.{action}"
        if service == "SQS" and path.count("/") == 2 and "QueueUrl" not in form:
            return name, path.rsplit("/", 1)[1]  # the query protocol's queue URL as the path
    elif service == "S3" or (service is None and _signed(headers, query)):
        return _s3_operation(request.method, path, query, headers)
    elif service is not None:
        name = f"{service}.{request.method}"
    else:
        return f"{request.method} {path}"[:PATH_LIMIT], ""
    return name, _body_target(request, form)


def _signed(headers: dict[str, str], query: str) -> bool:
    """Whether a request carries AWS signing (a header, or a presigned URL's query)."""
    return (
        "authorization" in headers
        or any(h.startswith("x-amz-") for h in headers)
        or "X-Amz-Credential" in query
    )


def _service(headers: dict[str, str], query: str) -> str | None:
    """The service a request is signed for (its SigV4 credential scope), if any."""
    scope = _SCOPE.search(headers.get("authorization", "")) or _SCOPE.search(
        "Credential=" + unquote(query.partition("X-Amz-Credential=")[2])
    )
    if scope is None:
        return None
    return _SIGNING_NAMES.get(scope.group(2), scope.group(2))


def _service_of_prefix(prefix: str) -> str:
    if prefix in _TARGET_PREFIXES:
        return _TARGET_PREFIXES[prefix]
    return re.sub(r"^(?:Amazon|AWS)|_\d{8}$|_?V?\d{8}$", "", prefix) or prefix


def _form(request: HttpMessage, query: str) -> dict[str, str]:
    """The first value of each field of a urlencoded body, or of the query string."""
    text = query
    if "x-www-form-urlencoded" in request.headers.get("content-type", ""):
        text = bytes(request.body).decode("latin-1")
    if "Action=" not in text:
        return {}
    return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


def _body_target(request: HttpMessage, form: dict[str, str]) -> str:
    """The queue, table or topic a request body names (the queue name of a QueueUrl)."""
    fields = form or _json_fields(request)
    for name in _TARGET_FIELDS:
        value = fields.get(name)
        if isinstance(value, str) and value:
            return value.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1][:TARGET_LIMIT]
    return ""


def _json_fields(request: HttpMessage) -> dict[str, Any]:
    whole = request.complete and len(request.body) == request.body_bytes
    if not whole or "json" not in request.headers.get("content-type", ""):
        return {}
    try:
        loaded = json.loads(bytes(request.body))
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _s3_operation(method: str, path: str, query: str, headers: dict[str, str]) -> tuple[str, str]:
    host = _VIRTUAL_HOST.fullmatch(headers.get("host", ""))
    bucket, _, key = path.lstrip("/").partition("/")
    if host is not None:
        bucket, key = host.group("bucket"), path.lstrip("/")
    bucket, key = unquote(bucket), unquote(key)
    target = f"{bucket}/{key}" if key else bucket
    keys = [k for k in (p.partition("=")[0] for p in query.split("&")) if k]
    for k in keys:
        if operation := _S3_QUERY.get((method, bool(key), k)):
            copy = operation == "UploadPart" and "x-amz-copy-source" in headers
            return f"S3.{operation}{'Copy' if copy else ''}", target[:TARGET_LIMIT]
    if not bucket:
        return ("S3.ListBuckets" if method == "GET" else f"S3.{method}"), ""
    if method == "PUT" and key and "x-amz-copy-source" in headers:
        return "S3.CopyObject", target[:TARGET_LIMIT]
    subresource = next((k for k in keys if k.isalpha() and k.islower()), None)
    if subresource and method in _S3_VERBS:
        noun = "Object" if key else "Bucket"
        return f"S3.{_S3_VERBS[method]}{noun}{subresource.capitalize()}", target[:TARGET_LIMIT]
    table = _S3_OBJECT if key else _S3_BUCKET
    return f"S3.{table.get(method, method)}", target[:TARGET_LIMIT]


def error_code(response: HttpMessage) -> str:
    """The AWS error code of a response, from its headers or (status >= 300) its body."""
    headers = response.headers
    if query_error := headers.get("x-amzn-query-error"):
        return query_error.partition(";")[0].strip()
    body = bytes(response.body)
    if response.status >= 300:
        for pattern in (_JSON_TYPE, _JSON_CODE, _XML_CODE):
            if found := pattern.search(body):
                return found.group(1).decode("utf-8", "replace").rpartition("#")[2]
        if (cbor := _cbor_text_after(body, _CBOR_TYPE)) is not None:
            return cbor.rpartition("#")[2]
    for name in ("x-amzn-errortype", "x-amz-error-code"):
        if value := headers.get(name):
            return value.partition(":")[0].strip()
    return ""


def _cbor_text_after(body: bytes, key: bytes) -> str | None:
    """The CBOR text string that follows ``key`` in ``body`` (a map's value), if any."""
    at = body.find(key)
    if at < 0 or at + len(key) >= len(body):
        return None
    at += len(key)
    head = body[at]
    if head >> 5 != 3:
        return None
    size, at = head & 0x1F, at + 1
    if size == 24 and at < len(body):
        size, at = body[at], at + 1
    elif size > 24:
        return None
    return body[at : at + size].decode("utf-8", "replace")


def message_ids(body: bytes | bytearray) -> list[str]:
    """``MessageId`` values in a JSON or XML body (at most :data:`MAX_MESSAGE_IDS`)."""
    ids = []
    for found in _MESSAGE_ID.finditer(body):
        ids.append((found.group(1) or found.group(2)).decode("utf-8", "replace"))
        if len(ids) == MAX_MESSAGE_IDS:
            break
    return ids
