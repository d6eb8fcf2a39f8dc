"""``/run``: look the function up, subscribe, send the task, wait for the result.

The order is the fix for the incident's problem 2: the controller subscribes to
``result:{requestId}`` and waits for the server's confirmation *before* the task is sent,
and any terminal status (SUCCESS or FAILED) ends the wait at once. When Redis cannot be
reached, nothing is enqueued and the caller gets a 503: at once when the server is silent
(its timeouts have passed), after retrying for up to the connect timeout when it refuses
connections (a restarting Redis is ridden over).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from nanogrid import defaults
from nanogrid.errors import DependencyError
from nanogrid.protocol import Stage, Status, Task, is_terminal
from nanogrid.results import REDIS_ERRORS, ResultStore, ResultWaiter, WaitOutcome
from nanogrid.symptoms import failure_fields
from nanogrid.telemetry import inject_sqs, set_function_id
from nanogrid.telemetry import semconv as sc

if TYPE_CHECKING:
    import redis

    from nanogrid.aws import AwsClients
    from nanogrid.controller.behaviour import ControllerBehaviour
    from nanogrid.registry import FunctionMeta, FunctionRegistry
    from nanogrid.settings import Settings

log = logging.getLogger("nanogrid.controller")
tracer = trace.get_tracer("nanogrid.controller")

#: Pause between two subscribe attempts while Redis refuses connections.
SUBSCRIBE_BACKOFF_SECONDS = 0.1


@dataclass
class RunAnswer:
    """The HTTP answer of ``/run``: a worker's result or the TIMEOUT shape."""

    status_code: int
    body: dict[str, Any]


