"""Rules about getting the result back: FAILED_NOT_PROPAGATED (the memo's hypothesis 1),
RESULT_PUBLISHED_WITHOUT_SUBSCRIBER (hypothesis 3), RESULT_MESSAGE_LOST and
RESULT_AFTER_DEADLINE.

The controller's own deadline separates the last two: a PUBLISH that reached nobody while
the controller still waited is a lost result (late or dropped subscription); one that came
after the controller had given up is the timeout's consequence, not a subscription problem.
"""

from __future__ import annotations

from harness.analysis.facts import RequestFacts, RunFacts
from harness.analysis.model import EvidenceItem, Phrase, Verdict
from harness.analysis.rules.base import (
    CONFIRMED,
    RULED_OUT,
    UNKNOWN,
    at,
    call_item,
    event_item,
    log_item,
    phrase,
    span_item,
    verdict,
    wire_item,
)
from harness.analysis.wire import WireCall
from harness.evidence import log_time_ns
from harness.wire.model import KIND_MESSAGE
from nanogrid.telemetry import semconv as sc


def _publish_items(facts: RunFacts, req: RequestFacts) -> list[EvidenceItem | None]:
    items: list[EvidenceItem | None] = [
        span_item(facts, s, f"{s.name}: receivers={s.attributes.get(sc.PUBLISH_RECEIVERS)}")
        for s in req.publishes
    ]
    items += [log_item(facts, line) for line in req.events(sc.RESULT_PUBLISHED, sc.TASK_DONE)]
    items += [
        wire_item(facts, c)
        for c in facts.wire.redis_calls()
        if c.name == "PUBLISH" and c.target == req.channel
    ]
    return items


def _timeout_items(facts: RunFacts, req: RequestFacts) -> list[EvidenceItem | None]:
    items: list[EvidenceItem | None] = [
        log_item(facts, line) for line in req.events(sc.RUN_TIMEOUT)
    ]
    items += [event_item(facts, s, sc.EV_DEADLINE_HIT) for s in req.named(sc.SPAN_WAIT)]
    return [*items, call_item(facts, req.call)]


def _in_time(req: RequestFacts, ts_ns: int) -> bool:
    """Whether ``ts_ns`` came while the controller was still waiting."""
    return not req.deadline_ns or ts_ns <= req.deadline_ns


def _pushed_to_controller(facts: RunFacts, req: RequestFacts) -> list[int]:
    """Times the network carried the result message to the controller."""
    return [
        e.ts_ns
        for e in req.wire
        if e.kind == KIND_MESSAGE and e.target == req.channel and e.path.startswith("controller")
    ]


def _controller_subscription(facts: RunFacts, req: RequestFacts) -> WireCall | None:
    """The controller's SUBSCRIBE to the request's channel, confirmed, on its own wire."""
    for call in facts.wire.redis_calls("controller"):
        if call.name == "SUBSCRIBE" and call.target == req.channel and call.end_ns:
            return call
    return None


def _controller_told(req: RequestFacts) -> bool:
    """The controller itself tells it received the pushed message (used or ignored)."""
    return bool(req.wait_events(sc.EV_MESSAGE_RECEIVED) or req.wait_events(sc.EV_MESSAGE_IGNORED))


def _reached_controller(facts: RunFacts, req: RequestFacts) -> bool:
    """The result reached the controller while it waited: the controller's own "ignored"
    event, the message on the controller's wire, or (when that wire does not show the
    subscription) a receiver counted by PUBLISH."""
    if req.wait_events(sc.EV_MESSAGE_IGNORED):
        return True
    if any(_in_time(req, ts) for ts in _pushed_to_controller(facts, req)):
        return True
    if _controller_subscription(facts, req) is not None:
        return False  # its connection shows what it received: the message was not among it
    return any(n > 0 and _in_time(req, ts) for ts, n in req.receivers)


#: Why a rule about the deadline cannot decide: the TIMEOUT has no time.
UNTIMED = phrase(
    "deadline.untimed",
    "the controller answered TIMEOUT, but when it gave up is not recorded (the response "
    "carries no time, and no controller log or trace of the wait was given): its log of "
    "the timeout, or the client's timing of the call, would decide",
)


