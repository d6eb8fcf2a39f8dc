"""Names, key shapes and limits shared by the Controller and the Worker.

The resource names are those of the 2025-12-02 incident memo, so that a reader of the memo
recognises every key, channel and object path.
"""

from __future__ import annotations

BUCKET = "nanogrid-code-bucket"
TABLE = "nanogrid-functions"
QUEUE = "nanogrid-tasks"
DEAD_LETTER_QUEUE = "nanogrid-tasks-dlq"
REGION = "ap-northeast-2"
METRICS_NAMESPACE = "NanoGrid"

#: Redis channel *and* key of a request's result.
RESULT_PREFIX = "result:"
#: Redis key holding the last stage a request reached (QUEUED, RUNNING, ...).
STAGE_PREFIX = "stage:"
#: Redis key prefix of worker heartbeats.
HEARTBEAT_PREFIX = "nanogrid:worker:"

MEMORY_MB = 256
TIMEOUT_SECONDS = 10
RUN_DEADLINE_SECONDS = 25.0
RESULT_TTL_SECONDS = 24 * 3600
HEARTBEAT_SECONDS = 2.0
HEARTBEAT_TTL_SECONDS = 10
MAX_RECEIVE_COUNT = 5
VISIBILITY_TIMEOUT_SECONDS = 30
REDIS_CONNECT_TIMEOUT = 2.0
REDIS_SOCKET_TIMEOUT = 5.0

#: Lambda's direct-upload limits: 50 MB zipped, 250 MB unzipped.
MAX_ZIP_BYTES = 50 * 1024 * 1024
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024
MAX_ENTRIES = 10_000
MAX_COMPRESSION_RATIO = 200
#: Captured stdout / stderr above this size are truncated (and flagged).
MAX_OUTPUT_BYTES = 1024 * 1024


def result_key(request_id: str) -> str:
    """The Redis key and pub/sub channel of a request's result: ``result:{requestId}``."""
    return f"{RESULT_PREFIX}{request_id}"


def stage_key(request_id: str) -> str:
    """The Redis key of a request's last recorded stage."""
    return f"{STAGE_PREFIX}{request_id}"


def code_key(function_id: str, version: int) -> str:
    """The S3 key of a function's code: ``functions/{functionId}/v{N}.zip``."""
    return f"functions/{function_id}/v{version}.zip"
