"""Messages from the components' spans: the steps that are exchanges, the task handed to a
worker, what went wrong inside it, what the controller's wait saw, and client calls.

A client span (``S3.GetObject``, a Redis ``GET``) inside a step's span is part of that
step's arrow; one the wire also saw is that wire call's arrow; only a client span nothing
else shows is an arrow of its own.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from harness.analysis.facts import RequestFacts, RunFacts
from harness.analysis.sequence.model import WORKER, Chart, Kind, Message, Outcome
from harness.analysis.wire import WireCall
from harness.traces import SpanRecord
from nanogrid.telemetry import semconv as sc

#: Span steps that are one exchange with a dependency: (step, dependency, label, answer).
EXCHANGES = {
    sc.SPAN_LOOKUP: ("lookup", sc.DYNAMODB, "GetItem", "item"),
    sc.SPAN_SUBSCRIBE: ("subscribe", sc.REDIS, "SUBSCRIBE result", "subscribed"),
    sc.SPAN_SEND: ("send", sc.SQS, "SendMessage", "sent"),
    sc.SPAN_DOWNLOAD: ("download", sc.S3, "GetObject", "downloaded"),
    sc.SPAN_PUBLISH: ("publish", sc.REDIS, "PUBLISH result", "published"),
}
#: The controller's wait-span events: (step, kind, word, outcome).
WAIT_EVENTS: dict[str, tuple[str, Kind, str, Outcome]] = {
    sc.EV_MESSAGE_RECEIVED: ("push", Kind.PUSH, "", Outcome.OK),
    sc.EV_STORED_RESULT_READ: ("stored", Kind.PUSH, "stored_result", Outcome.OK),
    sc.EV_MESSAGE_IGNORED: ("ignored", Kind.NOTE, "ignored", Outcome.ERROR),
    sc.EV_DEADLINE_HIT: ("deadline", Kind.NOTE, "deadline_hit", Outcome.ERROR),
    sc.EV_CONNECTION_LOST: ("lost", Kind.NOTE, "connection_lost", Outcome.ERROR),
}
_SERVICES = {"S3": sc.S3, "SQS": sc.SQS, "DynamoDB": sc.DYNAMODB, "CloudWatch": sc.CLOUDWATCH}
_SLACK_NS = 2_000_000  # a client span and the wire call it made: two clocks of one host
_Paths = dict[tuple[str, str], tuple[list[int], list[WireCall]]]


@dataclass
class _Seen:
    """Step spans seen so far, and the wire calls by path (to find a client span's)."""

    wired: dict[int, str]
    paths: _Paths
    steps: list[tuple[str, str, int, int, str]] = field(default_factory=list)

    def enclosing(self, component: str, dependency: str, span: SpanRecord) -> str:
        for comp, dep, start, end, key in self.steps:
            if (comp, dep) == (component, dependency) and start <= span.start_ns <= end:
                return key
        return ""

    def on_wire(self, component: str, dependency: str, span: SpanRecord) -> WireCall | None:
        side = WORKER if component.startswith(WORKER) else component
        times, calls = self.paths.get((side, dependency), ([], []))
        last = (span.end_ns or span.start_ns) + _SLACK_NS
        for call in calls[bisect.bisect_left(times, span.start_ns - _SLACK_NS) :]:
            if call.start_ns > last:
                break
            if call.name.split(".")[-1] in span.name:
                return call
        return None


def span_messages(chart: Chart, facts: RunFacts, req: RequestFacts, wired: dict[int, str]) -> None:
    paths: _Paths = {}
    for call in facts.wire.calls:
        times, calls = paths.setdefault((call.component, call.dependency), ([], []))
        times.append(call.start_ns)
        calls.append(call)
    seen = _Seen(wired, paths)
    for span in req.spans:
        step, me = sc.step_of(span.name), facts.component(span)
        if step in EXCHANGES:
            _exchange(chart, seen, span, me)
        elif step == sc.SPAN_PROCESS and span in req.processes:
            _process(chart, req, span, me)
        elif step in (sc.SPAN_EXTRACT, sc.SPAN_EXECUTE):
            _worker_note(chart, req, span, me)
        elif step == sc.SPAN_WAIT:
            _wait(chart, span, me)
        elif span.kind == 3:
            _client_span(chart, seen, span, me)


def _refs(span: SpanRecord) -> tuple[str, str]:
    return f"span-{span.span_id}-start", f"span-{span.span_id}-end"


def _exchange(chart: Chart, seen: _Seen, span: SpanRecord, me: str) -> None:
    step, dep, label, answered = EXCHANGES[sc.step_of(span.name)]
    start, end = _refs(span)
    key = chart.nth("span", step)
    seen.steps.append((me, dep, span.start_ns, span.end_ns or 2**62, key))
    ask = Message(span.start_ns, me, dep, Kind.CALL, label, refs=[start], detail=span.name)
    ask.key = key
    if span.is_error:
        ask.outcome, ask.word, ask.detail = Outcome.ERROR, "failed", span.status_message
        ask.refs.append(end)
        chart.put(ask)
        return
    chart.put(ask)
    answer = Message(span.end_ns, dep, me, Kind.ANSWER, answered, refs=[end], detail=span.name)
    answer.key = f"{key}.answer"
    if not span.ended:
        answer.ts_ns, answer.label, answer.refs = span.start_ns + 1, "", []
        answer.outcome, answer.word = Outcome.UNKNOWN, "no_answer"
    for n, event in enumerate(span.events):
        if event.name == sc.EV_SUBSCRIBE_CONFIRMED:
            answer.ts_ns, answer.refs = event.ts_ns, [f"span-{span.span_id}-ev{n}", end]
    if step == "publish" and span.ended:
        receivers = span.attributes.get(sc.PUBLISH_RECEIVERS)
        answer.label = "" if receivers is None else f"receivers={receivers}"
        answer.outcome = Outcome.UNKNOWN if receivers is None else answer.outcome
        answer.outcome = Outcome.ERROR if receivers == 0 else answer.outcome
        answer.word = "receivers_unknown" if receivers is None else ""
    elif sc.ZIP_BYTES in span.attributes:
        answer.label = f"{span.attributes[sc.ZIP_BYTES]} B"
    chart.put(answer)


def _process(chart: Chart, req: RequestFacts, span: SpanRecord, me: str) -> None:
    count = int(span.attributes.get(sc.RECEIVE_COUNT, 1))
    label = "task" if count == 1 else f"task (delivery {count})"
    start, _ = _refs(span)
    task = Message(span.start_ns, sc.SQS, me, Kind.PUSH, label, refs=[start])
    task.key = chart.nth("span", "deliver")
    chart.put(task)
    if not span.ended:
        unknown = Outcome.UNKNOWN
        chart.put(
            _note(chart, req.end_ns, me, "process", span.name, unknown, start, "never_finished")
        )


def _note(
    chart: Chart,
    ts: int,
    me: str,
    step: str,
    label: str,
    outcome: Outcome,
    ref: str,
    word: str = "",
) -> Message:
    return Message(ts, me, me, Kind.NOTE, label, outcome, [ref], word, key=chart.nth("span", step))


def _worker_note(chart: Chart, req: RequestFacts, span: SpanRecord, me: str) -> None:
    start, end = _refs(span)
    if sc.step_of(span.name) == sc.SPAN_EXTRACT:
        if span.is_error:
            label = span.status_message.split(":", 1)[0]
            note = _note(chart, span.end_ns, me, "invalid", label, Outcome.ERROR, end)
            note.word, note.detail = "invalid_package", span.status_message
            chart.put(note)
        return
    if not span.ended:
        unknown = Outcome.UNKNOWN
        chart.put(
            _note(chart, req.end_ns, me, "execute", span.name, unknown, start, "never_finished")
        )
        return
    attrs, code = span.attributes, span.attributes.get(sc.EXIT_CODE)
    word = "timed_out" if attrs.get(sc.TIMED_OUT) else ""
    word = "out_of_memory" if attrs.get(sc.OUT_OF_MEMORY) else word
    outcome = Outcome.ERROR if word or code not in (0, None) else Outcome.OK
    chart.put(_note(chart, span.end_ns, me, "execute", f"exit {code}", outcome, end, word))


def _wait(chart: Chart, span: SpanRecord, me: str) -> None:
    deadline = span.attributes.get(sc.DEADLINE_SECONDS)
    for n, event in enumerate(span.events):
        if event.name not in WAIT_EVENTS:
            continue
        step, kind, word, outcome = WAIT_EVENTS[event.name]
        status = str(event.attributes.get("status") or "")
        label = f"message {status}".strip() if step == "push" else status
        if step == "deadline" and deadline is not None:
            label = f"{deadline} s"
        source = sc.REDIS if kind is Kind.PUSH else me
        ref = f"span-{span.span_id}-ev{n}"
        msg = Message(event.ts_ns, source, me, kind, label, outcome, [ref], word)
        msg.key = chart.nth("event", step)
        chart.put(msg)


def _client_span(chart: Chart, seen: _Seen, span: SpanRecord, me: str) -> None:
    """A client call to a dependency: part of a step, a call the wire saw, or its own arrow."""
    if span.attributes.get(sc.DB_SYSTEM) == "redis":
        dep = sc.REDIS
    else:
        dep = _SERVICES.get(str(span.attributes.get(sc.RPC_SERVICE) or ""), "")
    if not dep:
        return
    start, end = _refs(span)
    key = seen.enclosing(me, dep, span)
    call = None if key else seen.on_wire(me, dep, span)
    if call is not None:
        key = seen.wired.get(id(call), "")
        if not key:
            return  # on the wire, and about no step of this request
    if key:
        chart.merge(key, start)
        chart.merge(f"{key}.answer", end)
        return
    step = {sc.DYNAMODB: "lookup", sc.S3: "download"}.get(dep, "")
    key = chart.nth("rpc", step) if step else f"span-{span.span_id}"
    label = span.name.split(".", 1)[-1]
    chart.put(Message(span.start_ns, me, dep, Kind.CALL, label, refs=[start], key=key))
    answer = Message(span.end_ns, dep, me, Kind.ANSWER, span.status_message[:24], refs=[end])
    answer.key, answer.detail = f"{key}.answer", span.name
    answer.outcome = Outcome.ERROR if span.is_error else Outcome.OK
    if not span.ended:
        answer.ts_ns, answer.refs = span.start_ns + 1, []
        answer.outcome, answer.word = Outcome.UNKNOWN, "no_answer"
    chart.put(answer)
