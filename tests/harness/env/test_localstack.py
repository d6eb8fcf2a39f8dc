"""The localstack backend: a running LocalStack, found as localstack-client finds it, used
without being started, stopped or reset."""

from __future__ import annotations

import httpx
import pytest
import redis
from typer.testing import CliRunner

from harness import artifacts
from harness.cli import app
from harness.env.base import Backend
from harness.env.emulator import EmulatorKind, get_json
from harness.env.localstack import (
    HEALTH_PATH,
    LocalStackBackend,
    LocalStackUnavailable,
    endpoint_from_env,
    unready,
)
from harness.procs import free_port
from harness.stack import Stack, StackConfig

#: Environments as a developer or a CI job may set them.
ENVIRONMENTS = [
    {},
    {"LOCALSTACK_HOST": "ci-localstack"},
    {"LOCALSTACK_HOST": "127.0.0.1:4599"},
    {"LOCALSTACK_HOST": ":4600"},
    {"LOCALSTACK_HOST": "ls.internal:4566", "USE_SSL": "1"},
    {"LOCALSTACK_HOST": "ls.internal", "AWS_ENDPOINT_URL": "http://10.0.0.5:4566"},
    {"USE_SSL": "true"},
]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_finds_localstack_as_localstack_client_does(monkeypatch, env):
    from localstack_client.config import get_service_endpoint

    for name in ("LOCALSTACK_HOST", "AWS_ENDPOINT_URL", "USE_SSL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert endpoint_from_env(env) == get_service_endpoint("sqs")


def test_an_argument_wins_over_the_environment():
    env = {"AWS_ENDPOINT_URL": "http://from-env:4566", "LOCALSTACK_HOST": "other"}
    assert endpoint_from_env(env, "http://given:4566/") == "http://given:4566"


def test_a_malformed_localstack_host_is_named():
    with pytest.raises(LocalStackUnavailable, match="LOCALSTACK_HOST='ls:port'"):
        endpoint_from_env({"LOCALSTACK_HOST": "ls:port"})


def test_unready_names_each_service_not_served():
    health = {"services": {"s3": "running", "sqs": "available", "dynamodb": "error"}}
    assert unready(health) == ["dynamodb=error", "cloudwatch=absent"]


def test_nothing_listening_is_a_clear_error(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    backend = LocalStackBackend(url, tmp_path, startup_timeout=0.3)
    with pytest.raises(LocalStackUnavailable, match=rf"no LocalStack ready at {url}.*start one"):
        backend.start(tmp_path)


def test_moto_is_not_taken_for_localstack(backend, tmp_path):
    url = backend.endpoints.aws_endpoint_url
    with pytest.raises(LocalStackUnavailable, match="HTTPError"):
        LocalStackBackend(url, tmp_path, startup_timeout=0.3).start(tmp_path)


def test_up_looks_where_localstack_client_looks_and_says_what_is_missing(monkeypatch, tmp_path):
    looked_at = []

    def absent(url: str, timeout: float) -> dict[str, object]:
        looked_at.append(url)
        raise LocalStackUnavailable(f"no LocalStack ready at {url}")

    monkeypatch.setattr("harness.env.localstack.wait_healthy", absent)
    monkeypatch.setenv("LOCALSTACK_HOST", "ci-localstack:4599")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    args = ["up", "--backend", "localstack", "--run-dir", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert looked_at == ["http://ci-localstack:4599"]
    assert "no LocalStack ready at http://ci-localstack:4599" in result.output


@pytest.fixture
def theirs(localstack, tmp_path):
    """``localstack``'s LocalStack seen as someone else's: through LOCALSTACK_HOST."""
    host = str(localstack.endpoints.aws_endpoint_url).removeprefix("http://")
    return LocalStackBackend.from_env({"LOCALSTACK_HOST": host}, tmp_path / "backend")


@pytest.mark.docker
def test_the_platform_runs_on_a_running_localstack(localstack, theirs, tmp_path):
    config = StackConfig(workers=1, poll_wait=1)
    with theirs, Stack(theirs, tmp_path, config) as stack:
        assert isinstance(theirs, Backend)
        files = {"file": ("f.zip", artifacts.memo_function_zip(), "application/zip")}
        with httpx.Client(base_url=stack.controller_url, timeout=30) as http:
            assert http.post("/upload", files=files, data={"functionId": "ls"}).status_code == 201
            body = http.post("/run", json={"functionId": "ls"}).json()
        emulator = theirs.emulator()
    assert body["status"] == "SUCCESS"
    assert body["stdout"] == artifacts.MEMO_STDOUT
    assert (emulator.kind, emulator.version, emulator.image) == (
        EmulatorKind.localstack,
        "4.14.0",
        None,
    )
    assert [d.split(":")[0] for d in emulator.deviations] == ["dynamodb"]
    # LocalStack was used, not owned: still up, the resources still there.
    url = str(localstack.endpoints.aws_endpoint_url)
    assert unready(get_json(url, HEALTH_PATH)) == []


@pytest.mark.docker
def test_its_own_redis_restarts_and_localstack_is_never_reset(theirs):
    with theirs:
        url = theirs.endpoints.redis_url
        with redis.Redis.from_url(url) as client:
            client.set("kept?", "no")
        theirs.restart_redis()
        assert theirs.endpoints.redis_url == url
        with redis.Redis.from_url(url) as client:
            assert client.get("kept?") is None
        with pytest.raises(NotImplementedError, match="does not own"):
            theirs.reset_aws()
    client = redis.Redis.from_url(url, socket_connect_timeout=1, retry=None)
    with client, pytest.raises(redis.ConnectionError):  # its Redis stopped with it
        client.ping()
