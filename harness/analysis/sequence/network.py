"""Messages from what the client saw and what the network carried.

The client's calls and answers (``results.jsonl``), and the wire: the Redis commands naming
the request (its channel, its keys) with their replies and the messages pushed on its
channel, the AWS requests made while it was under way, and the SQS receive that handed its
task to a worker (matched by message id). Connection chatter (PING, HELLO, CLIENT) and
other requests' traffic stay out.
"""

from __future__ import annotations

from harness.analysis.facts import CLIENT, RequestFacts, RunFacts, call_ref
from harness.analysis.sequence.model import (
    CONTROLLER,
    WORKER,
    Chart,
    Kind,
    Message,
    Outcome,
    Workers,
)
from harness.analysis.wire import WireCall
from harness.wire.model import (
    DETAIL_BYTES,
    DETAIL_MESSAGE_IDS,
    DETAIL_TYPE,
    DETAIL_VALUE,
    KIND_MESSAGE,
    KIND_SUBSCRIBED,
    PROTOCOL_REDIS,
)
from nanogrid.telemetry import semconv as sc

#: Connection chatter, about no request.
QUIET_REDIS = frozenset({"PING", "HELLO", "CLIENT", "MULTI", "EXEC", "SCAN", "SCRIPT"})
#: AWS operations that are a platform step, with the component that makes them.
AWS_STEPS = {
    "SQS.SendMessage": (CONTROLLER, "send"),
    "DynamoDB.GetItem": (CONTROLLER, "lookup"),
    "S3.GetObject": (WORKER, "download"),
}


def client_messages(chart: Chart, facts: RunFacts, req: RequestFacts) -> None:
    """Each call the client made for the request, and its answer (or none)."""
    keys = []
    for n, call in enumerate(facts.evidence.calls):
        if call.requestId != req.request_id or call.kind not in ("run", "fetch"):
            continue
        label = "POST /run" if call.kind == "run" else f"GET /runs/{req.request_id[:8]}"
        keys.append(key := f"call{n}")
        chart.put(Message(call.startNs, CLIENT, CONTROLLER, Kind.CALL, label, key=key))
        chart.merge(key, call_ref(n))
        status = call.status or ""
        failed = bool(call.error) or (call.httpStatus or 0) >= 500 or status == "TIMEOUT"
        plain = call.error or status.startswith("HTTP") or call.httpStatus is None
        answer = Message(call.endNs, CONTROLLER, CLIENT, Kind.ANSWER, status, key=f"{key}.answer")
        answer.label = (call.error or status) if plain else f"HTTP {call.httpStatus} {status}"
        answer.outcome = Outcome.ERROR if failed else Outcome.OK
        answer.word = "no_answer" if call.error else ""
        answer.refs = [call_ref(n, "end")]
        chart.put(answer)
    servers = [s for s in req.spans if s.kind == 2 and facts.component(s) == CONTROLLER]
    for span, key in zip(servers, keys, strict=False):
        chart.merge(key, f"span-{span.span_id}-start")
        chart.merge(f"{key}.answer", f"span-{span.span_id}-end")


def wire_messages(
    chart: Chart, facts: RunFacts, req: RequestFacts, workers: Workers
) -> dict[int, str]:
    """The request's wire calls and pushes; returns each drawn call's key by ``id(call)``."""
    keys: dict[int, str] = {}
    ids = _message_ids(facts, req)
    for call in facts.wire.calls:
        step = _step(call, req, ids)
        if step is not None:
            keys[id(call)] = _call(chart, facts, call, step, workers)
    for e in req.wire:
        if e.kind == KIND_MESSAGE and e.target == req.channel:
            label = f"message {e.detail.get('status') or ''}".strip()
            push = Message(e.ts_ns, sc.REDIS, e.path.split("->")[0], Kind.PUSH, label)
            push.refs, push.key = [facts.wire_ref(e)], chart.nth("wire", "push")
            chart.put(push)
    return keys


