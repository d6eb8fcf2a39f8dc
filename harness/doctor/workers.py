"""Live workers: the heartbeat keys workers keep in Redis, each with an expiry.

A worker writes ``<HEARTBEAT_KEY_PREFIX><workerId>`` (JSON: workerId, runtime, pid,
isolation, ts) every few seconds with a short expiry, and deletes it when it stops: a key
that exists is a worker that beat recently. Reading them is SCAN, GET and TTL only.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.doctor.check import Check
from harness.doctor.redis import PING, redis_errors
from harness.doctor.result import Finding, failed, passed
from nanogrid.telemetry.semconv import HEARTBEAT_KEY_PREFIX

if TYPE_CHECKING:
    from harness.doctor.context import Context

_NO_EXPIRY = -1
_GONE = -2


@dataclass(frozen=True)
class Heartbeat:
    """One worker's heartbeat as read now."""

    worker_id: str
    runtime: str
    age_s: float | None  # seconds since the worker wrote it, by the two hosts' clocks
    ttl_s: int  # seconds until it expires; -1: never (not a heartbeat a worker wrote)

    def describe(self) -> str:
        age = f", beat {self.age_s:.1f} s ago" if self.age_s is not None else ""
        return f"{self.worker_id} ({self.runtime}{age})"


def heartbeats(ctx: Context) -> Finding:
    """At least one live heartbeat; one without an expiry does not count."""
    with redis_errors(ctx):
        beats = _read(ctx)
    live = [b for b in beats if b.ttl_s != _NO_EXPIRY]
    stuck = [b.worker_id for b in beats if b.ttl_s == _NO_EXPIRY]
    data = {"live": [b.worker_id for b in live], "withoutExpiry": stuck}
    if not live:
        extra = f" (keys without expiry, not written by a worker: {', '.join(stuck)})"
        return failed(
            "no worker heartbeat: no worker is consuming "
            f"(no live {HEARTBEAT_KEY_PREFIX}* key in Redis{extra if stuck else ''})",
            "start a worker (`nanogrid-worker`) with this REDIS_URL and the same queue; if one "
            "runs, it cannot reach this Redis: its log says `heartbeat failed`",
            **data,
        )
    shown = ", ".join(b.describe() for b in live)
    return passed(f"{len(live)} live worker(s): {shown}", **data)


def _read(ctx: Context) -> list[Heartbeat]:
    beats = []
    for key in ctx.redis.scan_iter(match=f"{HEARTBEAT_KEY_PREFIX}*", count=100):
        raw, ttl = ctx.redis.get(key), int(ctx.redis.ttl(key))
        if raw is None or ttl == _GONE:
            continue  # expired between SCAN and GET
        beats.append(_parse(str(key), str(raw), ttl))
    return sorted(beats, key=lambda b: b.worker_id)


def _parse(key: str, raw: str, ttl: int) -> Heartbeat:
    worker_id = key.removeprefix(HEARTBEAT_KEY_PREFIX)
    try:
        body = json.loads(raw)
    except ValueError:
        return Heartbeat(worker_id, "unreadable heartbeat", None, ttl)
    if not isinstance(body, dict):
        return Heartbeat(worker_id, "unreadable heartbeat", None, ttl)
    ts = body.get("ts")
    age = max(0.0, time.time() - ts) if isinstance(ts, int | float) else None
    return Heartbeat(str(body.get("workerId", worker_id)), str(body.get("runtime", "?")), age, ttl)


HEARTBEATS = Check("workers.heartbeat", heartbeats, needs=(PING.name,))
