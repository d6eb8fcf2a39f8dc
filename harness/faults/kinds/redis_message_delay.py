"""``redis_message_delay``: a pushed pub/sub message on a matched channel reaches the
subscriber ``delay_ms`` late (and what follows it on the connection waits behind it).

Example: ``Fault("slow-result", "redis_message_delay", channel="result:*", delay_ms=800)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.faults.kinds.base import REDIS_PUSH_MATCH, Action, Message, Param, RedisPushKind, Verb


class RedisMessageDelay(RedisPushKind):
    name = "redis_message_delay"
    summary = "pushed pub/sub messages on matched channels delivered delay_ms late"
    params: Mapping[str, Param] = {
        **REDIS_PUSH_MATCH,
        "delay_ms": Param(0.0, "how late the message reaches the subscriber", positive=True),
    }

    def act(self, params: Mapping[str, Any], message: Message) -> Action:
        return Action(Verb.DELAY, delay_s=float(params["delay_ms"]) / 1000)


KIND = RedisMessageDelay()
