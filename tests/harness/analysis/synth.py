"""Synthetic evidence of one /run request, shaped like what NanoGrid really records.

``request_run()`` gives a healthy run: the controller's and the worker's spans, their JSON
log lines with the ``event`` field and its fields (:mod:`nanogrid.telemetry.semconv`), the
client's calls and the supervisor's component lives; ``wire=True`` adds what the decoding
proxies see. Its keyword arguments switch on one failure at a time, and the methods of
:class:`RunBuilder` add more evidence (a log event, a wire exchange, a component's life, or
a fault-ledger entry, which is ground truth and never evidence)::

    run = request_run(worker=False, client="TIMEOUT")
    run.log(50, "worker-1", sc.POLL_FAILED, "poll failed, retrying: ...", "ERROR",
            request=False, fields={sc.F_DEPENDENCY: sc.SQS, sc.F_SYMPTOM: "connect_timeout"})
    diagnose(run.evidence())
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.traces import SpanRecord
from harness.wire.model import DETAIL_MESSAGE_IDS, DETAIL_RECEIVERS, DETAIL_TTFB_NS, DETAIL_TTLB_NS
from nanogrid.telemetry import semconv as sc
from tests.harness.analysis.builder import MS, RunBuilder

QUEUE = "nanogrid-tasks"
DEADLINE_MS = 4000.0  # the controller's deadline in these runs (deadlineSeconds 4.0)
CRASH_MS = 320.0  # when worker-1 dies in a crashed run


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


@dataclass(frozen=True)
class Knobs:
    """What :func:`request_run` switches on (see its docstring)."""

    zip_bytes: int = 211
    invalid: bool = False
    exit_code: int = 0
    timed_out: bool = False
    out_of_memory: bool = False
    receivers: int = 1
    client: str = "SUCCESS"
    ignored: bool = False
    late_subscribe: bool = False
    worker: bool = True
    crashed: bool = False
    redelivered: bool = False
    unavailable: tuple[str, str] | None = None
    s3_ms: float = 7.0
    download_ms: float | None = None
    function_ms: float = 287.0
    upload_status: int = 201
    wire: bool = False

    @property
    def failed(self) -> bool:
        return bool(self.invalid or self.exit_code or self.timed_out or self.out_of_memory)

    @property
    def published(self) -> str:
        return "FAILED" if self.failed else "SUCCESS"


def request_run(**knobs: Any) -> RunBuilder:
    """One /run request and what every component recorded of it.

    Healthy unless told: ``zip_bytes`` of the package, ``invalid`` (the worker finds it
    empty), the function's ``exit_code`` / ``timed_out`` / ``out_of_memory`` /
    ``function_ms``, ``receivers`` of the PUBLISH, ``client`` (SUCCESS, FAILED, TIMEOUT:
    what the controller answered), ``ignored`` (the controller ignored the FAILED it got),
    ``late_subscribe``, ``worker=False`` (no worker takes the task), ``crashed`` (worker-1
    dies mid-run: an open process span, a killed process), ``redelivered`` (and worker-2
    takes it again), ``unavailable=(dependency, symptom)`` (the controller answers 503),
    ``s3_ms`` (the S3 client call) and ``download_ms`` (the whole download step),
    ``upload_status``, ``wire`` (record the decoded traffic too).
    """
    k = Knobs(**knobs)
    b = RunBuilder()
    b.life("controller", -2000)
    b.life("worker-1", -2000)
    if k.redelivered:
        b.life("worker-2", -2000)
    _upload(b, k)
    b.log(0, "controller", sc.RUN_CALLED, f"/run called: functionId=fn requestId={b.request_id}")
    if not _controller(b, k):
        return b
    done_at = _worker(b, k) if k.worker else None
    _answer(b, k, done_at)
    return b


def _upload(b: RunBuilder, k: Knobs) -> None:
    if k.upload_status == 201:
        b.call("upload", -500, -450, 201, {"functionId": "fn"})
        b.log(
            -460,
            "controller",
            sc.UPLOAD_STORED,
            "stored fn",
            request=False,
            fields={"s3Key": "fn.zip"},
        )
        return
    error = {"code": "INVALID_PACKAGE", "message": "The ZIP is empty", "reason": "EMPTY_ARCHIVE"}
    b.call("upload", -500, -450, k.upload_status, {"error": error})
    b.log(
        -460,
        "controller",
        sc.UPLOAD_REFUSED,
        "upload refused: EMPTY_ARCHIVE",
        "WARNING",
        request=False,
        fields={sc.F_REASON: "EMPTY_ARCHIVE"},
    )


#: The controller's step that calls each dependency, for a 503 at that step.
_FAILING_STEP = {sc.DYNAMODB: sc.SPAN_LOOKUP, sc.REDIS: sc.SPAN_SUBSCRIBE, sc.SQS: sc.SPAN_SEND}


def _controller(b: RunBuilder, k: Knobs) -> bool:
    """Lookup, subscribe and send; False when the controller answered 503 instead."""
    failing = _FAILING_STEP.get(k.unavailable[0]) if k.unavailable else None
    if failing == sc.SPAN_LOOKUP:
        b.span(sc.SPAN_LOOKUP, 0, 4, error="dependency unavailable")
        return _unavailable(b, k)
    b.span(sc.SPAN_LOOKUP, 0, 1)
    sub_at = 1500 if k.late_subscribe else 2
    if failing == sc.SPAN_SUBSCRIBE:
        b.span(f"{sc.SPAN_SUBSCRIBE} {b.channel}", sub_at, sub_at + 3, error="unreachable")
        return _unavailable(b, k)
    _subscribe(b, k, sub_at)
    if failing == sc.SPAN_SEND:
        b.span(f"{sc.SPAN_SEND} {QUEUE}", 5, 8, kind="producer", error="unreachable")
        return _unavailable(b, k)
    attrs = {sc.MESSAGING_SYSTEM: "aws_sqs", sc.MESSAGE_ID: "m1"}
    b.span(f"{sc.SPAN_SEND} {QUEUE}", 5, 10, kind="producer", attrs=attrs)
    b.log(
        10,
        "controller",
        sc.TASK_SENT,
        f"message sent to SQS: requestId={b.request_id} messageId=m1",
        fields={"messageId": "m1"},
    )
    if k.wire:
        b.exchange(
            5,
            "controller->sqs",
            "SQS.SendMessage",
            QUEUE,
            answer_ms=9,
            **{DETAIL_MESSAGE_IDS: ["m1"]},
        )
    return True


def _subscribe(b: RunBuilder, k: Knobs, at: float) -> None:
    sub = b.span(
        f"{sc.SPAN_SUBSCRIBE} {b.channel}",
        at,
        at + 1,
        attrs={sc.MESSAGING_SYSTEM: "redis", sc.MESSAGING_DESTINATION: b.channel},
        events=((sc.EV_SUBSCRIBE_CONFIRMED, at + 1, {"subscribers": 1}),),
    )
    b.log(
        at,
        "controller",
        sc.RESULT_SUBSCRIBING,
        f"Subscribing to channel: {b.channel}",
        span=sub,
        fields={"channel": b.channel},
    )
    if k.wire:
        b.exchange(at, "controller->redis", "SUBSCRIBE", b.channel, answer_ms=at + 1)


def _unavailable(b: RunBuilder, k: Knobs) -> bool:
    """The controller's 503: its log event and its body both name dependency and symptom."""
    assert k.unavailable is not None
    dependency, symptom = k.unavailable
    error = f"{dependency}: {symptom.replace('_', ' ')}"
    b.log(
        5,
        "controller",
        sc.DEPENDENCY_UNAVAILABLE,
        f"dependency unavailable: {error}",
        "ERROR",
        fields={sc.F_DEPENDENCY: dependency, sc.F_SYMPTOM: symptom, sc.F_ERROR: error},
    )
    body = {
        "error": {
            "code": "DEPENDENCY_UNAVAILABLE",
            "message": f"{error}; nothing was enqueued, retry later",
            sc.F_DEPENDENCY: dependency,
            sc.F_SYMPTOM: symptom,
        }
    }
    b.call("run", 0, 10, 503, body)
    return False


