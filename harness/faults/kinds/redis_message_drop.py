"""``redis_message_drop``: a pushed pub/sub message on a matched channel never reaches the
subscriber; the server counted it as received.

Example: ``Fault("lost-result", "redis_message_drop", channel="result:*")``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.faults.kinds.base import REDIS_PUSH_MATCH, Action, Message, Param, RedisPushKind, Verb


class RedisMessageDrop(RedisPushKind):
    name = "redis_message_drop"
    summary = "pushed pub/sub messages on matched channels dropped"
    params: Mapping[str, Param] = dict(REDIS_PUSH_MATCH)

    def act(self, params: Mapping[str, Any], message: Message) -> Action:
        return Action(Verb.DROP)


KIND = RedisMessageDrop()