def untimed_timeouts(facts: RunFacts) -> list[RequestFacts]:
    """Requests the client saw time out without any evidence of when the controller gave up."""
    return [r for r in facts.requests if r.client_status == "TIMEOUT" and not r.deadline_ns]


class FailedNotPropagated:
    """The worker published FAILED in time; the controller still answered TIMEOUT."""

    code = "FAILED_NOT_PROPAGATED"

    def __call__(self, facts: RunFacts, baseline: RunFacts | None) -> Verdict:
        timeouts = [r for r in facts.requests if r.client_status == "TIMEOUT"]
        for req in timeouts:
            if req.published_status == "FAILED" and _reached_controller(facts, req):
                return self._confirmed(facts, req)
        if not timeouts:
            because = [
                phrase("fnp.no_timeout", "no request timed out: every answer reached the client")
            ]
            return verdict(self.code, RULED_OUT, [], because)
        known = [r for r in timeouts if r.published_status is not None]
        unheard = [r for r in known if r.published_status == "FAILED"]
        shown = [r for r in unheard if r.controller_recorded or r.receivers]
        if unheard and not shown:
            because = [
                phrase(
                    "fnp.unobserved",
                    "the worker published FAILED, and nothing recorded whether it reached the "
                    "controller: no PUBLISH receiver count was logged (enable `subscribers=` "
                    "in the worker's publish log), and no controller trace or log of its "
                    "wait; run `doctor` to test the pub/sub path",
                )
            ]
            return verdict(self.code, UNKNOWN, _publish_items(facts, unheard[0]), because)
        if shown:
            unheard = shown
            because = [
                phrase(
                    "fnp.unheard",
                    "the worker published FAILED, but it never reached the waiting controller",
                )
            ]
            return verdict(self.code, RULED_OUT, _publish_items(facts, unheard[0]), because)
        if known:
            req = known[0]
            because = [
                phrase(
                    "fnp.not_failed",
                    "the worker published {status}, not FAILED",
                    status=req.published_status,
                )
            ]
            return verdict(self.code, RULED_OUT, _publish_items(facts, req), because)
        if any(r.sent is False for r in timeouts):
            because = [phrase("fnp.not_sent", "the task was never sent, so nothing was published")]
            return verdict(self.code, RULED_OUT, [], because)
        because = [
            phrase(
                "fnp.unknown",
                "the request timed out and no evidence shows what the worker published: "
                "record the worker's log or the result key, or run `doctor`",
            )
        ]
        return verdict(self.code, UNKNOWN, _timeout_items(facts, timeouts[0]), because)

    def _confirmed(self, facts: RunFacts, req: RequestFacts) -> Verdict:
        ts = req.publish_ns
        receivers = next((n for _, n in req.receivers), None)
        items = _publish_items(facts, req) + _timeout_items(facts, req)
        items += [event_item(facts, s, sc.EV_MESSAGE_IGNORED) for s in req.named(sc.SPAN_WAIT)]
        because = [
            phrase(
                "fnp.published",
                "the worker published FAILED at {ts} with {n} receiver(s)",
                ts=at(ts),
                n="?" if receivers is None else receivers,
            )
        ]
        ignored = req.wait_events(sc.EV_MESSAGE_IGNORED)
        if ignored:
            because.append(
                phrase(
                    "fnp.ignored",
                    "the controller received it and ignored it at {ts}",
                    ts=at(ignored[0][0]),
                )
            )
        elif pushed := _pushed_to_controller(facts, req):
            because.append(
                phrase(
                    "fnp.pushed",
                    "the network delivered it to the controller at {ts}",
                    ts=at(pushed[0]),
                )
            )
        however = [
            phrase(
                "fnp.timeout",
                "the controller answered TIMEOUT at {ts}: the result was ignored",
                ts=at(req.call.endNs),
            )
        ]
        return verdict(self.code, CONFIRMED, items, because, however)


