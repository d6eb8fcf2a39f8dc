"""Fixtures shared by the worker tests: boto3 clients against the session backend."""

from __future__ import annotations

import boto3
import pytest

from harness.provision import client_kwargs
from nanogrid.aws import AwsClients


@pytest.fixture(scope="session")
def aws_clients(backend) -> AwsClients:
    """The four AWS clients, with the emulator's dummy credentials."""
    kwargs = client_kwargs(backend.endpoints)
    return AwsClients(
        s3=boto3.client("s3", **kwargs),
        sqs=boto3.client("sqs", **kwargs),
        dynamodb=boto3.client("dynamodb", **kwargs),
        cloudwatch=boto3.client("cloudwatch", **kwargs),
    )
