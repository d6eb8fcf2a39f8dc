"""Redis from this host: a PING (the TCP connect timed and classified on its own) and a
pub/sub round trip.

The round trip is the memo's manual test (SUBSCRIBE on one side, PUBLISH on the other, which
must answer ``(integer) 1``) on a private channel ``nanogrid-doctor:<uuid>``: PUBLISH writes
nothing, and the subscription ends with the check, on every path.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import redis

from harness.doctor.check import Check, ms
from harness.doctor.errors import CheckFailed
from harness.doctor.net import explain, tcp_connect
from harness.doctor.result import Finding, failed, passed

if TYPE_CHECKING:
    from harness.doctor.context import Context

#: The private channel's prefix; the platform's own channels are ``result:<requestId>``.
CHANNEL_PREFIX = "nanogrid-doctor:"
_PASSWORD_FIX = "put the right password in REDIS_URL: redis://:PASSWORD@host:port/0"


@contextlib.contextmanager
def redis_errors(ctx: Context) -> Iterator[None]:
    """Turn a redis-py or socket error into :class:`CheckFailed` with its detail and fix."""
    where = ctx.redis_where
    try:
        yield
    except redis.AuthenticationError as exc:
        raise CheckFailed(
            f"redis: {where.address} refused the credentials ({exc})", _PASSWORD_FIX
        ) from exc
    except redis.ResponseError as exc:
        fix = _PASSWORD_FIX if "NOAUTH" in str(exc) else "check the server's ACL and version"
        raise CheckFailed(f"redis: {where.address} answered an error: {exc}", fix) from exc
    except (redis.RedisError, OSError) as exc:
        config = ctx.config
        raise CheckFailed(
            *explain(exc, where, config.connect_timeout, config.read_timeout)
        ) from exc


def ping(ctx: Context) -> Finding:
    """TCP connect (so that a dropped SYN is told apart from silence), then PING."""
    where = ctx.redis_where
    connect = ""
    if where.port is not None:
        try:
            connect_s = tcp_connect(where.host, where.port, ctx.config.connect_timeout)
        except OSError as exc:
            config = ctx.config
            detail, fix = explain(exc, where, config.connect_timeout, config.read_timeout, True)
            raise CheckFailed(detail, fix) from exc
        connect = f"TCP connect {ms(connect_s)}, "
    with redis_errors(ctx):
        ctx.redis.ping()  # connects and shakes hands
        started = time.perf_counter()
        ctx.redis.ping()
        round_trip = time.perf_counter() - started
    server = _server(ctx)
    return passed(
        f"PONG from {where.address} ({connect}PING round trip {ms(round_trip)}"
        f"{'; ' + server if server else ''})",
        address=where.address,
        server=server,
        pingSeconds=round_trip,
    )


def pubsub(ctx: Context) -> Finding:
    """SUBSCRIBE, PUBLISH (1 receiver), and the message back, within ``read_timeout``."""
    token = uuid.uuid4().hex
    channel = f"{CHANNEL_PREFIX}{token}"
    deadline = time.monotonic() + ctx.config.read_timeout
    started = time.perf_counter()
    subscriber = ctx.redis.pubsub()  # type: ignore[no-untyped-call]
    try:
        with redis_errors(ctx):
            subscriber.subscribe(channel)
            if _next(subscriber, "subscribe", channel, deadline) is None:
                raise CheckFailed(
                    f"redis: SUBSCRIBE {channel} was not confirmed within "
                    f"{ctx.config.read_timeout:g} s",
                    "the server accepts commands but does not answer SUBSCRIBE: check for a "
                    "proxy in front of Redis that does not support pub/sub",
                )
            receivers = int(ctx.redis.publish(channel, token))
            message = _next(subscriber, "message", channel, deadline)
    finally:
        with contextlib.suppress(redis.RedisError, OSError):
            subscriber.close()  # the subscription ends with its connection
    arrived = message is not None and message.get("data") == token
    data = {"channel": channel, "receivers": receivers, "arrived": arrived}
    if receivers != 1:
        return _wrong_receivers(receivers, data)
    if not arrived:
        return failed(
            f"redis: PUBLISH counted 1 receiver, but the message did not reach the subscriber "
            f"within {ctx.config.read_timeout:g} s (results would be published, never received)",
            "check the path from Redis back to this host: something lets commands through but "
            "holds back what a long-lived subscriber connection receives",
            **data,
        )
    elapsed = time.perf_counter() - started
    return passed(
        f"SUBSCRIBE + PUBLISH on {channel}: 1 receiver, message back in {ms(elapsed)}", **data
    )


def _wrong_receivers(receivers: int, data: dict[str, Any]) -> Finding:
    if receivers == 0:
        return failed(
            "redis: PUBLISH reached 0 receivers though this host had just subscribed: the "
            "subscription was lost on the way",
            "check for a proxy between this host and Redis, and the server's "
            "`client-output-buffer-limit pubsub`; in Redis Cluster, results and subscriptions "
            "must go through nodes of the same cluster",
            **data,
        )
    return failed(
        f"redis: PUBLISH on a private channel reached {receivers} receivers, not 1: another "
        f"client subscribes to a pattern matching {CHANNEL_PREFIX}*",
        "find it with `redis-cli PUBSUB NUMPAT` and `redis-cli CLIENT LIST`; NanoGrid itself "
        "subscribes to no pattern",
        **data,
    )


def _next(
    subscriber: redis.client.PubSub, kind: str, channel: str, deadline: float
) -> dict[str, Any] | None:
    """The next pushed ``kind`` message on ``channel``, or None once ``deadline`` passes."""
    while (remaining := deadline - time.monotonic()) > 0:
        message = subscriber.get_message(timeout=remaining)
        if message and message.get("type") == kind and message.get("channel") == channel:
            return dict(message)
    return None


def _server(ctx: Context) -> str:
    """``redis 7.2.4`` or ``valkey 9.1.0``, or empty if INFO is not allowed."""
    try:
        info = ctx.redis.info("server")
    except (redis.RedisError, OSError):
        return ""
    if version := info.get("valkey_version"):
        return f"valkey {version}"
    return f"redis {info['redis_version']}" if "redis_version" in info else ""


PING = Check("redis.ping", ping)
PUBSUB = Check("redis.pubsub", pubsub, needs=(PING.name,))
