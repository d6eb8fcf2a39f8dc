"""What a sequence diagram is made of: lifelines, messages and how they went."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from harness.analysis.facts import CLIENT, RequestFacts, RunFacts, log_component
from harness.evidence import log_time_ns
from nanogrid.telemetry import semconv as sc

CONTROLLER = "controller"
WORKER = "worker"
#: Lifelines left to right; any worker after SQS, names not listed here last.
ORDER = (CLIENT, CONTROLLER, sc.SQS, WORKER, sc.REDIS, sc.S3, sc.DYNAMODB, sc.CLOUDWATCH)


class Kind(StrEnum):
    """What an arrow is."""

    CALL = "call"  # a request, or a one-way send
    ANSWER = "answer"  # the reply to a call
    PUSH = "push"  # delivered unasked: a pub/sub message, a task handed to a worker
    NOTE = "note"  # something that happened on one lifeline


class Outcome(StrEnum):
    """How a message went, as far as the evidence shows."""

    OK = "ok"  # it went through
    ERROR = "error"  # it shows a failure: an error answer, no receiver, no answer at all
    UNKNOWN = "unknown"  # the evidence does not show whether or how it happened


@dataclass
class Message:
    """One arrow (a note when ``source == target``) of a sequence diagram.

    ``label`` is protocol text (``PUBLISH result``, ``HTTP 202 TIMEOUT``); ``word`` a phrase
    key the report translates and puts before it (``no_answer``, ``ignored``). ``ts_ns`` is
    0 when the evidence gives no time; ``placed_ns`` is where the message is drawn.
    """

    ts_ns: int
    source: str
    target: str
    kind: Kind
    label: str
    outcome: Outcome = Outcome.OK
    refs: list[str] = field(default_factory=list)
    word: str = ""
    detail: str = ""
    key: str = ""  # the step it is (``subscribe#0``), which several sources agree on
    placed_ns: int = 0

    @property
    def step(self) -> str:
        return self.key.split("#", 1)[0] if "#" in self.key else ""


@dataclass
class Sequence:
    """The messages of one request in time order, and its lifelines left to right."""

    request_id: str
    messages: list[Message]

    @cached_property
    def start_ns(self) -> int:
        return min((m.placed_ns for m in self.messages), default=0)

    @cached_property
    def end_ns(self) -> int:
        return max((m.placed_ns for m in self.messages), default=0)

    @cached_property
    def lifelines(self) -> list[str]:
        names = {m.source for m in self.messages} | {m.target for m in self.messages}
        return sorted(names, key=lifeline_rank)


def lifeline_rank(name: str) -> tuple[int, str]:
    base = WORKER if name.startswith(WORKER) else name
    return (ORDER.index(base) if base in ORDER else len(ORDER), name)


class Chart:
    """Messages under construction: a step's key already held takes the newcomer's refs.

    Each source counts the occurrences of a step itself (:meth:`nth`), so the first
    SUBSCRIBE the wire saw and the first subscribe span are both ``subscribe#0``.
    """

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.keys: dict[str, Message] = {}
        self._counts: dict[str, int] = {}

    def nth(self, source: str, step: str) -> str:
        n = self._counts.get(f"{source}:{step}", 0)
        self._counts[f"{source}:{step}"] = n + 1
        return f"{step}#{n}"

    def has(self, step: str) -> bool:
        return any(m.step == step and m.kind is not Kind.ANSWER for m in self.messages)

    def put(self, msg: Message) -> None:
        held = self.keys.get(msg.key) if msg.key else None
        if held is None:
            self.messages.append(msg)
            if msg.key:
                self.keys[msg.key] = msg
            return
        if held.outcome is Outcome.UNKNOWN and msg.outcome is not Outcome.UNKNOWN:
            held.outcome, held.word = msg.outcome, msg.word
            held.label = msg.label or held.label
        held.ts_ns = held.ts_ns or msg.ts_ns
        held.label = held.label or msg.label
        self.merge(msg.key, *msg.refs)

    def merge(self, key: str, *refs: str) -> None:
        if (held := self.keys.get(key)) is not None:
            held.refs += [r for r in refs if r and r not in held.refs]

    def placed(self) -> list[Message]:
        """Time order; a message without a time goes first (the client's first call) or last."""
        known = [m.ts_ns for m in self.messages if m.ts_ns > 0]
        first, last = (min(known), max(known)) if known else (1, 1)
        lead = next((m for m in self.messages if m.source == CLIENT), None)
        for m in self.messages:
            m.placed_ns = m.ts_ns if m.ts_ns > 0 else (first - 1 if m is lead else last + 1)
        return sorted(self.messages, key=lambda m: m.placed_ns)


class Workers:
    """Names ``worker`` (a wire path's side, a log line without an id) as a worker process:
    the one that handled the request, or the one whose part of it was under way then."""

    def __init__(self, facts: RunFacts, req: RequestFacts) -> None:
        seen: dict[str, list[int]] = {}
        for span in req.processes:
            seen.setdefault(facts.component(span), []).extend((span.start_ns, span.end_ns))
        for line in req.logs:
            if log_component(line).startswith(f"{WORKER}-"):
                seen.setdefault(log_component(line), []).append(log_time_ns(line))
        self.windows = {name: (min(t), max(t)) for name, t in seen.items()}

    def resolve(self, name: str, ts_ns: int) -> str:
        if name != WORKER or not self.windows:
            return name
        if len(self.windows) == 1:
            return next(iter(self.windows))
        inside = [w for w, (a, b) in self.windows.items() if a <= ts_ns <= b]
        return inside[0] if inside else name
