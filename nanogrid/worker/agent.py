"""The Worker Agent: SQS task in, function run, result out through Redis.

One task at a time per agent: receive (long poll, all message attributes), skip a task
whose result already exists (SQS delivers at least once), claim it in Redis, extend its
visibility while the function runs, store and publish the result, and only then delete the
message. The deletion and the CloudWatch metrics are done in the background (see
:mod:`nanogrid.worker.background`), so the next receive does not wait for them. A task that
keeps failing before its result is stored reaches the dead-letter queue through the
queue's redrive policy.
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, StatusCode
from opentelemetry.trace import Status as SpanStatus

from nanogrid import defaults
from nanogrid.errors import DependencyError, InvalidPackage, PackageTampered
from nanogrid.protocol import ErrorType, Result, Task
from nanogrid.results import (
    DEPENDENCY_ERRORS,
    FAILURE_ERRORS,
    REDIS_ERRORS,
    Claim,
    ResultStore,
    describe_redis_error,
)
from nanogrid.runtime.base import Execution, ExecutionLimits, Runtime, RuntimeUnavailable
from nanogrid.symptoms import failure_fields
from nanogrid.telemetry import extract_sqs, inject_dict, request_scope, set_function_id, untraced
from nanogrid.telemetry import semconv as sc
from nanogrid.worker.background import Background
from nanogrid.worker.codecache import CodeCache
from nanogrid.worker.execution import failure_result, result_from_execution
from nanogrid.worker.keepalive import Ticker
from nanogrid.worker.knobs import WorkerKnobs
from nanogrid.worker.metrics import put_run_metrics

if TYPE_CHECKING:
    from nanogrid.aws import AwsClients
    from nanogrid.settings import Settings

log = logging.getLogger("nanogrid.worker")
tracer = trace.get_tracer("nanogrid.worker")

#: How long a worker keeps retrying to store a result while Redis is unreachable.
PUBLISH_RETRY_SECONDS = 30.0


class CodeUnavailable(Exception):
    """The code object cannot be fetched for good (missing object or bucket)."""


class WorkerAgent:
    """Processes tasks from the queue; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        clients: AwsClients,
        store: ResultStore,
        runtime: Runtime,
        queue_url: str,
        knobs: WorkerKnobs | None = None,
        poll_wait_seconds: int = 20,
        background: Background | None = None,
    ) -> None:
        self.settings = settings
        self.clients = clients
        self.store = store
        self.runtime = runtime
        self.queue_url = queue_url
        self.knobs = knobs or WorkerKnobs()
        self.poll_wait_seconds = poll_wait_seconds
        self.cache = CodeCache(settings.work_dir / "code", settings.limits)
        self.busy = False
        # Inline unless given a thread: in-process callers see a handled task finished.
        self.background = background or Background.inline()

    def poll_once(self) -> int:
        """One long poll; handles what arrives. Idle polls make no spans."""
        with untraced():
            resp = self._receive()
        messages = resp.get("Messages", [])
        for message in messages:
            self.busy = True
            try:
                self.handle(message)
            finally:
                self.busy = False
        return len(messages)

    def _receive(self) -> Any:
        """Raises :class:`DependencyError` naming SQS when the queue cannot be read."""
        try:
            return self.clients.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=1,
                WaitTimeSeconds=self.poll_wait_seconds,
                MessageAttributeNames=["All"],
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
                VisibilityTimeout=self.settings.visibility_timeout,
            )
        except (BotoCoreError, ClientError) as exc:
            raise DependencyError(sc.SQS, str(exc)) from exc

    def handle(self, message: Any) -> None:
        """Process one SQS message; deletes it only once its result is stored."""
        try:
            task = Task.from_json(message.get("Body", ""))
        except ValueError as exc:
            log.error(
                "poison message %s: %s; the redrive policy moves it to the dead-letter queue",
                message.get("MessageId"),
                exc,
            )
            with untraced():  # no request to key a trace by
                self._release(message["ReceiptHandle"])
            return
        ctx = extract_sqs(message.get("MessageAttributes", {}))
        receipt = message["ReceiptHandle"]
        with request_scope(task.requestId):
            span = tracer.start_span(
                f"{sc.SPAN_PROCESS} {self.settings.queue}", context=ctx, kind=SpanKind.CONSUMER
            )
            try:
                with trace.use_span(span, end_on_exit=False):
                    set_function_id(task.functionId)
                    span.set_attributes(_messaging_attributes(self.settings.queue, message))
                    deletable, result = self._process(task, receipt, message)
            except FAILURE_ERRORS as exc:
                # Not deleted: SQS delivers the task again once its visibility expires.
                with trace.use_span(span, end_on_exit=False):
                    log.error(
                        "task %s failed on a dependency, left for redelivery: %s",
                        task.requestId,
                        exc,
                        extra={sc.EVENT: sc.TASK_FAILED, **failure_fields(_dependency(exc), exc)},
                    )
                    span.record_exception(exc)
                    span.set_status(SpanStatus(StatusCode.ERROR, str(exc)[:200]))
                span.end()
                return
            except BaseException:
                span.end()
                raise
            # The caller has the result: the rest (the message's deletion, the metrics, then
            # the end of this span) need not hold up the next receive.
            with trace.use_span(span, end_on_exit=False):
                self.background.submit(
                    lambda: self._finish(span, receipt if deletable else None, result)
                )

    def _process(self, task: Task, receipt: str, message: Any) -> tuple[bool, Result | None]:
        """Runs the task unless it ran already; returns (may the message be deleted, result)."""
        count = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        log.info(
            "Received task: requestId=%s functionId=%s",
            task.requestId,
            task.functionId,
            extra={
                sc.EVENT: sc.TASK_RECEIVED,
                sc.F_RECEIVE_COUNT: count,
                "messageId": message.get("MessageId", ""),
            },
        )
        ttl_ms = int(self.settings.visibility_timeout * 1000)
        claim = self.store.claim(task.requestId, self.settings.worker_id, ttl_ms)
        if claim is Claim.DONE:
            log.info(
                "result of %s already stored: not running it again",
                task.requestId,
                extra={sc.EVENT: sc.TASK_ALREADY_DONE},
            )
            return True, None
        if claim is Claim.TAKEN:
            log.info(
                "task %s is running on another worker",
                task.requestId,
                extra={sc.EVENT: sc.TASK_TAKEN},
            )
            return False, None
        with Ticker(
            "visibility", self.settings.visibility_timeout / 3, lambda: self._extend(task, receipt)
        ):
            result = self._execute(task)
            self._store(result)
        ok = "OK" if result.status == "SUCCESS" else "FAIL"
        log.info(
            "[DONE][%s] requestId=%s",
            ok,
            task.requestId,
            extra={sc.EVENT: sc.TASK_DONE, sc.F_STATUS: str(result.status)},
        )
        return True, result

    def _finish(self, span: Span, receipt: str | None, result: Result | None) -> None:
        """Delete the message and send the metrics of a handled task, then end its span."""
        try:
            if receipt is not None:
                self._delete(receipt)
            if result is not None:
                put_run_metrics_traced(self.clients, result)
        finally:
            span.end()

    def close(self) -> None:
        """Finish the work still queued in the background (at shutdown)."""
        self.background.close()

    def _extend(self, task: Task, receipt: str) -> None:
        try:
            self.clients.sqs.change_message_visibility(
                QueueUrl=self.queue_url,
                ReceiptHandle=receipt,
                VisibilityTimeout=self.settings.visibility_timeout,
            )
            self.store.extend_claim(task.requestId, int(self.settings.visibility_timeout * 1000))
        except DEPENDENCY_ERRORS as exc:
            log.warning(
                "could not extend the visibility of %s: %s",
                task.requestId,
                exc,
                extra={
                    sc.EVENT: sc.VISIBILITY_NOT_EXTENDED,
                    **failure_fields(
                        sc.SQS if isinstance(exc, BotoCoreError | ClientError) else sc.REDIS, exc
                    ),
                },
            )

    def _execute(self, task: Task) -> Result:
        try:
            code_dir = self._code(task)
        except InvalidPackage as exc:
            if getattr(exc, "reason", "") == "EMPTY_ARCHIVE":
                log.error(
                    "[S3][FAIL] The ZIP file is empty! requestId=%s: check the upload of %s",
                    task.requestId,
                    task.s3Key,
                    extra={sc.EVENT: sc.PACKAGE_INVALID, sc.F_REASON: "EMPTY_ARCHIVE"},
                )
            else:
                log.error(
                    "[S3][FAIL] invalid package %s: %s",
                    task.s3Key,
                    exc,
                    extra={sc.EVENT: sc.PACKAGE_INVALID, sc.F_REASON: exc.reason},
                )
            return failure_result(
                task, ErrorType.INVALID_PACKAGE, str(exc), self.settings.worker_id
            )
        except CodeUnavailable as exc:
            log.error(
                "code unavailable for %s: %s",
                task.requestId,
                exc,
                extra={sc.EVENT: sc.PACKAGE_UNAVAILABLE, sc.F_REASON: str(exc)},
            )
            return failure_result(task, ErrorType.PLATFORM_ERROR, str(exc), self.settings.worker_id)
        self.knobs.before_run(task.requestId)
        try:
            execution = self._run_function(task, code_dir)
        except RuntimeUnavailable as exc:
            log.error(
                "runtime unavailable for %s: %s",
                task.requestId,
                exc,
                extra={sc.EVENT: sc.RUNTIME_UNAVAILABLE},
            )
            return failure_result(task, ErrorType.PLATFORM_ERROR, str(exc), self.settings.worker_id)
        return result_from_execution(task, execution, self.settings.worker_id)

    def _run_function(self, task: Task, code_dir: Path) -> Execution:
        with tracer.start_as_current_span(sc.SPAN_EXECUTE) as span:
            log.info(
                "Executing command: [python, main.py]", extra={sc.EVENT: sc.FUNCTION_EXECUTING}
            )
            execution = self.runtime.run(
                code_dir,
                task.inputData,
                ExecutionLimits(memory_mb=task.memoryMB, timeout_seconds=task.timeoutSeconds),
                env={
                    "NANOGRID_REQUEST_ID": task.requestId,
                    "NANOGRID_FUNCTION_ID": task.functionId,
                },
            )
            span.set_attributes(
                {
                    sc.COMMAND_ARGS: execution.command,
                    sc.EXIT_CODE: -1 if execution.exit_code is None else execution.exit_code,
                    sc.DURATION_MS: execution.duration_ms,
                    sc.PEAK_MEMORY_BYTES: execution.peak_memory_bytes,
                    sc.TIMED_OUT: execution.timed_out,
                    sc.OUT_OF_MEMORY: execution.out_of_memory,
                }
            )
            if execution.exit_code != 0:
                span.set_status(SpanStatus(StatusCode.ERROR, f"exit code {execution.exit_code}"))
        kind = "Container" if self.runtime.name == "docker" else "Process"
        log.info(
            "%s exec finished with exitCode: %s",
            kind,
            execution.exit_code,
            extra={sc.EVENT: sc.FUNCTION_FINISHED, sc.F_EXIT_CODE: execution.exit_code},
        )
        return execution

    def _code(self, task: Task) -> Path:
        try:
            cached = self.cache.get(task.sha256)
        except PackageTampered as exc:
            log.warning(
                "cached code %s was changed after extraction, evicted; extracting it again: %s",
                exc.sha256,
                "; ".join(exc.problems[:10]),
                extra={
                    sc.EVENT: sc.PACKAGE_TAMPERED,
                    "sha256": exc.sha256,
                    sc.F_REASON: "; ".join(exc.problems[:10]),
                },
            )
            return self._extract_again(task, exc)
        if cached is not None:
            log.info("code cache hit: %s", task.sha256, extra={sc.EVENT: sc.PACKAGE_CACHED})
            return cached
        return self._extract(task)

    def _extract_again(self, task: Task, tampered: PackageTampered) -> Path:
        """A fresh copy of tampered code; :class:`CodeUnavailable` if there can be none.

        A dependency failure is not final: the task is redelivered and, the entry being
        gone, its next run extracts the package like any other miss.
        """
        try:
            return self._extract(task)
        except (CodeUnavailable, InvalidPackage, OSError) as exc:
            raise CodeUnavailable(
                f"the cached code of {task.functionId} ({tampered.sha256}) was changed after "
                f"extraction and cannot be extracted again: {exc}"
            ) from exc

    def _extract(self, task: Task) -> Path:
        data = self._download(task)
        if task.sha256 and hashlib.sha256(data).hexdigest() != task.sha256:
            raise InvalidPackage(
                f"checksum mismatch for {task.s3Key}: the object changed after upload; "
                "upload it again"
            )
        with tracer.start_as_current_span(sc.SPAN_EXTRACT) as span:
            path, info = self.cache.put(data)
            span.set_attributes(
                {sc.ZIP_ENTRIES: info.entries, sc.ZIP_UNZIPPED_BYTES: info.unzipped_bytes}
            )
        log.info(
            "Successfully extracted %d files from zip",
            info.entries,
            extra={sc.EVENT: sc.PACKAGE_EXTRACTED, sc.F_FILES: info.entries},
        )
        return path

    def _download(self, task: Task) -> bytes:
        bucket = task.bucket or self.settings.bucket
        with tracer.start_as_current_span(sc.SPAN_DOWNLOAD) as span:
            try:
                data = self.clients.s3.get_object(Bucket=bucket, Key=task.s3Key)["Body"].read()
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in ("NoSuchKey", "NoSuchBucket", "404", "AccessDenied"):
                    raise CodeUnavailable(
                        f"cannot download s3://{bucket}/{task.s3Key}: {code}"
                    ) from exc
                raise DependencyError(sc.S3, str(exc)) from exc
            except BotoCoreError as exc:
                raise DependencyError(sc.S3, str(exc)) from exc
            span.set_attribute(sc.ZIP_BYTES, len(data))
        log.info(
            "Successfully downloaded zip file: %d bytes",
            len(data),
            extra={sc.EVENT: sc.PACKAGE_DOWNLOADED, sc.F_BYTES: len(data)},
        )
        return data

    def _store(self, result: Result) -> None:
        """Store and publish, retrying while Redis is unreachable (bounded)."""
        channel = defaults.result_key(result.requestId)
        deadline = time.monotonic() + PUBLISH_RETRY_SECONDS
        with tracer.start_as_current_span(sc.SPAN_STORE):
            while True:
                try:
                    self._publish_once(channel, result)
                    return
                except REDIS_ERRORS as exc:
                    log.error(
                        "[REDIS] publish failed: %s",
                        describe_redis_error(exc),
                        extra={sc.EVENT: sc.RESULT_PUBLISH_FAILED, **failure_fields(sc.REDIS, exc)},
                    )
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)  # backoff between retries, not synchronisation

    def _publish_once(self, channel: str, result: Result) -> None:
        name = f"{sc.SPAN_PUBLISH} {channel}"
        with tracer.start_as_current_span(name, kind=SpanKind.PRODUCER) as span:
            span.set_attributes(
                {
                    sc.MESSAGING_SYSTEM: "redis",
                    sc.MESSAGING_DESTINATION: channel,
                    sc.MESSAGING_OPERATION: "publish",
                }
            )
            log.info(
                "[REDIS] Publishing result to channel: %s",
                channel,
                extra={sc.EVENT: sc.RESULT_PUBLISHING, "channel": channel},
            )
            result.trace = inject_dict()
            try:
                receivers = self.store.store_and_publish(result.requestId, result.to_json())
            except REDIS_ERRORS as exc:
                span.record_exception(exc)
                span.set_status(SpanStatus(StatusCode.ERROR, describe_redis_error(exc)))
                raise
            span.set_attribute(sc.PUBLISH_RECEIVERS, receivers)
        log.info(
            "[REDIS] Result published successfully, subscribers=%d",
            receivers,
            extra={sc.EVENT: sc.RESULT_PUBLISHED, sc.F_RECEIVERS: receivers},
        )

    def _release(self, receipt: str) -> None:
        """Make a message visible again at once (it counts one more receive)."""
        try:
            self.clients.sqs.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=receipt, VisibilityTimeout=0
            )
        except (BotoCoreError, ClientError) as exc:
            log.warning("could not release the message: %s", exc)

    def _delete(self, receipt: str) -> None:
        try:
            self.clients.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt)
        except (BotoCoreError, ClientError) as exc:
            log.warning(
                "could not delete the message (it will be redelivered, not re-run): %s",
                exc,
                extra={sc.EVENT: sc.MESSAGE_NOT_DELETED, **failure_fields(sc.SQS, exc)},
            )


def put_run_metrics_traced(clients: AwsClients, result: Result) -> None:
    with tracer.start_as_current_span(sc.SPAN_METRICS) as span:
        span.set_attribute(sc.METRICS_SENT, put_run_metrics(clients.cloudwatch, result))


def _messaging_attributes(queue: str, message: Any) -> dict[str, Any]:
    attrs = message.get("Attributes", {})
    return {
        sc.MESSAGING_SYSTEM: "aws_sqs",
        sc.MESSAGING_OPERATION: "process",
        sc.MESSAGING_DESTINATION: queue,
        sc.MESSAGE_ID: message.get("MessageId", ""),
        sc.RECEIVE_COUNT: int(attrs.get("ApproximateReceiveCount", "1")),
    }


def _dependency(exc: BaseException) -> str:
    """The dependency an exception came from (AWS calls raise DependencyError with theirs)."""
    if isinstance(exc, DependencyError):
        return exc.dependency
    if isinstance(exc, ClientError | BotoCoreError):
        return "aws"
    return sc.REDIS
