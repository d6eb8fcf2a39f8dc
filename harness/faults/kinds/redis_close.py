"""``redis_close``: the connection is closed (FIN both ways) at a matched Redis command,
which the server never sees.

Example: ``Fault("cut-at-get", "redis_close", command="GET", key="result:*")``.
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


class RedisClose(RedisCommandKind):
    name = "redis_close"
    summary = "the connection closed at a matched Redis command"
    params: Mapping[str, Param] = dict(REDIS_COMMAND_MATCH)

    def act(self, params: Mapping[str, Any], message: Message) -> Action:
        return Action(Verb.CLOSE)


KIND = RedisClose()
