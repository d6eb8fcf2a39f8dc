"""The evidence contract: every span, attribute, span event and log event NanoGrid emits.

In the spirit of OpenTelemetry's semantic conventions, this one module names what the
platform writes and what an analysis may read. The platform's log lines keep the incident
memo's human wording in ``message`` (``Successfully downloaded zip file: 34 bytes``) and
carry a structured ``event`` field beside it, with the event's own fields::

    {"message": "[REDIS] Result published successfully, subscribers=0",
     "event": "result.published", "receivers": 0, ...}

An analysis reads ``event`` and the named fields, never substrings of ``message``.

Trace ids are requestIds: :func:`trace_id_of` is the one conversion, used everywhere.
"""

from __future__ import annotations

import uuid
from typing import Final

from nanogrid import defaults

# --- spans ----------------------------------------------------------------------------------
# A span's name is the step; where a destination follows (``publish result:<id>``,
# ``process nanogrid-tasks``) the step is the first word(s), matched by :func:`step_of`.

SPAN_LOOKUP: Final = "function lookup"
SPAN_SUBSCRIBE: Final = "subscribe"
SPAN_SEND: Final = "send"
SPAN_WAIT: Final = "wait"
SPAN_RESPONSE: Final = "response"
SPAN_PROCESS: Final = "process"
SPAN_DOWNLOAD: Final = "download"
SPAN_EXTRACT: Final = "validate and extract"
SPAN_EXECUTE: Final = "execute"
SPAN_STORE: Final = "store result"
SPAN_PUBLISH: Final = "publish"
SPAN_METRICS: Final = "metrics"
SPAN_VALIDATE: Final = "validate upload"

#: The platform's own steps, each measured by :mod:`harness.analysis`'s latency rule.
PLATFORM_STEPS: Final = (
    SPAN_LOOKUP,
    SPAN_SUBSCRIBE,
    SPAN_SEND,
    SPAN_DOWNLOAD,
    SPAN_EXTRACT,
    SPAN_STORE,
    SPAN_PUBLISH,
    SPAN_METRICS,
)

#: Steps long enough to be worth a start record: a process that dies inside one leaves
#: "started, never finished" (see :mod:`nanogrid.telemetry.crashsafe`).
LONG_STEP_PREFIXES: Final = (f"{SPAN_PROCESS} ", SPAN_DOWNLOAD, SPAN_EXECUTE)


def step_of(span_name: str) -> str:
    """``publish result:abc`` -> ``publish``; ``validate and extract`` stays whole."""
    for step in (SPAN_EXTRACT, SPAN_STORE, SPAN_LOOKUP, SPAN_VALIDATE):
        if span_name == step:
            return step
    return span_name.split(" ", 1)[0]


# --- span attributes ------------------------------------------------------------------------

REQUEST_ID: Final = "nanogrid.request_id"
FUNCTION_ID: Final = "nanogrid.function_id"
SPAN_STATE: Final = "nanogrid.span.state"  # "started" on a start record
SPAN_STATE_STARTED: Final = "started"
PUBLISH_RECEIVERS: Final = "nanogrid.publish.receivers"
ZIP_BYTES: Final = "nanogrid.zip.bytes"
ZIP_ENTRIES: Final = "nanogrid.zip.entries"
ZIP_UNZIPPED_BYTES: Final = "nanogrid.zip.unzipped_bytes"
EXIT_CODE: Final = "process.exit.code"
COMMAND_ARGS: Final = "process.command_args"
DURATION_MS: Final = "nanogrid.duration_ms"
PEAK_MEMORY_BYTES: Final = "nanogrid.peak_memory_bytes"
TIMED_OUT: Final = "nanogrid.timed_out"
OUT_OF_MEMORY: Final = "nanogrid.out_of_memory"
RESULT_SOURCE: Final = "nanogrid.result.source"
RESULT_IGNORED: Final = "nanogrid.result.ignored"
STATUS: Final = "nanogrid.status"
STAGE: Final = "nanogrid.stage"
DEADLINE_SECONDS: Final = "nanogrid.deadline_seconds"
METRICS_SENT: Final = "nanogrid.metrics.sent"
RECEIVE_COUNT: Final = "messaging.aws_sqs.receive_count"
MESSAGE_ID: Final = "messaging.message.id"
MESSAGING_SYSTEM: Final = "messaging.system"
MESSAGING_DESTINATION: Final = "messaging.destination.name"
MESSAGING_OPERATION: Final = "messaging.operation.type"
RPC_SYSTEM: Final = "rpc.system"
RPC_SERVICE: Final = "rpc.service"
RPC_METHOD: Final = "rpc.method"
DB_SYSTEM: Final = "db.system"
SERVICE_INSTANCE: Final = "service.instance.id"

# --- span events (the controller's result waiter) -------------------------------------------

EV_SUBSCRIBE_CONFIRMED: Final = "subscribe confirmed"
EV_SUBSCRIBE_RETRIED: Final = "subscribe retried"
EV_CONNECTION_LOST: Final = "connection lost"
EV_MESSAGE_RECEIVED: Final = "message received"
EV_MESSAGE_IGNORED: Final = "message ignored"
EV_STORED_RESULT_READ: Final = "stored result read"
EV_DEADLINE_HIT: Final = "deadline hit"