def _worker(b: RunBuilder, k: Knobs) -> float | None:
    """The worker's side; returns when the result was published (None: never)."""
    start = 20.0
    if k.crashed or k.redelivered:
        _crashed_worker(b, 15)
        if not k.redelivered:
            return None
        start = 4000.0
    worker = "worker-2" if k.redelivered else "worker-1"
    proc = _received(b, k, worker, start, 2 if k.redelivered else 1)
    # The steps after the download start later when it is slow.
    base = start + max(_download(b, k, worker, start + 2, proc) - 8, 0)
    if k.invalid:
        b.worker_span(sc.SPAN_EXTRACT, base + 11, base + 12, worker=worker, error="InvalidPackage")
        b.log(
            base + 12,
            worker,
            sc.PACKAGE_INVALID,
            f"[S3][FAIL] The ZIP file is empty! requestId={b.request_id}",
            "ERROR",
            fields={sc.F_REASON: "EMPTY_ARCHIVE"},
        )
        done = base + 300
    else:
        done = _execute(b, k, worker, base + 11)
    return _publish(b, k, worker, done + 1, proc)


def _received(b: RunBuilder, k: Knobs, worker: str, at: float, count: int) -> SpanRecord:
    if k.wire:
        answer = {DETAIL_MESSAGE_IDS: ["m1"]}
        b.exchange(at - 900, "worker->sqs", "SQS.ReceiveMessage", QUEUE, answer_ms=at, **answer)
    proc = b.worker_span(
        f"{sc.SPAN_PROCESS} {QUEUE}",
        at,
        at + 500,
        worker=worker,
        kind="consumer",
        attrs={sc.RECEIVE_COUNT: count, sc.MESSAGE_ID: "m1"},
    )
    b.log(
        at + 1,
        worker,
        sc.TASK_RECEIVED,
        f"Received task: requestId={b.request_id} functionId=fn",
        span=proc,
        fields={sc.F_RECEIVE_COUNT: count, "messageId": "m1"},
    )
    return proc


