"""Per-call latency of the AWS emulators side by side: LocalStack next to moto.

    .venv/bin/python -m bench.emulators [--runs 40] [--markdown]

Three emulators run at once, each with the calls the platform makes on every ``/run``: moto's
server as the embedded stack runs it (a child process), moto in its container
(``nanogrid/moto:local``) and LocalStack in its container (``nanogrid/localstack:local``),
both containers started by the containers backend (published on loopback through Docker's
port forwarding, the same path for both). Calls alternate between the emulators in batches
so that drift in the machine's speed hits all alike; the table gives each one's median in ms
and LocalStack's ratio to each moto. Without a Docker engine only the embedded moto runs.

- SQS send: ``SendMessage`` with the platform's two message attributes.
- SQS receive: ``ReceiveMessage`` of a waiting message, no wait (as the worker, all
  attributes and the receive count).
- long-poll wake-up: from ``SendMessage`` to the return of a ``ReceiveMessage`` already
  parked in a 10 s long poll.
- release wake-up: the same from ``ChangeMessageVisibility(0)`` of a received message (how
  the worker hands back a message it cannot take): moto's long poll wakes only on a send and
  looks again once a second, LocalStack's wakes at once.
- S3 get: ``GetObject`` of a 200-byte object (the memo's zip).
- DynamoDB get: ``GetItem`` of a function's item.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from rich.console import Console
from rich.table import Table

from harness import artifacts
from harness.env.base import Backend
from harness.env.embedded import EmbeddedBackend
from harness.provision import client_kwargs

BATCH = 10
CALLS = (
    "SQS send",
    "SQS receive",
    "long-poll wake-up",
    "release wake-up",
    "S3 get",
    "DynamoDB get",
)
MOTO_IMAGE = "nanogrid/moto:local"
LOCALSTACK_IMAGE = "nanogrid/localstack:local"
REDIS_IMAGE = "nanogrid/redis:local"
#: Time for a long poll's request to reach the emulator and park there before the send.
PARK_SECONDS = 0.05
ATTRIBUTES = {
    "traceparent": {"DataType": "String", "StringValue": f"00-{'a' * 32}-{'b' * 16}-01"},
    "requestId": {"DataType": "String", "StringValue": str(uuid.uuid4())},
}


@dataclass
class Target:
    """One emulator with its resources and the timings of each call (ms)."""

    label: str
    backend: Backend
    clients: dict[str, Any] = field(default_factory=dict)
    queue_url: str = ""
    emulator: str = ""  # what serves it, as the backend says
    times: dict[str, list[float]] = field(default_factory=lambda: {c: [] for c in CALLS})

    def prepare(self) -> None:
        kwargs = client_kwargs(self.backend.endpoints)
        self.clients = {s: boto3.client(s, **kwargs) for s in ("sqs", "s3", "dynamodb")}
        self.clients["poller"] = boto3.client("sqs", **kwargs)
        sqs, s3, dynamodb = (self.clients[s] for s in ("sqs", "s3", "dynamodb"))
        self.queue_url = sqs.create_queue(QueueName="bench-tasks")["QueueUrl"]
        region = {"LocationConstraint": self.backend.endpoints.region}
        s3.create_bucket(Bucket="bench-code", CreateBucketConfiguration=region)
        s3.put_object(Bucket="bench-code", Key="f.zip", Body=artifacts.memo_function_zip())
        dynamodb.create_table(
            TableName="bench-functions",
            KeySchema=[{"AttributeName": "functionId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "functionId", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        item = {"functionId": {"S": "f"}, "s3Key": {"S": "f.zip"}, "runtime": {"S": "python"}}
        dynamodb.put_item(TableName="bench-functions", Item=item)
        for _ in range(3):  # warm: LocalStack loads a service at its first call
            self.round()
        self.times = {c: [] for c in CALLS}

    def round(self) -> None:
        """One timed call of each kind."""
        s3, dynamodb = self.clients["s3"], self.clients["dynamodb"]
        self._timed("SQS send", self._send)
        began = time.perf_counter()
        receipts = self._receive(self.clients["sqs"], 0)
        self.times["SQS receive"].append((time.perf_counter() - began) * 1000)
        self._delete(receipts)
        self.times["long-poll wake-up"].append(self._wake_up(self._send))
        receipt = self._held()
        self.times["release wake-up"].append(self._wake_up(lambda: self._release(receipt)))
        self._timed(
            "S3 get", lambda: s3.get_object(Bucket="bench-code", Key="f.zip")["Body"].read()
        )
        key = {"functionId": {"S": "f"}}
        self._timed("DynamoDB get", lambda: dynamodb.get_item(TableName="bench-functions", Key=key))

    def _timed(self, call: str, fn: Callable[[], object]) -> None:
        began = time.perf_counter()
        fn()
        self.times[call].append((time.perf_counter() - began) * 1000)

    def _send(self) -> None:
        self.clients["sqs"].send_message(
            QueueUrl=self.queue_url, MessageBody="{}", MessageAttributes=ATTRIBUTES
        )

    def _receive(self, sqs: Any, wait: int) -> list[str]:
        """Receive as the worker does; returns the receipt handles (deleted untimed after)."""
        answer = sqs.receive_message(
            QueueUrl=self.queue_url,
            WaitTimeSeconds=wait,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        receipts = [m["ReceiptHandle"] for m in answer.get("Messages", [])]
        if not receipts:
            raise RuntimeError(f"{self.label}: no message received")
        return receipts

    def _delete(self, receipts: list[str]) -> None:
        for receipt in receipts:
            self.clients["sqs"].delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt)

    def _wake_up(self, trigger: Callable[[], object]) -> float:
        """ms from ``trigger()`` to the return of a long poll parked before it."""
        woke: list[float] = []
        receipts: list[str] = []

        def poll() -> None:
            receipts.extend(self._receive(self.clients["poller"], 10))
            woke.append(time.perf_counter())

        poller = threading.Thread(target=poll)
        poller.start()
        time.sleep(PARK_SECONDS)  # a benchmark's settle time, not a synchronisation
        began = time.perf_counter()
        trigger()
        poller.join(15)
        if not woke:
            raise RuntimeError(f"{self.label}: the long poll did not return")
        self._delete(receipts)
        return (woke[0] - began) * 1000

    def _held(self) -> str:
        """The receipt of a message received and held (visible again in 30 s)."""
        self._send()
        answer = self.clients["sqs"].receive_message(QueueUrl=self.queue_url, VisibilityTimeout=30)
        return str(answer["Messages"][0]["ReceiptHandle"])

    def _release(self, receipt: str) -> None:
        self.clients["sqs"].change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=receipt, VisibilityTimeout=0
        )


@contextlib.contextmanager
def targets(root: Path) -> Iterator[list[Target]]:
    """The embedded moto, and the two containers when a Docker engine answers."""
    with contextlib.ExitStack() as stack:
        found = [Target("moto (process)", stack.enter_context(EmbeddedBackend(root / "embedded")))]
        try:
            from harness.env.containers import ContainersBackend, DockerUnavailable
        except ImportError:
            yield found
            return
        for label, image in (("moto (container)", MOTO_IMAGE), ("LocalStack", LOCALSTACK_IMAGE)):
            backend = ContainersBackend(root / label, redis_image=REDIS_IMAGE, aws_image=image)
            try:
                found.append(Target(label, stack.enter_context(backend)))
            except DockerUnavailable as exc:
                Console(stderr=True).print(f"{label} skipped: {exc}", markup=False)
        yield found


def measure(runs: int) -> list[Target]:
    with (
        tempfile.TemporaryDirectory(prefix="nanogrid-emulators-") as tmp,
        targets(Path(tmp)) as found,
    ):
        for target in found:
            target.prepare()
        while len(found[0].times["S3 get"]) < runs:
            for target in found:
                for _ in range(BATCH):
                    target.round()
        for target in found:
            target.emulator = target.backend.emulator().summary()
        return found


def table(found: list[Target]) -> Table:
    out = Table(title="AWS emulators, per call (median ms, n each)")
    out.add_column("call")
    for target in found:
        out.add_column(target.label, justify="right")
    localstack = next((t for t in found if t.label == "LocalStack"), None)
    motos = [t for t in found if t.label.startswith("moto")]
    if localstack is not None:
        for moto in motos:
            out.add_column(f"LocalStack / {moto.label}", justify="right")
    for call in CALLS:
        medians = [statistics.median(t.times[call]) for t in found]
        cells = [f"{m:.1f}" for m in medians]
        if localstack is not None:
            ls = statistics.median(localstack.times[call])
            cells += [f"{ls / statistics.median(m.times[call]):.2f}x" for m in motos]
        out.add_row(call, *cells)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.emulators", description=__doc__)
    parser.add_argument("--runs", type=int, default=40, help="timed calls of each kind")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table too")
    args = parser.parse_args()
    console = Console(width=140)
    found = measure(args.runs)
    result = table(found)
    console.print(result)
    for target in found:
        console.print(f"{target.label}: {target.emulator}, n={len(target.times['S3 get'])}")
    if args.markdown:
        columns = [c.header for c in result.columns]
        print("| " + " | ".join(map(str, columns)) + " |")
        print("|" + "---|" * len(columns))
        for row in zip(*(c.cells for c in result.columns), strict=True):
            print("| " + " | ".join(map(str, row)) + " |")


if __name__ == "__main__":
    main()
