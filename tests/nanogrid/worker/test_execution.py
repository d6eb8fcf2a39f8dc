"""From what happened to a run to the memo's result JSON."""

from __future__ import annotations

import pytest

from nanogrid.protocol import ErrorType, Status, Task
from nanogrid.runtime.base import Execution
from nanogrid.worker.execution import error_type_of, failure_result, result_from_execution

MB = 1024 * 1024
TASK = Task(
    requestId="req-1",
    functionId="fn-1",
    s3Key="functions/fn-1/v1.zip",
    runtime="python",
    memoryMB=128,
    timeoutSeconds=3,
    deadline=0.0,
)


def execution(**changes) -> Execution:
    values = {
        "command": ["python", "main.py"],
        "exit_code": 0,
        "signal": None,
        "stdout": "out\n",
        "stderr": "err\n",
        "stdout_truncated": False,
        "stderr_truncated": False,
        "duration_ms": 42,
        "peak_memory_bytes": 10 * MB + 600 * 1024,
        "timed_out": False,
        "out_of_memory": False,
    }
    return Execution(**{**values, **changes})


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, None),
        ({"exit_code": 1}, ErrorType.USER_CODE_ERROR),
        ({"exit_code": 137, "signal": 9}, ErrorType.USER_CODE_ERROR),
        ({"exit_code": None, "timed_out": True}, ErrorType.FUNCTION_TIMEOUT),
        ({"exit_code": 137, "out_of_memory": True}, ErrorType.OUT_OF_MEMORY),
        # a run killed at its timeout while over its memory is reported as the timeout
        ({"exit_code": None, "timed_out": True, "out_of_memory": True}, ErrorType.FUNCTION_TIMEOUT),
        ({"exit_code": 0, "out_of_memory": True}, ErrorType.OUT_OF_MEMORY),
    ],
)
def test_error_type_of(changes, expected):
    assert error_type_of(execution(**changes)) == expected


def test_success_result():
    result = result_from_execution(TASK, execution(), "w-1")
    assert result.status == Status.SUCCESS
    assert (result.requestId, result.functionId, result.workerId) == ("req-1", "fn-1", "w-1")
    assert (result.exitCode, result.stdout, result.stderr) == (0, "out\n", "err\n")
    assert result.durationMillis == 42
    assert (result.peakMemoryBytes, result.peakMemoryMB) == (10 * MB + 600 * 1024, 11)
    assert result.errorType is None
    assert result.errorMessage is None
    assert result.optimizationTip.startswith("Tip: ")
    assert "errorType" not in result.to_dict()


def test_user_error_result_has_no_message():
    result = result_from_execution(TASK, execution(exit_code=2), "w-1")
    assert (result.status, result.errorType) == (Status.FAILED, ErrorType.USER_CODE_ERROR)
    assert result.exitCode == 2
    assert result.errorMessage is None


def test_timeout_result_names_the_timeout():
    result = result_from_execution(TASK, execution(exit_code=None, timed_out=True), "w-1")
    assert (result.status, result.errorType) == (Status.FAILED, ErrorType.FUNCTION_TIMEOUT)
    assert result.exitCode is None
    assert result.errorMessage is not None
    assert "timeout of 3s" in result.errorMessage


def test_out_of_memory_result_names_the_limit_and_tips_more_memory():
    result = result_from_execution(TASK, execution(exit_code=137, out_of_memory=True), "w-1")
    assert (result.status, result.errorType) == (Status.FAILED, ErrorType.OUT_OF_MEMORY)
    assert result.errorMessage is not None
    assert "memory limit of 128MB" in result.errorMessage
    assert "ran out of its 128MB" in result.optimizationTip


def test_truncation_flags_are_carried():
    result = result_from_execution(
        TASK, execution(stdout_truncated=True, stderr_truncated=True), "w-1"
    )
    assert (result.stdoutTruncated, result.stderrTruncated) == (True, True)


@pytest.mark.parametrize("error_type", [ErrorType.INVALID_PACKAGE, ErrorType.PLATFORM_ERROR])
def test_failure_result(error_type):
    result = failure_result(TASK, error_type, "the zip is empty", "w-2")
    data = result.to_dict()
    assert data["status"] == "FAILED"
    assert data["errorType"] == error_type.value
    assert data["errorMessage"] == "the zip is empty"
    assert data["stderr"] == "the zip is empty"
    assert data["exitCode"] is None
    assert (data["durationMillis"], data["peakMemoryBytes"], data["peakMemoryMB"]) == (0, 0, 0)
    assert data["workerId"] == "w-2"
