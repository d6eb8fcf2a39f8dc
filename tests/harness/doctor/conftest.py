"""Fixtures for the doctor: an embedded backend and a healthy stack of this package's own,
a fault proxy factory, and a runner of ``nanogrid-harness doctor`` that returns its JSON."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from typer.testing import CliRunner

from harness import artifacts
from harness.cli import app
from harness.env.embedded import EmbeddedBackend
from harness.faults import FaultProxy
from harness.provision import client_kwargs
from harness.stack import Stack, StackConfig

#: The function the healthy stack holds, uploaded through the controller's /upload.
GOOD_FUNCTION = "doctor-ok"
DOCTOR_STACK = StackConfig(workers=1, run_deadline=6.0, visibility_timeout=4, poll_wait=2)
#: Short enough to keep failing checks quick, long enough for a loaded machine's loopback.
FAST = ["--connect-timeout", "0.5", "--read-timeout", "2"]


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No variable of the shell reaches a check: each test gives the doctor its settings."""
    for var in list(os.environ):
        if var.startswith(("AWS_", "NANOGRID_", "REDIS_")) or var == "CONTROLLER_URL":
            monkeypatch.delenv(var)


@pytest.fixture(scope="package")
def doctor_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBackend]:
    """Redis + moto for this package alone: no other test's DLQ message or worker shows."""
    with EmbeddedBackend(tmp_path_factory.mktemp("doctor-backend")) as backend:
        yield backend


@pytest.fixture(scope="package")
def healthy_stack(
    doctor_backend: EmbeddedBackend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """A controller and one live worker, with :data:`GOOD_FUNCTION` uploaded."""
    with Stack(doctor_backend, tmp_path_factory.mktemp("doctor-stack"), DOCTOR_STACK) as stack:
        files = {"file": ("function.zip", artifacts.memo_function_zip(), "application/zip")}
        resp = httpx.post(
            f"{stack.controller_url}/upload",
            files=files,
            data={"functionId": GOOD_FUNCTION},
            timeout=30,
        )
        assert resp.status_code == 201, resp.text
        yield stack


@pytest.fixture
def aws(doctor_backend: EmbeddedBackend) -> Callable[[str], Any]:
    """boto3 clients against the package's emulator: ``aws("s3")``."""
    kwargs = client_kwargs(doctor_backend.endpoints)

    def make(service: Any) -> Any:  # Any: boto3's overloads want a literal service name
        return boto3.client(service, **kwargs)

    return make


@pytest.fixture
def make_proxy() -> Iterator[Callable[[str], FaultProxy]]:
    """Factory: ``make_proxy(redis_url)`` starts a proxy in front of it, stopped at teardown."""
    proxies: list[FaultProxy] = []

    def make(redis_url: str) -> FaultProxy:
        port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
        proxy = FaultProxy("doctor->redis", "127.0.0.1", port)
        proxies.append(proxy)
        return proxy.start()

    yield make
    for proxy in proxies:
        proxy.stop()


@dataclass(frozen=True)
class DoctorRun:
    """What one ``nanogrid-harness doctor`` run printed, returned and wrote as JSON."""

    exit_code: int
    output: str
    report: dict[str, Any]

    def check(self, name: str) -> dict[str, Any]:
        [found] = [c for c in self.report["checks"] if c["name"] == name]
        return dict(found)

    @property
    def statuses(self) -> dict[str, str]:
        return {c["name"]: c["status"] for c in self.report["checks"]}

    def failing(self) -> dict[str, str]:
        """The checks that did not pass, with their status."""
        return {n: s for n, s in self.statuses.items() if s != "pass"}


@pytest.fixture
def doctor(tmp_path: Path) -> Callable[..., DoctorRun]:
    """``doctor(env, *options)``: run the CLI on ``env`` written as an ``--env`` file."""
    runs = count(1)

    def run(env: Mapping[str, str], *options: str) -> DoctorRun:
        n = next(runs)
        env_file, out = tmp_path / f"doctor-{n}.env", tmp_path / f"doctor-{n}.json"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        args = ["doctor", "--env", str(env_file), "--json", str(out), *FAST, *options]
        result = CliRunner().invoke(app, args)
        assert out.exists(), result.output
        return DoctorRun(result.exit_code, result.output, json.loads(out.read_text()))

    return run