# --- log events: the ``event`` field of a log line, and the fields it carries ---------------

EVENT: Final = "event"

# controller
CONTROLLER_READY: Final = "controller.ready"  # legacy: knobs switched on
UPLOAD_RECEIVED: Final = "upload.received"  # sizeBytes
UPLOAD_SMALL: Final = "upload.small"  # sizeBytes
UPLOAD_REFUSED: Final = "upload.refused"  # reason
UPLOAD_STORED: Final = "upload.stored"  # s3Key, version
RUN_CALLED: Final = "run.called"
RESULT_SUBSCRIBING: Final = "result.subscribing"  # channel
TASK_SENT: Final = "task.sent"  # messageId
STAGE_NOT_RECORDED: Final = "stage.not_recorded"  # stage, dependency, symptom
RESULT_RECEIVED: Final = "result.received"  # status
RUN_TIMEOUT: Final = "run.timeout"  # stage, waitedSeconds, deadlineSeconds
DEPENDENCY_UNAVAILABLE: Final = "dependency.unavailable"  # dependency, symptom, error

# worker
WORKER_POLLING: Final = "worker.polling"  # heartbeatTtlSeconds, runtime
WORKER_STOPPED: Final = "worker.stopped"
POLL_FAILED: Final = "worker.poll_failed"  # dependency, symptom, error
TASK_RECEIVED: Final = "task.received"  # receiveCount, messageId
TASK_ALREADY_DONE: Final = "task.already_done"
TASK_TAKEN: Final = "task.taken"
TASK_FAILED: Final = "task.failed"  # dependency, symptom, error: the task will be redelivered
PACKAGE_DOWNLOADED: Final = "package.downloaded"  # bytes
PACKAGE_EXTRACTED: Final = "package.extracted"  # files
PACKAGE_CACHED: Final = "package.cached"
PACKAGE_INVALID: Final = "package.invalid"  # reason
PACKAGE_UNAVAILABLE: Final = "package.unavailable"  # reason
PACKAGE_TAMPERED: Final = "package.tampered"  # sha256, reason: evicted, extracted again
FUNCTION_EXECUTING: Final = "function.executing"
FUNCTION_FINISHED: Final = "function.finished"  # exitCode
RUNTIME_UNAVAILABLE: Final = "runtime.unavailable"
RESULT_PUBLISHING: Final = "result.publishing"  # channel
RESULT_PUBLISHED: Final = "result.published"  # receivers
RESULT_PUBLISH_FAILED: Final = "result.publish_failed"  # dependency, symptom, error
TASK_DONE: Final = "task.done"  # status
VISIBILITY_NOT_EXTENDED: Final = "visibility.not_extended"  # dependency, symptom
MESSAGE_NOT_DELETED: Final = "message.not_deleted"  # dependency, symptom
METRICS_NOT_SENT: Final = "metrics.not_sent"  # dependency, symptom
HEARTBEAT_FAILED: Final = "heartbeat.failed"  # dependency, symptom
KNOB_ACTIVE: Final = "knob.active"  # knob, value

#: Log events that report a dependency failing; each carries ``dependency`` and ``symptom``.
DEPENDENCY_FAILURES: Final = frozenset(
    {
        DEPENDENCY_UNAVAILABLE,
        STAGE_NOT_RECORDED,
        POLL_FAILED,
        TASK_FAILED,
        RESULT_PUBLISH_FAILED,
        VISIBILITY_NOT_EXTENDED,
        MESSAGE_NOT_DELETED,
        METRICS_NOT_SENT,
        HEARTBEAT_FAILED,
    }
)

# log fields
F_DEPENDENCY: Final = "dependency"
F_SYMPTOM: Final = "symptom"
F_ERROR: Final = "error"
F_RECEIVERS: Final = "receivers"
F_STATUS: Final = "status"
F_STAGE: Final = "stage"
F_BYTES: Final = "bytes"
F_FILES: Final = "files"
F_REASON: Final = "reason"
F_EXIT_CODE: Final = "exitCode"
F_RECEIVE_COUNT: Final = "receiveCount"
F_KNOB: Final = "knob"
F_WORKER_ID: Final = "workerId"
F_COMPONENT: Final = "component"
F_REQUEST_ID: Final = "requestId"
F_HEARTBEAT_TTL: Final = "heartbeatTtlSeconds"  # worker.polling: how long a heartbeat lives

#: A worker's heartbeat is the Redis key ``<prefix><workerId>``, set with an expiry.
HEARTBEAT_KEY_PREFIX: Final = defaults.HEARTBEAT_PREFIX

#: Dependencies as named in ``dependency`` fields and error bodies.
REDIS: Final = "redis"
S3: Final = "s3"
SQS: Final = "sqs"
DYNAMODB: Final = "dynamodb"
CLOUDWATCH: Final = "cloudwatch"
AWS_SERVICES: Final = (S3, SQS, DYNAMODB, CLOUDWATCH)


def trace_id_of(request_id: str) -> str:
    """The trace id (32 lowercase hex digits) of a requestId; raises ValueError if it is not
    a UUID."""
    return f"{uuid.UUID(request_id).int:032x}"
