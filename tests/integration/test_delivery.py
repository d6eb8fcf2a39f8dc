"""At-least-once delivery: redelivery after a worker crash, no second execution, the DLQ."""

from __future__ import annotations

import json
import textwrap
import uuid

import boto3
import httpx
import pytest

from harness import artifacts
from harness.env.embedded import EmbeddedBackend
from harness.provision import client_kwargs
from harness.stack import Stack, StackConfig, wait_until


def counting_source(counter: str) -> str:
    """A function that records each start in ``counter``, runs 1 s, then prints 'done'."""
    return textwrap.dedent(
        f"""\
        import time
        with open({counter!r}, "a") as out:
            out.write("start\\n")
        time.sleep(1)
        print("done")
        """
    )


@pytest.fixture
def crashing_stack(tmp_path):
    """A fresh stack whose only worker kills itself during its first run; its functions may
    write ``tmp_path / "shared"`` (nothing else: they run sandboxed)."""
    (tmp_path / "shared").mkdir()
    config = StackConfig(
        workers=1,
        run_deadline=2.0,
        visibility_timeout=2,
        poll_wait=1,
        worker_env={
            "NANOGRID_KNOB_CRASH_MARKER": str(tmp_path / "crashed"),
            "NANOGRID_KNOB_SHARED_DIR": str(tmp_path / "shared"),
        },
    )
    with (
        EmbeddedBackend(tmp_path / "backend") as backend,
        Stack(backend, tmp_path, config) as stack,
    ):
        yield stack


def queue_is_drained(stack: Stack) -> bool:
    sqs = boto3.client("sqs", **client_kwargs(stack.endpoints))
    attrs = sqs.get_queue_attributes(QueueUrl=stack.settings.queue_url, AttributeNames=["All"])
    counts = attrs["Attributes"]
    return (
        counts["ApproximateNumberOfMessages"]
        == counts["ApproximateNumberOfMessagesNotVisible"]
        == "0"
    )


def test_worker_crash_is_redelivered_and_completes_once(crashing_stack, tmp_path):
    stack = crashing_stack
    counter = tmp_path / "shared" / "starts.txt"
    http = httpx.Client(base_url=stack.controller_url, timeout=30)
    files = {
        "file": ("f.zip", artifacts.function_zip(counting_source(str(counter))), "application/zip")
    }
    assert http.post("/upload", files=files, data={"functionId": "counted"}).status_code == 201

    first = http.post("/run", json={"functionId": "counted"}).json()
    assert first["status"] == "TIMEOUT"
    assert (tmp_path / "crashed").exists()
    assert wait_until(lambda: not stack.workers[0].alive, timeout=10)

    stack.start_worker()  # the replacement picks the task up once its visibility expires
    url = first["resultUrl"]
    assert wait_until(lambda: http.get(url).json().get("status") == "SUCCESS", timeout=30)
    assert http.get(url).json()["stdout"] == "done\n"
    assert counter.read_text().splitlines() == ["start", "start"]

    # SQS may deliver the same task again: a completed requestId is not executed twice.
    sqs = boto3.client("sqs", **client_kwargs(stack.endpoints))
    task = {
        "requestId": first["requestId"],
        "functionId": "counted",
        "s3Key": "functions/counted/v1.zip",
    }
    sqs.send_message(QueueUrl=stack.settings.queue_url, MessageBody=json.dumps(task))
    assert wait_until(lambda: queue_is_drained(stack), timeout=20)
    assert counter.read_text().splitlines() == ["start", "start"]
    http.close()


def test_poison_message_reaches_the_dead_letter_queue(stack):
    sqs = boto3.client("sqs", **client_kwargs(stack.endpoints))
    marker = f"not json {uuid.uuid4()}"
    sqs.send_message(QueueUrl=stack.settings.queue_url, MessageBody=marker)
    dlq = stack.provisioned.dlq_url

    def in_dlq() -> bool:
        resp = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        return any(m["Body"] == marker for m in resp.get("Messages", []))

    assert wait_until(in_dlq, timeout=60)
