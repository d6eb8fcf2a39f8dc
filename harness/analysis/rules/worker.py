"""Rules about the workers: WORKER_NOT_CONSUMING and WORKER_CRASHED.

A crash leaves its own kind of evidence: a ``process`` span that was started and never
finished (spans are exported as they end, long steps with a start record), the worker's
last log lines, and the supervisor's record of the process exiting without being asked to.
"""

from __future__ import annotations

from harness.analysis.facts import RequestFacts, RunFacts, log_component
from harness.analysis.model import EvidenceItem, Phrase, Verdict
from harness.analysis.rules.base import (
    CONFIRMED,
    RULED_OUT,
    UNKNOWN,
    at,
    call_item,
    life_item,
    log_item,
    phrase,
    span_item,
    verdict,
    wire_item,
)
from harness.evidence import ComponentLife, log_time_ns
from harness.traces import SpanRecord
from nanogrid.telemetry import semconv as sc

#: What a worker logs when it is done with a task, one way or another.
_FINISHED = (sc.TASK_DONE, sc.TASK_FAILED, sc.TASK_ALREADY_DONE, sc.TASK_TAKEN)


def _window_end(req: RequestFacts) -> int:
    return req.deadline_ns or req.call.endNs or req.end_ns


class WorkerNotConsuming:
    """The task was sent, no worker received it."""

    code = "WORKER_NOT_CONSUMING"

    def __call__(self, facts: RunFacts, baseline: RunFacts | None) -> Verdict:
        sent = [r for r in facts.requests if r.sent]
        for req in sent:
            seen = req.worker_seen(before=req.deadline_ns)
            if not seen and not self._received_on_wire(facts, req, req.deadline_ns):
                return self._confirmed(facts, req)
        if sent:
            req = sent[0]
            items = [span_item(facts, s, edge="start") for s in req.processes[:1]]
            items += [log_item(facts, line) for line in req.events(sc.TASK_RECEIVED)[:1]]
            because = [phrase("nowork.taken", "a worker received every task that was sent")]
            return verdict(self.code, RULED_OUT, items, because)
        if facts.requests and all(r.sent is False for r in facts.requests):
            because = [phrase("nowork.not_sent", "no task was sent, so no worker had one to take")]
            return verdict(self.code, RULED_OUT, [], because)
        because = [phrase("nowork.unknown", "no evidence that a task was sent")]
        return verdict(self.code, UNKNOWN, [], because)

    @staticmethod
    def _message_ids(req: RequestFacts) -> set[str]:
        ids = {str(line.get("messageId")) for line in req.events(sc.TASK_SENT)}
        ids |= {str(s.attributes.get(sc.MESSAGE_ID)) for s in req.named(sc.SPAN_SEND)}
        return ids - {"None", ""}

    def _received_on_wire(self, facts: RunFacts, req: RequestFacts, before: int) -> bool:
        """A worker's ReceiveMessage answer carried the task's message id (in time)."""
        ids = self._message_ids(req)
        for call in facts.wire.aws_calls("worker"):
            if before and call.end_ns > before:
                continue
            if call.name == "SQS.ReceiveMessage" and call.answer is not None:
                got = call.answer.detail.get("message_ids") or []
                if ids & {str(i) for i in got}:
                    return True
        return False

    def _confirmed(self, facts: RunFacts, req: RequestFacts) -> Verdict:
        send = req.first(sc.SPAN_SEND)
        items: list[EvidenceItem | None] = [span_item(facts, send) if send else None]
        items += [log_item(facts, line) for line in req.events(sc.TASK_SENT, sc.RUN_TIMEOUT)]
        items.append(call_item(facts, req.call))
        because = [
            phrase(
                "nowork.because",
                "the task was sent at {ts} and no worker took it while the controller waited",
                ts=at(req.sent_ns),
            )
        ]
        stage = req.call.body.get("stage")
        if stage:
            because.append(
                phrase("nowork.stage", "the controller reported stage {stage}", stage=stage)
            )
        reason, why, seen = self._reason(facts, req)
        because += why
        items += seen
        return verdict(self.code, CONFIRMED, items, because, stage=stage, reason=reason)

    def _reason(
        self, facts: RunFacts, req: RequestFacts
    ) -> tuple[str, list[Phrase], list[EvidenceItem | None]]:
        """Why no worker took it, when the evidence says: no live worker, SQS unreachable
        from the workers, or workers that started polling only later."""
        start, end = req.sent_ns, _window_end(req)
        failing = [
            line
            for line in facts.events(sc.POLL_FAILED)
            if line.get(sc.F_DEPENDENCY) == sc.SQS and start <= log_time_ns(line) <= end
        ]
        wire = [
            c
            for c in facts.wire.aws_calls("worker")
            if c.dependency == sc.SQS and c.symptom is not None and start <= c.start_ns <= end
        ]
        if failing or wire:
            items: list[EvidenceItem | None] = [log_item(facts, line) for line in failing[:2]]
            items += [wire_item(facts, c) for c in wire[:2]]
            en = "the workers could not read the queue: {n} receive(s) failed meanwhile"
            return "sqs_unreachable", [phrase("nowork.sqs", en, n=len(failing) + len(wire))], items
        workers = facts.lives("worker")
        if facts.components and not any(w.alive_at(start) or w.alive_at(end) for w in workers):
            ended = [life_item(w) for w in workers if w.ended_ns is not None][:2]
            en = "no worker process was running between {start} and {end}"
            return (
                "no_live_worker",
                [phrase("nowork.none_alive", en, start=at(start), end=at(end))],
                list(ended),
            )
        polling = [line for line in facts.events(sc.WORKER_POLLING) if log_time_ns(line) > start]
        if polling:
            line = polling[0]
            en = "{worker} started polling only at {ts}, after the task was sent"
            why = [phrase("nowork.late", en, worker=log_component(line), ts=at(log_time_ns(line)))]
            return "late_start", why, [log_item(facts, line)]
        return "unknown", [], []


