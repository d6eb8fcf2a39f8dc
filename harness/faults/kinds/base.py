"""What a fault kind is: its parameters, their validation, and how it acts on a connection.

A kind is one module of :mod:`harness.faults.kinds` holding a ``KIND`` object (Toxiproxy's
toxics are the model): a name, a one-line summary, its parameters (each a :class:`Param`
with default, bounds and meaning), an optional extra check, and its behaviour at one of
three layers:

- :class:`ListenerKind` acts on the proxy's listening socket (refuse, stall connects);
- :class:`StreamKind` acts on each chunk of bytes of a stream (delay, cut, drop, reset);
- :class:`MessageKind` acts on whole protocol messages (a Redis command or pushed message,
  an AWS request), matched by name and target pattern, and leaves the rest byte-identical.

Adding a kind is adding one file. Example of a complete stream kind::

    class Latency:
        name = "latency"
        layer = Layer.STREAM
        summary = "each chunk delayed by latency_ms +/- jitter_ms"
        params = {"latency_ms": Param(0.0, "delay", positive=True), ...}
        stage = 2

        def check(self, params): return None
        def on_connect(self, ctx): pass
        def shape(self, ctx, pieces): ...

    KIND = Latency()
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from harness.faults.model import Direction  # loads no kind: the model imports them lazily

if TYPE_CHECKING:
    from harness.faults.listener import ListenerState
    from harness.faults.schedule import ArmedFault
    from harness.wire.http import HttpMessage


class Layer(StrEnum):
    """Where a kind acts."""

    LISTENER = "listener"  # the listening socket: connects refused or timing out
    STREAM = "stream"  # the bytes of a stream, chunk by chunk
    MESSAGE = "message"  # whole protocol messages, matched by name and target


@dataclass(frozen=True)
class Param:
    """One parameter of a kind: its default, what it means, and what values it takes.

    Numbers must be finite and >= 0; ``positive`` also excludes 0, ``integer`` fractions,
    ``maximum`` larger values. A ``str`` default makes a text parameter; ``choices`` limits it.
    """

    default: float | int | str
    doc: str
    positive: bool = False
    integer: bool = False
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    def problem(self, key: str, value: Any) -> str | None:
        """Why ``value`` is not acceptable for ``key``, or None."""
        if isinstance(self.default, str):
            if not isinstance(value, str):
                return f"{key} must be a string, got {value!r}"
            if self.choices and value not in self.choices:
                return f"{key} must be one of {', '.join(self.choices)}, got {value!r}"
            if "\r" in value or "\n" in value:
                return f"{key} must be one line, got {value!r}"
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{key} must be a number, got {value!r}"
        if not math.isfinite(value) or value < 0:
            return f"{key} must be finite and >= 0, got {value!r}"
        if self.integer and not isinstance(value, int):
            return f"{key} must be an integer"
        if self.positive and value <= 0:
            return f"{key} must be {'>= 1' if self.integer else '> 0'}"
        if self.maximum is not None and value > self.maximum:
            return f"{key} must be <= {self.maximum:g}, got {value!r}"
        return None


@runtime_checkable
class FaultType(Protocol):
    """What every kind has."""

    name: str
    layer: Layer
    summary: str
    params: Mapping[str, Param]

    def check(self, params: Mapping[str, Any]) -> str | None:
        """A problem with this combination of (individually valid) parameters, or None."""


class ListenerKind(FaultType, Protocol):
    """A kind acting on the listening socket; the strongest active state wins."""

    state: ListenerState
    closes_open: bool  # whether open connections are closed too (down), or spared


@dataclass
class StreamContext:
    """One fault acting on one chunk of one connection's stream."""

    armed: ArmedFault
    connection: int
    stream: Direction
    hit: Callable[[str, int], None]  # (action, bytes): recorded in the ledger, once per key
    end: tuple[str, str] | None = None  # set by a kind: ("reset" | "close", why), after sending


#: What a stream kind shapes: (pause before, bytes) pieces, sent in order.
Pieces = list[tuple[float, bytes]]


class StreamKind(FaultType, Protocol):
    """A kind acting on the bytes of a stream; kinds apply in ``stage`` order per chunk."""

    stage: int

    def on_connect(self, ctx: StreamContext) -> None:
        """A connection is established (or the fault activates on an open one)."""

    def shape(self, ctx: StreamContext, pieces: Pieces) -> Pieces:
        """The pieces to send instead of ``pieces``."""


@dataclass(frozen=True)
class Message:
    """One whole protocol message a :class:`MessageKind` may act on.

    ``name`` is a Redis command (``SUBSCRIBE``) or pushed kind (``message``), or an AWS
    operation (``SQS.ReceiveMessage``); ``targets`` its keys or channels, or its queue,
    bucket/key or table. ``request`` is the decoded HTTP request, for AWS messages.
    """

    protocol: str
    name: str
    targets: tuple[str, ...] = ()
    raw: bytes = b""
    request: HttpMessage | None = None


