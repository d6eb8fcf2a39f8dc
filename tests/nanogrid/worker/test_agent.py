"""The Worker Agent in-process, with a real ProcessRuntime, Redis and moto, on its own queue."""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from harness import artifacts
from harness.provision import provision
from harness.stack import wait_until
from nanogrid.protocol import Stage, Task
from nanogrid.results import ResultStore, connect, dumps
from nanogrid.runtime.process import ProcessRuntime
from nanogrid.settings import Settings
from nanogrid.telemetry import semconv as sc
from nanogrid.worker.agent import WorkerAgent

SUFFIX = uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def runtime() -> Iterator[ProcessRuntime]:
    with ProcessRuntime() as started:
        yield started


@pytest.fixture
def settings(backend, tmp_path: Path) -> Settings:
    """Settings on a bucket and table of this module and a queue of this test alone."""
    ep = backend.endpoints
    base = Settings(
        aws_endpoint_url=ep.aws_endpoint_url,
        region=ep.region,
        redis_url=ep.redis_url,
        bucket=f"agent-{SUFFIX}",
        table=f"agent-{SUFFIX}",
        queue=f"agent-{uuid.uuid4().hex[:12]}",
        work_dir=tmp_path / "work",
        worker_id="test-agent",
        visibility_timeout=30,
    )
    return replace(base, queue_url=provision(ep, base).queue_url)


@pytest.fixture
def store(settings) -> Iterator[ResultStore]:
    client = connect(settings.redis_url, connect_timeout=2.0, socket_timeout=5.0)
    yield ResultStore(client, ttl=300)
    client.close()


@pytest.fixture
def agent(settings, aws_clients, store, runtime) -> Iterator[WorkerAgent]:
    assert settings.queue_url is not None
    yield WorkerAgent(
        settings, aws_clients, store, runtime, settings.queue_url, poll_wait_seconds=1
    )
    aws_clients.sqs.delete_queue(QueueUrl=settings.queue_url)


def upload_code(aws_clients, settings: Settings, data: bytes) -> str:
    key = f"functions/fn-{uuid.uuid4().hex[:8]}/v1.zip"
    aws_clients.s3.put_object(Bucket=settings.bucket, Key=key, Body=data)
    return key


def send_task(aws_clients, settings: Settings, s3_key: str, data: bytes | None = None) -> Task:
    task = Task(
        requestId=f"agent-{uuid.uuid4()}",
        functionId=s3_key.split("/")[1],
        s3Key=s3_key,
        runtime="python",
        memoryMB=256,
        timeoutSeconds=10,
        deadline=time.time() + 60,
        sha256=None if data is None else hashlib.sha256(data).hexdigest(),
    )
    aws_clients.sqs.send_message(QueueUrl=settings.queue_url, MessageBody=task.to_json())
    return task


def queue_counts(aws_clients, settings: Settings) -> tuple[int, int]:
    """(visible, in flight) messages of the task queue."""
    attrs = aws_clients.sqs.get_queue_attributes(
        QueueUrl=settings.queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attrs["ApproximateNumberOfMessages"]),
        int(attrs["ApproximateNumberOfMessagesNotVisible"]),
    )


def test_task_runs_and_its_result_is_stored_then_the_message_deleted(
    agent, aws_clients, settings, store
):
    data = artifacts.memo_function_zip()
    task = send_task(aws_clients, settings, upload_code(aws_clients, settings, data), data)
    assert agent.poll_once() == 1
    result = store.get(task.requestId)
    assert result is not None
    assert result["status"] == "SUCCESS"
    assert result["stdout"] == artifacts.MEMO_STDOUT
    assert (result["exitCode"], result["workerId"]) == (0, "test-agent")
    assert result["functionId"] == task.functionId
    assert store.get_stage(task.requestId) == Stage.COMPLETED
    assert queue_counts(aws_clients, settings) == (0, 0)
    assert agent.cache.get(task.sha256) is not None


def test_failing_function_gives_user_code_error(agent, aws_clients, settings, store):
    data = artifacts.function_zip(artifacts.FAILING_SOURCE)
    task = send_task(aws_clients, settings, upload_code(aws_clients, settings, data), data)
    assert agent.poll_once() == 1
    result = store.get(task.requestId)
    assert result is not None
    assert (result["status"], result["errorType"]) == ("FAILED", "USER_CODE_ERROR")
    assert (result["exitCode"], result["stderr"]) == (2, "about to fail\n")
    assert queue_counts(aws_clients, settings) == (0, 0)


def test_task_whose_result_exists_is_deleted_without_running(agent, aws_clients, settings, store):
    task = send_task(aws_clients, settings, "functions/nowhere/v1.zip")
    earlier = dumps({"requestId": task.requestId, "status": "SUCCESS", "stdout": "earlier"})
    store.store_and_publish(task.requestId, earlier)
    assert agent.poll_once() == 1
    assert store.get(task.requestId) == {
        "requestId": task.requestId,
        "status": "SUCCESS",
        "stdout": "earlier",
    }
    assert not store.client.exists(f"claim:{task.requestId}")  # never claimed, so never run
    assert queue_counts(aws_clients, settings) == (0, 0)