class WorkerCrashed:
    """A worker died while it held the task."""

    code = "WORKER_CRASHED"

    def __call__(self, facts: RunFacts, baseline: RunFacts | None) -> Verdict:
        for req in facts.requests:
            found = self._witness(facts, req)
            if found is not None:
                return found
        seen = [r for r in facts.requests if r.processes or r.events(sc.TASK_RECEIVED)]
        open_ended = [r for r in seen if not self._accounted(facts, r)]
        if open_ended:
            because = [
                phrase(
                    "crash.open",
                    "a worker took the task and nothing shows it finishing or still running: "
                    "the worker's process record (an orchestrator's pod events) or its spans "
                    "would decide",
                )
            ]
            items = [log_item(facts, line) for line in open_ended[0].events(sc.TASK_RECEIVED)]
            return verdict(self.code, UNKNOWN, items[:1], because)
        if seen:
            because = [
                phrase(
                    "crash.once",
                    "every worker that took a task finished it (or is still running it)",
                )
            ]
            return verdict(self.code, RULED_OUT, [], because)
        because = [phrase("crash.unknown", "no worker evidence of receiving a task")]
        return verdict(self.code, UNKNOWN, [], because)

    @staticmethod
    def _accounted(facts: RunFacts, req: RequestFacts) -> bool:
        """Every worker that took the task finished it, or is known to be alive or done, and
        no receive count says a worker the evidence does not show took it before."""
        takers = {facts.component(s) for s in req.processes}
        takers |= {log_component(line) for line in req.events(sc.TASK_RECEIVED)}
        ended = {facts.component(s) for s in req.processes if s.end_ns}
        counts = [line.get(sc.F_RECEIVE_COUNT) for line in req.events(sc.TASK_RECEIVED)]
        received = max((c for c in counts if isinstance(c, int)), default=0)
        if received > len(takers):
            return False  # an earlier receive, by a worker the evidence does not show
        return all(
            w in ended or _finished_by(req, w) or _life(facts, w) is not None for w in takers
        )

    def _witness(self, facts: RunFacts, req: RequestFacts) -> Verdict | None:
        for span in req.processes:
            worker = facts.component(span)
            life = _life(facts, worker)
            if span.end_ns or (life is not None and not life.crashed):
                continue  # finished, or still alive when the evidence ends
            if life is None and _finished_by(req, worker):
                continue
            return self._confirmed(facts, req, span, worker, life)
        for line in req.events(sc.TASK_RECEIVED):
            worker = log_component(line)
            life = _life(facts, worker)
            if life is not None and life.crashed and not _finished_by(req, worker):
                return self._confirmed(facts, req, None, worker, life)
        return None

    def _confirmed(
        self,
        facts: RunFacts,
        req: RequestFacts,
        span: SpanRecord | None,
        worker: str,
        life: ComponentLife | None,
    ) -> Verdict:
        started = span.start_ns if span is not None else 0
        items: list[EvidenceItem | None] = [
            span_item(facts, span, edge="start") if span is not None else None,
            life_item(life) if life is not None else None,
        ]
        mine = [line for line in req.logs if log_component(line) == worker]
        items += [log_item(facts, line) for line in mine[-3:]]
        because = [
            phrase(
                "crash.because",
                "{worker} took the task at {ts} and never finished it",
                worker=worker,
                ts=at(started or (log_time_ns(mine[0]) if mine else 0)),
            )
        ]
        if life is not None and life.ended_ns is not None:
            code = life.exit_code
            how = f"signal {-code}" if code is not None and code < 0 else f"status {code}"
            because.append(
                phrase(
                    "crash.exited",
                    "its process exited at {ts} ({how}) without being stopped",
                    ts=at(life.ended_ns),
                    how=how,
                )
            )
        beat = _heartbeat(facts, worker)
        if beat is not None:
            because.append(beat[0])
            items.append(beat[1])
        again = [s for s in req.processes if s is not span and s.start_ns > started]
        again_logs = [
            line
            for line in req.events(sc.TASK_RECEIVED)
            if int(line.get(sc.F_RECEIVE_COUNT) or 1) > 1
        ]
        redelivered = bool(again or again_logs)
        however = []
        if redelivered:
            ts = again[0].start_ns if again else log_time_ns(again_logs[0])
            items += [span_item(facts, s, edge="start") for s in again[:1]]
            items += [log_item(facts, line) for line in again_logs[:1]]
            however.append(
                phrase("crash.redelivered", "SQS delivered the task again at {ts}", ts=at(ts))
            )
        else:
            however.append(
                phrase(
                    "crash.not_redelivered",
                    "no other worker took the task before the evidence ends",
                )
            )
        return verdict(
            self.code, CONFIRMED, items, because, however, worker=worker, redelivered=redelivered
        )


