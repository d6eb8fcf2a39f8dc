"""The verdict taxonomy: every code a diagnosis can give, what it means, and its fix.

======================================  ====================================================
code                                    confirmed when the evidence shows ...
======================================  ====================================================
``HEALTHY``                             every run answered SUCCESS and no fault verdict holds
``INVALID_PACKAGE``                     an empty or unusable archive reached a worker
``UPLOAD_REJECTED``                     the controller refused an upload (400, validation)
``FUNCTION_FAILED``                     the function ran and exited non-zero
``FAILED_NOT_PROPAGATED``               the worker published FAILED, the controller still
                                        answered TIMEOUT (memo hypothesis 1)
``RESULT_PUBLISHED_WITHOUT_SUBSCRIBER`` PUBLISH reached 0 receivers while the controller
                                        was still waiting: late subscription or a dropped
                                        subscriber (memo hypothesis 3)
``RESULT_MESSAGE_LOST``                 PUBLISH counted the controller's subscription, but
                                        the pushed message never reached the controller's
                                        connection (its own wire)
``RESULT_AFTER_DEADLINE``               the result came after the controller had stopped
                                        waiting: the timeout's consequence, not its cause
``REDIS_UNREACHABLE``                   a component could not reach Redis; the detail names
                                        the symptom (refused, connect timeout, blackhole,
                                        reset) and the component (memo hypothesis 2 when it
                                        is the controller)
``AWS_UNREACHABLE``                     a component could not reach an AWS service (S3, SQS,
                                        DynamoDB, CloudWatch) or it answered errors; the
                                        detail names service, component and symptom
``WORKER_NOT_CONSUMING``                the task was sent, no worker took it (stage QUEUED);
                                        the detail gives the reason when the evidence has one
``WORKER_CRASHED``                      a worker died while it held the task, with or without
                                        a redelivery to another worker
``FUNCTION_TIMEOUT``                    the function ran past its timeout and was killed
``OUT_OF_MEMORY``                       the function went over its memory limit
``SLOW_FUNCTION``                       the function ran longer than the controller waits
``SLOW_DEPENDENCY``                     a step (AWS or Redis call, download, publish...) took
                                        far longer than the baseline or its documented floor
======================================  ====================================================

Each verdict is ``confirmed``, ``ruled_out`` or ``unknown`` (the evidence needed is missing).
A confirmed verdict is a root cause or the consequence of another confirmed verdict (see
:mod:`harness.analysis.causality`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VerdictInfo:
    title: str
    description: str
    fix: str


HEALTHY = "HEALTHY"

VERDICTS: dict[str, VerdictInfo] = {
    HEALTHY: VerdictInfo(
        "Healthy",
        "Every run answered SUCCESS and no fault verdict is confirmed.",
        "Nothing to fix.",
    ),
    "INVALID_PACKAGE": VerdictInfo(
        "Invalid package",
        "An empty or unusable archive reached a worker, so the function could not run.",
        "Validate uploads at /upload (refuse archives without main.py); rebuild the zip with "
        "`zip function.zip main.py`, check it with `unzip -l function.zip` and upload it again.",
    ),
    "UPLOAD_REJECTED": VerdictInfo(
        "Upload rejected",
        "The controller refused an uploaded archive at /upload.",
        "Fix the archive named in the 400 answer (main.py at its root) and upload it again.",
    ),
    "FUNCTION_FAILED": VerdictInfo(
        "Function failed",
        "The function ran and exited with a non-zero exit code.",
        "Read the published stderr and fix the function's code.",
    ),
    "FAILED_NOT_PROPAGATED": VerdictInfo(
        "FAILED result not propagated",
        "The worker published a FAILED result; the controller ignored it and timed out.",
        "Treat every terminal status (SUCCESS and FAILED) as the answer: end the wait and "
        "return the worker's result JSON.",
    ),
    "RESULT_PUBLISHED_WITHOUT_SUBSCRIBER": VerdictInfo(
        "Result published without a subscriber",
        "PUBLISH reached 0 receivers: the controller subscribed late or lost its subscription.",
        "Subscribe and wait for the confirmation before sending the task; also store the "
        "result under result:{requestId} and read it after subscribing.",
    ),
    "RESULT_MESSAGE_LOST": VerdictInfo(
        "Result message lost",
        "Redis delivered the result to the controller's subscription, but the message never "
        "reached the controller: lost between Redis and the controller.",
        "Keep reading the stored result:{requestId} while waiting (it recovers the result); "
        "look at what sits between the controller and Redis (a proxy, a client-side buffer).",
    ),
    "RESULT_AFTER_DEADLINE": VerdictInfo(
        "Result after the deadline",
        "The worker published the result after the controller had stopped waiting: the "
        "client got TIMEOUT although the run finished.",
        "Remove what made the run slow (see its cause); keep the controller's deadline above "
        "the function's timeoutSeconds plus start-up, or have clients fetch resultUrl.",
    ),
    "REDIS_UNREACHABLE": VerdictInfo(
        "Redis unreachable",
        "A component could not reach Redis (refused, connect timeout, blackhole or reset).",
        "Open TCP 6379 from that host (security group, VPC, route); check with "
        "`redis-cli -h <redis-endpoint> ping`; answer 503 at once instead of enqueueing.",
    ),
    "AWS_UNREACHABLE": VerdictInfo(
        "AWS service unreachable",
        "A component could not reach an AWS service (S3, SQS, DynamoDB or CloudWatch), or the "
        "service answered errors.",
        "Check the route and endpoint from that host (VPC endpoint, security group, "
        "AWS_ENDPOINT_URL_<SERVICE>), the credentials' permissions, and the service's health; "
        "retry with backoff on throttling.",
    ),
    "WORKER_NOT_CONSUMING": VerdictInfo(
        "No worker consuming",
        "The task was sent to SQS but no worker received it before the deadline.",
        "Start workers on the queue (check their logs and the /health worker count).",
    ),
    "WORKER_CRASHED": VerdictInfo(
        "Worker crashed",
        "A worker died while it held the task; SQS delivers it again after the visibility "
        "timeout if another worker is polling.",
        "Find why the worker died (its last log lines); keep the message until the result is "
        "stored so SQS redelivers it, and make runs idempotent.",
    ),
    "FUNCTION_TIMEOUT": VerdictInfo(
        "Function timeout",
        "The function ran longer than its timeoutSeconds and was killed.",
        "Make the function finish sooner or raise its timeoutSeconds.",
    ),
    "OUT_OF_MEMORY": VerdictInfo(
        "Out of memory",
        "The function went over its memoryMB limit.",
        "Lower the function's memory use or raise its memoryMB.",
    ),
    "SLOW_FUNCTION": VerdictInfo(
        "Function slower than the deadline",
        "The function itself ran longer than the controller waits for a result.",
        "Make the function faster, or raise the controller's deadline (NANOGRID_RUN_DEADLINE) "
        "above the function's run time; clients can fetch resultUrl later.",
    ),
    "SLOW_DEPENDENCY": VerdictInfo(
        "Slow dependency",
        "A step that calls AWS or Redis took far longer than the baseline or its floor.",
        "Find the slow path (network latency, bandwidth, throttling) from the slow spans; "
        "keep client timeouts below the run deadline.",
    ),
}

#: The codes of fault verdicts, in report order (HEALTHY is derived from them).
FAULT_CODES: tuple[str, ...] = tuple(code for code in VERDICTS if code != HEALTHY)
