"""``redis_error``: a matched Redis command is answered with an error by the proxy, in place
of the server (which never sees it), in order with the replies to earlier commands.

``error`` is the error line as Redis writes it: an upper-case code, then the message.
Example: ``Fault("oom", "redis_error", command="SET", key="result:*", error="OOM command
not allowed when used memory > 'maxmemory'.")``.
"""

from __future__ import annotations

import re
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

_ERROR_LINE = re.compile(r"[A-Z][A-Z0-9_-]*( .*)?")


class RedisError(RedisCommandKind):
    name = "redis_error"
    summary = "matched Redis commands answered with an error instead of forwarded"
    params: Mapping[str, Param] = {
        **REDIS_COMMAND_MATCH,
        "error": Param(
            "LOADING Redis is loading the dataset in memory",
            "the error line: CODE message (LOADING, OOM, READONLY, NOAUTH, ERR ...)",
        ),
    }

    def check(self, params: Mapping[str, Any]) -> str | None:
        if not _ERROR_LINE.fullmatch(str(params["error"])):
            return "error must start with an upper-case code (ERR, LOADING, OOM ...)"
        return None

    def act(self, params: Mapping[str, Any], message: Message) -> Action:
        error = str(params["error"])
        return Action(
            Verb.ANSWER, answer=f"-{error}\r\n".encode(), detail={"error": error.split()[0]}
        )


KIND = RedisError()
