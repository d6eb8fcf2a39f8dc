"""Synthetic evidence of one /run request, shaped like what NanoGrid really records.

``request_run()`` gives a healthy run; its keyword arguments switch on one failure at a time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.evidence import CallRecord, Evidence
from harness.faults import Direction, EventKind, FaultKind, LedgerEvent
from harness.traces import EventRecord, SpanRecord

T0 = 1_764_661_219_000_000_000  # 2025-12-02T07:40:19Z
MS = 1_000_000
CTL, WRK = "nanogrid-controller", "nanogrid-worker"


def ns(ms: float) -> int:
    return T0 + int(ms * MS)


def iso(ms: float) -> str:
    moment = datetime.fromtimestamp(ns(ms) / 1e9, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _resource(instance: str, service: str) -> dict[str, Any]:
    return {
        "attributes": [
            {"key": "service.name", "value": {"stringValue": service}},
            {"key": "service.instance.id", "value": {"stringValue": instance}},
        ]
    }


@dataclass
class RunBuilder:
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    spans: list[SpanRecord] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)
    ledger: list[LedgerEvent] = field(default_factory=list)

    @property
    def trace_id(self) -> str:
        return uuid.UUID(self.request_id).hex

    def span(
        self,
        name: str,
        start: float,
        end: float,
        *,
        service: str = CTL,
        instance: str = "ctl",
        kind: int = 1,
        attrs: dict[str, Any] | None = None,
        events: tuple[tuple[str, float, dict[str, Any]], ...] = (),
        error: str = "",
    ) -> SpanRecord:
        record = SpanRecord(
            trace_id=self.trace_id,
            span_id=uuid.uuid4().hex[:16],
            parent_span_id="",
            name=name,
            kind=kind,
            service=service,
            start_ns=ns(start),
            end_ns=ns(end),
            status_code=2 if error else 0,
            status_message=error,
            attributes={"nanogrid.request_id": self.request_id, **(attrs or {})},
            events=tuple(EventRecord(n, ns(t), a) for n, t, a in events),
            raw_resource=_resource(instance, service),
        )
        self.spans.append(record)
        return record

    def log(
        self,
        ms: float,
        component: str,
        message: str,
        level: str = "INFO",
        span: SpanRecord | None = None,
    ) -> None:
        self.logs.append(
            {
                "ts": iso(ms),
                "level": level,
                "component": component,
                "message": message,
                "requestId": self.request_id,
                "span_id": span.span_id if span else "",
            }
        )

    def call(self, kind: str, start: float, end: float, status: int, body: dict[str, Any]) -> None:
        self.calls.append(
            CallRecord(
                kind,
                "fn",
                self.request_id if kind != "upload" else None,
                status,
                body,
                ns(start),
                ns(end),
            )
        )

    def fault(
        self, ms: float, proxy: str, event: EventKind, kind: FaultKind | None = None, **detail: Any
    ) -> None:
        name = None if kind is None else f"{kind}-fault"
        direction = None if kind is None else Direction.BOTH
        self.ledger.append(
            LedgerEvent(
                ns(ms), proxy, event, name, kind, direction, detail.pop("connection", None), detail
            )
        )

    def evidence(self, scenario: str = "synthetic") -> Evidence:
        return Evidence(
            Path("/nonexistent"), {"name": scenario}, self.calls, self.ledger, self.spans, self.logs
        )


def result(rid: str, status: str = "SUCCESS", **extra: Any) -> dict[str, Any]:
    return {
        "requestId": rid,
        "functionId": "fn",
        "status": status,
        "exitCode": 0 if status == "SUCCESS" else 2,
        "stdout": "",
        "stderr": "",
        "durationMillis": 50,
        **extra,
    }


def request_run(
    *,
    zip_bytes: int = 211,
    invalid: bool = False,
    exit_code: int = 0,
    timed_out: bool = False,
    out_of_memory: bool = False,
    receivers: int = 1,
    client: str = "SUCCESS",
    ignored: bool = False,
    late_subscribe: bool = False,
    worker: bool = True,
    redelivered: bool = False,
    redis_error: str | None = None,
    s3_ms: float = 7.0,
    upload_status: int = 201,
) -> RunBuilder:
    b = RunBuilder()
    rid = b.request_id
    b.call(
        "upload",
        -500,
        -450,
        upload_status,
        {"functionId": "fn"}
        if upload_status == 201
        else {
            "error": {
                "code": "INVALID_PACKAGE",
                "message": "The ZIP is empty",
                "reason": "EMPTY_ARCHIVE",
            }
        },
    )
    b.log(0, "controller", f"/run called: functionId=fn requestId={rid}")
    if redis_error is not None:
        b.log(5, "controller", f"dependency unavailable: redis: {redis_error}", "ERROR")
        b.call(
            "run",
            0,
            10,
            503,
            {
                "error": {
                    "code": "DEPENDENCY_UNAVAILABLE",
                    "message": f"redis: {redis_error}; nothing was enqueued, retry later",
                    "dependency": "redis",
                }
            },
        )
        return b
    sub_at = 1500 if late_subscribe else 2
    sub = b.span(
        f"subscribe result:{rid}",
        sub_at,
        sub_at + 1,
        attrs={"messaging.system": "redis"},
        events=(("subscribe confirmed", sub_at + 1, {"subscribers": 1}),),
    )
    b.log(sub_at, "controller", f"Subscribing to channel: result:{rid}", span=sub)
    b.span("send nanogrid-tasks", 5, 10, kind=4)
    b.log(10, "controller", f"message sent to SQS: requestId={rid} messageId=m1")
    done_at = 900.0
    if worker:
        done_at = _worker(
            b,
            zip_bytes,
            invalid,
            exit_code,
            timed_out,
            out_of_memory,
            receivers,
            redelivered,
            s3_ms,
        )
    published = "FAILED" if (invalid or exit_code or timed_out or out_of_memory) else "SUCCESS"
    end = 4000 if client == "TIMEOUT" else done_at + 5
    events: list[tuple[str, float, dict[str, Any]]] = []
    if worker and receivers:
        events.append(("message received", done_at, {"status": published}))
        if ignored:
            events.append(("message ignored", done_at, {"status": published}))
    if client == "TIMEOUT":
        events.append(("deadline hit", end - 2, {}))
        b.log(
            end - 1,
            "controller",
            f"Timeout waiting for result: requestId={rid} stage=COMPLETED after 4.0s",
            "ERROR",
        )
        body: dict[str, Any] = {
            "requestId": rid,
            "status": "TIMEOUT",
            "message": "Execution timed out",
            "stage": "COMPLETED" if worker else "QUEUED",
            "deadlineSeconds": 4.0,
        }
    else:
        body = result(rid, client, errorType="INVALID_PACKAGE" if invalid else None)
    b.span(f"wait result:{rid}", 11, end - 1, events=tuple(events))
    b.call("run", -1, end, 200 if client != "TIMEOUT" else 202, body)
    if worker and client == "TIMEOUT":
        b.call(
            "fetch",
            end + 5,
            end + 10,
            200,
            result(rid, published, errorType="INVALID_PACKAGE" if invalid else None),
        )
    return b


def _worker(
    b: RunBuilder,
    zip_bytes: int,
    invalid: bool,
    exit_code: int,
    timed_out: bool,
    oom: bool,
    receivers: int,
    redelivered: bool,
    s3_ms: float,
) -> float:
    rid = b.request_id
    start = 20.0
    if redelivered:
        b.log(15, "worker-1", f"Received task: requestId={rid} functionId=fn")
        b.log(16, "worker-1", f"crash knob armed: this worker dies 0.3s into {rid}", "WARNING")
        start = 4000.0
    proc = b.span(
        "process nanogrid-tasks",
        start,
        start + 500,
        service=WRK,
        instance="w2" if redelivered else "w1",
        kind=5,
        attrs={"messaging.aws_sqs.receive_count": 2 if redelivered else 1},
    )
    comp = "worker-2" if redelivered else "worker-1"
    b.log(start + 1, comp, f"Received task: requestId={rid} functionId=fn", span=proc)
    b.span(
        "download",
        start + 2,
        start + 2 + s3_ms,
        service=WRK,
        instance=proc.raw_resource["attributes"][1]["value"]["stringValue"],
        attrs={"nanogrid.zip.bytes": zip_bytes},
    )
    b.span(
        "S3.GetObject",
        start + 2,
        start + 2 + s3_ms,
        service=WRK,
        instance="w1",
        kind=3,
        attrs={"rpc.system": "aws-api", "rpc.service": "S3", "rpc.method": "GetObject"},
    )
    b.log(start + 10, comp, f"Successfully downloaded zip file: {zip_bytes} bytes")
    if invalid:
        b.span(
            "validate and extract",
            start + 11,
            start + 12,
            service=WRK,
            error="InvalidPackage: The ZIP is empty",
        )
        b.log(start + 12, comp, f"[S3][FAIL] The ZIP file is empty! requestId={rid}", "ERROR")
    else:
        b.log(start + 12, comp, "Successfully extracted 1 files from zip")
        attrs = {
            "process.exit.code": exit_code,
            "nanogrid.timed_out": timed_out,
            "nanogrid.out_of_memory": oom,
            "nanogrid.duration_ms": 300,
        }
        b.span(
            "execute",
            start + 13,
            start + 300,
            service=WRK,
            attrs=attrs,
            error="" if exit_code == 0 else f"exit code {exit_code}",
        )
        b.log(start + 300, comp, f"Process exec finished with exitCode: {exit_code}")
    b.span("store result", start + 301, start + 306, service=WRK)
    b.span(
        f"publish result:{rid}",
        start + 302,
        start + 305,
        service=WRK,
        kind=4,
        attrs={"nanogrid.publish.receivers": receivers},
    )
    b.log(start + 305, comp, f"[REDIS] Result published successfully, subscribers={receivers}")
    ok = "OK" if not (invalid or exit_code or timed_out or oom) else "FAIL"
    b.log(start + 350, comp, f"[DONE][{ok}] requestId={rid}")
    return start + 305
