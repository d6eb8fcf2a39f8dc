"""Rules about the workers: WORKER_NOT_CONSUMING and WORKER_CRASHED_REDELIVERED."""

from __future__ import annotations

from harness.analysis.facts import RequestFacts, RunFacts, log_component
from harness.analysis.model import EvidenceItem, Verdict
from harness.analysis.rules.base import (
    CONFIRMED,
    RULED_OUT,
    UNKNOWN,
    at,
    call_item,
    log_item,
    phrase,
    span_item,
    verdict,
)
from harness.evidence import log_time_ns


def _worker_seen(req: RequestFacts) -> bool:
    return bool(req.processes) or any(log_component(line).startswith("worker") for line in req.logs)


class WorkerNotConsuming:
    """The task was sent, no worker received it."""

    code = "WORKER_NOT_CONSUMING"

    def __call__(self, facts: RunFacts, baseline: RunFacts | None) -> Verdict:
        sent = [r for r in facts.requests if r.sent]
        for req in sent:
            if not _worker_seen(req):
                return self._confirmed(facts, req)
        if sent:
            req = sent[0]
            items = [span_item(facts, s, edge="start") for s in req.processes[:1]]
            items += [log_item(facts, line) for line in req.logs_with("Received task")[:1]]
            because = [phrase("nowork.taken", "a worker received every task that was sent")]
            return verdict(self.code, RULED_OUT, items, because)
        if facts.requests and all(r.sent is False for r in facts.requests):
            because = [phrase("nowork.not_sent", "no task was sent, so no worker had one to take")]
            return verdict(self.code, RULED_OUT, [], because)
        because = [phrase("nowork.unknown", "no evidence that a task was sent")]
        return verdict(self.code, UNKNOWN, [], because)

    def _confirmed(self, facts: RunFacts, req: RequestFacts) -> Verdict:
        send = req.first("send")
        items: list[EvidenceItem | None] = [span_item(facts, send) if send else None]
        items += [log_item(facts, line) for line in req.logs_with("message sent to SQS")]
        items += [log_item(facts, line) for line in req.logs_with("Timeout waiting for result")]
        items.append(call_item(facts, req.call))
        sent_at = send.end_ns if send else req.start_ns
        because = [
            phrase(
                "nowork.because",
                "the task was sent at {ts} and no worker span or log line mentions it",
                ts=at(sent_at),
            )
        ]
        stage = req.call.body.get("stage")
        if stage:
            because.append(
                phrase("nowork.stage", "the controller reported stage {stage}", stage=stage)
            )
        return verdict(self.code, CONFIRMED, items, because, stage=stage)


class WorkerCrashedRedelivered:
    """A worker died mid-run and SQS delivered the task again."""

    code = "WORKER_CRASHED_REDELIVERED"

    def __call__(self, facts: RunFacts, baseline: RunFacts | None) -> Verdict:
        for req in facts.requests:
            found = self._witness(facts, req)
            if found is not None:
                return found
        seen = [r for r in facts.requests if r.processes or r.logs_with("Received task")]
        if seen:
            because = [
                phrase(
                    "crash.once",
                    "every task was received once and finished by the worker that took it",
                )
            ]
            return verdict(self.code, RULED_OUT, [], because)
        because = [phrase("crash.unknown", "no worker evidence of receiving a task")]
        return verdict(self.code, UNKNOWN, [], because)

    def _witness(self, facts: RunFacts, req: RequestFacts) -> Verdict | None:
        redelivered = [
            s
            for s in req.processes
            if int(s.attributes.get("messaging.aws_sqs.receive_count", 1)) > 1
        ]
        received = req.logs_with("Received task")
        unfinished = len(req.processes) > 1 and not _published_within(req, 0)
        if not redelivered and len(received) < 2 and not unfinished:
            return None
        items: list[EvidenceItem | None] = [log_item(facts, line) for line in received]
        items += [log_item(facts, line) for line in req.logs_with("crash knob armed")]
        items += [
            span_item(
                facts,
                s,
                f"{s.name}: receive count {s.attributes.get('messaging.aws_sqs.receive_count')}",
                edge="start",
            )
            for s in req.processes
        ]
        items += [log_item(facts, line) for line in req.logs_with("[DONE][")]
        again = redelivered[0].start_ns if redelivered else log_time_ns(received[-1])
        because = [
            phrase(
                "crash.because",
                "the task was delivered again at {ts} after the first delivery never published",
                ts=at(again),
            )
        ]
        however = []
        runs = len(req.named("execute"))
        if req.receivers:
            however.append(
                phrase(
                    "crash.recovered",
                    "the redelivery published a result ({runs} recorded execution(s))",
                    runs=runs,
                )
            )
        return verdict(self.code, CONFIRMED, items, because, however)


def _published_within(req: RequestFacts, index: int) -> bool:
    process = req.processes[index]
    return any(
        s.parent_span_id and process.start_ns <= s.start_ns <= process.end_ns for s in req.publishes
    )
