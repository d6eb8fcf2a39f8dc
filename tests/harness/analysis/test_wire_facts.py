"""Wire events read as calls: each command or request paired with its answer."""

from __future__ import annotations

import pytest

from harness.analysis.wire import SILENCE_NS, WireFacts, component_of, dependency_of
from harness.wire.model import (
    DETAIL_ERROR,
    DETAIL_ERROR_CODE,
    DETAIL_RECEIVERS,
    DETAIL_REQUEST_ID,
    DETAIL_SEQ,
    DETAIL_STATUS,
    DETAIL_TTLB_NS,
    KIND_MESSAGE,
    KIND_REPLY,
)
from nanogrid.telemetry import semconv as sc
from tests.harness.analysis.builder import MS, RunBuilder


def facts_of(run: RunBuilder) -> WireFacts:
    return WireFacts(run.wire)


def test_commands_pair_with_the_reply_of_their_own_sequence_number():
    run = RunBuilder()
    run.exchange(0, "worker->redis", "SET", "result:a", answer_ms=2)
    run.exchange(1, "worker->redis", "PUBLISH", "result:a", answer_ms=3, **{DETAIL_RECEIVERS: 1})
    run.exchange(1, "worker->redis", "GET", "result:a", connection=2)  # never answered
    calls = {(c.name, c.connection): c for c in facts_of(run).calls}
    assert calls["SET", 1].answer is not None
    assert calls["SET", 1].answer.detail[DETAIL_SEQ] == 0
    assert calls["PUBLISH", 1].receivers == 1
    assert calls["PUBLISH", 1].duration_ns == 2 * MS
    assert not calls["GET", 2].answered


def test_a_reply_on_another_connection_answers_nothing():
    run = RunBuilder()
    run.exchange(0, "controller->redis", "GET", "stage:a", connection=1)
    run.wire_event(1, "controller->redis", KIND_REPLY, "GET", "stage:a", connection=2, seq=0)
    [call] = facts_of(run).calls
    assert not call.answered


def test_a_subscribe_is_answered_by_its_confirmation():
    run = RunBuilder()
    run.exchange(0, "controller->redis", "SUBSCRIBE", run.channel, answer_ms=1)
    [call] = facts_of(run).redis_calls("controller")
    assert call.answered
    assert call.symptom is None
    assert call.end_ns - call.start_ns == MS


def test_an_http_answer_takes_its_duration_from_the_last_byte():
    run = RunBuilder()
    answer = {DETAIL_TTLB_NS: 900 * MS}
    run.exchange(0, "worker->s3", "S3.GetObject", "bucket/key", answer_ms=5, **answer)
    [call] = facts_of(run).aws_calls("worker")
    assert call.status == 200
    assert call.duration_ns == 900 * MS
    assert call.error == ""
    assert call.dependency == sc.S3


@pytest.mark.parametrize(
    ("closed_ms", "symptom"),
    [(None, None), (SILENCE_NS / MS + 1, "blackhole"), (SILENCE_NS / MS - 1, "reset")],
)
def test_an_unanswered_call_is_silence_or_a_reset_by_when_its_connection_closed(closed_ms, symptom):
    run = RunBuilder()
    run.exchange(0, "controller->redis", "SUBSCRIBE", run.channel, closed_ms=closed_ms)
    [call] = facts_of(run).calls
    assert call.symptom == symptom


@pytest.mark.parametrize(
    ("answer", "symptom", "error"),
    [
        ({DETAIL_STATUS: 503, DETAIL_ERROR_CODE: "SlowDown"}, "throttled", "SlowDown"),
        (
            {DETAIL_STATUS: 400, DETAIL_ERROR_CODE: "ThrottlingException"},
            "throttled",
            "ThrottlingException",
        ),
        ({DETAIL_STATUS: 403, DETAIL_ERROR_CODE: "AccessDenied"}, "denied", "AccessDenied"),
        ({DETAIL_STATUS: 500}, "server_error", "HTTP 500"),
        ({DETAIL_STATUS: 404, DETAIL_ERROR_CODE: "NoSuchKey"}, None, "NoSuchKey"),
        ({DETAIL_STATUS: 200}, None, ""),
    ],
)
def test_aws_answers_name_their_symptom(answer, symptom, error):
    run = RunBuilder()
    run.exchange(0, "worker->s3", "S3.GetObject", "bucket/key", answer_ms=3, **answer)
    [call] = facts_of(run).calls
    assert call.symptom == symptom
    assert call.error == error


def test_a_redis_error_reply_is_an_error_not_unreachability():
    run = RunBuilder()
    run.exchange(0, "worker->redis", "SET", "result:a", answer_ms=1, **{DETAIL_ERROR: "READONLY"})
    [call] = facts_of(run).calls
    assert call.error == "READONLY"
    assert call.symptom is None


def test_paths_name_component_and_dependency():
    assert component_of("worker->sqs") == "worker"
    assert dependency_of("controller->redis") == sc.REDIS
    assert dependency_of("worker->aws", "SQS.ReceiveMessage") == sc.SQS
    assert dependency_of("worker->aws", "DynamoDB.GetItem") == sc.DYNAMODB
    assert dependency_of("worker->aws", "CloudWatch.PutMetricData") == sc.CLOUDWATCH


def test_events_naming_a_request_by_key_or_payload():
    run = RunBuilder()
    run.exchange(0, "worker->redis", "PUBLISH", run.channel, answer_ms=1)
    run.pushed(1, "SUCCESS")
    run.exchange(2, "worker->redis", "GET", "result:other", answer_ms=3)
    other = "11111111-2222-3333-4444-555555555555"
    run.wire_event(
        4, "controller->redis", KIND_MESSAGE, "MESSAGE", "x", **{DETAIL_REQUEST_ID: other}
    )
    facts = facts_of(run)
    assert len(facts.naming(run.request_id)) == 3
    assert [e.target for e in facts.naming(other)] == ["x"]


def test_calls_come_in_time_order_and_filter_by_component():
    run = RunBuilder()
    run.exchange(5, "worker->redis", "PUBLISH", run.channel, answer_ms=6)
    run.exchange(1, "controller->redis", "SUBSCRIBE", run.channel, answer_ms=2)
    run.exchange(3, "controller->sqs", "SQS.SendMessage", "nanogrid-tasks", answer_ms=4)
    facts = facts_of(run)
    assert [c.name for c in facts.calls] == ["SUBSCRIBE", "SQS.SendMessage", "PUBLISH"]
    assert [c.name for c in facts.redis_calls("worker")] == ["PUBLISH"]
    assert [c.name for c in facts.aws_calls()] == ["SQS.SendMessage"]
    assert facts.paths() == ["controller->redis", "controller->sqs", "worker->redis"]
