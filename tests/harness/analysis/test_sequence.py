"""The messages of a request, from whichever evidence a run has (harness/analysis/sequence)."""

from __future__ import annotations

import dataclasses

from harness.analysis import RunFacts, build_timeline, diagnose
from harness.analysis.sequence import Kind, Outcome, request_sequence
from nanogrid.telemetry import semconv as sc
from tests.harness.analysis.builder import ns
from tests.harness.analysis.synth import request_run


def sequence_of(evidence):
    facts = RunFacts(evidence)
    return request_sequence(facts, facts.requests[0])


def find(sequence, label, kind=None, source=None):
    found = [
        m
        for m in sequence.messages
        if label in m.label and (kind is None or m.kind is kind)
        and (source is None or m.source == source)
    ]  # fmt: skip
    assert found, f"no {label!r} among {[m.label for m in sequence.messages]}"
    return found[0]


def failed_ignored(**knobs):
    return request_run(zip_bytes=34, invalid=True, client="TIMEOUT", ignored=True, **knobs)


def test_every_step_is_one_message_carrying_every_source_that_shows_it():
    sequence = sequence_of(failed_ignored(wire=True).evidence())
    lifelines = ["client", "controller", "sqs", "worker-1", "redis", "s3", "dynamodb"]
    assert sequence.lifelines == lifelines
    subscribe = find(sequence, "SUBSCRIBE", Kind.CALL)
    assert (subscribe.source, subscribe.target) == ("controller", "redis")
    kinds = {ref.split("-")[0] for ref in subscribe.refs}
    assert kinds == {"wire", "span", "log"}  # the command, the span's start, the log line
    assert len([m for m in sequence.messages if "SUBSCRIBE" in m.label]) == 1
    confirmation = find(sequence, "subscribed", Kind.ANSWER)
    assert any(ref.endswith("-ev0") for ref in confirmation.refs)  # "subscribe confirmed"
    publish = find(sequence, "receivers=1", Kind.ANSWER)
    assert (publish.source, publish.target, publish.outcome) == ("redis", "worker-1", Outcome.OK)
    pushed = find(sequence, "message FAILED", Kind.PUSH)
    assert (pushed.source, pushed.target) == ("redis", "controller")
    ignored = find(sequence, "FAILED", Kind.NOTE, source="controller")
    assert (ignored.word, ignored.outcome) == ("ignored", Outcome.ERROR)
    answer = find(sequence, "TIMEOUT", Kind.ANSWER)
    assert (answer.target, answer.outcome) == ("client", Outcome.ERROR)
    times = [m.placed_ns for m in sequence.messages]
    assert times == sorted(times)


def test_the_confirmed_verdicts_evidence_is_on_the_arrows():
    evidence = failed_ignored(wire=True).evidence()
    diagnosis = diagnose(evidence)
    carried = {ref for m in sequence_of(evidence).messages for ref in m.refs}
    cited = {e.ref for v in diagnosis.verdicts if v.confirmed for e in v.evidence if e.ref}
    assert cited
    assert cited <= carried
    rows = {row.ref for row in build_timeline(evidence, diagnosis.facts).requests[0].rows}
    assert cited <= rows  # the same references the timeline's rows have


def test_logs_alone_draw_the_worker_side_and_leave_the_receivers_unknown():
    run = failed_ignored()
    for line in run.logs:
        if line.get(sc.EVENT) == sc.RESULT_PUBLISHED:
            del line[sc.F_RECEIVERS]  # the memo's worker did not log it
    evidence = dataclasses.replace(run.evidence(), spans=[], wire=[])
    sequence = sequence_of(evidence)
    download = find(sequence, "34 B", Kind.ANSWER)
    assert (download.source, download.target) == ("s3", "worker-1")
    assert find(sequence, "GetObject", Kind.CALL).ts_ns < download.ts_ns
    published = next(m for m in sequence.messages if m.step == "publish" and m.kind is Kind.ANSWER)
    assert (published.outcome, published.word) == (Outcome.UNKNOWN, "receivers_unknown")
    pushed = find(sequence, "message", Kind.PUSH)
    assert (pushed.outcome, pushed.word) == (Outcome.UNKNOWN, "delivery_unknown")
    assert pushed.refs == []  # implied: no evidence shows it


def test_the_wire_alone_finds_the_delivery_by_its_message_id():
    evidence = dataclasses.replace(failed_ignored(wire=True).evidence(), spans=[], logs=[])
    sequence = sequence_of(evidence)
    task = find(sequence, "task", Kind.PUSH)
    assert (task.source, task.target, task.outcome) == ("sqs", "worker", Outcome.OK)
    assert all(ref.startswith("wire-") for ref in task.refs)
    assert find(sequence, "receivers=1").outcome is Outcome.OK
    assert "worker" in sequence.lifelines


def test_a_crashed_worker_shows_its_exit_and_what_never_came():
    sequence = sequence_of(request_run(crashed=True, client="TIMEOUT").evidence())
    exited = find(sequence, "signal 9", Kind.NOTE)
    assert (exited.source, exited.word, exited.outcome) == ("worker-1", "exited", Outcome.ERROR)
    unfinished = [m for m in sequence.messages if m.word == "never_finished"]
    assert {m.label for m in unfinished} == {"process nanogrid-tasks", "execute"}
    publish = find(sequence, "PUBLISH", Kind.CALL)
    assert (publish.outcome, publish.word) == (Outcome.UNKNOWN, "not_published")


def test_a_task_nobody_took_is_an_unknown_delivery():
    sequence = sequence_of(request_run(worker=False, client="TIMEOUT").evidence())
    task = find(sequence, "task", Kind.PUSH)
    assert (task.target, task.outcome, task.word) == ("worker", Outcome.UNKNOWN, "not_received")


def test_a_failed_step_is_a_lost_call_and_no_send_follows():
    sequence = sequence_of(request_run(unavailable=(sc.REDIS, "connect_timeout")).evidence())
    subscribe = find(sequence, "SUBSCRIBE", Kind.CALL)
    assert (subscribe.outcome, subscribe.word) == (Outcome.ERROR, "failed")
    assert not any(m.step == "subscribe" and m.kind is Kind.ANSWER for m in sequence.messages)
    assert find(sequence, "redis: connect_timeout", Kind.NOTE).word == "unreachable"
    assert not any(m.step in ("send", "deliver") for m in sequence.messages)


def test_calls_without_a_time_go_first_and_their_answers_last():
    run = failed_ignored()
    run.calls = [dataclasses.replace(c, startNs=0, endNs=0) for c in run.calls]
    evidence = dataclasses.replace(run.evidence(), spans=[], wire=[])
    messages = sequence_of(evidence).messages
    assert (messages[0].label, messages[0].ts_ns) == ("POST /run", 0)
    assert messages[0].placed_ns < min(m.ts_ns for m in messages if m.ts_ns)
    assert any("TIMEOUT" in m.label for m in messages[-3:])
    assert all(m.placed_ns >= ns(0) for m in messages[1:])
