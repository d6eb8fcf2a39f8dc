"""Background keep-alives of a worker: its heartbeat, and a running task's visibility."""

from __future__ import annotations

import contextvars
import json
import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType

import redis

from nanogrid import defaults
from nanogrid.results import REDIS_ERRORS
from nanogrid.symptoms import failure_fields
from nanogrid.telemetry import semconv as sc
from nanogrid.telemetry import untraced

log = logging.getLogger("nanogrid.worker")


class Ticker:
    """Calls ``action`` every ``interval`` seconds in a daemon thread until stopped."""

    def __init__(self, name: str, interval: float, action: Callable[[], None]) -> None:
        self.interval = interval
        self.action = action
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        # The action runs in the starter's context: its spans join the current trace.
        self._context = contextvars.copy_context()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._context.copy().run(self.action)

    def __enter__(self) -> Ticker:
        self._thread.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)


def heartbeat_action(
    client: redis.Redis, worker_id: str, ttl: int, info: dict[str, object]
) -> Callable[[], None]:
    """The heartbeat: ``nanogrid:worker:{id}`` with an expiry, read by ``/health``."""
    key = f"{defaults.HEARTBEAT_PREFIX}{worker_id}"
    failures = [0]

    def beat() -> None:
        try:
            with untraced():
                client.set(
                    key, json.dumps({**info, "workerId": worker_id, "ts": time.time()}), ex=ttl
                )
            failures[0] = 0
        except REDIS_ERRORS as exc:
            failures[0] += 1
            if failures[0] == 1:
                log.warning(
                    "heartbeat failed: %s",
                    exc,
                    extra={sc.EVENT: sc.HEARTBEAT_FAILED, **failure_fields(sc.REDIS, exc)},
                )

    return beat
