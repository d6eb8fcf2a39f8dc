"""``redis_drop``: a matched Redis command is never forwarded; the client waits for a reply.

Example: ``Fault("lost-publish", "redis_drop", command="PUBLISH", key="result:*")``.
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


class RedisDrop(RedisCommandKind):
    name = "redis_drop"
    summary = "matched Redis commands never forwarded: the client waits"
    params: Mapping[str, Param] = dict(REDIS_COMMAND_MATCH)

    def act(self, params: Mapping[str, Any], message: Message) -> Action:
        return Action(Verb.DROP)


KIND = RedisDrop()
