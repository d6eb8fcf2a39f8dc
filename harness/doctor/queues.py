"""The task queue and its dead-letter queue: attributes, depths, the redrive policy.

Only GetQueueUrl and GetQueueAttributes are called: no message is received, so none changes
visibility or receive count. The dead-letter queue is the one the queue's RedrivePolicy
names (the source of truth), not a configured URL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from harness.doctor.aws import aws_errors
from harness.doctor.check import Check
from harness.doctor.errors import CheckFailed
from harness.doctor.result import Finding, failed, passed

if TYPE_CHECKING:
    from mypy_boto3_sqs.literals import QueueAttributeNameType

    from harness.doctor.context import Context

_MISSING = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
_DEPTH = {
    "visible": "ApproximateNumberOfMessages",
    "inFlight": "ApproximateNumberOfMessagesNotVisible",
    "delayed": "ApproximateNumberOfMessagesDelayed",
}


def queue(ctx: Context) -> Finding:
    """The task queue exists; its depth and visibility timeout."""
    s = ctx.settings
    name = s.queue_url or s.queue
    missing = (
        f"sqs: no queue {name!r} at {ctx.sqs.meta.endpoint_url}",
        "create it (nanogrid-harness provisions nanogrid-tasks with a dead-letter queue), or "
        "set NANOGRID_QUEUE_URL / NANOGRID_QUEUE to the queue the controller uses",
    )
    with aws_errors(ctx, "sqs", ctx.sqs, dict.fromkeys(_MISSING, missing)):
        url = s.queue_url or ctx.sqs.get_queue_url(QueueName=s.queue)["QueueUrl"]
        attributes = _attributes(ctx, url)
    ctx.queue_url, ctx.queue_attributes = url, attributes
    depth = _depth(attributes)
    visibility = attributes.get("VisibilityTimeout", "?")
    return passed(
        f"{_name(url)}: {_shown(depth)}; visibility timeout {visibility} s",
        url=url,
        visibilityTimeout=visibility,
        **depth,
    )


def dead_letter(ctx: Context) -> Finding:
    """The queue has a RedrivePolicy, its dead-letter queue exists and is empty."""
    url = ctx.queue_url or "?"
    raw = ctx.queue_attributes.get("RedrivePolicy")
    if not raw:
        return failed(
            f"sqs: {_name(url)} has no RedrivePolicy: a task that always fails is received "
            "again and again, and never set aside",
            f"give it a dead-letter queue: `{ctx.aws_cli('sqs')} set-queue-attributes "
            f"--queue-url {url} --attributes file://redrive.json` with a RedrivePolicy of "
            '{"deadLetterTargetArn": DLQ_ARN, "maxReceiveCount": 5}',
        )
    arn, max_receive = _policy(raw)
    dlq_name, account = arn.rsplit(":", 2)[-1], arn.rsplit(":", 2)[-2]
    missing = (
        f"sqs: the dead-letter queue {dlq_name!r} that {_name(url)}'s RedrivePolicy names "
        "does not exist",
        "create it, or correct the RedrivePolicy's deadLetterTargetArn",
    )
    with aws_errors(ctx, "sqs", ctx.sqs, dict.fromkeys(_MISSING, missing)):
        found = ctx.sqs.get_queue_url(QueueName=dlq_name, QueueOwnerAWSAccountId=account)
        dlq_url = found["QueueUrl"]
        depth = _depth(_attributes(ctx, dlq_url))
    data = {"url": dlq_url, "arn": arn, "maxReceiveCount": max_receive, **depth}
    if total := sum(depth.values()):
        cli = ctx.aws_cli("sqs")
        return failed(
            f"sqs: {total} message(s) in the dead-letter queue {dlq_name} ({_shown(depth)}): "
            f"tasks received {max_receive} times (maxReceiveCount) without completing",
            f"read them without deleting (`{cli} receive-message --queue-url {dlq_url} "
            "--visibility-timeout 0 --max-number-of-messages 10 --attribute-names All`), find "
            "why they failed in the workers' logs (their requestId), then move them back "
            f"(`{cli} start-message-move-task --source-arn {arn}`) or drop them "
            f"(`{cli} purge-queue --queue-url {dlq_url}`)",
            **data,
        )
    return passed(f"{dlq_name}: empty; maxReceiveCount {max_receive}", **data)


def _attributes(ctx: Context, url: str) -> dict[str, str]:
    names: list[QueueAttributeNameType] = ["All"]
    found = ctx.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)
    return {str(k): v for k, v in found.get("Attributes", {}).items()}


def _policy(raw: str) -> tuple[str, int]:
    """``(deadLetterTargetArn, maxReceiveCount)`` of a RedrivePolicy."""
    try:
        policy = json.loads(raw)
        arn, count = str(policy["deadLetterTargetArn"]), int(policy["maxReceiveCount"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckFailed(
            f"sqs: the RedrivePolicy is not readable ({exc}): {raw[:120]!r}",
            'set it to {"deadLetterTargetArn": DLQ_ARN, "maxReceiveCount": 5}',
        ) from exc
    if arn.count(":") < 5:
        raise CheckFailed(
            f"sqs: the RedrivePolicy's deadLetterTargetArn is not a queue ARN: {arn!r}",
            "use the dead-letter queue's QueueArn attribute",
        )
    return arn, count


def _depth(attributes: Mapping[str, str]) -> dict[str, int]:
    return {key: int(attributes.get(name, "0")) for key, name in _DEPTH.items()}


def _shown(depth: Mapping[str, int]) -> str:
    return f"{depth['visible']} visible, {depth['inFlight']} in flight, {depth['delayed']} delayed"


def _name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


QUEUE = Check("sqs.queue", queue)
DEAD_LETTER = Check("sqs.dead-letter", dead_letter, needs=(QUEUE.name,))
