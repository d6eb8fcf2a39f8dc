"""The messages of a request between its components: what a sequence diagram draws.

One :class:`Message` per step the evidence shows, whichever source shows it: the client's
calls and answers and what the network carried (:mod:`.network`), the components' spans
(:mod:`.spans`), their log events and the supervisor's record of a process that died
(:mod:`.logs`). A step seen by several sources is one message carrying every source's
``ref`` (the references of timeline rows and evidence items: ``wire-N``,
``span-<id>-start``, ``log-N``, ``call-N-end``), so a verdict's evidence is found on the
arrow it refers to. A step the evidence implies and does not show (a task sent that no
worker reported receiving) is a message whose outcome is ``unknown``. The fault ledger is
not read here: what the harness injected is the report's to draw, from the timeline.

::

    sequence = request_sequence(facts, facts.requests[0])
    for m in sequence.messages:
        print(clock(m.ts_ns), m.source, "->", m.target, m.label, m.outcome, m.refs)
"""

from __future__ import annotations

from harness.analysis.facts import RequestFacts, RunFacts
from harness.analysis.sequence.logs import life_messages, log_messages
from harness.analysis.sequence.model import (
    CONTROLLER,
    ORDER,
    WORKER,
    Chart,
    Kind,
    Message,
    Outcome,
    Sequence,
    Workers,
    lifeline_rank,
)
from harness.analysis.sequence.network import client_messages, wire_messages
from harness.analysis.sequence.spans import span_messages
from nanogrid.telemetry import semconv as sc


def request_sequence(facts: RunFacts, req: RequestFacts) -> Sequence:
    """Every message of ``req`` the evidence shows, and the unknown ones it implies."""
    chart = Chart()
    workers = Workers(facts, req)
    client_messages(chart, facts, req)
    wired = wire_messages(chart, facts, req, workers)
    span_messages(chart, facts, req, wired)
    log_messages(chart, facts, req, workers)
    life_messages(chart, facts, req)
    implied_messages(chart, req)
    return Sequence(req.request_id, chart.placed())


def implied_messages(chart: Chart, req: RequestFacts) -> None:
    """The steps the evidence implies and does not show, drawn with an unknown outcome: a
    task sent that no worker took, a task taken and no result published, a result published
    without a receiver count that nothing shows reaching the controller."""
    end, unknown = req.end_ns, Outcome.UNKNOWN
    if (chart.has("send") or req.sent) and not chart.has("deliver"):
        task = Message(end, sc.SQS, WORKER, Kind.PUSH, "task", unknown, word="not_received")
        chart.put(task)
    delivered = [m for m in chart.messages if m.step == "deliver" and m.outcome is Outcome.OK]
    if delivered and not chart.has("publish"):
        who = delivered[-1].target
        publish = Message(end, who, sc.REDIS, Kind.CALL, "PUBLISH result", unknown)
        publish.word = "not_published"
        chart.put(publish)
    steps = [m for m in chart.messages if m.step == "publish"]
    sent = [m for m in steps if m.kind is Kind.CALL and m.outcome is Outcome.OK]
    answers = [m for m in steps if m.kind is Kind.ANSWER]
    heard = chart.has("push") or chart.has("stored")
    if sent and not heard and all(m.outcome is unknown for m in answers):
        ts = max(m.ts_ns for m in (*sent, *answers)) + 1
        push = Message(ts, sc.REDIS, CONTROLLER, Kind.PUSH, "message", unknown)
        push.word = "delivery_unknown"
        chart.put(push)


__all__ = [
    "CONTROLLER",
    "ORDER",
    "WORKER",
    "Kind",
    "Message",
    "Outcome",
    "Sequence",
    "lifeline_rank",
    "request_sequence",
]
