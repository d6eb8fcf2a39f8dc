"""The wire formats: Task JSON over SQS, the memo's result JSON over Redis."""

from __future__ import annotations

import json

import pytest

from nanogrid.protocol import ErrorType, Result, Status, Task, is_terminal, parse_result

#: The result JSON fields of the incident memo, spelled exactly.
MEMO_FIELDS = {
    "requestId",
    "functionId",
    "status",
    "exitCode",
    "stdout",
    "stderr",
    "durationMillis",
    "peakMemoryBytes",
    "peakMemoryMB",
    "optimizationTip",
}


def make_task(**changes) -> Task:
    values = {
        "requestId": "req-1",
        "functionId": "fn-1",
        "s3Key": "functions/fn-1/v1.zip",
        "runtime": "python",
        "memoryMB": 512,
        "timeoutSeconds": 7,
        "deadline": 1764660019.5,
        "inputData": {"name": "x", "n": [1, 2]},
        "sha256": "ab" * 32,
        "bucket": "other-bucket",
    }
    return Task(**{**values, **changes})


def make_result(**changes) -> Result:
    values = {
        "requestId": "req-1",
        "functionId": "fn-1",
        "status": Status.SUCCESS,
        "exitCode": 0,
        "stdout": "ok\n",
        "stderr": "",
        "durationMillis": 12,
        "peakMemoryBytes": 9 * 1024 * 1024,
        "peakMemoryMB": 9,
        "optimizationTip": "Tip: fine",
    }
    return Result(**{**values, **changes})


def test_task_json_round_trip_keeps_every_field():
    task = make_task()
    assert Task.from_json(task.to_json()) == task


def test_task_round_trip_without_optional_fields():
    task = make_task(inputData=None, sha256=None, bucket=None)
    assert Task.from_json(task.to_json()) == task


def test_task_from_minimal_body_gets_defaults():
    body = json.dumps({"requestId": "r", "functionId": "f", "s3Key": "k"})
    task = Task.from_json(body)
    assert (task.runtime, task.memoryMB, task.timeoutSeconds, task.deadline) == (
        "python",
        256,
        10,
        0.0,
    )
    assert (task.inputData, task.sha256, task.bucket) == (None, None, None)


def test_task_from_json_ignores_unknown_fields():
    body = json.dumps({"requestId": "r", "functionId": "f", "s3Key": "k", "extra": 1})
    assert Task.from_json(body).requestId == "r"


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ({"functionId": "f", "s3Key": "k"}, "requestId"),
        ({"requestId": "r", "s3Key": "k"}, "functionId"),
        ({"requestId": "r", "functionId": "f"}, "s3Key"),
        ({"requestId": "", "functionId": "f", "s3Key": "k"}, "requestId"),
        ({}, "requestId, functionId, s3Key"),
    ],
)
def test_task_from_json_names_what_is_missing(body, missing):
    with pytest.raises(ValueError, match=f"task lacks {missing}$"):
        Task.from_json(json.dumps(body))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "task body is not JSON"),
        ("", "task body is not JSON"),
        ("[1, 2]", "task body must be a JSON object"),
        ('"a string"', "task body must be a JSON object"),
    ],
)
def test_task_from_json_rejects_non_objects(body, message):
    with pytest.raises(ValueError, match=message):
        Task.from_json(body)


def test_result_to_dict_leaves_unset_optional_fields_out():
    data = make_result().to_dict()
    assert set(data) == MEMO_FIELDS


def test_result_to_dict_keeps_set_optional_fields():
    result = make_result(
        status=Status.FAILED,
        exitCode=2,
        errorType=ErrorType.USER_CODE_ERROR,
        errorMessage="boom",
        stdoutTruncated=True,
        stderrTruncated=True,
        workerId="w-1",
        trace={"traceparent": "00-abc-def-01"},
    )
    data = result.to_dict()
    assert set(data) - MEMO_FIELDS == {
        "errorType",
        "errorMessage",
        "stdoutTruncated",
        "stderrTruncated",
        "workerId",
        "trace",
    }
    assert data["errorType"] == "USER_CODE_ERROR"
    assert data["trace"] == {"traceparent": "00-abc-def-01"}


def test_result_json_uses_the_memo_field_names_and_string_enums():
    data = json.loads(make_result(exitCode=None).to_json())
    assert MEMO_FIELDS <= set(data)
    assert data["status"] == "SUCCESS"
    assert data["exitCode"] is None
    assert data["peakMemoryMB"] == 9


def test_parse_result_round_trips_to_json():
    result = make_result(status=Status.FAILED, errorType=ErrorType.OUT_OF_MEMORY)
    assert parse_result(result.to_json()) == result.to_dict()
    assert parse_result(result.to_json().encode()) == result.to_dict()


@pytest.mark.parametrize("raw", ["[]", '{"requestId": "r"}', "42"])
def test_parse_result_refuses_anything_but_an_object_with_status(raw):
    with pytest.raises(ValueError, match="status"):
        parse_result(raw)


@pytest.mark.parametrize(
    ("status", "terminal"),
    [
        ("SUCCESS", True),
        ("FAILED", True),
        ("TIMEOUT", False),
        ("RUNNING", False),
        (None, False),
    ],
)
def test_is_terminal(status, terminal):
    assert is_terminal({"status": status}) is terminal


def test_is_terminal_without_status():
    assert is_terminal({}) is False
