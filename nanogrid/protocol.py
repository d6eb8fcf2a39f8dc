"""The wire formats: the task sent over SQS and the result JSON published over Redis.

The result keeps the incident memo's field names exactly (``requestId``, ``functionId``,
``status``, ``exitCode``, ``stdout``, ``stderr``, ``durationMillis``, ``peakMemoryBytes``,
``peakMemoryMB``, ``optimizationTip``); ``errorType`` is added when the status is FAILED,
and trace context travels in the added ``trace`` field, never in place of a memo field.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """Terminal and non-terminal outcomes of a run, as the client sees them."""

    SUCCESS = "SUCCESS"  # the function exited 0
    FAILED = "FAILED"  # the worker answered with an error (see ErrorType)
    TIMEOUT = "TIMEOUT"  # the controller's deadline passed without a result


class ErrorType(StrEnum):
    """Why a FAILED run failed."""

    USER_CODE_ERROR = "USER_CODE_ERROR"  # the function exited non-zero
    FUNCTION_TIMEOUT = "FUNCTION_TIMEOUT"  # killed after timeoutSeconds
    OUT_OF_MEMORY = "OUT_OF_MEMORY"  # went over memoryMB
    INVALID_PACKAGE = "INVALID_PACKAGE"  # the zip cannot be run (empty, corrupt, hostile)
    PLATFORM_ERROR = "PLATFORM_ERROR"  # the worker itself failed (download, runtime)


class Stage(StrEnum):
    """The last stage a request reached, recorded in Redis at ``stage:{requestId}``."""

    ACCEPTED = "ACCEPTED"  # the controller created the requestId
    QUEUED = "QUEUED"  # the task is in SQS, no worker has taken it yet
    RUNNING = "RUNNING"  # a worker received the task
    COMPLETED = "COMPLETED"  # the result is stored


@dataclass(frozen=True)
class Task:
    """What the controller sends to a worker over SQS (the message body, JSON)."""

    requestId: str
    functionId: str
    s3Key: str
    runtime: str
    memoryMB: int
    timeoutSeconds: int
    deadline: float  # epoch seconds after which nobody waits for the result any more
    inputData: Any = None
    sha256: str | None = None
    bucket: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, body: str) -> Task:
        """Parse a message body; raises ``ValueError`` saying what is missing or wrong."""
        try:
            data = json.loads(body)
        except json.JSONDecodeError as exc:
            raise ValueError(f"task body is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError("task body must be a JSON object")
        missing = [n for n in ("requestId", "functionId", "s3Key") if not data.get(n)]
        if missing:
            raise ValueError(f"task lacks {', '.join(missing)}")
        known = set(cls.__dataclass_fields__)
        return cls(
            requestId=str(data["requestId"]),
            functionId=str(data["functionId"]),
            s3Key=str(data["s3Key"]),
            runtime=str(data.get("runtime") or "python"),
            memoryMB=int(data.get("memoryMB") or 256),
            timeoutSeconds=int(data.get("timeoutSeconds") or 10),
            deadline=float(data.get("deadline") or 0),
            **{k: data[k] for k in ("inputData", "sha256", "bucket") if k in data and k in known},
        )


@dataclass
class Result:
    """The result JSON a worker stores at and publishes on ``result:{requestId}``."""

    requestId: str
    functionId: str
    status: Status
    exitCode: int | None
    stdout: str
    stderr: str
    durationMillis: int
    peakMemoryBytes: int
    peakMemoryMB: int
    optimizationTip: str
    errorType: ErrorType | None = None
    errorMessage: str | None = None
    stdoutTruncated: bool = False
    stderrTruncated: bool = False
    workerId: str | None = None
    trace: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object; optional fields are left out when unset."""
        data = asdict(self)
        for name in ("errorType", "errorMessage", "workerId"):
            if data[name] is None:
                del data[name]
        for name in ("stdoutTruncated", "stderrTruncated"):
            if not data[name]:
                del data[name]
        if not data["trace"]:
            del data["trace"]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))


def parse_result(raw: str | bytes) -> dict[str, Any]:
    """Decode a stored or published result; raises ``ValueError`` on anything but an object."""
    data = json.loads(raw)
    if not isinstance(data, dict) or "status" not in data:
        raise ValueError("result is not a JSON object with a status")
    return data


def is_terminal(result: dict[str, Any]) -> bool:
    """Every status a worker publishes ends the controller's wait (SUCCESS and FAILED alike)."""
    return result.get("status") in (Status.SUCCESS, Status.FAILED)
