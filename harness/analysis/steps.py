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
from nanogrid.telemetry import semconv as sc

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
    for span in req.named(sc.SPAN_SUBSCRIBE):
        confirmed = any(e.name == sc.EV_SUBSCRIBE_CONFIRMED for e in span.events)
        yield Step(
            "subscribed", "confirmed" if confirmed else "failed", span.start_ns, "controller"
        )
    if not req.named(sc.SPAN_SUBSCRIBE):
        for line in req.events(sc.RESULT_SUBSCRIBING)[:1]:
            yield Step("subscribed", "requested", log_time_ns(line), "controller")
    send = req.first(sc.SPAN_SEND)
    if send is not None:
        yield Step("task sent", "failed" if send.is_error else "ok", send.start_ns, "controller")
    elif req.sent:
        line = req.events(sc.TASK_SENT)[0]
        yield Step("task sent", "ok", log_time_ns(line), "controller")
    for span in req.named(sc.SPAN_WAIT):
        for event in span.events:
            if event.name in (sc.EV_MESSAGE_RECEIVED, sc.EV_STORED_RESULT_READ):
                yield Step(
                    "controller received",
                    str(event.attributes.get("status")),
                    event.ts_ns,
                    "controller",
                )
            elif event.name in (sc.EV_MESSAGE_IGNORED, sc.EV_DEADLINE_HIT, sc.EV_CONNECTION_LOST):
                yield Step(
                    f"controller {event.name}",
                    str(event.attributes.get("status", "")),
                    event.ts_ns,
                    "controller",
                )


def _worker(facts: RunFacts, req: RequestFacts) -> Iterator[Step]:
    for span in req.processes:
        count = span.attributes.get(sc.RECEIVE_COUNT, 1)
        yield Step("task received", f"delivery {count}", span.start_ns, facts.component(span))
    if not req.processes:
        for line in req.events(sc.TASK_RECEIVED):
            yield Step("task received", "ok", log_time_ns(line), log_component(line))
    for span in req.named(sc.SPAN_DOWNLOAD):
        size = int(span.attributes.get(sc.ZIP_BYTES, SMALL_ZIP_BYTES))
        outcome = (
            "failed" if span.is_error else ("empty archive" if size < SMALL_ZIP_BYTES else "ok")
        )
        outcome = outcome if span.ended else "never finished"
        yield Step("package downloaded", outcome, span.start_ns, facts.component(span))
    for span in req.named(sc.SPAN_EXTRACT):
        outcome = "invalid" if span.is_error else "ok"
        yield Step("package extracted", outcome, span.start_ns, facts.component(span))
    for span in req.named(sc.SPAN_EXECUTE):
        yield Step(
            "function executed",
            _execution(span.attributes, span.ended),
            span.start_ns,
            facts.component(span),
        )
    for span in req.publishes:
        yield Step(
            "result published",
            _published(req, span.attributes, span.is_error),
            span.start_ns,
            facts.component(span),
        )


def _execution(attrs: dict[str, object], ended: bool = True) -> str:
    if not ended:
        return "never finished"
    if attrs.get(sc.TIMED_OUT):
        return "timed out"
    if attrs.get(sc.OUT_OF_MEMORY):
        return "out of memory"
    return f"exit {attrs.get('process.exit.code')}"


def _published(req: RequestFacts, attrs: dict[str, object], error: bool) -> str:
    if error:
        return "failed"
    receivers = int(str(attrs.get(sc.PUBLISH_RECEIVERS, 1)))
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
