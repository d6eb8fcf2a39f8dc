"""The result channel: how a worker hands a result to the controller through Redis.

A worker stores the result at ``result:{requestId}`` (with a TTL) and publishes it on the
channel of the same name, in one MULTI/EXEC, so a result is never published without being
stored. The controller subscribes *and waits for the server's confirmation* before it sends
the task, so a fast worker cannot publish into the void; it also reads the stored key after
subscribing and every ``poll_interval``, which recovers a message that pub/sub dropped
(pub/sub is at-most-once: ``PUBLISH`` returns how many subscribers received it).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import redis
from botocore.exceptions import BotoCoreError, ClientError
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from nanogrid import defaults
from nanogrid.errors import DependencyError
from nanogrid.protocol import Stage, is_terminal, parse_result
from nanogrid.symptoms import Symptom, symptom_of
from nanogrid.telemetry import semconv as sc

log = logging.getLogger(__name__)

#: The errors that mean "Redis cannot be reached or answered too late".
REDIS_ERRORS: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError, OSError)
#: Errors of any dependency call that a retry may cure.
DEPENDENCY_ERRORS: tuple[type[Exception], ...] = (*REDIS_ERRORS, BotoCoreError, ClientError)
#: A dependency failing, raw or already named by :class:`~nanogrid.errors.DependencyError`.
FAILURE_ERRORS: tuple[type[Exception], ...] = (DependencyError, *DEPENDENCY_ERRORS)


def claim_key(request_id: str) -> str:
    """The Redis key a worker holds while it runs a task: ``claim:{requestId}``."""
    return f"claim:{request_id}"


def connect(
    url: str, connect_timeout: float, socket_timeout: float, retries: int = 1
) -> redis.Redis:
    """A Redis client with explicit timeouts (a blocked port is an error, never a hang).

    The controller's subscriber uses ``retries=0``, so that a silent server costs one
    connect timeout plus one socket timeout, not a multiple of them.
    """
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=connect_timeout,
        socket_timeout=socket_timeout,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), retries),
        health_check_interval=30,
        decode_responses=True,
    )


def describe_redis_error(exc: BaseException) -> str:
    """A short, stable description of a Redis failure: refused, timeout, reset or other."""
    text = str(exc).lower()
    if isinstance(exc, ConnectionRefusedError) or "refused" in text:
        return f"connection refused ({exc})"
    if isinstance(exc, redis.TimeoutError | TimeoutError) or "timed out" in text:
        return f"timed out ({exc})"
    if isinstance(exc, ConnectionResetError) or "reset" in text:
        return f"connection reset ({exc})"
    return f"{type(exc).__name__}: {exc}"


class Claim(StrEnum):
    """What a worker finds when it claims a task."""

    DONE = "DONE"  # the result is stored already: SQS delivered the task again
    TAKEN = "TAKEN"  # another worker holds the claim and is running it
    CLAIMED = "CLAIMED"  # this worker runs it; the stage is RUNNING


# One round trip, atomic: no result yet, then claim, then mark the stage.
_CLAIM_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 'DONE' end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 'TAKEN' end
redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[4])
return 'CLAIMED'
"""


class ResultStore:
    """Stored results and request stages in Redis."""

    def __init__(self, client: redis.Redis, ttl: int = defaults.RESULT_TTL_SECONDS) -> None:
        self.client = client
        self.ttl = ttl
        self._claim = client.register_script(_CLAIM_SCRIPT)

    def claim(self, request_id: str, owner: str, ttl_ms: int) -> Claim:
        """Claim a task for ``owner`` for ``ttl_ms`` unless its result exists or it is taken."""
        keys = [
            defaults.result_key(request_id),
            claim_key(request_id),
            defaults.stage_key(request_id),
        ]
        answer = self._claim(keys=keys, args=[owner, ttl_ms, Stage.RUNNING, self.ttl])
        return Claim(answer.decode() if isinstance(answer, bytes) else str(answer))

    def extend_claim(self, request_id: str, ttl_ms: int) -> None:
        self.client.pexpire(claim_key(request_id), ttl_ms)

    def store_and_publish(self, request_id: str, payload: str) -> int:
        """Store then publish ``payload`` atomically; returns PUBLISH's receiver count."""
        key = defaults.result_key(request_id)
        pipe = self.client.pipeline(transaction=True)
        pipe.set(key, payload, ex=self.ttl)
        pipe.set(defaults.stage_key(request_id), Stage.COMPLETED, ex=self.ttl)
        pipe.publish(key, payload)
        replies = pipe.execute()
        return int(replies[-1])

    def get(self, request_id: str) -> dict[str, Any] | None:
        raw = self.client.get(defaults.result_key(request_id))
        return None if raw is None else parse_result(str(raw))

    def set_stage(self, request_id: str, stage: Stage, only_new: bool = False) -> None:
        """Record where the request got to; ``only_new`` leaves a stage already recorded
        (a worker's RUNNING, set by its claim) untouched."""
        self.client.set(defaults.stage_key(request_id), stage, ex=self.ttl, nx=only_new)

    def get_stage(self, request_id: str) -> str | None:
        raw = self.client.get(defaults.stage_key(request_id))
        return None if raw is None else str(raw)


