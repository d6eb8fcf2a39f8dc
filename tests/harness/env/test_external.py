"""The external backend: the platform on endpoints the harness does not own."""

from __future__ import annotations

import httpx
import pytest
from typer.testing import CliRunner

from harness import artifacts
from harness.cli import app
from harness.env.base import Backend, Endpoints
from harness.env.external import ExternalBackend, ExternalUnavailable
from harness.procs import free_port
from harness.stack import Stack, StackConfig


def test_it_is_a_backend_and_owns_nothing(backend):
    external = ExternalBackend(backend.endpoints)
    assert isinstance(external, Backend)
    with external as started:
        assert started.endpoints == backend.endpoints
    with pytest.raises(NotImplementedError, match="embedded or containers"):
        external.restart_redis()


def test_a_redis_that_does_not_answer_is_named(tmp_path):
    dead = Endpoints(f"redis://127.0.0.1:{free_port()}/0", None, "ap-northeast-2")
    with pytest.raises(ExternalUnavailable, match="does not answer"):
        ExternalBackend(dead, connect_timeout=0.5).start(tmp_path)


def test_the_platform_runs_on_external_endpoints(backend, tmp_path):
    """The session's embedded services stand in for 'someone else's' Redis and AWS."""
    config = StackConfig(workers=1, poll_wait=1)
    with Stack(ExternalBackend(backend.endpoints), tmp_path, config) as stack:
        files = {"file": ("f.zip", artifacts.memo_function_zip(), "application/zip")}
        with httpx.Client(base_url=stack.controller_url, timeout=30) as http:
            assert http.post("/upload", files=files, data={"functionId": "ext"}).status_code == 201
            body = http.post("/run", json={"functionId": "ext"}).json()
    assert body["status"] == "SUCCESS"
    assert body["stdout"] == artifacts.MEMO_STDOUT
    assert backend.redis_process is not None
    assert backend.redis_process.alive  # stopping the stack left the external Redis alone


def test_up_external_without_a_redis_url_says_what_is_missing(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    result = CliRunner().invoke(app, ["up", "--backend", "external"])
    assert result.exit_code == 2
    assert "--redis-url" in result.output
