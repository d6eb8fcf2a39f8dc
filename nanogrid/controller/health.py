"""``GET /health``: every dependency checked, each failure named with its error."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from nanogrid import defaults
from nanogrid.results import REDIS_ERRORS, describe_redis_error

if TYPE_CHECKING:
    import redis

    from nanogrid.aws import AwsClients
    from nanogrid.settings import Settings

AWS_ERRORS = (BotoCoreError, ClientError)


def live_workers(client: redis.Redis) -> list[dict[str, Any]]:
    """Workers whose heartbeat key has not expired."""
    workers = []
    for key in client.scan_iter(match=f"{defaults.HEARTBEAT_PREFIX}*", count=100):
        raw = client.get(key)
        if raw:
            workers.append(json.loads(str(raw)))
    return workers


def workers_check(workers: list[dict[str, Any]], min_workers: int) -> dict[str, Any]:
    """The ``workers`` check: how many are live, and what each one's runtime isolates.

    A worker whose runtime lacks an isolation is named in ``warning``; it still counts.
    """
    isolation = {w.get("workerId", "?"): w.get("isolation", {}) for w in workers}
    report: dict[str, Any] = {
        "ok": len(workers) >= min_workers,
        "live": len(workers),
        "ids": sorted(isolation),
        "isolation": isolation,
    }
    if len(workers) < min_workers:
        report["error"] = f"{len(workers)} live worker(s), {min_workers} required"
    lacking = sorted(
        f"{worker} ({', '.join(sorted(k for k, on in flags.items() if not on)) or 'unknown'})"
        for worker, flags in isolation.items()
        if not flags or not all(flags.values())
    )
    if lacking:
        report["warning"] = f"functions are not fully isolated on: {'; '.join(lacking)}"
    return report


def check(
    settings: Settings, clients: AwsClients, client: redis.Redis, queue_url: str, min_workers: int
) -> tuple[bool, dict[str, Any]]:
    """Returns (healthy, report). The report has one entry per dependency."""
    checks: dict[str, Any] = {}
    try:
        client.ping()
        workers = live_workers(client)
        checks["redis"] = {"ok": True}
        checks["workers"] = workers_check(workers, min_workers)
    except REDIS_ERRORS as exc:
        checks["redis"] = {"ok": False, "error": describe_redis_error(exc)}
        checks["workers"] = {"ok": False, "error": "unknown: Redis unreachable"}
    probes: dict[str, Callable[[], object]] = {
        "bucket": lambda: clients.s3.head_bucket(Bucket=settings.bucket),
        "table": lambda: clients.dynamodb.describe_table(TableName=settings.table),
        "queue": lambda: clients.sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["QueueArn"]
        ),
    }
    for name, probe in probes.items():
        try:
            probe()
            checks[name] = {"ok": True}
        except AWS_ERRORS as exc:
            checks[name] = {"ok": False, "error": str(exc)}
    healthy = all(c["ok"] for c in checks.values())
    return healthy, {"status": "ok" if healthy else "unavailable", "checks": checks}
