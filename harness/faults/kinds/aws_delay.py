"""``aws_delay``: a matched AWS request reaches the service ``delay_ms`` late.

Example: ``Fault("slow-receive", "aws_delay", operation="SQS.ReceiveMessage", delay_ms=900)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.faults.kinds.base import AWS_MATCH, Action, AwsRequestKind, Message, Param, Verb


class AwsDelay(AwsRequestKind):
    name = "aws_delay"
    summary = "matched AWS requests forwarded delay_ms late"
    params: Mapping[str, Param] = {
        **AWS_MATCH,
        "delay_ms": Param(0.0, "how late the request reaches the service", positive=True),
    }

    def act(self, params: Mapping[str, Any], message: Message) -> Action:
        return Action(Verb.DELAY, delay_s=float(params["delay_ms"]) / 1000)


KIND = AwsDelay()
