"""The platform end to end on the embedded stack: controller and workers as real processes."""

from __future__ import annotations

import json
import textwrap
import uuid
from pathlib import Path

import pytest

from harness import artifacts
from harness.procs import pid_running
from harness.stack import wait_until
from nanogrid import defaults
from nanogrid.runtime.process import ProcessRuntime


def upload(client, data: bytes, function_id: str | None = None, **form):
    fields = {k: str(v) for k, v in form.items()}
    if function_id:
        fields["functionId"] = function_id
    return client.post(
        "/upload", files={"file": ("function.zip", data, "application/zip")}, data=fields
    )


def uploaded(client, source: str, **form) -> str:
    function_id = f"fn-{uuid.uuid4().hex[:12]}"
    resp = upload(client, artifacts.function_zip(source), function_id, **form)
    assert resp.status_code == 201, resp.text
    return function_id


def run(client, function_id: str, input_data=None):
    return client.post("/run", json={"functionId": function_id, "inputData": input_data or {}})


def test_memo_function_runs_to_success(client):
    resp = upload(client, artifacts.memo_function_zip(), "test-manual")
    assert resp.status_code == 201, resp.text
    meta = resp.json()
    assert meta["s3Key"] == f"functions/test-manual/v{meta['version']}.zip"
    result = run(client, "test-manual")
    body = result.json()
    assert result.status_code == 200
    assert body["status"] == "SUCCESS"
    assert body["exitCode"] == 0
    assert body["stdout"] == artifacts.MEMO_STDOUT
    assert body["functionId"] == "test-manual"
    uuid.UUID(body["requestId"])
    assert body["peakMemoryBytes"] > 0
    assert body["peakMemoryMB"] == round(body["peakMemoryBytes"] / 2**20)
    assert body["optimizationTip"].startswith("Tip:")
    assert "errorType" not in body


def test_upload_metadata_and_versions(client, aws, stack):
    function_id = f"fn-{uuid.uuid4().hex[:12]}"
    first = upload(
        client, artifacts.memo_function_zip(), function_id, memoryMB=512, timeoutSeconds=3
    ).json()
    second = upload(client, artifacts.function_zip('print("v2")\n'), function_id).json()
    assert (first["version"], second["version"]) == (1, 2)
    assert first["memoryMB"] == 512
    assert first["timeoutSeconds"] == 3
    assert second["s3Key"] == f"functions/{function_id}/v2.zip"
    assert len(first["sha256"]) == 64
    assert first["sizeBytes"] > 100
    item = aws("dynamodb").get_item(
        TableName=defaults.TABLE, Key={"functionId": {"S": function_id}}
    )["Item"]
    assert item["version"] == {"N": "2"}
    assert run(client, function_id).json()["stdout"] == "v2\n"


def test_memo_manual_flow_with_hand_registered_item(client, aws):
    """The memo's way: zip straight into S3, a three-field item into DynamoDB, then /run."""
    aws("s3").put_object(
        Bucket=defaults.BUCKET, Key="functions/hand-made/v1.zip", Body=artifacts.memo_function_zip()
    )
    aws("dynamodb").put_item(
        TableName=defaults.TABLE,
        Item={
            "functionId": {"S": "hand-made"},
            "s3Key": {"S": "functions/hand-made/v1.zip"},
            "runtime": {"S": "python"},
        },
    )
    body = run(client, "hand-made").json()
    assert body["status"] == "SUCCESS", body
    assert body["stdout"] == artifacts.MEMO_STDOUT


def test_failed_function_is_relayed_not_timed_out(client):
    function_id = uploaded(client, artifacts.FAILING_SOURCE)
    body = run(client, function_id).json()
    assert body["status"] == "FAILED"
    assert body["exitCode"] == 2
    assert body["errorType"] == "USER_CODE_ERROR"
    assert "about to fail" in body["stderr"]


def test_incident_zip_refused_at_upload_and_nothing_stored(client, aws):
    s3 = aws("s3")
    before = s3.list_objects_v2(Bucket=defaults.BUCKET).get("KeyCount", 0)
    resp = upload(client, artifacts.incident_empty_zip(), "empty34")
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["code"] == "INVALID_PACKAGE"
    assert error["reason"] == "EMPTY_ARCHIVE"
    assert "zip" in error["message"].lower()
    assert s3.list_objects_v2(Bucket=defaults.BUCKET).get("KeyCount", 0) == before
    item = aws("dynamodb").get_item(TableName=defaults.TABLE, Key={"functionId": {"S": "empty34"}})
    assert "Item" not in item


