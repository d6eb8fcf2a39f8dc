"""Selectors, ordering and completeness over evidence read back from a run directory."""

from __future__ import annotations

import dataclasses
import time

import pytest

from harness.pytest_plugin.errors import IncompleteEvidence, NoMatch, OutOfOrder
from harness.pytest_plugin.evidence import EvidenceReader, assert_before, missing, moment
from harness.wire.model import DETAIL_RECEIVERS, KIND_REPLY, KIND_SUBSCRIBED
from nanogrid.telemetry import semconv as sc
from tests.harness.pytest_plugin.recorded import Recorded, healthy, write


@pytest.fixture
def recorded(tmp_path) -> Recorded:
    run = healthy()
    write(tmp_path / "run", run)
    return run


@pytest.fixture
def request_evidence(tmp_path, recorded):
    return EvidenceReader(tmp_path / "run").of(recorded.request_id)


def _open(span):
    return dataclasses.replace(span, end_ns=0, open=True)


# --- selectors ------------------------------------------------------------------------


def test_a_span_is_selected_by_name_glob_attributes_and_service(request_evidence, recorded):
    channel = {sc.MESSAGING_DESTINATION: "result:*"}
    publish = request_evidence.span("publish *", channel, service="nanogrid-worker")
    assert publish.span_id == recorded.publish.span_id
    assert publish.attributes[sc.PUBLISH_RECEIVERS] == 1  # read back from trace.jsonl
    by_value = request_evidence.span("*", {sc.PUBLISH_RECEIVERS: 1})
    assert by_value.span_id == recorded.publish.span_id


def test_select_keeps_causal_order(request_evidence, recorded):
    worker = request_evidence.select("*", service="nanogrid-worker")
    assert [s.span_id for s in worker] == [recorded.process.span_id, recorded.publish.span_id]
    assert request_evidence.select("publish *", {sc.PUBLISH_RECEIVERS: 2}) == []


def test_no_match_names_the_selector_and_shows_the_trace(request_evidence):
    with pytest.raises(NoMatch) as nothing:
        request_evidence.span("publish *", service="nanogrid-controller")
    text = str(nothing.value)
    assert "no span 'publish *' service='nanogrid-controller'" in text
    assert "POST /run [nanogrid-controller]" in text  # the recorded trace, as a tree
    with pytest.raises(NoMatch, match=r"^3 span '\* result:\*'"):
        request_evidence.span("* result:*")


def test_wire_events_of_the_request_only(request_evidence, recorded):
    assert {e.target for e in request_evidence.wire} == {recorded.builder.channel}
    subscribed = request_evidence.wire_event(KIND_SUBSCRIBED, path="controller->redis")
    reply = request_evidence.wire_event(KIND_REPLY, name="PUBLISH", target="result:*")
    assert reply.detail[DETAIL_RECEIVERS] == 1
    assert subscribed.ts_ns < reply.ts_ns
    with pytest.raises(NoMatch, match="no wire event kind='reply' path='worker->sqs'"):
        request_evidence.wire_event(KIND_REPLY, path="worker->sqs")


def test_log_lines_of_the_request_by_event_and_fields(request_evidence):
    assert request_evidence.log(sc.RESULT_PUBLISHED, receivers=1)[sc.F_WORKER_ID] == "worker-1"
    assert [line[sc.EVENT] for line in request_evidence.log_lines("r*")] == [
        sc.RUN_CALLED,
        sc.RESULT_PUBLISHED,
    ]
    assert request_evidence.log_lines(sc.RESULT_PUBLISHED, receivers=0) == []
    assert all(line[sc.F_REQUEST_ID] for line in request_evidence.logs)


def test_the_run_call_is_the_requests_call(request_evidence):
    assert request_evidence.call is not None
    assert request_evidence.call.status == "SUCCESS"


# --- ordering -------------------------------------------------------------------------


def test_assert_before_holds_when_the_first_ended_before_the_second_started(
    request_evidence, recorded
):
    request_evidence.assert_before(recorded.subscribe, recorded.publish)
    subscribed = request_evidence.wire_event(KIND_SUBSCRIBED)
    publish_reply = request_evidence.wire_event(KIND_REPLY, name="PUBLISH")
    assert_before(subscribed, publish_reply)
    assert_before(request_evidence.log(sc.RUN_CALLED), recorded.publish)


def test_out_of_order_names_both_spans_and_their_times(request_evidence, recorded):
    with pytest.raises(OutOfOrder) as late:
        request_evidence.assert_before(recorded.publish, recorded.subscribe)
    text = str(late.value)
    channel = recorded.builder.channel
    assert text.startswith(
        f"expected span 'publish {channel}' [nanogrid-worker] to end before "
        f"span 'subscribe {channel}' [nanogrid-controller] started, but it ended at +62.000 ms"
    )
    assert f"57.000 ms after span 'subscribe {channel}' [nanogrid-controller] started at " in text
    assert "+5.000 ms (07:40:19.005000)" in text


