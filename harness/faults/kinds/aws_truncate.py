"""``aws_truncate``: the answer to a matched AWS request is cut after ``keep_bytes`` bytes of
its body, then the connection is closed: the client reads a short body.

Example: ``Fault("short-zip", "aws_truncate", operation="S3.GetObject", keep_bytes=10)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.faults.kinds.base import AWS_MATCH, Action, AwsRequestKind, Message, Param, Verb


class AwsTruncate(AwsRequestKind):
    name = "aws_truncate"
    summary = "the answer to matched AWS requests cut after keep_bytes of body"
    params: Mapping[str, Param] = {
        **AWS_MATCH,
        "keep_bytes": Param(0, "body bytes of the answer let through", integer=True),
    }

    def act(self, params: Mapping[str, Any], message: Message) -> Action:
        return Action(Verb.TRUNCATE, keep_bytes=int(params["keep_bytes"]))


KIND = AwsTruncate()