def test_incident_zip_in_s3_fails_as_invalid_package(client, aws):
    aws("s3").put_object(
        Bucket=defaults.BUCKET,
        Key="functions/legacy-empty/v1.zip",
        Body=artifacts.incident_empty_zip(),
    )
    aws("dynamodb").put_item(
        TableName=defaults.TABLE,
        Item={
            "functionId": {"S": "legacy-empty"},
            "s3Key": {"S": "functions/legacy-empty/v1.zip"},
            "runtime": {"S": "python"},
        },
    )
    body = run(client, "legacy-empty").json()
    assert body["status"] == "FAILED"
    assert body["errorType"] == "INVALID_PACKAGE"
    assert "empty" in body["stderr"].lower()
    assert body["exitCode"] is None


def test_input_data_reaches_the_function(client):
    function_id = uploaded(client, artifacts.echo_input_source())
    body = run(client, function_id, {"name": "NanoGrid", "n": [1, 2]}).json()
    assert json.loads(body["stdout"]) == {"n": [1, 2], "name": "NanoGrid"}


def test_peak_memory_of_a_100mb_function(client):
    function_id = uploaded(client, artifacts.memory_hog_source(100))
    body = run(client, function_id).json()
    assert body["status"] == "SUCCESS", body
    assert 100 * 0.8 <= body["peakMemoryMB"] <= 100 * 1.2


def test_out_of_memory(client):
    function_id = uploaded(client, artifacts.memory_hog_source(300), memoryMB=128)
    body = run(client, function_id).json()
    assert body["status"] == "FAILED"
    assert body["errorType"] == "OUT_OF_MEMORY"
    assert "256" in body["optimizationTip"] or "more" in body["optimizationTip"]


def running_with(token: str) -> list[int]:
    """Host pids of live processes with ``token`` in their command line.

    A function's own pids belong to its PID namespace, meaningless out here.
    """
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            found = token.encode() in cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if found and pid_running(int(cmdline.parent.name)):
            pids.append(int(cmdline.parent.name))
    return pids


def test_function_timeout_kills_its_children(client):
    token = f"sleeper-{uuid.uuid4().hex}"
    source = textwrap.dedent(f"""\
        import subprocess, sys, time
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", {token!r}])
        print("child started", flush=True)
        time.sleep(120)
        """)
    function_id = uploaded(client, source, timeoutSeconds=1)
    body = run(client, function_id).json()
    assert body["status"] == "FAILED"
    assert body["errorType"] == "FUNCTION_TIMEOUT"
    assert body["stdout"] == "child started\n"
    assert wait_until(lambda: not running_with(token), timeout=10)


def test_unknown_function_is_404_with_a_fix(client):
    resp = run(client, "no-such-function")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "FUNCTION_NOT_FOUND"
    assert "/upload" in resp.json()["error"]["message"]


def test_run_result_can_be_fetched_again(client):
    function_id = uploaded(client, artifacts.SIMPLE_SOURCE)
    body = run(client, function_id).json()
    again = client.get(f"/runs/{body['requestId']}")
    assert again.status_code == 200
    assert again.json() == body
    assert client.get(f"/runs/{uuid.uuid4()}").status_code == 404


def test_health_reports_every_dependency(client):
    resp = client.get("/health")
    assert resp.status_code == 200
    checks = resp.json()["checks"]
    assert set(checks) == {"redis", "workers", "bucket", "table", "queue"}
    assert checks["workers"]["live"] >= 1
    # Each worker says what its runtime isolates here, as this process finds it.
    with ProcessRuntime() as runtime:
        expected = {
            "network": runtime.network_isolated,
            "processes": runtime.processes_isolated,
            "filesystem": runtime.filesystem_isolated,
        }
    isolation = checks["workers"]["isolation"]
    assert set(isolation) == set(checks["workers"]["ids"])
    assert list(isolation.values()) == [expected] * len(isolation)


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "functionId"), ({"functionId": "../x"}, "functionId"), ([], "body")],
)
def test_bad_run_requests_get_one_error_shape(client, body, field):
    resp = client.post("/run", json=body)
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "INVALID_REQUEST"
    assert field in resp.json()["error"]["message"]
