"""One test's run on the session stack: a clean start, a client, and its evidence on disk.

::

    with NanoGridRun(harness, tmp_path / "nanogrid", "test_mine") as run:
        function_id = run.deploy({"main.py": "print('hi')"})
        call = run.run(function_id, {"name": "you"})
        request = run.evidence.wait_complete(call.requestId)

A run starts as a scenario's run does (:class:`~harness.scenario.runner.ScenarioHarness`):
faults off, results, stages and claims deleted, the queues drained, the controller and two
workers running without knobs. :meth:`NanoGridRun.record` writes the run's window of
every shared record (spans of its requests, log lines, wire events, component lives, the
fault ledger) to the run directory in the evidence contract's layout
(:mod:`harness.evidence`). At the end the window closes *before* the faults are lifted;
then the functions it deployed are deleted, and, if a fault hit a worker's path, the
workers are killed: a worker that fought a fault may still be retrying, and the next test
or scenario starts fresh ones. Whenever workers are stopped, the run waits until SQS has
answered their last long polls (seen on the wire), so that no dead worker's open poll can
take the next test's task.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import boto3
import httpx
from botocore.exceptions import BotoCoreError, ClientError

from harness.env.emulator import describe
from harness.evidence import (
    FAULTS_FILE,
    RESULTS_FILE,
    CallRecord,
    read_json_lines,
    write_environment,
    write_scenario,
)
from harness.faults import FaultLedger
from harness.provision import client_kwargs
from harness.pytest_plugin.errors import DeployFailed
from harness.pytest_plugin.evidence import EvidenceReader
from harness.pytest_plugin.faults import FaultInjector
from harness.pytest_plugin.package import PackageSource, function_package
from harness.scenario.client import ScenarioClient, new_function_id
from harness.scenario.runner import (
    RunMarks,
    ScenarioHarness,
    clear_state,
    stop_workers,
    window_spans,
    write_window,
)
from harness.stack import Stack
from nanogrid import defaults

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)

#: Workers running at the start of every test (as in a scenario's default variant).
WORKERS = 2


class NanoGridRun:
    """A test's window on the session stack; see the module docstring."""

    def __init__(self, harness: ScenarioHarness, run_dir: Path, name: str) -> None:
        if harness.stack is None or harness.network is None:
            raise RuntimeError("the session stack is not started: use it as a context manager")
        self.harness = harness
        self.stack: Stack = harness.stack
        self.network = harness.network
        self.run_dir = run_dir
        self.name = name
        self.faults = FaultInjector(self.network)
        _, worker_command = harness.commands
        #: The run's recorded evidence (a worker under test need not export spans).
        self.evidence = EvidenceReader(run_dir, self.record, require_worker=worker_command is None)
        self.functions: list[str] = []
        self._marks: RunMarks | None = None
        self._client: ScenarioClient | None = None
        self._closed = False

    def __enter__(self) -> NanoGridRun:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def client(self) -> ScenarioClient:
        """The recording client (HTTP straight to the controller, never through a proxy)."""
        if self._client is None:
            raise RuntimeError("the run is not started (or already closed)")
        return self._client

    def start(self) -> None:
        """Mark every shared record, reset the stack, write the run's description."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        logs = {p: p.stat().st_size for p in sorted(self.stack.run_dir.glob("*.log"))}
        ledger = len(self.network.ledger.events)
        self._marks = RunMarks(time.time_ns(), logs, self.network.wire.mark(), ledger)
        self._reset()
        write_scenario(self.run_dir, {"name": self.name, "title": self.name, "variant": "pytest"})
        if self.harness.backend is not None:
            write_environment(self.run_dir, {"emulator": describe(self.harness.backend)})
        self._client = ScenarioClient(self.stack, self.run_dir)

    def _reset(self) -> None:
        self.network.clear()
        clear_state(self.stack)
        if self.stack.workers_differ({}, WORKERS):
            stop_workers(self.stack, self.network, kill=False)  # a scenario's knobs or count
        self.stack.ensure({}, {}, WORKERS)

    # --- the client --------------------------------------------------------------------

    def upload(
        self,
        source: PackageSource,
        function_id: str | None = None,
        *,
        memory_mb: int | None = None,
        timeout_seconds: int | None = None,
    ) -> CallRecord:
        """``POST /upload`` of ``source`` (see :func:`function_package`), recorded; the
        function is deleted at the end of the test. Any answer is returned."""
        function_id = function_id or new_function_id(_slug(self.name))
        form = {"functionId": function_id}
        if memory_mb is not None:
            form["memoryMB"] = str(memory_mb)
        if timeout_seconds is not None:
            form["timeoutSeconds"] = str(timeout_seconds)
        files = {"file": ("function.zip", function_package(source), "application/zip")}
        self.functions.append(function_id)
        started = time.time_ns()
        resp = self.client.http.post("/upload", files=files, data=form)
        return self.client.record(
            "upload",
            function_id,
            started,
            requestId=resp.headers.get("x-request-id"),
            httpStatus=resp.status_code,
            body=_body(resp),
        )

    def deploy(
        self,
        source: PackageSource,
        function_id: str | None = None,
        *,
        memory_mb: int | None = None,
        timeout_seconds: int | None = None,
    ) -> str:
        """Upload ``source`` and return the function id; :class:`DeployFailed` unless 201."""
        call = self.upload(
            source, function_id, memory_mb=memory_mb, timeout_seconds=timeout_seconds
        )
        if call.httpStatus != 201:
            raise DeployFailed(
                f"POST /upload of {call.functionId} answered {call.httpStatus}: "
                f"{json.dumps(call.body)}",
                call.httpStatus,
                call.body,
            )
        return str(call.body.get("functionId") or call.functionId)

    def run(self, function_id: str, input_data: Mapping[str, Any] | None = None) -> CallRecord:
        """``POST /run``, recorded; a client-side failure is in the record's ``error``."""
        payload = {"functionId": function_id, "inputData": dict(input_data or {})}
        started = time.time_ns()
        try:
            resp = self.client.http.post("/run", json=payload)
        except httpx.HTTPError as exc:
            return self.client.record(
                "run", function_id, started, error=f"{type(exc).__name__}: {exc}"
            )
        body = _body(resp)
        return self.client.record(
            "run",
            function_id,
            started,
            requestId=body.get("requestId") or resp.headers.get("x-request-id"),
            httpStatus=resp.status_code,
            body=body,
        )

    def fetch(self, request_id: str) -> CallRecord:
        """``GET /runs/{request_id}``, recorded."""
        started = time.time_ns()
        resp = self.client.http.get(f"/runs/{request_id}")
        body = _body(resp)
        function_id = body.get("functionId")
        return self.client.record(
            "fetch",
            str(function_id) if function_id else None,
            started,
            requestId=request_id,
            httpStatus=resp.status_code,
            body=body,
        )

    # --- evidence ----------------------------------------------------------------------

    def record(self) -> None:
        """Write the run's evidence, from its start up to now, to the run directory; after
        the test's end the record stays as it was then."""
        if self._closed or self._marks is None:
            return
        marks, ended = self._marks, time.time_ns()
        calls = read_json_lines(self.run_dir / RESULTS_FILE)
        wanted = sorted({str(c["requestId"]) for c in calls if c.get("requestId")})
        spans = window_spans(self.stack, wanted, ended)
        write_window(self.run_dir, self.stack, self.network, marks, ended, spans, set(wanted))
        ledger = FaultLedger(self.network.ledger.events[marks.ledger :])
        ledger.write_jsonl(self.run_dir / FAULTS_FILE)

    # --- the end -----------------------------------------------------------------------

    def close(self) -> None:
        """Record the window, lift the faults, delete the functions, close the client."""
        if self._closed:
            return
        with contextlib.ExitStack() as cleanup:  # each step runs, whichever fails
            cleanup.callback(self._close_client)
            cleanup.callback(self._delete_functions)
            cleanup.callback(self._lift_faults)
            try:
                self.record()  # before the faults are lifted: what followed is not the test's
            finally:
                self._closed = True

    def _lift_faults(self) -> None:
        self.faults.clear()
        if self.faults.touched("worker"):  # a worker that fought a fault may still be retrying
            stop_workers(self.stack, self.network, kill=True)  # its spans are written as they end

    def _delete_functions(self) -> None:
        """Delete each uploaded function's code and metadata, straight on the emulator."""
        if not self.functions:
            return
        kwargs = client_kwargs(self.stack.endpoints)
        with (
            contextlib.closing(boto3.client("s3", **kwargs)) as s3,
            contextlib.closing(boto3.client("dynamodb", **kwargs)) as table,
        ):
            for function_id in self.functions:
                self._delete_function(s3, table, function_id)

    def _delete_function(self, s3: S3Client, table: DynamoDBClient, function_id: str) -> None:
        settings = self.stack.settings
        prefix = defaults.code_key(function_id, 1).rpartition("/")[0] + "/"  # every version
        try:
            listed = s3.list_objects_v2(Bucket=settings.bucket, Prefix=prefix)
            for item in listed.get("Contents", []):
                s3.delete_object(Bucket=settings.bucket, Key=item["Key"])
            table.delete_item(TableName=settings.table, Key={"functionId": {"S": function_id}})
        except (BotoCoreError, ClientError) as exc:  # cleanup: log, go on with the rest
            logger.warning("could not delete function %s: %s", function_id, exc)

    def _close_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _slug(name: str) -> str:
    """A function id prefix from a test name: ``test_x[a b]`` -> ``test_x-a-b``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name)[:40].strip("-._") or "pytest"


def _body(resp: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object; other answers (a component under test's) as text."""
    try:
        value = resp.json()
    except ValueError:
        return {"text": resp.text[:2000]}
    return value if isinstance(value, dict) else {"json": value}
