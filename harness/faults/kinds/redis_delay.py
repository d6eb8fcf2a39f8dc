"""``redis_delay``: a matched Redis command reaches the server ``delay_ms`` late.

Commands after it on the same connection wait behind it, as on one TCP stream.
Example: ``Fault("late-subscribe", "redis_delay", command="SUBSCRIBE", key="result:*",
delay_ms=1500)`` replays a subscription made after the result was published.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.faults.kinds.base import (
    REDIS_COMMAND_MATCH,
    Action,
    Message,
    Param,
    RedisCommandKind,
    Verb,
)


class RedisDelay(RedisCommandKind):
    name = "redis_delay"
    summary = "matched Redis commands forwarded delay_ms late"
    params: Mapping[str, Param] = {
        **REDIS_COMMAND_MATCH,
        "delay_ms": Param(0.0, "how late the command reaches the server", positive=True),
    }

    def act(self, params: Mapping[str, Any], message: Message) -> Action:
        return Action(Verb.DELAY, delay_s=float(params["delay_ms"]) / 1000)


KIND = RedisDelay()
