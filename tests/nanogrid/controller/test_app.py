"""The controller in-process against the real backend, on a queue of its own (no workers)."""

from __future__ import annotations

import random
import uuid

import boto3
import pytest
from fastapi.testclient import TestClient

from harness import artifacts
from harness.procs import free_port
from harness.provision import client_kwargs, create_queue, provision
from nanogrid.controller.app import create_app
from nanogrid.controller.middleware import RequestIdMiddleware
from nanogrid.settings import Settings


@pytest.fixture
def queue_url(backend):
    ep = backend.endpoints
    provision(ep, Settings(aws_endpoint_url=ep.aws_endpoint_url, region=ep.region))
    sqs = boto3.client("sqs", **client_kwargs(ep))
    url = create_queue(sqs, f"isolated-{uuid.uuid4().hex[:8]}", {})
    yield url
    sqs.delete_queue(QueueUrl=url)


def settings_for(backend, queue_url: str, **changes) -> Settings:
    ep = backend.endpoints
    base = {
        "aws_endpoint_url": ep.aws_endpoint_url,
        "region": ep.region,
        "redis_url": ep.redis_url,
        "queue_url": queue_url,
        "run_deadline": 0.5,
    }
    return Settings(**{**base, **changes})


@pytest.fixture
def make_client(backend, queue_url, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    clients = []

    def make(**changes) -> TestClient:
        app = create_app(settings_for(backend, queue_url, **changes), min_workers=0)
        client = TestClient(RequestIdMiddleware(app))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def queued_messages(backend, queue_url: str) -> int:
    sqs = boto3.client("sqs", **client_kwargs(backend.endpoints))
    attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )


def register(client: TestClient) -> str:
    function_id = f"fn-{uuid.uuid4().hex[:12]}"
    files = {"file": ("f.zip", artifacts.memo_function_zip(), "application/zip")}
    resp = client.post("/upload", files=files, data={"functionId": function_id})
    assert resp.status_code == 201, resp.text
    return function_id


def test_no_worker_times_out_at_stage_queued(make_client, backend, queue_url):
    client = make_client()
    resp = client.post("/run", json={"functionId": register(client), "inputData": {}})
    assert resp.status_code == 202
    body = resp.json()
    assert body["status"] == "TIMEOUT"
    assert body["message"] == "Execution timed out"
    assert body["stage"] == "QUEUED"
    assert resp.headers["location"] == body["resultUrl"] == f"/runs/{body['requestId']}"
    assert client.get(body["resultUrl"]).json() == {
        "requestId": body["requestId"],
        "stage": "QUEUED",
    }
    assert queued_messages(backend, queue_url) == 1


def test_redis_down_fails_fast_before_enqueueing(make_client, backend, queue_url):
    healthy = make_client()
    function_id = register(healthy)
    down = make_client(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    resp = down.post("/run", json={"functionId": function_id, "inputData": {}})
    assert resp.status_code == 503
    error = resp.json()["error"]
    assert error["dependency"] == "redis"
    assert "refused" in error["message"]
    assert "nothing was enqueued" in error["message"]
    assert queued_messages(backend, queue_url) == 0
    health = down.get("/health")
    assert health.status_code == 503
    assert health.json()["checks"]["redis"]["ok"] is False


def test_upload_over_the_size_limit_is_413(make_client):
    from nanogrid.settings import Limits

    client = make_client(limits=Limits(max_zip_bytes=1000))
    data = artifacts.function_zip("x = 1\n", extra={"blob.bin": random.Random(0).randbytes(5000)})
    resp = client.post("/upload", files={"file": ("big.zip", data, "application/zip")})
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "PACKAGE_TOO_LARGE"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        artifacts.not_a_zip(),
        artifacts.empty_zip_22(),
        artifacts.nested_main_zip(),
        artifacts.traversal_zip(),
        artifacts.symlink_zip(),
        artifacts.syntax_error_zip(),
    ],
)
def test_bad_archives_are_refused_with_a_fix(make_client, backend, data):
    client = make_client()
    function_id = f"bad-{uuid.uuid4().hex[:8]}"
    resp = client.post(
        "/upload",
        files={"file": ("f.zip", data, "application/zip")},
        data={"functionId": function_id},
    )
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["code"] == "INVALID_PACKAGE"
    assert error["reason"]
    s3 = boto3.client("s3", **client_kwargs(backend.endpoints))
    listed = s3.list_objects_v2(Bucket="nanogrid-code-bucket", Prefix=f"functions/{function_id}/")
    assert listed.get("KeyCount", 0) == 0


def test_upload_form_fields_are_checked(make_client):
    client = make_client()
    files = {"file": ("f.zip", artifacts.memo_function_zip(), "application/zip")}
    resp = client.post("/upload", files=files, data={"memoryMB": "64"})
    assert resp.status_code == 422
    assert "memoryMB" in resp.json()["error"]["message"]
    assert client.post("/upload", data={"functionId": "x"}).status_code == 422


def test_unknown_routes_and_methods_answer_in_the_error_shape(make_client):
    client = make_client()
    missing = client.get("/functions")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
    assert "POST /run" in missing.json()["error"]["message"]
    wrong = client.get("/run")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