def test_a_span_that_never_ended_is_not_before_anything(recorded):
    with pytest.raises(OutOfOrder, match="never ended"):
        assert_before(_open(recorded.process), recorded.publish)


def test_only_spans_wire_events_and_log_lines_are_ordered():
    assert moment({"ts": "2025-12-02T07:40:19.000Z", "event": "x"}).start_ns > 0
    with pytest.raises(TypeError, match="cannot order int"):
        moment(3)  # type: ignore[arg-type]


# --- completeness ---------------------------------------------------------------------


def test_a_complete_trace_misses_nothing(request_evidence):
    assert request_evidence.missing() == []


def test_what_an_incomplete_trace_misses(recorded):
    b = recorded.builder
    call = b.calls[0]
    without_send = [s for s in b.spans if s.span_id != recorded.send.span_id]
    assert missing(without_send, call) == [
        f"the parent {recorded.send.span_id} of span 'process nanogrid-tasks' "
        "[nanogrid-worker] is not recorded"
    ]
    controller_only = [s for s in b.spans if s.service == "nanogrid-controller"]
    assert missing(controller_only, call) == [
        "the client saw SUCCESS, but no worker process * span ended"
    ]
    assert missing(controller_only, call, require_worker=False) == []
    timed_out = dataclasses.replace(call, body={"status": "TIMEOUT"})
    assert missing(controller_only, timed_out) == []  # no worker answer: none awaited
    opened = [_open(s) if s.span_id == recorded.root.span_id else s for s in b.spans]
    assert missing(opened, call) == ["span 'POST /run' [nanogrid-controller] has not ended"]
    assert missing([], call) == ["no span of the request is recorded yet"]
    assert missing(without_send[1:], call)[0] == "no root span is recorded yet"


class FlushingRecorder:
    """Writes more of the trace at each call, as the processes flush: nothing, the
    controller's spans with its root still open, then all but the worker's, then all."""

    def __init__(self, run_dir, recorded: Recorded) -> None:
        self.run_dir, self.recorded, self.calls = run_dir, recorded, 0

    def __call__(self) -> None:
        spans = self.recorded.builder.spans
        controller = [s for s in spans if s.service == "nanogrid-controller"]
        stages = [
            [],
            [_open(s) if s.span_id == self.recorded.root.span_id else s for s in controller],
            controller,
            spans,
        ]
        write(self.run_dir, self.recorded, stages[min(self.calls, len(stages) - 1)])
        self.calls += 1


def test_wait_complete_polls_until_every_span_is_flushed(tmp_path):
    run = healthy()
    recorder = FlushingRecorder(tmp_path / "run", run)
    reader = EvidenceReader(tmp_path / "run", recorder, interval=0.01)
    request = reader.wait_complete(run.request_id, deadline=5.0)
    assert recorder.calls == 4
    assert len(request.spans) == len(run.builder.spans)
    assert request.span("process *").ended


def test_wait_complete_fails_at_the_deadline_saying_what_is_missing(tmp_path):
    run = healthy()
    write(tmp_path / "run", run, [s for s in run.builder.spans if s.service != "nanogrid-worker"])
    reader = EvidenceReader(tmp_path / "run", interval=0.01)
    began = time.monotonic()
    with pytest.raises(IncompleteEvidence) as incomplete:
        reader.wait_complete(run.request_id, deadline=0.2)
    assert time.monotonic() - began >= 0.2
    assert incomplete.value.missing == [
        "the client saw SUCCESS, but no worker process * span ended"
    ]
    text = str(incomplete.value)
    assert text.startswith(
        f"request {run.request_id}: the evidence is still incomplete after 0.2 s"
    )
    assert "POST /run [nanogrid-controller]" in text


def test_wait_for_any_condition_on_the_request(tmp_path):
    run = healthy()
    recorder = FlushingRecorder(tmp_path / "run", run)
    reader = EvidenceReader(tmp_path / "run", recorder, interval=0.01)
    request = reader.wait_for(run.request_id, lambda r: r.select("send *"), deadline=5.0)
    assert recorder.calls == 2  # the controller's first spans: enough for this condition
    with pytest.raises(IncompleteEvidence, match="a worker span still does not hold"):
        EvidenceReader(tmp_path / "run").wait_for(
            run.request_id, lambda r: False, deadline=0.05, what="a worker span"
        )
    assert request.select("send *")
