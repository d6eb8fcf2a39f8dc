"""The scenario's client: deploys a function and runs it, recording every call as evidence."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import httpx

from harness import artifacts
from harness.evidence import CallRecord, append_call
from harness.provision import client_kwargs
from harness.scenario.model import Workload
from harness.stack import Stack
from nanogrid import defaults


def package_of(workload: Workload) -> bytes:
    """The zip a workload deploys: its ``source`` as main.py, else a named artifact builder."""
    if workload.source is not None:
        return artifacts.function_zip(workload.source)
    builder = getattr(artifacts, workload.artifact, None)
    if builder is None or not callable(builder):
        raise ValueError(f"no artifact builder {workload.artifact!r} in harness.artifacts")
    data = builder()
    if not isinstance(data, bytes):
        raise TypeError(f"artifact {workload.artifact!r} did not build bytes")
    return data


class ScenarioClient:
    """Talks to the controller (directly, never through a fault proxy) and to S3/DynamoDB."""

    def __init__(self, stack: Stack, run_dir: Path, http_timeout: float = 60.0) -> None:
        self.stack = stack
        self.run_dir = run_dir
        self.http = httpx.Client(base_url=stack.controller_url, timeout=http_timeout)

    def close(self) -> None:
        self.http.close()

    def record(self, kind: str, function_id: str | None, started: int, **fields: Any) -> CallRecord:
        call = CallRecord(
            kind=kind,
            functionId=function_id,
            startNs=started,
            endNs=time.time_ns(),
            requestId=fields.pop("requestId", None),
            httpStatus=fields.pop("httpStatus", None),
            body=fields.pop("body", {}),
            error=fields.pop("error", None),
        )
        append_call(self.run_dir, call)
        return call

    def deploy(self, workload: Workload, function_id: str) -> CallRecord:
        """Upload the package (POST /upload) or put it in S3 with a hand-made item."""
        data = package_of(workload)
        if workload.via == "s3":
            return self._put_in_s3(function_id, data)
        form = {"functionId": function_id}
        if workload.memory_mb is not None:
            form["memoryMB"] = str(workload.memory_mb)
        if workload.timeout_seconds is not None:
            form["timeoutSeconds"] = str(workload.timeout_seconds)
        started = time.time_ns()
        resp = self.http.post(
            "/upload", files={"file": ("function.zip", data, "application/zip")}, data=form
        )
        return self.record(
            "upload",
            function_id,
            started,
            requestId=resp.headers.get("x-request-id"),
            httpStatus=resp.status_code,
            body=resp.json(),
        )

    def _put_in_s3(self, function_id: str, data: bytes) -> CallRecord:
        started = time.time_ns()
        kwargs = client_kwargs(self.stack.endpoints)
        key = defaults.code_key(function_id, 1)
        boto3.client("s3", **kwargs).put_object(
            Bucket=self.stack.settings.bucket, Key=key, Body=data
        )
        item = {"functionId": {"S": function_id}, "s3Key": {"S": key}, "runtime": {"S": "python"}}
        boto3.client("dynamodb", **kwargs).put_item(TableName=self.stack.settings.table, Item=item)
        return self.record("s3", function_id, started, body={"s3Key": key, "sizeBytes": len(data)})

    def run(self, function_id: str) -> CallRecord:
        started = time.time_ns()
        try:
            resp = self.http.post("/run", json={"functionId": function_id, "inputData": {}})
        except httpx.HTTPError as exc:
            return self.record("run", function_id, started, error=f"{type(exc).__name__}: {exc}")
        body = resp.json()
        request_id = body.get("requestId") or resp.headers.get("x-request-id")
        return self.record(
            "run",
            function_id,
            started,
            requestId=request_id,
            httpStatus=resp.status_code,
            body=body,
        )

    def settle(self, run: CallRecord, seconds: float) -> CallRecord | None:
        """Poll ``GET /runs/{id}`` until a result is stored or ``seconds`` pass; record it."""
        if not run.requestId:
            return None
        deadline = time.monotonic() + seconds
        started = time.time_ns()
        while True:
            resp = self.http.get(f"/runs/{run.requestId}")
            body = resp.json()
            if "status" in body or time.monotonic() >= deadline:
                return self.record(
                    "fetch",
                    run.functionId,
                    started,
                    requestId=run.requestId,
                    httpStatus=resp.status_code,
                    body=body,
                )
            time.sleep(0.1)  # polling interval of a condition with a deadline


def new_function_id(scenario: str) -> str:
    return f"{scenario}-{uuid.uuid4().hex[:8]}"