class PublishedWithoutSubscriber:
    """PUBLISH reached 0 receivers while the controller waited."""

    code = "RESULT_PUBLISHED_WITHOUT_SUBSCRIBER"

    def __call__(self, facts: RunFacts, baseline: RunFacts | None) -> Verdict:
        published = [r for r in facts.requests if r.receivers]
        for req in published:
            if any(n == 0 and _in_time(req, ts) for ts, n in req.receivers):
                return self._confirmed(facts, req)
        late = [r for r in published if any(n == 0 for _, n in r.receivers)]
        if late:
            req = late[0]
            because = [
                phrase(
                    "nosub.after_deadline",
                    "PUBLISH reached 0 receivers only after the controller had stopped waiting "
                    "at {ts}: nobody was left to subscribe",
                    ts=at(req.deadline_ns),
                )
            ]
            return verdict(self.code, RULED_OUT, _publish_items(facts, req)[:2], because)
        if published:
            req = published[0]
            ts, n = req.receivers[0]
            because = [
                phrase(
                    "nosub.reached",
                    "every PUBLISH reached a subscriber (first: {n} receiver(s) at {ts})",
                    n=n,
                    ts=at(ts),
                )
            ]
            return verdict(self.code, RULED_OUT, _publish_items(facts, req)[:1], because)
        if facts.requests and all(r.sent is False for r in facts.requests):
            because = [
                phrase("nosub.not_sent", "the task was never sent, so nothing was published")
            ]
            return verdict(self.code, RULED_OUT, [], because)
        because = [
            phrase(
                "nosub.unknown",
                "no PUBLISH receiver count was recorded: enable `subscribers=` in the worker's "
                "publish log, put a decoding proxy on the worker's Redis path, or run `doctor`",
            )
        ]
        return verdict(self.code, UNKNOWN, [], because)

    def _confirmed(self, facts: RunFacts, req: RequestFacts) -> Verdict:
        ts = next(t for t, n in req.receivers if n == 0 and _in_time(req, t))
        items = _publish_items(facts, req)
        because = [phrase("nosub.zero", "PUBLISH reached 0 receivers at {ts}", ts=at(ts))]
        cause, why = _why_no_receiver(facts, req, ts, items)
        because += why
        however = _outcome(facts, req, items)
        return verdict(self.code, CONFIRMED, items, because, however, cause=cause)


def _outcome(facts: RunFacts, req: RequestFacts, items: list[EvidenceItem | None]) -> list[Phrase]:
    """What became of a result that never came pushed: read from the stored key, or lost
    (the timeout's witnesses added to ``items``)."""
    if req.client_status in ("SUCCESS", "FAILED"):
        en = "the controller still answered {status}: it read the stored result"
        return [phrase("result.recovered", en, status=req.client_status)]
    items += _timeout_items(facts, req)
    en = "the result was lost and the controller answered {status}"
    return [phrase("result.lost", en, status=req.client_status)]


def _subscribed_ns(facts: RunFacts, req: RequestFacts, items: list[EvidenceItem | None]) -> int:
    """When the controller asked to subscribe: its span, its log, else its wire."""
    subscribe = req.first(sc.SPAN_SUBSCRIBE)
    if subscribe is not None:
        items.append(span_item(facts, subscribe, f"{subscribe.name} started", edge="start"))
        return subscribe.start_ns
    if logged := req.events(sc.RESULT_SUBSCRIBING):
        items.append(log_item(facts, logged[0]))
        return log_time_ns(logged[0])
    for call in facts.wire.redis_calls("controller"):
        if call.name == "SUBSCRIBE" and call.target == req.channel:
            items.append(wire_item(facts, call))
            return call.start_ns
    return 0


def _why_no_receiver(
    facts: RunFacts, req: RequestFacts, published: int, items: list[EvidenceItem | None]
) -> tuple[str, list[Phrase]]:
    """``late_subscription`` (subscribed after the publish), ``dropped_subscriber``, or
    ``unknown``; adds the witnesses to ``items``."""
    subscribed = _subscribed_ns(facts, req, items)
    if subscribed > published:
        en = "the controller subscribed only at {ts}, after the publish"
        return "late_subscription", [phrase("nosub.late", en, ts=at(subscribed))]
    subscription = _controller_subscription(facts, req)
    if subscription is not None and subscription.end_ns > published:
        items.append(wire_item(facts, subscription))
        en = (
            "the controller asked to subscribe at {asked}, before the publish, but its "
            "subscription was confirmed only at {ts}, after it"
        )
        confirmed = at(subscription.end_ns)
        why = phrase("nosub.late_confirmed", en, asked=at(subscribed), ts=confirmed)
        return "late_subscription", [why]
    if lost := req.wait_events(sc.EV_CONNECTION_LOST):
        items += [event_item(facts, s, sc.EV_CONNECTION_LOST) for s in req.named(sc.SPAN_WAIT)]
        en = "the controller's subscription was lost at {ts}"
        return "dropped_subscriber", [phrase("nosub.dropped", en, ts=at(lost[0][0]))]
    return "unknown", []


