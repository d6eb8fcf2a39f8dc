"""The scenario runner's waits on the wire: a stopped worker's long poll, a redelivery."""

from __future__ import annotations

from harness.scenario.runner import redelivery_settled, unanswered
from harness.wire.model import (
    DETAIL_MESSAGE_IDS,
    DETAIL_SEQ,
    DETAIL_STATUS,
    KIND_CLOSED,
    KIND_REQUEST,
    KIND_RESPONSE,
    PROTOCOL_HTTP,
    WireEvent,
)


def event(kind: str, connection: int = 1, seq: int = 0, path: str = "worker->sqs") -> WireEvent:
    direction = "upstream" if kind == KIND_REQUEST else "downstream"
    detail = {} if kind == KIND_CLOSED else {DETAIL_SEQ: seq}
    return WireEvent(
        1, path, connection, direction, PROTOCOL_HTTP, kind, "SQS.ReceiveMessage", "", detail
    )


def test_a_long_poll_isunanswered_until_its_response_or_its_close():
    polls = [event(KIND_REQUEST), event(KIND_RESPONSE), event(KIND_REQUEST, seq=1)]
    assert unanswered(polls)
    assert not unanswered([*polls, event(KIND_RESPONSE, seq=1)])
    assert not unanswered([*polls, event(KIND_CLOSED)])
    assert unanswered([*polls, event(KIND_CLOSED, connection=2)])


def test_only_the_workers_sqs_path_counts():
    assert not unanswered([event(KIND_REQUEST, path="controller->sqs")])
    assert not unanswered([event(KIND_RESPONSE, connection=3)])  # its request before the record


def sqs(ts: int, name: str, status: int = 200, *ids: str) -> WireEvent:
    detail = {DETAIL_STATUS: status, DETAIL_MESSAGE_IDS: list(ids)}
    return WireEvent(
        ts, "worker->sqs", 1, "downstream", PROTOCOL_HTTP, KIND_RESPONSE, name, "q", detail
    )


def test_a_redelivery_is_settled_by_a_delete_after_the_second_delivery():
    first, again = sqs(1, "SQS.ReceiveMessage", 200, "m1"), sqs(5, "SQS.ReceiveMessage", 200, "m1")
    refused, deleted = sqs(2, "SQS.DeleteMessage", 403), sqs(6, "SQS.DeleteMessage", 200)
    assert not redelivery_settled([first, refused])
    assert not redelivery_settled([first, sqs(3, "SQS.DeleteMessage"), again])  # before it
    assert redelivery_settled([first, refused, again, deleted])
    other = sqs(5, "SQS.ReceiveMessage", 200, "m2")
    assert not redelivery_settled([first, refused, other, deleted])
