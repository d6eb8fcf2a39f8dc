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


def check(
    settings: Settings, clients: AwsClients, client: redis.Redis, queue_url: str, min_workers: int
) -> tuple[bool, dict[str, Any]]:
    """Returns (healthy, report). The report has one entry per dependency."""
    checks: dict[str, Any] = {}
    try:
        client.ping()
        workers = live_workers(client)
        checks["redis"] = {"ok": True}
        checks["workers"] = {
            "ok": len(workers) >= min_workers,
            "live": len(workers),
            "ids": sorted(w.get("workerId", "?") for w in workers),
        }
        if len(workers) < min_workers:
            checks["workers"]["error"] = f"{len(workers)} live worker(s), {min_workers} required"
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
