"""Rules about getting the result back: FAILED_NOT_PROPAGATED and
RESULT_PUBLISHED_WITHOUT_SUBSCRIBER (the memo's hypotheses 1 and 3)."""

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
)
from harness.evidence import log_time_ns


def _publish_items(facts: RunFacts, req: RequestFacts) -> list[EvidenceItem | None]:
    items: list[EvidenceItem | None] = [
        span_item(facts, s, f"{s.name}: receivers={s.attributes.get('nanogrid.publish.receivers')}")
        for s in req.publishes
    ]
    items += [log_item(facts, line) for line in req.logs_with("Result published successfully")]
    items += [log_item(facts, line) for line in req.logs_with("[DONE][")]
    return items


def _timeout_items(facts: RunFacts, req: RequestFacts) -> list[EvidenceItem | None]:
    items = [log_item(facts, line) for line in req.logs_with("Timeout waiting for result")]
    return [*items, call_item(facts, req.call)]


def _reached_controller(req: RequestFacts) -> bool:
    """The published result reached a subscriber, or the controller said it ignored one."""
    return any(n > 0 for _, n in req.receivers) or bool(req.wait_events("message ignored"))


class FailedNotPropagated:
    """The worker published FAILED; the controller still answered TIMEOUT."""

    code = "FAILED_NOT_PROPAGATED"

    def __call__(self, facts: RunFacts, baseline: RunFacts | None) -> Verdict:
        timeouts = [r for r in facts.requests if r.client_status == "TIMEOUT"]
        for req in timeouts:
            if req.published_status == "FAILED" and _reached_controller(req):
                return self._confirmed(facts, req)
        if not timeouts:
            because = [
                phrase("fnp.no_timeout", "no request timed out: every answer reached the client")
            ]
            return verdict(self.code, RULED_OUT, [], because)
        known = [r for r in timeouts if r.published_status is not None]
        unheard = [r for r in known if r.published_status == "FAILED"]
        if unheard:
            because = [
                phrase(
                    "fnp.unheard",
                    "the worker published FAILED, but PUBLISH reached 0 receivers: the controller "
                    "never had the result to ignore",
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
                "the request timed out and no evidence shows what the worker published",
            )
        ]
        return verdict(self.code, UNKNOWN, _timeout_items(facts, timeouts[0]), because)

    def _confirmed(self, facts: RunFacts, req: RequestFacts) -> Verdict:
        ts, receivers = req.receivers[0]
        ts = req.publishes[0].start_ns if req.publishes else ts
        items = _publish_items(facts, req) + _timeout_items(facts, req)
        items += [event_item(facts, s, "message ignored") for s in req.named("wait")]
        because = [
            phrase(
                "fnp.published",
                "the worker published FAILED at {ts} with {n} receiver(s)",
                ts=at(ts),
                n=receivers,
            )
        ]
        ignored = req.wait_events("message ignored")
        if ignored:
            because.append(
                phrase(
                    "fnp.ignored",
                    "the controller received it and ignored it at {ts}",
                    ts=at(ignored[0][0]),
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
    """PUBLISH reached 0 receivers: a late subscription or a dropped subscriber."""

    code = "RESULT_PUBLISHED_WITHOUT_SUBSCRIBER"

    def __call__(self, facts: RunFacts, baseline: RunFacts | None) -> Verdict:
        published = [r for r in facts.requests if r.receivers]
        for req in published:
            if any(n == 0 for _, n in req.receivers):
                return self._confirmed(facts, req)
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
        because = [phrase("nosub.unknown", "no PUBLISH receiver count was recorded")]
        return verdict(self.code, UNKNOWN, [], because)

    def _confirmed(self, facts: RunFacts, req: RequestFacts) -> Verdict:
        ts = next(t for t, n in req.receivers if n == 0)
        items = _publish_items(facts, req)
        because = [phrase("nosub.zero", "PUBLISH reached 0 receivers at {ts}", ts=at(ts))]
        cause, why = _why_no_receiver(facts, req, ts, items)
        because += why
        if req.client_status in ("SUCCESS", "FAILED"):
            en = "the controller still answered {status}: it read the stored result"
            however = [phrase("nosub.recovered", en, status=req.client_status)]
        else:
            items += _timeout_items(facts, req)
            en = "the result was lost and the controller answered {status}"
            however = [phrase("nosub.lost", en, status=req.client_status)]
        return verdict(self.code, CONFIRMED, items, because, however, cause=cause)


def _why_no_receiver(
    facts: RunFacts, req: RequestFacts, published: int, items: list[EvidenceItem | None]
) -> tuple[str, list[Phrase]]:
    """``late_subscription`` (subscribed after the publish), ``dropped_subscriber``, or
    ``unknown``; adds the witnesses to ``items``."""
    subscribe = req.first("subscribe")
    subscribed = subscribe.start_ns if subscribe else 0
    if subscribe is not None:
        items.append(span_item(facts, subscribe, f"{subscribe.name} started", edge="start"))
    elif logged := req.logs_with("Subscribing to channel"):
        subscribed = log_time_ns(logged[0])
        items.append(log_item(facts, logged[0]))
    if subscribed > published:
        en = "the controller subscribed only at {ts}, after the publish"
        return "late_subscription", [phrase("nosub.late", en, ts=at(subscribed))]
    if lost := req.wait_events("connection lost"):
        items += [event_item(facts, s, "connection lost") for s in req.named("wait")]
        en = "the controller's subscription was lost at {ts}"
        return "dropped_subscriber", [phrase("nosub.dropped", en, ts=at(lost[0][0]))]
    return "unknown", []