@dataclass
class WaitOutcome:
    """What ended a wait: a result (``source`` is ``pubsub`` or ``stored``) or the deadline."""

    result: dict[str, Any] | None
    source: str | None
    ignored: list[dict[str, Any]]


Accept = Callable[[dict[str, Any]], bool]
Observer = Callable[[str, dict[str, Any]], None]


class ResultWaiter:
    """Waits for one request's result; use as a context manager.

    >>> with ResultWaiter(client, request_id, confirm_timeout=2.0) as waiter:
    ...     send_task()                          # only after subscribe() returned
    ...     outcome = waiter.wait(deadline=time.monotonic() + 25)
    """

    def __init__(
        self,
        client: redis.Redis,
        request_id: str,
        confirm_timeout: float,
        poll_interval: float = 1.0,
        observer: Observer | None = None,
    ) -> None:
        self.client = client
        self.request_id = request_id
        self.channel = defaults.result_key(request_id)
        self.confirm_timeout = confirm_timeout
        self.poll_interval = poll_interval
        self.observer = observer or (lambda _event, _attrs: None)
        self._pubsub: Any = None

    def __enter__(self) -> ResultWaiter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def subscribe(self) -> None:
        """Subscribe and block until the server confirms; raises :class:`DependencyError`."""
        self.close()
        pubsub = self.client.pubsub()  # type: ignore[no-untyped-call]
        self._pubsub = pubsub
        deadline = time.monotonic() + self.confirm_timeout
        try:
            pubsub.subscribe(self.channel)
            while time.monotonic() < deadline:
                msg = pubsub.get_message(timeout=max(0.0, deadline - time.monotonic()))
                if msg and msg["type"] == "subscribe":
                    self.observer(sc.EV_SUBSCRIBE_CONFIRMED, {"subscribers": msg["data"]})
                    return
        except REDIS_ERRORS as exc:
            self.close()
            raise DependencyError("redis", describe_redis_error(exc)) from exc
        self.close()
        raise DependencyError(
            "redis",
            f"timed out: no subscribe confirmation within {self.confirm_timeout:g}s",
            symptom=Symptom.BLACKHOLE,
        )

    def wait(
        self, deadline: float, read_stored: bool = True, accept: Accept = is_terminal
    ) -> WaitOutcome:
        """Wait until an accepted result arrives or ``deadline`` (monotonic) passes."""
        ignored: list[dict[str, Any]] = []
        if read_stored and (found := self._read_stored(accept, ignored)):
            return WaitOutcome(found, "stored", ignored)
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                result = self._next_message(min(remaining, self.poll_interval))
            except REDIS_ERRORS as exc:
                self.observer(
                    sc.EV_CONNECTION_LOST,
                    {"error": describe_redis_error(exc), "symptom": str(symptom_of(exc))},
                )
                self._resubscribe(deadline)
                result = None
            if result is not None:
                if accept(result):
                    return WaitOutcome(result, "pubsub", ignored)
                if result not in ignored:
                    ignored.append(result)
                self.observer(sc.EV_MESSAGE_IGNORED, {"status": str(result.get("status"))})
            if read_stored and (found := self._read_stored(accept, ignored)):
                return WaitOutcome(found, "stored", ignored)
        self.observer(sc.EV_DEADLINE_HIT, {})
        return WaitOutcome(None, None, ignored)

    def _next_message(self, timeout: float) -> dict[str, Any] | None:
        if self._pubsub is None:
            return None
        msg = self._pubsub.get_message(timeout=timeout)
        if not msg or msg["type"] != "message":
            return None
        try:
            result = parse_result(msg["data"])
        except ValueError:
            log.warning("ignoring a malformed message on %s", self.channel)
            return None
        self.observer(sc.EV_MESSAGE_RECEIVED, {"status": str(result.get("status"))})
        return result

    def _read_stored(self, accept: Accept, ignored: list[dict[str, Any]]) -> dict[str, Any] | None:
        try:
            raw = self.client.get(self.channel)
        except REDIS_ERRORS:
            return None
        if raw is None:
            return None
        result = parse_result(str(raw))
        if not accept(result):
            if not any(r.get("requestId") == result.get("requestId") for r in ignored):
                ignored.append(result)
            return None
        self.observer(sc.EV_STORED_RESULT_READ, {"status": str(result.get("status"))})
        return result

    def _resubscribe(self, deadline: float) -> None:
        """After a lost connection, subscribe again (bounded by the deadline)."""
        while time.monotonic() < deadline:
            try:
                self.subscribe()
                return
            except DependencyError:
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        self.close()

    def close(self) -> None:
        if self._pubsub is not None:
            try:
                self._pubsub.close()
            except REDIS_ERRORS:
                pass
            self._pubsub = None


def dumps(result: dict[str, Any]) -> str:
    return json.dumps(result, separators=(",", ":"))
