"""The code bucket, the metadata table and CloudWatch, each reached at its own endpoint.

:func:`aws_errors` turns botocore's errors into :class:`CheckFailed`: a ClientError by its
code (the caller names the codes it expects), a missing credential, or a network failure
classified by :mod:`harness.doctor.net`. Every call is read-only (HeadBucket, DescribeTable,
ListMetrics).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    PartialCredentialsError,
)

from harness.doctor.check import Check
from harness.doctor.errors import CheckFailed
from harness.doctor.net import explain
from harness.doctor.result import Finding, failed, passed
from nanogrid import defaults

if TYPE_CHECKING:
    from botocore.client import BaseClient

    from harness.doctor.context import Context

#: Error codes meaning the credentials were refused, across the four services.
_DENIED = frozenset(
    {
        "403",
        "AccessDenied",
        "AccessDeniedException",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
        "ExpiredToken",
    }
)
_CREDENTIALS_FIX = (
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any values for an emulator) or AWS_PROFILE"
)


@contextlib.contextmanager
def aws_errors(
    ctx: Context,
    service: str,
    client: BaseClient,
    known: Mapping[str, tuple[str, str]] | None = None,
) -> Iterator[None]:
    """Translate botocore errors; ``known`` maps an error code to its ``(detail, fix)``."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code", "")), str(error.get("Message", ""))
        if known and code in known:
            raise CheckFailed(*known[code], {"code": code}) from exc
        if code in _DENIED:
            detail = f"{service}: access denied ({code}: {message or 'no message'})"
            fix = f"give these credentials read access to {service}, or {_CREDENTIALS_FIX}"
            raise CheckFailed(detail, fix, {"code": code}) from exc
        fix = f"see the {service} error code {code} in the AWS documentation"
        raise CheckFailed(f"{service}: {code}: {message}", fix, {"code": code}) from exc
    except (NoCredentialsError, PartialCredentialsError) as exc:
        raise CheckFailed(f"{service}: no AWS credentials ({exc})", _CREDENTIALS_FIX) from exc
    except BotoCoreError as exc:
        where = ctx.aws_where(service, client.meta.endpoint_url)
        config = ctx.config
        raise CheckFailed(
            *explain(exc, where, config.connect_timeout, config.read_timeout)
        ) from exc


def bucket(ctx: Context) -> Finding:
    """The code bucket exists and these credentials may read it (HeadBucket)."""
    name, endpoint = ctx.settings.bucket, ctx.s3.meta.endpoint_url
    missing = (
        f"s3: no bucket {name!r} at {endpoint}",
        f"create it (`{ctx.aws_cli('s3')} mb s3://{name}`), or set NANOGRID_BUCKET to the "
        "bucket the controller uses",
    )
    with aws_errors(ctx, "s3", ctx.s3, {"404": missing, "NoSuchBucket": missing}):
        ctx.s3.head_bucket(Bucket=name)
    return passed(f"bucket {name} at {endpoint}", bucket=name, endpoint=endpoint)


def table(ctx: Context) -> Finding:
    """The metadata table exists, is ACTIVE and is keyed by ``functionId``."""
    name, endpoint = ctx.settings.table, ctx.dynamodb.meta.endpoint_url
    missing = (
        f"dynamodb: no table {name!r} at {endpoint}",
        "create it with the hash key functionId (string), or set NANOGRID_TABLE to the table "
        "the controller uses",
    )
    with aws_errors(ctx, "dynamodb", ctx.dynamodb, {"ResourceNotFoundException": missing}):
        found = ctx.dynamodb.describe_table(TableName=name)["Table"]
    status = found.get("TableStatus", "?")
    keys = [(k["AttributeName"], k["KeyType"]) for k in found.get("KeySchema", [])]
    data = {"table": name, "endpoint": endpoint, "tableStatus": status, "keySchema": keys}
    if keys != [("functionId", "HASH")]:
        shown = ", ".join(f"{a} {t}" for a, t in keys) or "none"
        return failed(
            f"dynamodb: table {name} is keyed by {shown}, not by functionId alone",
            "the controller reads items by functionId: point NANOGRID_TABLE at NanoGrid's table",
            **data,
        )
    if status != "ACTIVE":
        return failed(
            f"dynamodb: table {name} is {status}, not ACTIVE",
            "wait until it is ACTIVE (`aws dynamodb wait table-exists`), or recreate it",
            **data,
        )
    return passed(f"table {name} at {endpoint}: ACTIVE, keyed by functionId", **data)


def metrics(ctx: Context) -> Finding:
    """CloudWatch answers (ListMetrics in the workers' namespace)."""
    namespace, endpoint = defaults.METRICS_NAMESPACE, ctx.cloudwatch.meta.endpoint_url
    with aws_errors(ctx, "cloudwatch", ctx.cloudwatch):
        found = ctx.cloudwatch.list_metrics(Namespace=namespace).get("Metrics", [])
    names = sorted({m.get("MetricName", "?") for m in found})
    detail = (
        f"{len(names)} metric name(s) in {namespace}" if names else f"no {namespace} metric yet"
    )
    return passed(f"cloudwatch at {endpoint}: {detail}", endpoint=endpoint, metrics=names)


BUCKET = Check("s3.bucket", bucket)
TABLE = Check("dynamodb.table", table)
METRICS = Check("cloudwatch.metrics", metrics)
