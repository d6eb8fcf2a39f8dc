"""docker-compose.yml is a valid Compose file for the whole product (``compose config``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.docker_support import require_tool

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
SERVICES = {"redis", "localstack", "provision", "controller", "worker", "jaeger"}


def compose_command() -> list[str]:
    """``docker compose`` (the plugin) when it answers, else ``docker-compose``."""
    docker = shutil.which("docker")
    if docker is not None:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, check=False, timeout=30
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    if legacy is None:
        require_tool("docker compose or docker-compose")
    return [str(legacy)]


@pytest.fixture(scope="module")
def config() -> dict:
    """The configuration as Compose resolved and validated it."""
    command = [*compose_command(), "-f", str(COMPOSE_FILE), "config"]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_compose_file_defines_the_whole_product(config: dict) -> None:
    assert set(config["services"]) == SERVICES


def test_every_published_port_is_on_loopback(config: dict) -> None:
    published = [
        (name, port)
        for name, service in config["services"].items()
        for port in service.get("ports", [])
    ]
    assert published
    for name, port in published:
        host_ip = port.get("host_ip") if isinstance(port, dict) else port.split(":")[0]
        assert host_ip == "127.0.0.1", (name, port)


def test_dependencies_have_healthchecks(config: dict) -> None:
    services = config["services"]
    for name in ("redis", "localstack", "controller"):
        assert "healthcheck" in services[name], name
    assert services["controller"]["depends_on"]["redis"]["condition"] == "service_healthy"