def _life(facts: RunFacts, worker: str) -> ComponentLife | None:
    found = [c for c in facts.components if c.component == worker]
    return found[-1] if found else None


def _heartbeat(facts: RunFacts, worker: str) -> tuple[Phrase, EvidenceItem] | None:
    """The worker's last heartbeat on the wire, and when it expires (or expired)."""
    key = f"{sc.HEARTBEAT_KEY_PREFIX}{worker}"
    beats = [c for c in facts.wire.redis_calls() if c.name == "SET" and c.target == key]
    if not beats:
        return None
    last = beats[-1]
    ttl = next(
        (
            float(line[sc.F_HEARTBEAT_TTL])
            for line in facts.events(sc.WORKER_POLLING)
            if log_component(line) == worker and line.get(sc.F_HEARTBEAT_TTL) is not None
        ),
        None,
    )
    item = wire_item(facts, last, f"{last.path}: SET {key} (heartbeat)")
    if ttl is None:
        en = "its heartbeat was last renewed at {ts}"
        return phrase("crash.heartbeat", en, ts=at(last.start_ns)), item
    expires = last.start_ns + int(ttl * 1e9)
    ended = max((e.ts_ns for e in facts.wire.events), default=0)
    renewed, lapse = at(last.start_ns), at(expires)
    if expires <= ended:
        en = "its heartbeat, last renewed at {ts}, expired at {at}"
        return phrase("crash.heartbeat_expired", en, ts=renewed, at=lapse), item
    en = "its heartbeat, last renewed at {ts}, expires at {at}"
    return phrase("crash.heartbeat_expires", en, ts=renewed, at=lapse), item


def _finished_by(req: RequestFacts, worker: str) -> bool:
    return any(log_component(line) == worker for line in req.events(*_FINISHED))