def _download(b: RunBuilder, k: Knobs, worker: str, at: float, proc: SpanRecord) -> float:
    """The download step (``download_ms``) around its S3 client call (``s3_ms``): botocore's
    span ends with the response's head, the step once the body is read. Returns its ms."""
    took = k.s3_ms if k.download_ms is None else k.download_ms
    b.worker_span(sc.SPAN_DOWNLOAD, at, at + took, worker=worker, attrs={sc.ZIP_BYTES: k.zip_bytes})
    attrs = {sc.RPC_SYSTEM: "aws-api", sc.RPC_SERVICE: "S3", sc.RPC_METHOD: "GetObject"}
    b.worker_span("S3.GetObject", at, at + k.s3_ms, worker=worker, kind="client", attrs=attrs)
    if k.wire:
        answer = {DETAIL_TTFB_NS: int(k.s3_ms * MS), DETAIL_TTLB_NS: int(took * MS)}
        b.exchange(at, "worker->s3", "S3.GetObject", "bucket/fn.zip", answer_ms=at + took, **answer)
    b.log(
        max(at + 8, at + took),
        worker,
        sc.PACKAGE_DOWNLOADED,
        f"Successfully downloaded zip file: {k.zip_bytes} bytes",
        span=proc,
        fields={sc.F_BYTES: k.zip_bytes},
    )
    return took


def _execute(b: RunBuilder, k: Knobs, worker: str, at: float) -> float:
    """Extract, then run the function for ``function_ms``; returns when it ended."""
    b.worker_span(sc.SPAN_EXTRACT, at, at + 1, worker=worker)
    b.log(
        at + 1,
        worker,
        sc.PACKAGE_EXTRACTED,
        "Successfully extracted 1 files from zip",
        fields={sc.F_FILES: 1},
    )
    b.log(at + 2, worker, sc.FUNCTION_EXECUTING, "Executing command: [python, main.py]")
    attrs = {
        sc.EXIT_CODE: k.exit_code,
        sc.TIMED_OUT: k.timed_out,
        sc.OUT_OF_MEMORY: k.out_of_memory,
        sc.DURATION_MS: round(k.function_ms),
    }
    end = at + 2 + k.function_ms
    error = "" if k.exit_code == 0 else f"exit code {k.exit_code}"
    b.worker_span(sc.SPAN_EXECUTE, at + 2, end, worker=worker, attrs=attrs, error=error)
    b.log(
        end,
        worker,
        sc.FUNCTION_FINISHED,
        f"Process exec finished with exitCode: {k.exit_code}",
        fields={sc.F_EXIT_CODE: k.exit_code},
    )
    return end


def _publish(b: RunBuilder, k: Knobs, worker: str, at: float, proc: SpanRecord) -> float:
    """Store and publish from ``at``; returns when the PUBLISH was answered."""
    b.worker_span(sc.SPAN_STORE, at, at + 5, worker=worker)
    attrs = {sc.MESSAGING_SYSTEM: "redis", sc.PUBLISH_RECEIVERS: k.receivers}
    publish = f"{sc.SPAN_PUBLISH} {b.channel}"
    b.worker_span(publish, at + 1, at + 4, worker=worker, kind="producer", attrs=attrs)
    b.log(
        at + 1,
        worker,
        sc.RESULT_PUBLISHING,
        f"[REDIS] Publishing result to channel: {b.channel}",
        fields={"channel": b.channel},
    )
    if k.wire:
        answer = {DETAIL_RECEIVERS: k.receivers}
        b.exchange(at + 2, "worker->redis", "PUBLISH", b.channel, answer_ms=at + 3, **answer)
        if k.receivers:
            b.pushed(at + 3, k.published)
    b.log(
        at + 4,
        worker,
        sc.RESULT_PUBLISHED,
        f"[REDIS] Result published successfully, subscribers={k.receivers}",
        fields={sc.F_RECEIVERS: k.receivers},
    )
    ok = "FAIL" if k.failed else "OK"
    b.log(
        at + 49,
        worker,
        sc.TASK_DONE,
        f"[DONE][{ok}] requestId={b.request_id}",
        span=proc,
        fields={sc.F_STATUS: k.published},
    )
    return at + 4


