"""Messages from the components' log events and the supervisor's record of their processes.

Each log event of a step (``result.subscribing``, ``task.sent``, ``result.published``...)
is that step's call, answer or note; an answer logged without its call (a worker's log
alone, as in the incident memo) brings the call with it. A dependency failure logged is a
note on the component that logged it; a process that died is a note on its lifeline.
"""

from __future__ import annotations

from typing import Any

from harness.analysis.facts import RequestFacts, RunFacts, log_component
from harness.analysis.sequence.model import Chart, Kind, Message, Outcome, Workers
from harness.evidence import log_time_ns
from nanogrid.telemetry import semconv as sc

_CALLS = {"send": "SendMessage", "download": "GetObject", "publish": "PUBLISH result"}
OK, ERROR = Outcome.OK, Outcome.ERROR
#: A log event of a step: (step, kind, the other lifeline, fixed label or field, outcome, word).
STEPS: dict[str, tuple[str, Kind, str, str, Outcome, str]] = {
    sc.RESULT_SUBSCRIBING: ("subscribe", Kind.CALL, sc.REDIS, "SUBSCRIBE result", OK, ""),
    sc.TASK_SENT: ("send", Kind.ANSWER, sc.SQS, "sent", OK, ""),
    sc.TASK_RECEIVED: ("deliver", Kind.PUSH, sc.SQS, "task", OK, ""),
    sc.PACKAGE_DOWNLOADED: ("download", Kind.ANSWER, sc.S3, "{bytes} B", OK, ""),
    sc.RESULT_PUBLISHING: ("publish", Kind.CALL, sc.REDIS, "PUBLISH result", OK, ""),
    sc.RESULT_RECEIVED: ("push", Kind.PUSH, sc.REDIS, "message {status}", OK, ""),
    sc.PACKAGE_INVALID: ("invalid", Kind.NOTE, "", "{reason}", ERROR, "invalid_package"),
    sc.PACKAGE_UNAVAILABLE: ("invalid", Kind.NOTE, "", "{reason}", ERROR, "invalid_package"),
    sc.TASK_DONE: ("done", Kind.NOTE, "", "done {status}", OK, ""),
    sc.RUN_TIMEOUT: ("deadline", Kind.NOTE, "", "stage {stage}", ERROR, "deadline_hit"),
    sc.RESULT_PUBLISHED: ("publish", Kind.ANSWER, sc.REDIS, "receivers={receivers}", OK, ""),
    sc.FUNCTION_FINISHED: ("execute", Kind.NOTE, "", "exit {exitCode}", OK, ""),
}


def log_messages(chart: Chart, facts: RunFacts, req: RequestFacts, workers: Workers) -> None:
    for line in req.logs:
        event = str(line.get(sc.EVENT) or "")
        ts, ref = log_time_ns(line), facts.log_ref(line)
        me = workers.resolve(log_component(line), ts)
        text = str(line.get("message", ""))
        if event in sc.DEPENDENCY_FAILURES:
            label = f"{line.get(sc.F_DEPENDENCY, '?')}: {line.get(sc.F_SYMPTOM, '?')}"
            note = Message(ts, me, me, Kind.NOTE, label, ERROR, [ref], "unreachable", text)
            note.key = chart.nth("log", "depfail")
            chart.put(note)
        if event not in STEPS:
            continue
        step, kind, other, template, outcome, word = STEPS[event]
        msg = Message(ts, me, other or me, kind, template.format_map(_Fields(line)), outcome)
        msg.refs, msg.word, msg.detail = [ref], word, text
        _judge(event, line, msg)
        if kind is Kind.ANSWER:
            key = chart.nth("log-answer", step)
            chart.put(Message(ts - 1, me, other, Kind.CALL, _CALLS[step], key=key))
            msg.source, msg.target, msg.key = other, me, f"{key}.answer"
        else:
            msg.key = chart.nth("log", step)
            if kind is Kind.PUSH:
                msg.source, msg.target = other, me
        chart.put(msg)


class _Fields(dict[str, Any]):
    """A log line's fields for a label; a missing one reads ``?``."""

    def __missing__(self, key: str) -> str:
        return "?"


def _judge(event: str, line: dict[str, Any], msg: Message) -> None:
    """The outcome of the events whose fields decide it."""
    if event == sc.RESULT_PUBLISHED:
        n = line.get(sc.F_RECEIVERS)
        if not isinstance(n, int):
            msg.label, msg.outcome, msg.word = "", Outcome.UNKNOWN, "receivers_unknown"
        elif n == 0:
            msg.outcome = ERROR
    elif event == sc.FUNCTION_FINISHED and line.get(sc.F_EXIT_CODE) not in (0, None):
        msg.outcome = ERROR


def life_messages(chart: Chart, facts: RunFacts, req: RequestFacts) -> None:
    """A component process that died while the request was under way."""
    lifelines = {m.source for m in chart.messages} | {m.target for m in chart.messages}
    for life in facts.components:
        ended, me = life.ended_ns or 0, life.component
        if not life.crashed or me not in lifelines or not req.start_ns <= ended <= req.end_ns:
            continue
        code = life.exit_code
        how = f"signal {-code}" if code is not None and code < 0 else f"status {code}"
        chart.put(Message(ended, me, me, Kind.NOTE, how, ERROR, [], "exited", key=f"life-{me}"))
