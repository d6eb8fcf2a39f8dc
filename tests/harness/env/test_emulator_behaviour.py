"""What the platform relies on from SQS, S3 and DynamoDB, on moto and on LocalStack side by side.

Each test runs on both emulators; where they differ, the test pins each one's behaviour (and
the README's emulator table says so). The moto side is the session's embedded moto server;
the LocalStack side is nanogrid/localstack:local (marked ``docker``).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from harness.env.emulator import EmulatorKind
from harness.provision import client_kwargs

REGION_CONFIG = {"LocationConstraint": "ap-northeast-2"}
#: Long enough that a poll that returns the message was woken, not timed out.
LONG_POLL = 10


@dataclass
class Emulator:
    kind: EmulatorKind
    client: Callable[[str], Any]  # boto3 client factory: client("sqs")


@pytest.fixture(
    scope="module",
    params=["moto", pytest.param("localstack", marks=pytest.mark.docker)],
)
def emulator(request: pytest.FixtureRequest) -> Emulator:
    backend = request.getfixturevalue("backend" if request.param == "moto" else "localstack")
    kwargs = client_kwargs(backend.endpoints)
    return Emulator(EmulatorKind(request.param), lambda service: boto3.client(service, **kwargs))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def sqs(emulator: Emulator) -> Any:
    return emulator.client("sqs")


@pytest.fixture
def queues(sqs: Any) -> Iterator[Callable[..., str]]:
    """``make(**attributes) -> queue URL``; every queue made is deleted afterwards."""
    made: list[str] = []

    def make(**attributes: str) -> str:
        url = str(sqs.create_queue(QueueName=unique("q"), Attributes=attributes)["QueueUrl"])
        made.append(url)
        return url

    yield make
    for url in made:
        sqs.delete_queue(QueueUrl=url)


def queue_arn(sqs: Any, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def receive(sqs: Any, url: str, wait: int = 0, visibility: int = 30) -> list[dict[str, Any]]:
    """As the worker receives: every message attribute, the receive count."""
    answer = sqs.receive_message(
        QueueUrl=url,
        WaitTimeSeconds=wait,
        VisibilityTimeout=visibility,
        MessageAttributeNames=["All"],
        MessageSystemAttributeNames=["ApproximateReceiveCount"],
    )
    return list(answer.get("Messages", []))


class LongPoll:
    """A long-polling receive in a thread; ``polling`` is set once its request is sent."""

    def __init__(self, emulator: Emulator, url: str) -> None:
        self.client = emulator.client("sqs")
        self.polling = threading.Event()
        self.client.meta.events.register("before-send.sqs.ReceiveMessage", self._sent)
        self.messages: list[dict[str, Any]] = []
        self.seconds = float("inf")
        self._thread = threading.Thread(target=self._poll, args=(url,), daemon=True)

    def _sent(self, **_: Any) -> None:
        self.polling.set()

    def _poll(self, url: str) -> None:
        began = time.monotonic()
        self.messages = receive(self.client, url, wait=LONG_POLL)
        self.seconds = time.monotonic() - began

    def __enter__(self) -> LongPoll:
        self._thread.start()
        assert self.polling.wait(10), "the long poll was never sent"
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.join(LONG_POLL + 10)


# -- SQS: message attributes -------------------------------------------------------------


def test_message_attributes_round_trip(sqs: Any, queues: Callable[..., str]) -> None:
    url = queues()
    attributes = {
        "traceparent": {
            "DataType": "String",
            "StringValue": "00-" + "a" * 32 + "-" + "b" * 16 + "-01",
        },
        "requestId": {"DataType": "String", "StringValue": str(uuid.uuid4())},
        "n": {"DataType": "Number", "StringValue": "5"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
    }
    sent = sqs.send_message(QueueUrl=url, MessageBody="{}", MessageAttributes=attributes)
    [message] = receive(sqs, url)
    assert message["MessageAttributes"] == attributes
    assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert message["Attributes"] == {"ApproximateReceiveCount": "1"}


def test_only_the_named_attributes_come_back(sqs: Any, queues: Callable[..., str]) -> None:
    url = queues()
    attributes = {k: {"DataType": "String", "StringValue": k} for k in ("traceparent", "other")}
    sqs.send_message(QueueUrl=url, MessageBody="{}", MessageAttributes=attributes)
    answer = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["traceparent"])
    [message] = answer["Messages"]
    assert message["MessageAttributes"] == {"traceparent": attributes["traceparent"]}
    assert "Attributes" not in message  # no system attribute asked for, none given


def test_an_empty_string_attribute(emulator: Emulator, sqs: Any, queues: Callable[..., str]):
    """DIFFERS: LocalStack refuses an empty String value, as AWS does; moto accepts it."""
    url = queues()
    empty = {"tracestate": {"DataType": "String", "StringValue": ""}}
    if emulator.kind is EmulatorKind.localstack:
        with pytest.raises(ClientError) as refused:
            sqs.send_message(QueueUrl=url, MessageBody="{}", MessageAttributes=empty)
        assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    else:
        sqs.send_message(QueueUrl=url, MessageBody="{}", MessageAttributes=empty)
        assert receive(sqs, url)[0]["MessageAttributes"] == empty


# -- SQS: long polling, visibility, redrive ------------------------------------------------


def test_a_long_poll_wakes_on_a_send(emulator: Emulator, sqs: Any, queues: Callable[..., str]):
    url = queues()
    with LongPoll(emulator, url) as poll:
        sqs.send_message(QueueUrl=url, MessageBody="wake")
    assert [m["Body"] for m in poll.messages] == ["wake"]
    assert poll.seconds < LONG_POLL  # woken, not timed out


def test_a_long_poll_wakes_on_a_release(emulator: Emulator, sqs: Any, queues: Callable[..., str]):
    """The worker releases a message it cannot take with ChangeMessageVisibility(0)."""
    url = queues()
    sqs.send_message(QueueUrl=url, MessageBody="released")
    [held] = receive(sqs, url)
    with LongPoll(emulator, url) as poll:
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=held["ReceiptHandle"], VisibilityTimeout=0
        )
    assert [m["Attributes"]["ApproximateReceiveCount"] for m in poll.messages] == ["2"]
    assert poll.seconds < LONG_POLL


def test_a_long_poll_gets_a_message_whose_visibility_expires(
    emulator: Emulator, sqs: Any, queues: Callable[..., str]
) -> None:
    """A worker that died holding a message: it comes back when its visibility times out."""
    url = queues()
    sqs.send_message(QueueUrl=url, MessageBody="orphan")
    receive(sqs, url, visibility=1)
    with LongPoll(emulator, url) as poll:
        pass
    assert [m["Attributes"]["ApproximateReceiveCount"] for m in poll.messages] == ["2"]
    assert poll.seconds < LONG_POLL


def test_an_invisible_message_is_not_delivered(sqs: Any, queues: Callable[..., str]) -> None:
    url = queues(VisibilityTimeout="30")
    sqs.send_message(QueueUrl=url, MessageBody="once")
    assert len(receive(sqs, url)) == 1
    assert receive(sqs, url) == []
    counts = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert counts == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "1",
    }


def test_redrive_moves_the_message_on_the_receive_past_the_limit(
    sqs: Any, queues: Callable[..., str]
) -> None:
    dlq = queues()
    policy = {"deadLetterTargetArn": queue_arn(sqs, dlq), "maxReceiveCount": 2}
    url = queues(RedrivePolicy=json.dumps(policy))
    attributes = {"requestId": {"DataType": "String", "StringValue": "r-1"}}
    sqs.send_message(QueueUrl=url, MessageBody="poison", MessageAttributes=attributes)
    for _ in range(2):
        [message] = receive(sqs, url)
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    assert receive(sqs, url) == []  # the third receive moved it instead
    [dead] = receive(sqs, dlq, wait=1)
    assert dead["Body"] == "poison"
    assert dead["MessageAttributes"] == attributes
    assert dead["Attributes"]["ApproximateReceiveCount"] == "3"  # the count travels with it


def test_a_stale_receipt_handle(emulator: Emulator, sqs: Any, queues: Callable[..., str]):
    """DIFFERS: releasing a deleted message fails with LocalStack's (and AWS's)
    InvalidParameterValue, moto's ReceiptHandleIsInvalid; deleting it twice passes on both."""
    url = queues()
    sqs.send_message(QueueUrl=url, MessageBody="done")
    [message] = receive(sqs, url)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    with pytest.raises(ClientError) as stale:
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    expected = {
        EmulatorKind.localstack: "InvalidParameterValue",
        EmulatorKind.moto: "ReceiptHandleIsInvalid",
    }
    assert stale.value.response["Error"]["Code"] == expected[emulator.kind]


