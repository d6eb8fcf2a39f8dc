"""Wire evidence, read for rules: calls paired with their answers, per path and component.

A fault proxy records what passed each connection (:mod:`harness.wire`); here the events
become calls: a Redis command with its reply (or none), an AWS request with its response
(or none). This is what the network saw, so it holds for a component that emits no
telemetry at all. A path is named ``<component>-><dependency>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from harness.wire.model import (
    DETAIL_ERROR,
    DETAIL_ERROR_CODE,
    DETAIL_QUEUED,
    DETAIL_RECEIVERS,
    DETAIL_SEQ,
    DETAIL_STATUS,
    DETAIL_TTFB_NS,
    DETAIL_TTLB_NS,
    KIND_CLOSED,
    KIND_COMMAND,
    KIND_ERROR,
    KIND_REPLY,
    KIND_REQUEST,
    KIND_RESPONSE,
    KIND_SUBSCRIBED,
    PROTOCOL_HTTP,
    PROTOCOL_REDIS,
    WireEvent,
)
from nanogrid.telemetry import semconv as sc

#: AWS operation prefixes (``S3.GetObject``) -> the dependency name of the platform.
SERVICES = {"S3": sc.S3, "SQS": sc.SQS, "DynamoDB": sc.DYNAMODB, "CloudWatch": sc.CLOUDWATCH}
#: An unanswered call whose connection stayed open this long was met with silence.
SILENCE_NS = 500_000_000
_THROTTLING = {"Throttling", "ThrottlingException", "SlowDown", "RequestThrottled"}


def component_of(path: str) -> str:
    return path.split("->", 1)[0]


def dependency_of(path: str, operation: str = "") -> str:
    """``worker->s3`` -> ``s3``; on a shared AWS path the operation names the service."""
    target = path.split("->", 1)[-1]
    if target in (sc.REDIS, *sc.AWS_SERVICES):
        return target
    prefix = operation.split(".", 1)[0]
    return SERVICES.get(prefix, target)


@dataclass(frozen=True)
class WireCall:
    """A command or request and its answer, as one connection of a path carried them."""

    path: str
    connection: int
    protocol: str
    name: str  # PUBLISH, S3.GetObject
    target: str
    start_ns: int
    end_ns: int  # the answer's time; 0 when none came
    request: WireEvent
    answer: WireEvent | None
    closed_ns: int  # when the connection closed (0: open at the end of the evidence)

    @property
    def component(self) -> str:
        return component_of(self.path)

    @property
    def dependency(self) -> str:
        return dependency_of(self.path, self.name)

    @property
    def answered(self) -> bool:
        return self.answer is not None

    @property
    def duration_ns(self) -> int:
        """Request to answer, on the proxy's clock (what the server took, plus its network)."""
        if self.answer is None:
            return 0
        last = self.answer.detail.get(DETAIL_TTLB_NS)
        return int(last) if isinstance(last, int) else max(self.end_ns - self.start_ns, 0)

    @property
    def status(self) -> int | None:
        value = self.answer.detail.get(DETAIL_STATUS) if self.answer is not None else None
        return value if isinstance(value, int) else None

    @property
    def error(self) -> str:
        """The error the dependency answered ('' for none): Redis error text, AWS code."""
        if self.answer is None:
            return ""
        if self.answer.kind == KIND_ERROR:
            return str(self.answer.detail.get(DETAIL_ERROR, "error"))
        code = self.answer.detail.get(DETAIL_ERROR_CODE)
        if code:
            return str(code)
        status = self.status
        return f"HTTP {status}" if status is not None and status >= 400 else ""

    @property
    def receivers(self) -> int | None:
        value = self.answer.detail.get(DETAIL_RECEIVERS) if self.answer is not None else None
        return value if isinstance(value, int) else None

    @property
    def symptom(self) -> str | None:
        """What this call shows went wrong, or None (answered fine, or still in flight when
        the evidence ends): ``blackhole`` (no answer, the client gave up after waiting),
        ``reset`` (no answer, the connection closed at once), an AWS error's symptom."""
        if self.answer is None:
            if not self.closed_ns:
                return None
            silent = self.closed_ns - self.start_ns >= SILENCE_NS
            return "blackhole" if silent else "reset"
        status = self.status
        code = str(self.answer.detail.get(DETAIL_ERROR_CODE) or "")
        if code in _THROTTLING:
            return "throttled"
        if status == 403:
            return "denied"
        if status is not None and status >= 500:
            return "server_error"
        return None

    @property
    def first_byte_ns(self) -> int | None:
        value = self.answer.detail.get(DETAIL_TTFB_NS) if self.answer is not None else None
        return value if isinstance(value, int) else None


class WireFacts:
    """The wire events of a run, and the calls they make up."""

    def __init__(self, events: list[WireEvent]) -> None:
        self.events = sorted(events, key=lambda e: e.ts_ns)
        self._index = {id(e): n for n, e in enumerate(self.events)}

    def __bool__(self) -> bool:
        return bool(self.events)

    def index(self, event: WireEvent) -> int:
        return self._index.get(id(event), 0)

    def naming(self, request_id: str) -> list[WireEvent]:
        """Events whose key or channel holds the request id, or whose payload names it."""
        return [
            e
            for e in self.events
            if request_id in e.target or e.detail.get("requestId") == request_id
        ]

    @cached_property
    def calls(self) -> list[WireCall]:
        """Every command/request with its answer, in time order."""
        closed: dict[tuple[str, int], int] = {}
        answers: dict[tuple[str, int, object], WireEvent] = {}
        asks: list[WireEvent] = []
        for e in self.events:
            key = (e.path, e.connection)
            if e.kind == KIND_CLOSED:
                closed[key] = e.ts_ns
            elif e.kind in (KIND_COMMAND, KIND_REQUEST):
                asks.append(e)
            elif e.kind in (KIND_REPLY, KIND_ERROR, KIND_RESPONSE):
                answered = (e.path, e.connection, e.detail.get(DETAIL_SEQ))
                held = answers.get(answered)
                # Inside MULTI a command is answered QUEUED first, then by EXEC's reply.
                if held is None or held.detail.get(DETAIL_QUEUED):
                    answers[answered] = e
            elif e.kind == KIND_SUBSCRIBED:  # answers a SUBSCRIBE of that channel
                answers.setdefault((e.path, e.connection, f"sub:{e.target}"), e)
        out = []
        for ask in asks:
            seq: object = ask.detail.get(DETAIL_SEQ)
            if ask.name in ("SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE"):
                seq = f"sub:{ask.target}"
            answer = answers.get((ask.path, ask.connection, seq))
            out.append(
                WireCall(
                    path=ask.path,
                    connection=ask.connection,
                    protocol=ask.protocol,
                    name=ask.name,
                    target=ask.target,
                    start_ns=ask.ts_ns,
                    end_ns=answer.ts_ns if answer is not None else 0,
                    request=ask,
                    answer=answer,
                    closed_ns=closed.get((ask.path, ask.connection), 0),
                )
            )
        return out

    def redis_calls(self, component: str | None = None) -> list[WireCall]:
        return [
            c
            for c in self.calls
            if c.protocol == PROTOCOL_REDIS and (component is None or c.component == component)
        ]

    def aws_calls(self, component: str | None = None) -> list[WireCall]:
        return [
            c
            for c in self.calls
            if c.protocol == PROTOCOL_HTTP and (component is None or c.component == component)
        ]

    def paths(self) -> list[str]:
        return sorted({e.path for e in self.events})
