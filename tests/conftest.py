from __future__ import annotations

import boto3
import httpx
import pytest

from harness.env.embedded import EmbeddedBackend
from harness.stack import Stack, StackConfig


@pytest.fixture(scope="session")
def backend(tmp_path_factory):
    """A started embedded backend (real Redis + moto server) shared by the whole session."""
    with EmbeddedBackend(tmp_path_factory.mktemp("embedded")) as started:
        yield started


#: Scaled-down timings: a controller deadline of a few seconds keeps failing tests fast.
TEST_STACK = StackConfig(workers=2, run_deadline=6.0, visibility_timeout=4, poll_wait=2)


@pytest.fixture(scope="session")
def stack(backend, tmp_path_factory):
    """Controller + two workers on the session backend."""
    with Stack(backend, tmp_path_factory.mktemp("stack"), TEST_STACK) as running:
        yield running


@pytest.fixture
def client(stack):
    with httpx.Client(base_url=stack.controller_url, timeout=60) as http:
        yield http


@pytest.fixture
def aws(backend):
    """boto3 clients against the emulator: ``aws("s3")``."""
    ep = backend.endpoints

    def make(service: str):
        return boto3.client(
            service,
            endpoint_url=ep.aws_endpoint_url,
            region_name=ep.region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    return make


@pytest.fixture(scope="session", autouse=True)
def no_docker_leftovers():
    """After the whole suite: no container, network or volume of the project remains."""
    yield
    from tests.docker_support import docker_problem, project_leftovers

    if docker_problem() is None and (left := project_leftovers()):
        pytest.fail(f"Docker objects left behind by the suite: {left}")