class RunService:
    """Runs one function invocation end to end (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        behaviour: ControllerBehaviour,
        clients: AwsClients,
        registry: FunctionRegistry,
        store: ResultStore,
        queue_url: str,
        subscriber: redis.Redis | None = None,
    ) -> None:
        self.subscriber = subscriber if subscriber is not None else store.client
        self.settings = settings
        self.behaviour = behaviour
        self.clients = clients
        self.registry = registry
        self.store = store
        self.queue_url = queue_url

    def run(self, request_id: str, function_id: str, input_data: Any) -> RunAnswer:
        log.info(
            "/run called: functionId=%s requestId=%s",
            function_id,
            request_id,
            extra={sc.EVENT: sc.RUN_CALLED},
        )
        set_function_id(function_id)
        with tracer.start_as_current_span(sc.SPAN_LOOKUP):
            meta = self.registry.lookup(function_id)
        started = time.monotonic()
        deadline = started + self.settings.run_deadline
        task = self._task(request_id, meta, input_data)
        with ResultWaiter(
            self.subscriber,
            request_id,
            confirm_timeout=self.settings.redis_socket_timeout,
            observer=_span_event,
        ) as waiter:
            if self.behaviour.subscribe_after_send is None:
                self._subscribe(waiter)
                self._send(task)
            else:
                self._send(task)
                time.sleep(self.behaviour.subscribe_after_send)  # the legacy race, on purpose
                self._subscribe(waiter)
            outcome = self._wait(waiter, deadline)
        return self._answer(task, outcome, time.monotonic() - started)

    def _task(self, request_id: str, meta: FunctionMeta, input_data: Any) -> Task:
        return Task(
            requestId=request_id,
            functionId=meta.functionId,
            s3Key=meta.s3Key,
            runtime=meta.runtime,
            memoryMB=meta.memoryMB,
            timeoutSeconds=meta.timeoutSeconds,
            deadline=time.time() + self.settings.run_deadline,
            inputData=input_data,
            sha256=meta.sha256,
            bucket=self.settings.bucket,
        )

    def _subscribe(self, waiter: ResultWaiter) -> None:
        with tracer.start_as_current_span(f"{sc.SPAN_SUBSCRIBE} {waiter.channel}") as span:
            log.info(
                "Subscribing to channel: %s",
                waiter.channel,
                extra={sc.EVENT: sc.RESULT_SUBSCRIBING, "channel": waiter.channel},
            )
            span.set_attributes(
                {sc.MESSAGING_SYSTEM: "redis", sc.MESSAGING_DESTINATION: waiter.channel}
            )
            # A refused connection (Redis restarting) is retried for as long as a connect may
            # take anyway; a silent server has used that time up after its first attempt.
            retry_until = time.monotonic() + self.settings.redis_connect_timeout
            while True:
                try:
                    waiter.subscribe()
                    return
                except DependencyError as exc:
                    if time.monotonic() + SUBSCRIBE_BACKOFF_SECONDS >= retry_until:
                        raise
                    span.add_event(sc.EV_SUBSCRIBE_RETRIED, {"error": str(exc)})
                    time.sleep(SUBSCRIBE_BACKOFF_SECONDS)

    def _send(self, task: Task) -> None:
        with tracer.start_as_current_span(
            f"{sc.SPAN_SEND} {self.settings.queue}", kind=SpanKind.PRODUCER
        ) as span:
            span.set_attributes(
                {
                    sc.MESSAGING_SYSTEM: "aws_sqs",
                    sc.MESSAGING_OPERATION: "send",
                    sc.MESSAGING_DESTINATION: self.settings.queue,
                }
            )
            try:
                resp = self.clients.sqs.send_message(
                    QueueUrl=self.queue_url,
                    MessageBody=task.to_json(),
                    MessageAttributes=inject_sqs(request_id=task.requestId),
                )
            except (BotoCoreError, ClientError) as exc:
                raise DependencyError("sqs", str(exc)) from exc
            span.set_attribute(sc.MESSAGE_ID, resp["MessageId"])
        log.info(
            "message sent to SQS: requestId=%s messageId=%s",
            task.requestId,
            resp["MessageId"],
            extra={sc.EVENT: sc.TASK_SENT, "messageId": resp["MessageId"]},
        )
        # The worker may have claimed the task already: QUEUED never overwrites its RUNNING.
        self._record_stage(task.requestId, Stage.QUEUED)

    def _record_stage(self, request_id: str, stage: Stage) -> None:
        try:
            self.store.set_stage(request_id, stage, only_new=True)
        except REDIS_ERRORS as exc:
            log.warning(
                "could not record stage %s of %s",
                stage,
                request_id,
                extra={
                    sc.EVENT: sc.STAGE_NOT_RECORDED,
                    sc.F_STAGE: str(stage),
                    **failure_fields(sc.REDIS, exc),
                },
            )

    def _wait(self, waiter: ResultWaiter, deadline: float) -> WaitOutcome:
        accept = _success_only if self.behaviour.ignore_failed else is_terminal
        with tracer.start_as_current_span(f"{sc.SPAN_WAIT} {waiter.channel}") as span:
            span.set_attribute(sc.DEADLINE_SECONDS, self.settings.run_deadline)
            outcome = waiter.wait(
                deadline, read_stored=self.behaviour.read_stored_result, accept=accept
            )
            span.set_attribute(sc.RESULT_SOURCE, outcome.source or "none")
            if outcome.ignored:
                span.set_attribute(sc.RESULT_IGNORED, len(outcome.ignored))
        return outcome

    def _answer(self, task: Task, outcome: WaitOutcome, waited: float) -> RunAnswer:
        with tracer.start_as_current_span(sc.SPAN_RESPONSE) as span:
            if outcome.result is not None:
                status = outcome.result.get("status")
                span.set_attribute(sc.STATUS, str(status))
                log.info(
                    "Received message on channel %s: status=%s",
                    defaults.result_key(task.requestId),
                    status,
                    extra={sc.EVENT: sc.RESULT_RECEIVED, sc.F_STATUS: str(status)},
                )
                body = {k: v for k, v in outcome.result.items() if k != "trace"}
                return RunAnswer(200, body)
            stage = self._stage(task.requestId)
            span.set_attribute(sc.STATUS, Status.TIMEOUT)
            span.set_attribute(sc.STAGE, stage)
            log.error(
                "Timeout waiting for result: requestId=%s stage=%s after %.1fs",
                task.requestId,
                stage,
                waited,
                extra={
                    sc.EVENT: sc.RUN_TIMEOUT,
                    sc.F_STAGE: stage,
                    "waitedSeconds": round(waited, 3),
                    "deadlineSeconds": self.settings.run_deadline,
                },
            )
            return RunAnswer(202, timeout_body(task, stage, self.settings.run_deadline))

    def _stage(self, request_id: str) -> str:
        try:
            return self.store.get_stage(request_id) or Stage.QUEUED
        except REDIS_ERRORS:
            return "UNKNOWN"


def timeout_body(task: Task, stage: str, deadline: float) -> dict[str, Any]:
    """The memo's TIMEOUT shape, plus where the request got to and where to look later."""
    return {
        "requestId": task.requestId,
        "functionId": task.functionId,
        "status": Status.TIMEOUT,
        "message": "Execution timed out",
        "stage": stage,
        "deadlineSeconds": deadline,
        "resultUrl": f"/runs/{task.requestId}",
    }


def _success_only(result: dict[str, Any]) -> bool:
    return result.get("status") == Status.SUCCESS


def _span_event(name: str, attributes: dict[str, Any]) -> None:
    trace.get_current_span().add_event(name, attributes)
