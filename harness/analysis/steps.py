"""A request as a sequence of coarse steps, and where two runs first diverge.

Like Jaeger's trace compare: the steps of each run's first request, in time order, each a
key and a coarse outcome (durations and ids left out, so two healthy runs compare equal);
:func:`first_divergence` names the first position where key or outcome differ.
"""

from __future__ import annotations

from collections.abc import Iterator

from harness.analysis.facts import CLIENT, RequestFacts, RunFacts, log_component
from harness.analysis.model import Divergence, Step
from harness.evidence import Evidence, log_time_ns

SMALL_ZIP_BYTES = 100


def request_steps(facts: RunFacts, req: RequestFacts) -> list[Step]:
    steps = [
        Step("run called", "ok", req.call.startNs, CLIENT),
        *_controller(req),
        *_worker(facts, req),
    ]
    steps.append(Step("client answered", str(req.client_status), req.call.endNs, CLIENT))
    return sorted(steps, key=lambda s: s.ts_ns)


def _controller(req: RequestFacts) -> Iterator[Step]:
    for span in req.named("subscribe"):
        confirmed = any(e.name == "subscribe confirmed" for e in span.events)
        yield Step(
            "subscribed", "confirmed" if confirmed else "failed", span.start_ns, "controller"
        )
    if not req.named("subscribe"):
        for line in req.logs_with("Subscribing to channel")[:1]:
            yield Step("subscribed", "requested", log_time_ns(line), "controller")
    send = req.first("send")
    if send is not None:
        yield Step("task sent", "failed" if send.is_error else "ok", send.start_ns, "controller")
    elif req.sent:
        line = req.logs_with("message sent to SQS")[0]
        yield Step("task sent", "ok", log_time_ns(line), "controller")
    for span in req.named("wait"):
        for event in span.events:
            if event.name in ("message received", "stored result read"):
                yield Step(
                    "controller received",
                    str(event.attributes.get("status")),
                    event.ts_ns,
                    "controller",
                )
            elif event.name in ("message ignored", "deadline hit", "connection lost"):
                yield Step(
                    f"controller {event.name}",
                    str(event.attributes.get("status", "")),
                    event.ts_ns,
                    "controller",
                )


def _worker(facts: RunFacts, req: RequestFacts) -> Iterator[Step]:
    for span in req.processes:
        count = span.attributes.get("messaging.aws_sqs.receive_count", 1)
        yield Step("task received", f"delivery {count}", span.start_ns, facts.component(span))
    if not req.processes:
        for line in req.logs_with("Received task"):
            yield Step("task received", "ok", log_time_ns(line), log_component(line))
    for span in req.named("download"):
        size = int(span.attributes.get("nanogrid.zip.bytes", SMALL_ZIP_BYTES))
        outcome = (
            "failed" if span.is_error else ("empty archive" if size < SMALL_ZIP_BYTES else "ok")
        )
        yield Step("package downloaded", outcome, span.start_ns, facts.component(span))
    for span in req.named("validate and extract"):
        outcome = "invalid" if span.is_error else "ok"
        yield Step("package extracted", outcome, span.start_ns, facts.component(span))
    for span in req.named("execute"):
        yield Step(
            "function executed", _execution(span.attributes), span.start_ns, facts.component(span)
        )
    for span in req.publishes:
        yield Step(
            "result published",
            _published(req, span.attributes, span.is_error),
            span.start_ns,
            facts.component(span),
        )


def _execution(attrs: dict[str, object]) -> str:
    if attrs.get("nanogrid.timed_out"):
        return "timed out"
    if attrs.get("nanogrid.out_of_memory"):
        return "out of memory"
    return f"exit {attrs.get('process.exit.code')}"


def _published(req: RequestFacts, attrs: dict[str, object], error: bool) -> str:
    if error:
        return "failed"
    receivers = int(str(attrs.get("nanogrid.publish.receivers", 1)))
    return f"{req.published_status}, {'subscribed' if receivers else 'no receiver'}"


def first_divergence(
    failed: Evidence | RunFacts, baseline: Evidence | RunFacts
) -> Divergence | None:
    """The first step where the first requests of the two runs differ; None when they agree."""
    mine = _first_steps(failed)
    theirs = _first_steps(baseline)
    for index in range(max(len(mine), len(theirs))):
        a = mine[index] if index < len(mine) else None
        b = theirs[index] if index < len(theirs) else None
        if a is None or b is None or (a.key, a.outcome) != (b.key, b.outcome):
            return Divergence(index, a, b)
    return None


def _first_steps(run: Evidence | RunFacts) -> list[Step]:
    facts = run if isinstance(run, RunFacts) else RunFacts(run)
    return request_steps(facts, facts.requests[0]) if facts.requests else []
