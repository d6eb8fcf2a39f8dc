"""The diagnosis rules, one per fault verdict code, in the taxonomy's order.

Each rule is a callable ``(facts, baseline) -> Verdict`` with a ``code`` (the
:class:`~harness.analysis.rules.base.Rule` protocol).
"""

from __future__ import annotations

from harness.analysis.rules.base import Rule
from harness.analysis.rules.delivery import FailedNotPropagated, PublishedWithoutSubscriber
from harness.analysis.rules.function import FUNCTION_FAILED, FUNCTION_TIMEOUT, OUT_OF_MEMORY
from harness.analysis.rules.latency import SlowDependency
from harness.analysis.rules.package import InvalidPackage, UploadRejected
from harness.analysis.rules.redis import RedisUnreachable
from harness.analysis.rules.worker import WorkerCrashedRedelivered, WorkerNotConsuming

RULES: tuple[Rule, ...] = (
    InvalidPackage(),
    UploadRejected(),
    FUNCTION_FAILED,
    FailedNotPropagated(),
    PublishedWithoutSubscriber(),
    RedisUnreachable(),
    WorkerNotConsuming(),
    WorkerCrashedRedelivered(),
    FUNCTION_TIMEOUT,
    OUT_OF_MEMORY,
    SlowDependency(),
)

__all__ = ["RULES", "Rule"]