def _message_ids(facts: RunFacts, req: RequestFacts) -> set[str]:
    """The SQS message ids of the request's task, from whichever source names them."""
    found = {str(s.attributes[sc.MESSAGE_ID]) for s in req.spans if sc.MESSAGE_ID in s.attributes}
    found |= {str(line["messageId"]) for line in req.logs if line.get("messageId")}
    for call in facts.wire.calls:
        if _step(call, req, set()) == "send" and call.answer is not None:
            found |= set(map(str, call.answer.detail.get(DETAIL_MESSAGE_IDS) or ()))
    return found


def _step(call: WireCall, req: RequestFacts, ids: set[str]) -> str | None:
    """The step a wire call is ('' for none in particular); None when not the request's."""
    if call.protocol == PROTOCOL_REDIS:
        if not req.request_id or req.request_id not in call.target or call.name in QUIET_REDIS:
            return None
        return {"SUBSCRIBE": "subscribe", "PUBLISH": "publish"}.get(call.name, "")
    if call.name == "SQS.ReceiveMessage":
        answer = call.answer.detail if call.answer is not None else {}
        return "deliver" if ids & set(map(str, answer.get(DETAIL_MESSAGE_IDS) or ())) else None
    if not req.start_ns <= call.start_ns <= req.end_ns:
        return None
    side, step = AWS_STEPS.get(call.name, ("", ""))
    return step if call.component == side else ""


def _call(chart: Chart, facts: RunFacts, call: WireCall, step: str, workers: Workers) -> str:
    me, dep = workers.resolve(call.component, call.start_ns), call.dependency
    ref = facts.wire_ref(call.request)
    answer_ref = facts.wire_ref(call.answer) if call.answer is not None else ""
    detail = f"{call.path}: {call.name} {call.target}".strip()
    key = chart.nth("wire", step) if step else ref
    if step == "deliver":
        chart.put(Message(call.end_ns, sc.SQS, me, Kind.PUSH, "task", detail=detail, key=key))
        chart.merge(key, ref, answer_ref)
        return key
    ask = Message(call.start_ns, me, dep, Kind.CALL, label(call), refs=[ref], detail=detail)
    ask.key = key
    answer = Message(call.end_ns, dep, me, Kind.ANSWER, answer_label(call), detail=detail)
    answer.key, answer.refs = f"{key}.answer", [answer_ref, ref]
    if call.answer is None:
        answer.ts_ns, answer.label, answer.refs = call.start_ns + 1, "", []
        answer.outcome, answer.word = Outcome.UNKNOWN, "no_answer"
        if call.closed_ns:  # the connection closed unanswered: the call was lost
            ask.outcome, ask.word = Outcome.ERROR, "no_answer"
    elif call.error or call.symptom or call.receivers == 0:
        answer.outcome = Outcome.ERROR
    chart.put(ask)
    if ask.outcome is Outcome.OK:
        chart.put(answer)
    return key


def label(call: WireCall) -> str:
    """``GET result``, ``PUBLISH result``, ``SendMessage``: the call, its key's kind."""
    if call.protocol == PROTOCOL_REDIS:
        what = call.target.split(":", 1)[0] if ":" in call.target else ""
        return f"{call.name} {what}".strip()
    return call.name.split(".", 1)[-1]


def answer_label(call: WireCall) -> str:
    """What came back, in a word: ``receivers=1``, ``nil``, ``723 B``, ``NOSCRIPT``, ``200``."""
    answer = call.answer.detail if call.answer is not None else {}
    value = answer.get(DETAIL_VALUE)
    if call.receivers is not None:
        return f"receivers={call.receivers}"
    if call.error:
        return call.error.split(" ", 1)[0][:24] if call.protocol == PROTOCOL_REDIS else call.error
    if call.answer is not None and call.answer.kind == KIND_SUBSCRIBED:
        return "subscribed"
    size = answer.get(DETAIL_BYTES)
    if call.protocol != PROTOCOL_REDIS:
        downloaded = call.name == "S3.GetObject" and size is not None
        return f"{size} B" if downloaded else str(call.status or "")
    if answer.get(DETAIL_TYPE) == "null":
        return "nil"
    if isinstance(value, str) and len(value) <= 16 and not value.startswith(("{", "[")):
        return value
    if isinstance(value, int | float):
        return str(value)
    return f"{size} B" if size is not None else str(answer.get(DETAIL_TYPE, "reply"))
