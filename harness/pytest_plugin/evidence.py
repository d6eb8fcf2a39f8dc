"""Assertions over one request's recorded evidence: selectors, ordering and completeness.

Everything here reads a run directory through :func:`harness.evidence.load` (the evidence
contract: ``trace.jsonl``, ``logs.jsonl``, ``wire.jsonl``...), never a live stack, so the
same assertions work on evidence recorded anywhere. Example::

    reader = EvidenceReader(run_dir)  # the ``evidence`` fixture records the run first
    request = reader.wait_complete(request_id, deadline=10.0)
    subscribe = request.span("subscribe *", {sc.MESSAGING_DESTINATION: "result:*"})
    publish = request.span("publish *", service="nanogrid-worker")
    request.assert_before(subscribe, publish)  # "subscribe ended before publish started"

Selectors match a span's name and string attributes with shell-style globs
(:func:`fnmatch.fnmatchcase`: ``*``, ``?``, ``[...]``), other values by equality. Keys with
dots go in the mapping (``{"messaging.destination.name": "result:*"}``), plain keys may be
keywords (``span("publish *", service="nanogrid-worker")``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, TypeVar

from harness import traces
from harness.evidence import CallRecord, Evidence, load, log_time_ns
from harness.pytest_plugin.errors import IncompleteEvidence, NoMatch, OutOfOrder
from harness.traces import SpanRecord
from harness.wire.model import DETAIL_REQUEST_ID, WireEvent
from nanogrid.telemetry import semconv as sc

#: Client-visible statuses that mean a worker ran the request and answered.
TERMINAL = ("SUCCESS", "FAILED")
#: What :func:`assert_before` orders: a span, a wire event or a log line.
Item = SpanRecord | WireEvent | Mapping[str, Any]
_T = TypeVar("_T")


def _same(value: object, wanted: object) -> bool:
    if isinstance(wanted, str) and isinstance(value, str):
        return fnmatchcase(value, wanted)
    return bool(value == wanted)


def _matches(values: Mapping[str, Any], wanted: Mapping[str, object]) -> bool:
    return all(key in values and _same(values[key], want) for key, want in wanted.items())


@dataclass(frozen=True)
class SpanSelector:
    """Spans by name glob, attributes (glob for strings) and, if given, service name."""

    name: str = "*"
    attributes: Mapping[str, object] = field(default_factory=dict)
    service: str | None = None

    def matches(self, span: SpanRecord) -> bool:
        if not fnmatchcase(span.name, self.name):
            return False
        if self.service is not None and not _same(span.service, self.service):
            return False
        return _matches(span.attributes, self.attributes)

    def __str__(self) -> str:
        parts = [repr(self.name), *(f"{k}={v!r}" for k, v in self.attributes.items())]
        if self.service is not None:
            parts.append(f"service={self.service!r}")
        return "span " + " ".join(parts)


def _one(found: Sequence[_T], what: str, seen: Callable[[], str]) -> _T:
    if len(found) == 1:
        return found[0]
    count = "no" if not found else f"{len(found)}"
    raise NoMatch(f"{count} {what} where exactly one was expected; recorded:\n{seen()}")


@dataclass(frozen=True)
class Moment:
    """When an item started and ended (``end_ns`` None: it has not ended)."""

    label: str
    start_ns: int
    end_ns: int | None


def moment(item: Item) -> Moment:
    """The interval of a span, or the instant of a wire event or a log line."""
    if isinstance(item, SpanRecord):
        label = f"span {item.name!r} [{item.service}]"
        return Moment(label, item.start_ns, item.end_ns if item.ended else None)
    if isinstance(item, WireEvent):
        words = [item.kind, item.name, item.target, "on", item.path]
        label = "wire " + " ".join(w for w in words if w)
        return Moment(label, item.ts_ns, item.ts_ns)
    if isinstance(item, Mapping):
        said = item.get(sc.EVENT) or item.get("message")
        label = f"log {said!r} [{item.get('source') or item.get(sc.F_COMPONENT) or '?'}]"
        ts = log_time_ns(dict(item))
        return Moment(label, ts, ts)
    raise TypeError(f"cannot order {type(item).__name__}: a span, wire event or log line")


def _at(ns: int, origin: int) -> str:
    clock = datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%H:%M:%S.%f")
    return f"+{(ns - origin) / 1e6:.3f} ms ({clock})"


def assert_before(first: Item, second: Item, origin_ns: int | None = None) -> None:
    """Assert that ``first`` ended strictly before ``second`` started.

    Spans are intervals, wire events and log lines (millisecond stamps) instants. Times in
    the message count from ``origin_ns`` (the trace's start, say), else the earlier start.
    """
    a, b = moment(first), moment(second)
    origin = origin_ns if origin_ns is not None else min(a.start_ns, b.start_ns)
    if a.end_ns is None:
        raise OutOfOrder(
            f"expected {a.label} to end before {b.label} started at {_at(b.start_ns, origin)}, "
            f"but {a.label} never ended (started at {_at(a.start_ns, origin)})"
        )
    if a.end_ns < b.start_ns:
        return
    lag = (a.end_ns - b.start_ns) / 1e6
    raise OutOfOrder(
        f"expected {a.label} to end before {b.label} started, but it ended at "
        f"{_at(a.end_ns, origin)}, {lag:.3f} ms after {b.label} started at "
        f"{_at(b.start_ns, origin)}"
    )


def _span_label(span: SpanRecord) -> str:
    return f"span {span.name!r} [{span.service}]"


def missing(
    spans: Sequence[SpanRecord], call: CallRecord | None, require_worker: bool = True
) -> list[str]:
    """What keeps a request's trace from being complete (empty: complete).

    Complete: a root span that ended, no span still open, every span's parent recorded,
    and, when the client got a worker's answer (SUCCESS or FAILED) and ``require_worker``,
    the worker's ``process`` span ended (the worker writes it last, after its answer).
    """
    if not spans:
        return ["no span of the request is recorded yet"]
    ids = {s.span_id for s in spans}
    roots = [s for s in spans if not s.parent_span_id]
    found = [] if roots else ["no root span is recorded yet"]
    found += [f"{_span_label(s)} has not ended" for s in spans if s.open]
    found += [
        f"the parent {s.parent_span_id} of {_span_label(s)} is not recorded"
        for s in spans
        if s.parent_span_id and s.parent_span_id not in ids
    ]
    process = f"{sc.SPAN_PROCESS} "
    worker_done = any(s.name.startswith(process) and s.ended for s in spans)
    if require_worker and call is not None and call.status in TERMINAL and not worker_done:
        found.append(f"the client saw {call.status}, but no worker {process}* span ended")
    return found


@dataclass
class RequestEvidence:
    """The recorded evidence of one request: its trace, its log lines, the wire events
    that name it (a ``result:<id>`` channel, a payload's requestId) and the client's calls."""

    request_id: str
    spans: list[SpanRecord]
    logs: list[dict[str, Any]]
    wire: list[WireEvent]
    calls: list[CallRecord]

    @classmethod
    def of(cls, evidence: Evidence, request_id: str) -> RequestEvidence:
        wire = [
            e
            for e in evidence.wire
            if request_id in e.target or e.detail.get(DETAIL_REQUEST_ID) == request_id
        ]
        calls = [c for c in evidence.calls if c.requestId == request_id]
        return cls(
            request_id, evidence.spans_of(request_id), evidence.logs_of(request_id), wire, calls
        )

    @property
    def call(self) -> CallRecord | None:
        """The client's ``POST /run`` (else its first call) with this request id."""
        runs = [c for c in self.calls if c.kind == "run"]
        return next(iter(runs or self.calls), None)

    @property
    def origin_ns(self) -> int | None:
        """When the trace started (its earliest span)."""
        return min((s.start_ns for s in self.spans), default=None)

    def select(
        self,
        name: str = "*",
        attributes: Mapping[str, object] | None = None,
        /,
        *,
        service: str | None = None,
        **attrs: object,
    ) -> list[SpanRecord]:
        """The spans matching the selector, in causal order (parents first)."""
        selector = SpanSelector(name, {**(attributes or {}), **attrs}, service)
        return [s for s in self.spans if selector.matches(s)]

    def span(
        self,
        name: str = "*",
        attributes: Mapping[str, object] | None = None,
        /,
        *,
        service: str | None = None,
        **attrs: object,
    ) -> SpanRecord:
        """The one span matching the selector; :class:`NoMatch` names what was recorded."""
        selector = SpanSelector(name, {**(attributes or {}), **attrs}, service)
        found = [s for s in self.spans if selector.matches(s)]
        return _one(found, f"{selector} in request {self.request_id}", self.tree)

    def wire_events(
        self,
        kind: str | None = None,
        *,
        path: str | None = None,
        name: str | None = None,
        target: str | None = None,
        detail: Mapping[str, object] | None = None,
    ) -> list[WireEvent]:
        """The request's wire events matching every given field and detail (globs)."""
        wanted = {"kind": kind, "path": path, "name": name, "target": target}
        given = {k: v for k, v in wanted.items() if v is not None}
        return [
            e
            for e in self.wire
            if _matches(e.to_dict(), given) and _matches(e.detail, detail or {})
        ]

    def wire_event(
        self,
        kind: str | None = None,
        *,
        path: str | None = None,
        name: str | None = None,
        target: str | None = None,
        detail: Mapping[str, object] | None = None,
    ) -> WireEvent:
        """The one wire event matching every given field and detail."""
        found = self.wire_events(kind, path=path, name=name, target=target, detail=detail)
        what = f"wire event kind={kind!r} path={path!r} name={name!r} target={target!r}"
        what += f" detail={dict(detail)!r}" if detail else ""
        return _one(found, what, lambda: "\n".join(moment(e).label for e in self.wire))

    def log_lines(self, event: str | None = None, **fields: object) -> list[dict[str, Any]]:
        """The request's log lines with this ``event`` (glob) and these fields."""
        wanted = {**({sc.EVENT: event} if event is not None else {}), **fields}
        return [line for line in self.logs if _matches(line, wanted)]

    def log(self, event: str | None = None, **fields: object) -> dict[str, Any]:
        """The one log line with this ``event`` and these fields."""
        found = self.log_lines(event, **fields)
        what = f"log line event={event!r} {fields or ''}".rstrip()
        return _one(found, what, lambda: "\n".join(moment(line).label for line in self.logs))

    def assert_before(self, first: Item, second: Item) -> None:
        """:func:`assert_before`, times counted from the trace's start."""
        assert_before(first, second, self.origin_ns)

    def missing(self, require_worker: bool = True) -> list[str]:
        """:func:`missing` for this request."""
        return missing(self.spans, self.call, require_worker)

    def tree(self) -> str:
        """The trace as text (:func:`harness.traces.render_tree`)."""
        return traces.render_tree(self.spans)


class EvidenceReader:
    """The test's recorded evidence, read back from its run directory.

    ``record`` (the plugin's recorder) writes the run's evidence files before each read;
    without it the directory is read as it is. ``require_worker`` False: completeness does
    not wait for a worker's spans (a worker under test that exports none).
    """

    def __init__(
        self,
        run_dir: Path,
        record: Callable[[], object] | None = None,
        *,
        require_worker: bool = True,
        interval: float = 0.1,
    ) -> None:
        self.run_dir = run_dir
        self._record = record
        self.require_worker = require_worker
        self.interval = interval

    def load(self) -> Evidence:
        """The whole run's evidence as recorded now (:func:`harness.evidence.load`)."""
        if self._record is not None:
            self._record()
        return load(self.run_dir)

    def of(self, request_id: str) -> RequestEvidence:
        """One request's evidence as recorded now, complete or not."""
        return RequestEvidence.of(self.load(), request_id)

    def wait_complete(self, request_id: str, deadline: float = 10.0) -> RequestEvidence:
        """Poll until the request's evidence is complete (:func:`missing` finds nothing),
        for at most ``deadline`` seconds; :class:`IncompleteEvidence` says what lacked."""
        return self._wait(
            request_id,
            lambda r: r.missing(self.require_worker),
            deadline,
            "the evidence is still incomplete",
        )

    def wait_for(
        self,
        request_id: str,
        condition: Callable[[RequestEvidence], object],
        deadline: float = 10.0,
        what: str = "the condition",
    ) -> RequestEvidence:
        """Poll until ``condition(request evidence)`` is truthy, for at most ``deadline``."""
        return self._wait(
            request_id,
            lambda r: [] if condition(r) else [f"{what} does not hold"],
            deadline,
            f"{what} still does not hold",
        )

    def assert_before(self, first: Item, second: Item) -> None:
        """:func:`assert_before`."""
        assert_before(first, second)

    def _wait(
        self,
        request_id: str,
        problems: Callable[[RequestEvidence], list[str]],
        deadline: float,
        failure: str,
    ) -> RequestEvidence:
        limit = time.monotonic() + deadline
        while True:
            request = self.of(request_id)
            found = problems(request)
            if not found:
                return request
            if time.monotonic() >= limit:
                lines = "\n".join(f"  - {p}" for p in found)
                raise IncompleteEvidence(
                    f"request {request_id}: {failure} after {deadline:g} s "
                    f"({self.run_dir}):\n{lines}\n{request.tree()}",
                    found,
                )
            time.sleep(self.interval)  # polling interval of a condition with a deadline
