"""Wire evidence: what a fault proxy saw pass, decoded, as JSON-lines friendly events.

The names here are the contract between the taps that write events and the analysis that
reads them: both import these constants, neither retypes a string. Timestamps are
wall-clock epoch nanoseconds (:func:`time.time_ns`), the clock OpenTelemetry stamps spans
with. Example::

    wire = WireRecorder()
    with FaultProxy("worker->redis", "127.0.0.1", 6379, protocol=PROTOCOL_REDIS, wire=wire):
        ...
    [publish] = wire.select(KIND_REPLY, name="PUBLISH")
    receivers = publish.detail[DETAIL_RECEIVERS]
    wire.write_jsonl(run_dir / "wire.jsonl")

What each kind says (``name``; ``target``; detail keys, * when not always there)::

    command       GET, PUBLISH...; key/channel; seq args bytes sha* numkeys* subcommand*
                  protover* (HELLO), type* (not a command array: name is "")
    reply         its command's; its target; seq latency_ns type value*|length* bytes*
                  receivers* (PUBLISH) transaction* (EXEC element) queued* (the QUEUED)
    error         its command's; its target; seq latency_ns error transaction* queued*
    subscribed    SUBSCRIBE...; channel; count seq* latency_ns*
    unsubscribed  UNSUBSCRIBE...; channel; count seq* latency_ns*
    message       MESSAGE, PMESSAGE, SMESSAGE (other pushes: their kind); channel;
                  bytes pattern* status* requestId* (a JSON payload's), length* (others)
    request       SQS.SendMessage, S3.GetObject, "GET /path" (not AWS); queue, table,
                  bucket/key...; seq method path query* bytes complete*
    response      its request's; its target; seq status bytes ttfb_ns* ttlb_ns*
                  error_code* message_ids* interim* complete*
    undecoded     ""; ""; reason offset
    closed        ""; ""; bytes_upstream bytes_downstream undecoded_upstream
                  undecoded_downstream (direction "both")

A command or request without an answer event (same path, connection and ``seq``) had
none before the connection closed. A command sent inside MULTI has two: the ``queued``
one, then its result from the EXEC reply (``transaction``).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from harness import jsonl

logger = logging.getLogger(__name__)

# --- directions -------------------------------------------------------------------------
DIRECTION_UPSTREAM: Final = "upstream"  # client -> server
DIRECTION_DOWNSTREAM: Final = "downstream"  # server -> client
DIRECTION_BOTH: Final = "both"  # the whole connection (the "closed" event)
DIRECTIONS: Final = (DIRECTION_UPSTREAM, DIRECTION_DOWNSTREAM)

# --- protocols --------------------------------------------------------------------------
PROTOCOL_REDIS: Final = "redis"  # RESP2 / RESP3
PROTOCOL_HTTP: Final = "http"  # HTTP/1.1, AWS operations named
PROTOCOL_BYTES: Final = "bytes"  # not decoded: bytes are only counted
PROTOCOLS: Final = (PROTOCOL_REDIS, PROTOCOL_HTTP, PROTOCOL_BYTES)

# --- kinds ------------------------------------------------------------------------------
KIND_COMMAND: Final = "command"  # redis: a command the client sent
KIND_REPLY: Final = "reply"  # redis: the reply to a command (not an error)
KIND_ERROR: Final = "error"  # redis: an error reply to a command
KIND_SUBSCRIBED: Final = "subscribed"  # redis: a (p|s)subscribe confirmation
KIND_UNSUBSCRIBED: Final = "unsubscribed"  # redis: a (p|s)unsubscribe confirmation
KIND_MESSAGE: Final = "message"  # redis: a pushed pub/sub message (or other push)
KIND_REQUEST: Final = "request"  # http: a request, named by its AWS operation
KIND_RESPONSE: Final = "response"  # http: the response to a request
KIND_UNDECODED: Final = "undecoded"  # any: this direction is not decoded from here on
KIND_CLOSED: Final = "closed"  # any: the connection ended; byte counts

# --- detail keys ------------------------------------------------------------------------
DETAIL_SEQ: Final = "seq"  # 0-based number of the command/request on its connection
DETAIL_ARGS: Final = "args"  # redis command: number of arguments after the name
DETAIL_BYTES: Final = "bytes"  # size: command arguments, string value, payload or HTTP body
DETAIL_SHA: Final = "sha"  # EVALSHA: the script's sha1
DETAIL_NUMKEYS: Final = "numkeys"  # EVAL/EVALSHA/FCALL: the number of keys
DETAIL_SUBCOMMAND: Final = "subcommand"  # CLIENT, CONFIG, SCRIPT, ...: the subcommand
DETAIL_PROTOCOL_VERSION: Final = "protover"  # HELLO: the RESP version asked for
DETAIL_TYPE: Final = "type"  # redis reply: the RESP type's name ("bulk", "array", ...)
DETAIL_VALUE: Final = "value"  # redis reply: int, float, bool, None or text (<= 64 chars)
DETAIL_LENGTH: Final = "length"  # redis reply: number of elements of an aggregate
DETAIL_LATENCY_NS: Final = "latency_ns"  # redis: reply ts minus its command's ts
DETAIL_RECEIVERS: Final = "receivers"  # PUBLISH/SPUBLISH reply: clients that received it
DETAIL_TRANSACTION: Final = "transaction"  # redis reply: an element of an EXEC reply
DETAIL_QUEUED: Final = "queued"  # redis reply: the QUEUED of a command inside MULTI
DETAIL_ERROR: Final = "error"  # redis error: its text (<= 200 chars)
DETAIL_COUNT: Final = "count"  # (un)subscribed: the client's subscriptions after it
DETAIL_PATTERN: Final = "pattern"  # pmessage: the pattern that matched
DETAIL_STATUS: Final = "status"  # http response status; pub/sub JSON payload's "status"
DETAIL_REQUEST_ID: Final = "requestId"  # pub/sub JSON payload's "requestId"
DETAIL_METHOD: Final = "method"  # http request: method
DETAIL_PATH: Final = "path"  # http request: path without the query (<= 200 chars)
DETAIL_QUERY: Final = "query"  # http request: query string (<= 100 chars, signatures cut)
DETAIL_ERROR_CODE: Final = "error_code"  # http response: the AWS error code
DETAIL_TTFB_NS: Final = "ttfb_ns"  # http response: first byte after the request's last
DETAIL_TTLB_NS: Final = "ttlb_ns"  # http response: last byte after the request's last
DETAIL_MESSAGE_IDS: Final = "message_ids"  # http response: SQS/SNS MessageId values (<= 10)
DETAIL_INTERIM: Final = "interim"  # http response: statuses of 1xx responses before it
DETAIL_COMPLETE: Final = "complete"  # request/response: False when cut by the close
DETAIL_REASON: Final = "reason"  # undecoded: why decoding stopped
DETAIL_OFFSET: Final = "offset"  # undecoded: stream offset (bytes) where decoding stopped
DETAIL_BYTES_UPSTREAM: Final = "bytes_upstream"  # closed: bytes client -> server
DETAIL_BYTES_DOWNSTREAM: Final = "bytes_downstream"  # closed: bytes server -> client
DETAIL_UNDECODED_UPSTREAM: Final = "undecoded_upstream"  # closed: upstream bytes not decoded
DETAIL_UNDECODED_DOWNSTREAM: Final = "undecoded_downstream"  # closed: same, downstream

#: Longest text kept from a value (a payload, a reply string); sizes are always recorded.
TEXT_LIMIT: Final = 64
#: Longest key, channel or bucket/key kept as an event's target.
TARGET_LIMIT: Final = 200
#: Longest error text kept.
ERROR_LIMIT: Final = 200


@dataclass(frozen=True)
class WireEvent:
    """One decoded thing that passed a proxy: a command, a reply, a request, a close...

    ``direction`` is where the bytes went (``upstream``: client to server); ``name`` is the
    command or operation, ``target`` the key, channel, queue or bucket/key it is about.
    """

    ts_ns: int
    path: str
    connection: int
    direction: str
    protocol: str
    kind: str
    name: str = ""
    target: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "ts_ns": self.ts_ns,
            "path": self.path,
            "connection": self.connection,
            "direction": self.direction,
            "protocol": self.protocol,
            "kind": self.kind,
            "name": self.name,
            "target": self.target,
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WireEvent:
        """Rebuild an event from :meth:`to_dict`."""
        return cls(
            ts_ns=int(data["ts_ns"]),
            path=str(data["path"]),
            connection=int(data["connection"]),
            direction=str(data["direction"]),
            protocol=str(data["protocol"]),
            kind=str(data["kind"]),
            name=str(data.get("name") or ""),
            target=str(data.get("target") or ""),
            detail=dict(data.get("detail") or {}),
        )


Sink = Callable[[WireEvent], None]


class Emitter:
    """Stamps the events of one connection with its path, id and protocol, for a sink.

    It also remembers where each direction stopped being decoded (:meth:`give_up`), so
    that the "closed" event can say how many bytes went undecoded. A failing sink is
    logged, never raised: evidence is a side channel of the proxy.
    """

    def __init__(self, path: str, connection: int, protocol: str, sink: Sink) -> None:
        self.path = path
        self.connection = connection
        self.protocol = protocol
        self._sink = sink
        self.undecoded_from: dict[str, int] = {}
        self._sink_failed = False

    def emit(
        self,
        ts_ns: int,
        direction: str,
        kind: str,
        name: str = "",
        target: str = "",
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Hand one event to the sink."""
        event = WireEvent(
            ts_ns=ts_ns,
            path=self.path,
            connection=self.connection,
            direction=direction,
            protocol=self.protocol,
            kind=kind,
            name=name,
            target=target,
            detail=detail if detail is not None else {},
        )
        try:
            self._sink(event)
        except Exception:  # a side channel: log once per connection, carry on
            if not self._sink_failed:
                logger.exception("wire %s#%d: the event sink failed", self.path, self.connection)
            self._sink_failed = True

    def give_up(self, ts_ns: int, direction: str, reason: str, offset: int) -> None:
        """Record that ``direction`` is undecoded from stream ``offset`` on (once)."""
        if direction in self.undecoded_from:
            return
        self.undecoded_from[direction] = offset
        detail = {DETAIL_REASON: reason[:ERROR_LIMIT], DETAIL_OFFSET: offset}
        self.emit(ts_ns, direction, KIND_UNDECODED, detail=detail)

    def decoding(self, direction: str) -> bool:
        """Whether ``direction`` is still decoded."""
        return direction not in self.undecoded_from


