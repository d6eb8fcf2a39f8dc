"""The controller's ``GET /health``: reachable from this host, and what it says.

The controller checks Redis, the bucket, the table, the queue and the workers from *its*
host. Where it reports a dependency failing that the doctor reached from here, the path
from the controller's host is the suspect (the memo's "Controller <-> Redis connectivity").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from harness.doctor.check import Check
from harness.doctor.errors import CheckFailed
from harness.doctor.net import Where, explain
from harness.doctor.result import Finding, Status, failed, passed, skipped

if TYPE_CHECKING:
    from harness.doctor.context import Context

#: The doctor's check of each dependency the controller's /health names.
COUNTERPARTS = {
    "redis": "redis.ping",
    "bucket": "s3.bucket",
    "table": "dynamodb.table",
    "queue": "sqs.queue",
    "workers": "workers.heartbeat",
}
_VARIABLE = "--controller / CONTROLLER_URL"


def health(ctx: Context) -> Finding:
    """GET /health answers 200 with status ok; otherwise name what the controller lacks."""
    base = ctx.config.controller_url
    if not base:
        return skipped(
            "no controller URL to check",
            "pass --controller URL or set CONTROLLER_URL (nanogrid-harness up prints it)",
        )
    url = f"{base.rstrip('/')}/health"
    resp = _get(ctx, url)
    try:
        body = resp.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("checks"), dict):
        return failed(
            f"controller: {url} answered {resp.status_code} without a health report: "
            f"{resp.text[:120]!r}",
            f"check that {_VARIABLE} is NanoGrid's controller (its base URL, no path)",
            httpStatus=resp.status_code,
        )
    checks: dict[str, Any] = body["checks"]
    data = {"url": url, "httpStatus": resp.status_code, "report": body}
    lacking = {n: c for n, c in checks.items() if not (isinstance(c, dict) and c.get("ok"))}
    if resp.status_code == 200 and body.get("status") == "ok" and not lacking:
        workers = checks.get("workers", {}).get("live", "?")
        return passed(
            f"{url}: 200 ok ({', '.join(checks)}; {workers} live worker(s))",
            **data,
        )
    named = "; ".join(f"{n}: {_error(c)}" for n, c in lacking.items()) or "no failing check named"
    return failed(
        f"controller: {url} answered {resp.status_code} {body.get('status')}: {named}",
        _fix(ctx, lacking),
        **data,
    )


def _get(ctx: Context, url: str) -> httpx.Response:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    where = Where("controller", parts.hostname or url, port, _VARIABLE)
    connect, read = ctx.config.connect_timeout, ctx.config.read_timeout
    try:
        with httpx.Client(timeout=httpx.Timeout(read, connect=connect)) as http:
            return http.get(url)
    except httpx.HTTPError as exc:
        raise CheckFailed(*explain(exc, where, connect, read)) from exc


def _error(check: object) -> str:
    if isinstance(check, dict):
        return str(check.get("error") or "not ok")
    return f"unreadable ({check!r})"


def _fix(ctx: Context, lacking: dict[str, Any]) -> str:
    """Where the doctor itself reached the dependency, blame the controller's path to it."""
    named = [n for n in lacking if not (n == "workers" and "redis" in lacking)]
    # (without Redis the controller cannot read heartbeats: its workers check follows)
    here = [n for n in named if ctx.statuses.get(COUNTERPARTS.get(n, "")) is Status.PASS]
    there = [n for n in named if n not in here]
    parts = []
    if here:
        verb = "answers" if len(here) == 1 else "answer"
        parts.append(
            f"{', '.join(here)} {verb} this host but not the controller: check the path from "
            "the controller's host (security group, firewall) and its settings; run "
            "`nanogrid-harness doctor` there, with its environment"
        )
    if there:
        parts.append(f"fix what the doctor reports for {', '.join(there)} first")
    return "; ".join(parts)


HEALTH = Check("controller.health", health)
