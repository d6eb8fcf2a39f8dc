"""The memo's four timeline steps for one request.

The incident memo told its story in four lines: ``/run`` called and the task sent to SQS;
the worker finished (in ms); the worker's Redis publish; the controller's outcome (TIMEOUT
at its deadline). :func:`memo_steps` reads the same four out of a request's evidence; a step
the evidence does not show is ``unknown``.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.analysis.facts import CLIENT, RequestFacts, log_component, message
from harness.analysis.model import Phrase
from harness.evidence import log_time_ns
from nanogrid.telemetry import semconv as sc


@dataclass(frozen=True)
class MemoStep:
    number: int
    ts_ns: int
    component: str
    phrase: Phrase
    status: str  # done | failed | unknown

    @property
    def text(self) -> str:
        return self.phrase.render()


def memo_steps(req: RequestFacts) -> list[MemoStep]:
    return [_sent(req), _worker(req), _publish(req), _outcome(req)]


def _sent(req: RequestFacts) -> MemoStep:
    send = req.first(sc.SPAN_SEND)
    ts = send.end_ns if send else req.start_ns
    if req.sent:
        return MemoStep(
            1, ts, "controller", Phrase("memo.sent", "/run called, message sent to SQS"), "done"
        )
    if req.sent is False:
        p = Phrase(
            "memo.not_sent",
            "/run called; the task was not sent (HTTP {code})",
            {"code": req.call.httpStatus},
        )
        return MemoStep(1, ts, "controller", p, "failed")
    return MemoStep(
        1,
        ts,
        "controller",
        Phrase("memo.sent_unknown", "/run called; whether the task was sent is unknown"),
        "unknown",
    )


def _worker(req: RequestFacts) -> MemoStep:
    process = req.processes[-1] if req.processes else None
    received = req.events(sc.TASK_RECEIVED)
    if process is None and not received:
        p = Phrase("memo.worker_unknown", "Worker: no worker reported receiving the task")
        return MemoStep(2, req.end_ns, "worker", p, "unknown")
    start = process.start_ns if process else log_time_ns(received[-1])
    comp = log_component(received[-1]) if received else "worker"
    store = req.first(sc.SPAN_STORE)
    done = req.events(sc.TASK_DONE)
    end = store.start_ns if store else (log_time_ns(done[-1]) if done else 0)
    if not end:
        p = Phrase("memo.worker_unfinished", "Worker: received the task, never reported finishing")
        return MemoStep(2, start, comp, p, "unknown")
    outcome = req.published_status or "?"
    p = Phrase(
        "memo.worker_done",
        "Worker: processing finished in {ms} ms ({status})",
        {"ms": round((end - start) / 1e6), "status": outcome},
    )
    return MemoStep(2, end, comp, p, "done" if outcome == "SUCCESS" else "failed")


def _publish(req: RequestFacts) -> MemoStep:
    failed = [s for s in req.publishes if s.is_error]
    if req.receivers:
        ts, n = req.receivers[-1]
        p = Phrase("memo.published", "Worker: Redis publish succeeded, receivers={n}", {"n": n})
        return MemoStep(3, ts, "worker", p, "done" if n > 0 else "failed")
    if failed:
        span = failed[-1]
        p = Phrase(
            "memo.publish_failed",
            "Worker: Redis publish failed: {error}",
            {"error": span.status_message},
        )
        return MemoStep(3, span.end_ns, "worker", p, "failed")
    p = Phrase("memo.publish_unknown", "Worker: no publish recorded")
    return MemoStep(3, req.end_ns, "worker", p, "unknown")


def _outcome(req: RequestFacts) -> MemoStep:
    call, status = req.call, req.client_status
    if status == "TIMEOUT":
        logged = req.events(sc.RUN_TIMEOUT)
        ts = log_time_ns(logged[0]) if logged else call.endNs
        deadline = call.body.get("deadlineSeconds", "?")
        p = Phrase(
            "memo.timeout",
            "Controller: TIMEOUT at its {deadline} s deadline (stage {stage})",
            {"deadline": deadline, "stage": call.body.get("stage", "?")},
        )
        return MemoStep(4, ts, "controller", p, "failed")
    if status is None:
        p = Phrase(
            "memo.no_answer", "Client: no answer ({error})", {"error": call.error or "unknown"}
        )
        return MemoStep(4, call.endNs, CLIENT, p, "unknown")
    p = Phrase(
        "memo.answered",
        "Controller: answered {status} after {ms} ms",
        {"status": status, "ms": round((call.endNs - call.startNs) / 1e6)},
    )
    return MemoStep(4, call.endNs, "controller", p, "done" if status == "SUCCESS" else "failed")


def last_message(req: RequestFacts, event: str) -> str:
    found = req.events(event)
    return message(found[-1]) if found else ""
