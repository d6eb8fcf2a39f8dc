"""Turning what happened to a task into the memo's result JSON."""

from __future__ import annotations

from nanogrid.protocol import ErrorType, Result, Status, Task
from nanogrid.runtime.base import Execution
from nanogrid.worker.metrics import optimization_tip


def error_type_of(execution: Execution) -> ErrorType | None:
    """None for a success; otherwise why the run failed."""
    if execution.timed_out:
        return ErrorType.FUNCTION_TIMEOUT
    if execution.out_of_memory:
        return ErrorType.OUT_OF_MEMORY
    if execution.exit_code != 0:
        return ErrorType.USER_CODE_ERROR
    return None


def result_from_execution(task: Task, execution: Execution, worker_id: str) -> Result:
    error_type = error_type_of(execution)
    message = None
    if error_type == ErrorType.FUNCTION_TIMEOUT:
        message = (
            f"the function ran longer than its timeout of {task.timeoutSeconds}s and was killed"
        )
    elif error_type == ErrorType.OUT_OF_MEMORY:
        message = f"the function went over its memory limit of {task.memoryMB}MB"
    return Result(
        requestId=task.requestId,
        functionId=task.functionId,
        status=Status.FAILED if error_type else Status.SUCCESS,
        exitCode=execution.exit_code,
        stdout=execution.stdout,
        stderr=execution.stderr,
        durationMillis=execution.duration_ms,
        peakMemoryBytes=execution.peak_memory_bytes,
        peakMemoryMB=round(execution.peak_memory_bytes / (1024 * 1024)),
        optimizationTip=optimization_tip(task.memoryMB, execution.peak_memory_bytes, error_type),
        errorType=error_type,
        errorMessage=message,
        stdoutTruncated=execution.stdout_truncated,
        stderrTruncated=execution.stderr_truncated,
        workerId=worker_id,
    )


def failure_result(task: Task, error_type: ErrorType, message: str, worker_id: str) -> Result:
    """A FAILED result for a task that never ran (invalid package, platform error)."""
    return Result(
        requestId=task.requestId,
        functionId=task.functionId,
        status=Status.FAILED,
        exitCode=None,
        stdout="",
        stderr=message,
        durationMillis=0,
        peakMemoryBytes=0,
        peakMemoryMB=0,
        optimizationTip="Tip: nothing ran; fix the error above and run again.",
        errorType=error_type,
        errorMessage=message,
        workerId=worker_id,
    )
