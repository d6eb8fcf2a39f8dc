"""The platform's log event codes (the ``event`` field), from the evidence contract.

A JSON line's ``event`` is the platform's when it is one of :data:`KNOWN_EVENTS`;
structlog writes its free-text message under the same key, so any other value is read
as the message. A pattern rule may only map a wording onto one of these.
"""

from __future__ import annotations

from typing import Final

from nanogrid.telemetry import semconv as sc

KNOWN_EVENTS: Final = frozenset(
    {
        # controller
        sc.CONTROLLER_READY,
        sc.UPLOAD_RECEIVED,
        sc.UPLOAD_SMALL,
        sc.UPLOAD_REFUSED,
        sc.UPLOAD_STORED,
        sc.RUN_CALLED,
        sc.RESULT_SUBSCRIBING,
        sc.TASK_SENT,
        sc.STAGE_NOT_RECORDED,
        sc.RESULT_RECEIVED,
        sc.RUN_TIMEOUT,
        sc.DEPENDENCY_UNAVAILABLE,
        # worker
        sc.WORKER_POLLING,
        sc.WORKER_STOPPED,
        sc.POLL_FAILED,
        sc.TASK_RECEIVED,
        sc.TASK_ALREADY_DONE,
        sc.TASK_TAKEN,
        sc.TASK_FAILED,
        sc.PACKAGE_DOWNLOADED,
        sc.PACKAGE_EXTRACTED,
        sc.PACKAGE_CACHED,
        sc.PACKAGE_INVALID,
        sc.PACKAGE_UNAVAILABLE,
        sc.PACKAGE_TAMPERED,
        sc.FUNCTION_EXECUTING,
        sc.FUNCTION_FINISHED,
        sc.RUNTIME_UNAVAILABLE,
        sc.RESULT_PUBLISHING,
        sc.RESULT_PUBLISHED,
        sc.RESULT_PUBLISH_FAILED,
        sc.TASK_DONE,
        sc.VISIBILITY_NOT_EXTENDED,
        sc.MESSAGE_NOT_DELETED,
        sc.METRICS_NOT_SENT,
        sc.HEARTBEAT_FAILED,
        sc.KNOB_ACTIVE,
    }
)