def _crashed_worker(b: RunBuilder, at: float) -> None:
    """worker-1 takes the task and is killed mid-run: its process and execute spans have
    start records only, and the supervisor saw it exit on SIGKILL without being stopped."""
    proc = b.worker_span(
        f"{sc.SPAN_PROCESS} {QUEUE}",
        at,
        worker="worker-1",
        kind="consumer",
        attrs={sc.RECEIVE_COUNT: 1, sc.MESSAGE_ID: "m1"},
        open=True,
    )
    b.log(
        at + 1,
        "worker-1",
        sc.TASK_RECEIVED,
        f"Received task: requestId={b.request_id} functionId=fn",
        span=proc,
        fields={sc.F_RECEIVE_COUNT: 1, "messageId": "m1"},
    )
    b.log(
        at + 2,
        "worker-1",
        sc.KNOB_ACTIVE,
        f"crash knob armed: this worker dies 0.3s into {b.request_id}",
        "WARNING",
        fields={sc.F_KNOB: "crash", "value": 0.3},
    )
    b.worker_span(sc.SPAN_EXECUTE, at + 5, worker="worker-1", open=True)
    b.log(at + 5, "worker-1", sc.FUNCTION_EXECUTING, "Executing command: [python, main.py]")
    b.components = [life for life in b.components if life.component != "worker-1"]
    b.life("worker-1", -2000, CRASH_MS, -9)


def _answer(b: RunBuilder, k: Knobs, done_at: float | None) -> None:
    """The controller's wait and answer, and the client's later fetch after a TIMEOUT."""
    timeout = k.client == "TIMEOUT"
    end = DEADLINE_MS if timeout else (done_at or 900.0) + 5
    in_time = done_at is not None and done_at < end - 2
    events: list[tuple[str, float, dict[str, Any]]] = []
    if in_time and k.receivers:
        assert done_at is not None
        events.append((sc.EV_MESSAGE_RECEIVED, done_at, {"status": k.published}))
        if k.ignored:
            events.append((sc.EV_MESSAGE_IGNORED, done_at, {"status": k.published}))
    if timeout:
        events.append((sc.EV_DEADLINE_HIT, end - 2, {}))
    wait_attrs = {sc.DEADLINE_SECONDS: DEADLINE_MS / 1000}
    b.span(f"{sc.SPAN_WAIT} {b.channel}", 11, end - 1, attrs=wait_attrs, events=tuple(events))
    error_type = "INVALID_PACKAGE" if k.invalid else None
    if timeout:
        _timed_out(b, k, end, in_time)
    else:
        b.log(
            end - 1,
            "controller",
            sc.RESULT_RECEIVED,
            f"Received message on channel {b.channel}: status={k.client}",
            fields={sc.F_STATUS: k.client},
        )
        b.call("run", -1, end, 200, result(b.request_id, k.client, errorType=error_type))
    if done_at is not None and timeout:
        fetched = max(end, done_at) + 5
        body = result(b.request_id, k.published, errorType=error_type)
        b.call("fetch", fetched, fetched + 5, 200, body)


def _timed_out(b: RunBuilder, k: Knobs, end: float, done_in_time: bool) -> None:
    stage = "QUEUED" if not k.worker else ("COMPLETED" if done_in_time else "PROCESSING")
    b.log(
        end - 1,
        "controller",
        sc.RUN_TIMEOUT,
        f"Timeout waiting for result: requestId={b.request_id} stage={stage} after 4.0s",
        "ERROR",
        fields={sc.F_STAGE: stage, "waitedSeconds": 4.0, "deadlineSeconds": DEADLINE_MS / 1000},
    )
    body = {
        "requestId": b.request_id,
        "functionId": "fn",
        "status": "TIMEOUT",
        "message": "Execution timed out",
        "stage": stage,
        "deadlineSeconds": DEADLINE_MS / 1000,
    }
    b.call("run", -1, end, 202, body)
