"""Root causes and their consequences: which confirmed verdict follows from which.

Some verdicts describe what another one made happen: a result published after the
controller's deadline follows from whatever made the run slow; a queue nobody consumes
follows from workers that cannot reach SQS. :data:`CAUSES` lists, for each such verdict,
the verdicts that can cause it and the condition under which they do. After the rules
have run, :func:`assign_roles` marks every confirmed verdict ``cause`` or
``consequence`` (with ``caused_by``), the causal chain the report draws::

    SLOW_FUNCTION (cause) -> RESULT_AFTER_DEADLINE (consequence)
"""

from __future__ import annotations

from collections.abc import Callable

from harness.analysis.model import Role, Verdict
from harness.analysis.taxonomy import HEALTHY
from nanogrid.telemetry import semconv as sc

Condition = Callable[[Verdict, Verdict], bool]  # (cause, consequence) -> does it explain it


def _always(cause: Verdict, effect: Verdict) -> bool:
    return True


def _from_worker(cause: Verdict, effect: Verdict) -> bool:
    return any(str(c).startswith("worker") for c in cause.detail.get("components", []))


def _from_controller(cause: Verdict, effect: Verdict) -> bool:
    return "controller" in cause.detail.get("components", [])


def _worker_sqs(cause: Verdict, effect: Verdict) -> bool:
    # Only failures while the task waited explain it: the rule's own reason says so.
    return (
        effect.detail.get("reason") == "sqs_unreachable"
        and _from_worker(cause, effect)
        and sc.SQS in cause.detail.get("dependencies", [])
    )


def _dropped_subscriber(cause: Verdict, effect: Verdict) -> bool:
    return effect.detail.get("cause") == "dropped_subscriber" and "controller" in cause.detail.get(
        "components", []
    )


def _unredelivered(cause: Verdict, effect: Verdict) -> bool:
    return not cause.detail.get("redelivered")


#: consequence -> ((cause, condition), ...)
CAUSES: dict[str, tuple[tuple[str, Condition], ...]] = {
    "RESULT_AFTER_DEADLINE": (
        ("SLOW_FUNCTION", _always),
        ("SLOW_DEPENDENCY", _always),
        ("WORKER_CRASHED", _always),
        ("WORKER_NOT_CONSUMING", _always),
        ("FUNCTION_TIMEOUT", _always),
        ("REDIS_UNREACHABLE", _from_worker),
        ("AWS_UNREACHABLE", _from_worker),
    ),
    "WORKER_NOT_CONSUMING": (
        ("AWS_UNREACHABLE", _worker_sqs),
        ("WORKER_CRASHED", _unredelivered),
    ),
    "RESULT_PUBLISHED_WITHOUT_SUBSCRIBER": (("REDIS_UNREACHABLE", _dropped_subscriber),),
    "RESULT_MESSAGE_LOST": (("REDIS_UNREACHABLE", _from_controller),),
}


def assign_roles(verdicts: list[Verdict]) -> None:
    """Set ``role`` and ``caused_by`` on every confirmed verdict (in place)."""
    confirmed = {v.code: v for v in verdicts if v.confirmed and v.code != HEALTHY}
    for verdict in confirmed.values():
        causes = [
            code
            for code, condition in CAUSES.get(verdict.code, ())
            if code in confirmed and condition(confirmed[code], verdict)
        ]
        verdict.role = Role.CONSEQUENCE if causes else Role.CAUSE
        verdict.caused_by = causes