class Verb(StrEnum):
    """What a message kind does to a matched message."""

    DELAY = "delay"  # forward it after delay_s (and everything after it on the stream)
    DROP = "drop"  # never forward it: the sender waits
    ANSWER = "answer"  # never forward it; send ``answer`` back to the sender instead
    CLOSE = "close"  # close the connection (FIN both ways) instead of forwarding it
    TRUNCATE = "truncate"  # forward it; cut the body of its answer after keep_bytes, close


@dataclass(frozen=True)
class Action:
    """A message kind's decision; ``detail`` goes to the ledger with the message."""

    verb: Verb
    delay_s: float = 0.0
    answer: bytes = b""
    keep_bytes: int = 0
    detail: dict[str, Any] = field(default_factory=dict)


class MessageKind(FaultType, Protocol):
    """A kind acting on whole messages of ``protocol`` read from ``stream``."""

    protocol: str  # "redis" or "http"
    stream: Direction  # which stream it reads its messages from

    def matches(self, params: Mapping[str, Any], message: Message) -> bool:
        """Whether ``message`` is one this fault (with ``params``) acts on."""

    def act(self, params: Mapping[str, Any], message: Message) -> Action:
        """What to do with a matched message."""


def glob(pattern: str, value: str, *, fold: bool = False) -> bool:
    """Shell-style match (``result:*``, ``SQS.*Message``); ``fold`` ignores case."""
    if fold:
        return fnmatch.fnmatchcase(value.upper(), pattern.upper())
    return fnmatch.fnmatchcase(value, pattern)


#: The parameters that select Redis commands (upstream) by name and key or channel.
REDIS_COMMAND_MATCH: Mapping[str, Param] = {
    "command": Param("*", "Redis command name pattern, any case (SUBSCRIBE, EVAL*)"),
    "key": Param("*", "key or channel pattern (result:*); '*' also matches none"),
}

#: The parameters that select pushed pub/sub messages (downstream) by channel.
REDIS_PUSH_MATCH: Mapping[str, Param] = {
    "channel": Param("*", "channel pattern of the pushed message (result:*)"),
}

#: The parameters that select AWS requests by operation and target.
AWS_MATCH: Mapping[str, Param] = {
    "operation": Param("*", "operation pattern: SQS.ReceiveMessage, ReceiveMessage, S3.*"),
    "target": Param("*", "queue, bucket/key or table pattern; '*' also matches none"),
}


def match_redis_command(params: Mapping[str, Any], message: Message) -> bool:
    """A command whose name and (any) key or channel match ``command`` and ``key``."""
    if not glob(str(params["command"]), message.name, fold=True):
        return False
    key = str(params["key"])
    return key == "*" or any(glob(key, target) for target in message.targets)


def match_redis_push(params: Mapping[str, Any], message: Message) -> bool:
    """A pushed ``message``/``pmessage``/``smessage`` on a channel matching ``channel``."""
    return message.name in PUSHED and any(
        glob(str(params["channel"]), target) for target in message.targets
    )


#: The names of pushed messages that carry a published payload.
PUSHED = frozenset({"message", "pmessage", "smessage"})


def match_aws(params: Mapping[str, Any], message: Message) -> bool:
    """A request whose operation (``SQS.SendMessage`` or just ``SendMessage``) and target
    match ``operation`` and ``target``."""
    operation, name = str(params["operation"]), message.name
    short = name.partition(".")[2] or name
    if not (glob(operation, name, fold=True) or glob(operation, short, fold=True)):
        return False
    target = str(params["target"])
    return target == "*" or any(glob(target, t) for t in message.targets)


class _MessageKindBase:
    """Shared by the kinds on messages: no extra check; matching by the subclass's rule."""

    layer = Layer.MESSAGE
    protocol: str
    stream: Direction
    _match: Callable[[Mapping[str, Any], Message], bool]

    def check(self, params: Mapping[str, Any]) -> str | None:
        return None

    def matches(self, params: Mapping[str, Any], message: Message) -> bool:
        return type(self)._match(params, message)


class RedisCommandKind(_MessageKindBase):
    """Base of the kinds on Redis commands (client -> server), matched by command and key."""

    protocol = "redis"
    stream = Direction.UPSTREAM
    _match = staticmethod(match_redis_command)


class RedisPushKind(_MessageKindBase):
    """Base of the kinds on pushed pub/sub messages (server -> client), matched by channel."""

    protocol = "redis"
    stream = Direction.DOWNSTREAM
    _match = staticmethod(match_redis_push)


class AwsRequestKind(_MessageKindBase):
    """Base of the kinds on AWS requests (client -> service), matched by operation, target."""

    protocol = "http"
    stream = Direction.UPSTREAM
    _match = staticmethod(match_aws)
