"""The diagnosis rules, one per fault verdict code, in the taxonomy's order.

Each rule is a callable ``(facts, baseline) -> Verdict`` with a ``code`` (the
:class:`~harness.analysis.rules.base.Rule` protocol). Rules read :class:`RunFacts` only:
what the components, their network and their supervisor showed.
"""

from __future__ import annotations

from harness.analysis.rules.base import Rule
from harness.analysis.rules.delivery import (
    FailedNotPropagated,
    PublishedWithoutSubscriber,
    ResultAfterDeadline,
    ResultMessageLost,
)
from harness.analysis.rules.function import (
    FUNCTION_FAILED,
    FUNCTION_TIMEOUT,
    OUT_OF_MEMORY,
    SlowFunction,
)
from harness.analysis.rules.latency import SlowDependency
from harness.analysis.rules.package import InvalidPackage, UploadRejected
from harness.analysis.rules.reach import AWS_UNREACHABLE, REDIS_UNREACHABLE
from harness.analysis.rules.worker import WorkerCrashed, WorkerNotConsuming

RULES: tuple[Rule, ...] = (
    InvalidPackage(),
    UploadRejected(),
    FUNCTION_FAILED,
    FailedNotPropagated(),
    PublishedWithoutSubscriber(),
    ResultMessageLost(),
    ResultAfterDeadline(),
    REDIS_UNREACHABLE,
    AWS_UNREACHABLE,
    WorkerNotConsuming(),
    WorkerCrashed(),
    FUNCTION_TIMEOUT,
    OUT_OF_MEMORY,
    SlowFunction(),
    SlowDependency(),
)

__all__ = ["RULES", "Rule"]
