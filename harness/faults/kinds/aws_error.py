"""``aws_error``: a matched AWS request is answered by the proxy with an AWS error, in the
service's own wire format (JSON, query XML, REST-XML or CBOR, as the request was sent); the
service never sees it.

``error`` picks a preset with each service's real status and code (``throttling``: S3 503
SlowDown, DynamoDB 400 ThrottlingException ...); ``status``, ``code`` and ``message``
override it. Example: ``Fault("throttled", "aws_error", operation="SQS.SendMessage",
error="throttling", first_n_matches=2)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.faults import aws_errors
from harness.faults.kinds.base import AWS_MATCH, Action, AwsRequestKind, Message, Param, Verb

PRESETS = tuple(aws_errors.PRESETS)


class AwsError(AwsRequestKind):
    name = "aws_error"
    summary = "matched AWS requests answered with an AWS error in the service's wire format"
    params: Mapping[str, Param] = {
        **AWS_MATCH,
        "error": Param("throttling", "the preset: " + ", ".join(PRESETS), choices=PRESETS),
        "status": Param(0, "HTTP status instead of the preset's (0: the preset's)", integer=True),
        "code": Param("", "error code instead of the preset's"),
        "message": Param("", "error message instead of the preset's"),
    }

    def check(self, params: Mapping[str, Any]) -> str | None:
        status = int(params["status"])
        if status and not 400 <= status <= 599:
            return f"status must be an HTTP error status (400-599), got {status}"
        return None

    def act(self, params: Mapping[str, Any], message: Message) -> Action:
        assert message.request is not None
        answer = aws_errors.describe(
            message.request,
            str(params["error"]),
            status=int(params["status"]) or None,
            code=str(params["code"]) or None,
            message=str(params["message"]) or None,
        )
        return Action(
            Verb.ANSWER,
            answer=answer.raw,
            detail={"status": answer.status, "code": answer.code},
        )


KIND = AwsError()