class WireRecorder:
    """Thread-safe, in-memory sink of :class:`WireEvent`, shared by several proxies.

    Pass it as ``FaultProxy(..., wire=recorder)``; :meth:`record` is the sink. Example::

        mark = recorder.mark()
        client.publish("result:1", "{}")
        replies = [e for e in recorder.since(mark) if e.kind == KIND_REPLY]
    """

    def __init__(self, events: list[WireEvent] | None = None) -> None:
        self._lock = threading.Lock()
        self._events: list[WireEvent] = list(events or [])

    def record(self, event: WireEvent) -> None:
        """Append ``event``."""
        with self._lock:
            self._events.append(event)

    __call__ = record

    @property
    def events(self) -> list[WireEvent]:
        """A copy of the events so far, in the order recorded."""
        with self._lock:
            return list(self._events)

    def mark(self) -> int:
        """A position in the events, for :meth:`since`."""
        with self._lock:
            return len(self._events)

    def since(self, mark: int) -> list[WireEvent]:
        """The events recorded after :meth:`mark` returned ``mark``."""
        with self._lock:
            return self._events[mark:]

    def select(
        self,
        kind: str | None = None,
        *,
        path: str | None = None,
        name: str | None = None,
        protocol: str | None = None,
    ) -> list[WireEvent]:
        """The events matching every given filter, in order."""
        return [
            e
            for e in self.events
            if (kind is None or e.kind == kind)
            and (path is None or e.path == path)
            and (name is None or e.name == name)
            and (protocol is None or e.protocol == protocol)
        ]

    def write_jsonl(self, path: str | os.PathLike[str]) -> None:
        """Write one JSON object per event, atomically (a temporary file, then a rename)."""
        jsonl.write_atomic(path, (e.to_dict() for e in self.events))

    @classmethod
    def read_jsonl(cls, path: str | os.PathLike[str]) -> WireRecorder:
        """Load what :meth:`write_jsonl` wrote; blank lines are skipped."""
        return cls([WireEvent.from_dict(row) for row in jsonl.read(path)])