def test_the_account_in_queue_arns(emulator: Emulator, sqs: Any, queues: Callable[..., str]):
    """DIFFERS: moto's default account is 123456789012, LocalStack's 000000000000."""
    account = {EmulatorKind.localstack: "000000000000", EmulatorKind.moto: "123456789012"}
    assert queue_arn(sqs, queues()).split(":")[4] == account[emulator.kind]


# -- S3 and DynamoDB: conditional writes ---------------------------------------------------


def test_s3_if_none_match_refuses_an_existing_key(emulator: Emulator) -> None:
    s3 = emulator.client("s3")
    bucket = unique("bucket")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration=REGION_CONFIG)
    try:
        s3.put_object(Bucket=bucket, Key="v1.zip", Body=b"first", IfNoneMatch="*")
        with pytest.raises(ClientError) as refused:
            s3.put_object(Bucket=bucket, Key="v1.zip", Body=b"second", IfNoneMatch="*")
        assert refused.value.response["Error"]["Code"] == "PreconditionFailed"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
        assert s3.get_object(Bucket=bucket, Key="v1.zip")["Body"].read() == b"first"
    finally:
        s3.delete_object(Bucket=bucket, Key="v1.zip")
        s3.delete_bucket(Bucket=bucket)


def test_dynamodb_keeps_the_newest_version(emulator: Emulator) -> None:
    """The registry's write: ``attribute_not_exists(version) OR version < :v``."""
    dynamodb = emulator.client("dynamodb")
    table = unique("table")
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "functionId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "functionId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )

    def put(version: int) -> str:
        try:
            dynamodb.put_item(
                TableName=table,
                Item={"functionId": {"S": "f"}, "version": {"N": str(version)}},
                ConditionExpression="attribute_not_exists(version) OR version < :v",
                ExpressionAttributeValues={":v": {"N": str(version)}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            return f"{exc.response['Error']['Code']} {exc.response['Item']['version']['N']}"
        return "written"

    try:
        assert [put(v) for v in (2, 1, 2, 3)] == [
            "written",
            "ConditionalCheckFailedException 2",
            "ConditionalCheckFailedException 2",
            "written",
        ]
        item = dynamodb.get_item(
            TableName=table, Key={"functionId": {"S": "f"}}, ConsistentRead=True
        )
        assert item["Item"]["version"] == {"N": "3"}
    finally:
        dynamodb.delete_table(TableName=table)
