"""Runs checks in order, skips those whose prerequisites did not pass, times each one.

::

    report = run_doctor(DoctorConfig.from_env(os.environ, function_id="test-manual"))
    sys.exit(report.exit_code)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from harness.doctor import aws, controller, function, queues, redis, workers
from harness.doctor.check import Check
from harness.doctor.config import DoctorConfig
from harness.doctor.context import Context
from harness.doctor.errors import CheckFailed
from harness.doctor.result import CheckResult, Finding, Report, Status, failed

log = logging.getLogger(__name__)


def default_checks(config: DoctorConfig) -> list[Check]:
    """Every check, in order; the function's two only with ``config.function_id``."""
    checks = [
        redis.PING,
        redis.PUBSUB,
        workers.HEARTBEATS,
        aws.BUCKET,
        aws.TABLE,
        queues.QUEUE,
        queues.DEAD_LETTER,
        aws.METRICS,
    ]
    if config.function_id:
        checks += [function.ITEM, function.CODE]
    return [*checks, controller.HEALTH]


def run_doctor(config: DoctorConfig, checks: Sequence[Check] | None = None) -> Report:
    """Run ``checks`` (default: :func:`default_checks`) against ``config``'s endpoints."""
    chosen = list(checks) if checks is not None else default_checks(config)
    with Context(config) as ctx:
        return run_checks(chosen, ctx)


def run_checks(checks: Sequence[Check], ctx: Context) -> Report:
    """Each check once, in order; ``needs`` must name checks earlier in ``checks``."""
    results: list[CheckResult] = []
    for check in checks:
        unknown = [n for n in check.needs if n not in ctx.statuses]
        if unknown:
            raise ValueError(f"{check.name} needs {', '.join(unknown)}, not run before it")
        blocked = [n for n in check.needs if ctx.statuses[n] is not Status.PASS]
        result = _blocked(check, blocked, ctx) if blocked else _timed(check, ctx)
        ctx.statuses[check.name] = result.status
        results.append(result)
    return Report(tuple(results), target(ctx))


def target(ctx: Context) -> dict[str, object]:
    """What was checked: the endpoints and names, the Redis password masked."""
    s, c = ctx.settings, ctx.config
    return {
        "redisUrl": _masked(s.redis_url),
        "region": s.region,
        "endpoints": {svc: s.endpoint_for(svc) for svc in ("s3", "sqs", "dynamodb", "cloudwatch")},
        "bucket": s.bucket,
        "table": s.table,
        "queue": s.queue_url or s.queue,
        "controllerUrl": c.controller_url,
        "functionId": c.function_id,
        "connectTimeout": c.connect_timeout,
        "readTimeout": c.read_timeout,
    }


def _timed(check: Check, ctx: Context) -> CheckResult:
    started = time.perf_counter()
    try:
        finding = check.run(ctx)
    except CheckFailed as exc:
        finding = failed(exc.detail, exc.fix, **exc.data)
    except Exception as exc:  # deliberate boundary: one check's bug must not hide the others
        log.exception("check %s raised", check.name)
        finding = failed(
            f"{check.name}: the check itself failed: {type(exc).__name__}: {exc}",
            "this is a bug of the doctor; the other checks still ran",
        )
    return CheckResult.of(check.name, finding, time.perf_counter() - started)


def _blocked(check: Check, blocked: list[str], ctx: Context) -> CheckResult:
    why = ", ".join(
        f"{n} {'failed' if ctx.statuses[n] is Status.FAIL else 'was skipped'}" for n in blocked
    )
    finding = Finding(Status.SKIP, f"not run: {why}", f"fix {', '.join(blocked)} first")
    return CheckResult.of(check.name, finding, 0.0)


def _masked(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"
