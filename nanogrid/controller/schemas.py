"""The Controller's response bodies, as pydantic models for its OpenAPI document.

The routes build their JSON themselves; these models only *describe* it, so that clients
and schema-driven fuzzers know every answer a route can give (``RESPONSES_*``). Each model
allows fields beyond those listed: a newer worker may add to its result.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nanogrid.protocol import ErrorType


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorDetail(_Open):
    """What went wrong; ``reason`` (uploads) or ``dependency`` and ``symptom``
    (503) may be added."""

    code: str = Field(description="a stable code, e.g. INVALID_PACKAGE, FUNCTION_NOT_FOUND")
    message: str = Field(description="what is wrong and how to fix it")
    reason: str | None = Field(default=None, description="why an upload was refused")
    dependency: str | None = Field(default=None, description="the dependency that is down")
    symptom: str | None = Field(
        default=None,
        description="how it failed: refused, connect_timeout, blackhole, reset, throttled, "
        "denied, server_error or error (see nanogrid.symptoms)",
    )


class ErrorResponse(_Open):
    """Every error answer: ``{"error": {"code", "message", ...}}``."""

    error: ErrorDetail


class FunctionMetadata(_Open):
    """A stored function version (``POST /upload`` 201)."""

    functionId: str
    s3Key: str
    runtime: str
    version: int
    sizeBytes: int
    sha256: str
    memoryMB: int
    timeoutSeconds: int
    createdAt: str
    originalName: str


class RunResult(_Open):
    """The worker's result JSON: the function ran (SUCCESS) or did not succeed (FAILED)."""

    requestId: str
    functionId: str
    status: Literal["SUCCESS", "FAILED"]
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


class RunTimeout(_Open):
    """``POST /run`` 202: the deadline passed; the result may appear at ``resultUrl``."""

    requestId: str
    functionId: str
    status: Literal["TIMEOUT"]
    message: str
    stage: str = Field(description="the last stage reached: ACCEPTED, QUEUED, RUNNING, ...")
    deadlineSeconds: float
    resultUrl: str


class RunInFlight(_Open):
    """``GET /runs/{requestId}`` while the run has no result yet."""

    requestId: str
    stage: str


class DependencyCheck(_Open):
    ok: bool
    error: str | None = None


class HealthReport(_Open):
    """``GET /health``: one check per dependency (redis, bucket, table, queue, workers)."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, DependencyCheck]


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


_INVALID = _error("the request does not match this schema (INVALID_REQUEST)")
_UNAVAILABLE = _error("a dependency (Redis, S3, DynamoDB, SQS) is down; nothing was enqueued")

RESPONSES_UPLOAD: dict[int | str, dict[str, Any]] = {
    201: {"model": FunctionMetadata, "description": "stored as the function's next version"},
    400: _error("the archive is invalid (INVALID_PACKAGE, with a reason and a fix)"),
    413: _error("the archive is over a size limit (PACKAGE_TOO_LARGE)"),
    422: _INVALID,
    503: _UNAVAILABLE,
}
RESPONSES_RUN: dict[int | str, dict[str, Any]] = {
    200: {"model": RunResult, "description": "the worker's result, SUCCESS or FAILED"},
    202: {
        "model": RunTimeout,
        "description": "the deadline passed (TIMEOUT); the result may appear at resultUrl",
        "headers": {"Location": {"description": "resultUrl", "schema": {"type": "string"}}},
    },
    404: _error("no such function (FUNCTION_NOT_FOUND)"),
    422: _INVALID,
    503: _UNAVAILABLE,
}
RESPONSES_GET_RUN: dict[int | str, dict[str, Any]] = {
    200: {
        "model": RunResult | RunInFlight,
        "description": "the stored result, or the stage reached while in flight",
    },
    404: _error("no such run, or its result expired (RUN_NOT_FOUND)"),
    422: _INVALID,
    503: _UNAVAILABLE,
}
RESPONSES_HEALTH: dict[int | str, dict[str, Any]] = {
    200: {"model": HealthReport, "description": "every dependency holds"},
    503: {"model": HealthReport, "description": "at least one dependency failed"},
}