class ResultMessageLost:
    """PUBLISH counted the controller's subscription, but the pushed message never reached
    the controller's connection: lost between Redis and the controller."""

    code = "RESULT_MESSAGE_LOST"

    def __call__(self, facts: RunFacts, baseline: RunFacts | None) -> Verdict:
        seen = False
        for req in facts.requests:
            counted = [ts for ts, n in req.receivers if n > 0 and _in_time(req, ts)]
            subscription = _controller_subscription(facts, req)
            if counted and subscription is not None:
                seen = True
                if not _pushed_to_controller(facts, req):
                    return self._confirmed(facts, req, counted[0], subscription)
            elif _controller_told(req):
                seen = True
        if seen and all(
            _controller_told(r) or _pushed_to_controller(facts, r)
            for r in facts.requests
            if r.receivers
        ):
            because = [
                phrase(
                    "lost.delivered",
                    "every published result reached the controller (its connection's record, "
                    "or its own 'message received')",
                )
            ]
            return verdict(self.code, RULED_OUT, [], because)
        because = [
            phrase(
                "lost.unknown",
                "no record of what the controller's own connection received: a decoding "
                "proxy (or a capture) on the controller's Redis path would decide",
            )
        ]
        return verdict(self.code, UNKNOWN, [], because)

    def _confirmed(
        self, facts: RunFacts, req: RequestFacts, published: int, subscription: WireCall
    ) -> Verdict:
        items = _publish_items(facts, req)
        items.append(wire_item(facts, subscription))
        en = (
            "PUBLISH counted a receiver at {ts}, the controller's subscription confirmed at "
            "{sub}, yet its connection never received the message"
        )
        because = [phrase("lost.never", en, ts=at(published), sub=at(subscription.end_ns))]
        return verdict(self.code, CONFIRMED, items, because, _outcome(facts, req, items))


class ResultAfterDeadline:
    """The result came after the controller had stopped waiting."""

    code = "RESULT_AFTER_DEADLINE"

    def __call__(self, facts: RunFacts, baseline: RunFacts | None) -> Verdict:
        timeouts = [r for r in facts.requests if r.deadline_ns]
        for req in timeouts:
            if req.publish_ns and req.publish_ns > req.deadline_ns:
                return self._confirmed(facts, req)
        if not timeouts and (untimed := untimed_timeouts(facts)):
            return verdict(self.code, UNKNOWN, [call_item(facts, untimed[0].call)], [UNTIMED])
        if not timeouts:
            because = [phrase("late.no_timeout", "the controller never stopped waiting early")]
            return verdict(self.code, RULED_OUT, [], because)
        published = [r for r in timeouts if r.publish_ns]
        if published:
            because = [
                phrase(
                    "late.in_time",
                    "the result was published at {ts}, before the controller gave up",
                    ts=at(published[0].publish_ns),
                )
            ]
            return verdict(self.code, RULED_OUT, _publish_items(facts, published[0]), because)
        because = [
            phrase(
                "late.unknown",
                "the controller gave up and no publish of the result was recorded: it may "
                "come later (fetch resultUrl) or never",
            )
        ]
        return verdict(self.code, UNKNOWN, _timeout_items(facts, timeouts[0]), because)

    def _confirmed(self, facts: RunFacts, req: RequestFacts) -> Verdict:
        late_ms = round((req.publish_ns - req.deadline_ns) / 1e6)
        because = [
            phrase(
                "late.because",
                "the controller stopped waiting at {deadline}; the result was published at "
                "{ts}, {ms} ms later",
                deadline=at(req.deadline_ns),
                ts=at(req.publish_ns),
                ms=late_ms,
            )
        ]
        items = _timeout_items(facts, req) + _publish_items(facts, req)
        return verdict(self.code, CONFIRMED, items, because, lateMs=late_ms)
