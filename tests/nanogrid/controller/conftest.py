"""An in-process controller on the session backend, shared by a whole test module.

Property-based and fuzz tests run many examples against one app: a module-scoped client
keeps hypothesis's function-scoped-fixture check quiet and the examples fast.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
from fastapi.testclient import TestClient

from harness.provision import client_kwargs, create_queue, provision
from nanogrid.controller.app import create_app
from nanogrid.controller.middleware import RequestIdMiddleware
from nanogrid.settings import Settings


@dataclass(frozen=True)
class Controller:
    """A running in-process controller, its settings and boto3 clients on its backend."""

    client: TestClient
    settings: Settings
    s3: object
    dynamodb: object


@pytest.fixture(scope="module")
def controller(backend) -> Iterator[Controller]:
    """The controller on a queue of its own (no workers), with a 0.5 s ``/run`` deadline."""
    ep = backend.endpoints
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "test")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "test")
        base = Settings(aws_endpoint_url=ep.aws_endpoint_url, region=ep.region)
        provision(ep, base)
        sqs = boto3.client("sqs", **client_kwargs(ep))
        queue_url = create_queue(sqs, f"module-{uuid.uuid4().hex[:8]}", {})
        settings = Settings(
            aws_endpoint_url=ep.aws_endpoint_url,
            region=ep.region,
            redis_url=ep.redis_url,
            queue_url=queue_url,
            run_deadline=0.5,
        )
        app = create_app(settings, min_workers=0)
        try:
            with TestClient(RequestIdMiddleware(app)) as client:
                yield Controller(
                    client,
                    settings,
                    boto3.client("s3", **client_kwargs(ep)),
                    boto3.client("dynamodb", **client_kwargs(ep)),
                )
        finally:
            sqs.delete_queue(QueueUrl=queue_url)