def test_poison_body_is_released_not_deleted(agent, aws_clients, settings):
    aws_clients.sqs.send_message(QueueUrl=settings.queue_url, MessageBody='{"requestId": ""}')
    assert agent.poll_once() == 1
    # the queue's visibility timeout is 30 s: only a release makes it visible this soon
    assert wait_until(lambda: queue_counts(aws_clients, settings) == (1, 0), timeout=5)
    again = aws_clients.sqs.receive_message(
        QueueUrl=settings.queue_url,
        WaitTimeSeconds=1,
        MessageSystemAttributeNames=["ApproximateReceiveCount"],
    )["Messages"]
    assert [m["Body"] for m in again] == ['{"requestId": ""}']
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"


@pytest.mark.parametrize("build", [artifacts.empty_zip_22, artifacts.incident_empty_zip])
def test_empty_zip_gives_invalid_package(agent, aws_clients, settings, store, build):
    data = build()
    task = send_task(aws_clients, settings, upload_code(aws_clients, settings, data), data)
    assert agent.poll_once() == 1
    result = store.get(task.requestId)
    assert result is not None
    assert (result["status"], result["errorType"]) == ("FAILED", "INVALID_PACKAGE")
    assert result["exitCode"] is None
    assert "empty" in result["errorMessage"].lower()
    assert store.get_stage(task.requestId) == Stage.COMPLETED
    assert queue_counts(aws_clients, settings) == (0, 0)


def test_missing_code_object_gives_platform_error(agent, aws_clients, settings, store):
    task = send_task(aws_clients, settings, "functions/gone/v1.zip")
    assert agent.poll_once() == 1
    result = store.get(task.requestId)
    assert result is not None
    assert (result["status"], result["errorType"]) == ("FAILED", "PLATFORM_ERROR")
    assert "NoSuchKey" in result["errorMessage"]
    assert queue_counts(aws_clients, settings) == (0, 0)


def test_checksum_mismatch_gives_invalid_package(agent, aws_clients, settings, store):
    data = artifacts.memo_function_zip()
    key = upload_code(aws_clients, settings, data)
    task = send_task(aws_clients, settings, key, artifacts.function_zip("print(2)\n"))
    assert agent.poll_once() == 1
    result = store.get(task.requestId)
    assert result is not None
    assert result["errorType"] == "INVALID_PACKAGE"
    assert "checksum mismatch" in result["errorMessage"]


def test_idle_poll_handles_nothing(agent, aws_clients, settings):
    assert agent.poll_once() == 0
    assert agent.busy is False
    assert queue_counts(aws_clients, settings) == (0, 0)


def tamper_with_the_cached_code(agent: WorkerAgent, sha256: str) -> None:
    """What a process of the worker's user could do outside any sandbox."""
    main = agent.cache.root / sha256 / "main.py"
    main.parent.chmod(0o755)
    main.chmod(0o644)
    main.write_text("print('pwned')\n")


def tampering_events(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, sc.EVENT, None) == sc.PACKAGE_TAMPERED]


def test_tampered_cached_code_is_evicted_logged_and_extracted_again(
    agent, aws_clients, settings, store, caplog
):
    data = artifacts.memo_function_zip()
    key = upload_code(aws_clients, settings, data)
    first = send_task(aws_clients, settings, key, data)
    assert agent.poll_once() == 1
    tamper_with_the_cached_code(agent, first.sha256)
    second = send_task(aws_clients, settings, key, data)
    with caplog.at_level(logging.INFO, logger="nanogrid.worker"):
        assert agent.poll_once() == 1
    result = store.get(second.requestId)
    assert result is not None
    assert (result["status"], result["stdout"]) == ("SUCCESS", artifacts.MEMO_STDOUT)
    [event] = tampering_events(caplog)
    assert event.levelno == logging.WARNING
    assert event.sha256 == first.sha256
    assert "changed: main.py" in getattr(event, sc.F_REASON)
    events = [getattr(r, sc.EVENT, None) for r in caplog.records]
    assert events.index(sc.PACKAGE_TAMPERED) < events.index(sc.PACKAGE_EXTRACTED)
    assert agent.cache.get(first.sha256) is not None  # a fresh, sealed copy


def test_tampered_code_that_cannot_be_extracted_again_is_a_platform_error(
    agent, aws_clients, settings, store, caplog
):
    data = artifacts.memo_function_zip()
    key = upload_code(aws_clients, settings, data)
    first = send_task(aws_clients, settings, key, data)
    assert agent.poll_once() == 1
    aws_clients.s3.delete_object(Bucket=settings.bucket, Key=key)
    tamper_with_the_cached_code(agent, first.sha256)
    second = send_task(aws_clients, settings, key, data)
    with caplog.at_level(logging.INFO, logger="nanogrid.worker"):
        assert agent.poll_once() == 1
    result = store.get(second.requestId)
    assert result is not None
    assert (result["status"], result["errorType"]) == ("FAILED", "PLATFORM_ERROR")
    assert "changed after extraction and cannot be extracted again" in result["errorMessage"]
    assert "NoSuchKey" in result["errorMessage"]
    assert len(tampering_events(caplog)) == 1
    assert agent.cache.get(first.sha256) is None  # the tampered copy never runs
    assert queue_counts(aws_clients, settings) == (0, 0)
