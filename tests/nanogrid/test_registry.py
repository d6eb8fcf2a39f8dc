"""The function registry against moto: versions, concurrent uploads, cleanup on failure."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from harness import artifacts
from harness.provision import client_kwargs, create_bucket, create_table
from nanogrid import archive
from nanogrid.aws import AwsClients
from nanogrid.errors import DependencyError, FunctionNotFound
from nanogrid.registry import FunctionMeta, FunctionRegistry, UploadRequest
from nanogrid.settings import Limits


@pytest.fixture(scope="module")
def clients(backend) -> AwsClients:
    kwargs = client_kwargs(backend.endpoints)
    return AwsClients(
        s3=boto3.client("s3", **kwargs),
        sqs=boto3.client("sqs", **kwargs),
        dynamodb=boto3.client("dynamodb", **kwargs),
        cloudwatch=boto3.client("cloudwatch", **kwargs),
    )


@pytest.fixture(scope="module")
def resources(backend, clients) -> tuple[str, str]:
    """A bucket and a table of this module's own."""
    suffix = uuid.uuid4().hex[:8]
    bucket, table = f"registry-{suffix}", f"registry-{suffix}"
    create_bucket(clients.s3, bucket, backend.endpoints.region)
    create_table(clients.dynamodb, table)
    return bucket, table


@pytest.fixture
def registry(clients, resources) -> FunctionRegistry:
    bucket, table = resources
    return FunctionRegistry(clients, bucket, table)


@pytest.fixture
def function_id() -> str:
    return f"fn-{uuid.uuid4().hex[:12]}"


def upload(registry: FunctionRegistry, function_id: str | None, source: str, **changes):
    data = artifacts.function_zip(source)
    info = archive.validate(data, Limits())
    req = UploadRequest(
        function_id=function_id,
        runtime="python",
        memory_mb=changes.get("memory_mb", 256),
        timeout_seconds=10,
        original_name=changes.get("original_name", "function.zip"),
    )
    return registry.register(data, info, req), data


def object_keys(clients: AwsClients, bucket: str, function_id: str) -> list[str]:
    listed = clients.s3.list_objects_v2(Bucket=bucket, Prefix=f"functions/{function_id}/")
    return sorted(obj["Key"] for obj in listed.get("Contents", []))


def test_versions_increase_and_lookup_returns_the_latest(registry, function_id):
    first, _ = upload(registry, function_id, "print(1)\n")
    second, data = upload(registry, function_id, "print(2)\n", memory_mb=512)
    assert (first.version, second.version) == (1, 2)
    assert first.s3Key == f"functions/{function_id}/v1.zip"
    assert second.s3Key == f"functions/{function_id}/v2.zip"
    found = registry.lookup(function_id)
    assert found == second
    assert (found.memoryMB, found.sha256, found.sizeBytes) == (512, second.sha256, len(data))


def test_register_stores_the_code_with_its_checksum(registry, clients, resources, function_id):
    meta, data = upload(registry, function_id, artifacts.MEMO_SOURCE)
    obj = clients.s3.get_object(Bucket=resources[0], Key=meta.s3Key)
    assert obj["Body"].read() == data
    assert obj["Metadata"]["sha256"] == meta.sha256


def test_register_without_function_id_creates_one(registry):
    meta, _ = upload(registry, None, "print(1)\n")
    assert uuid.UUID(meta.functionId)
    assert meta.version == 1


def test_concurrent_uploads_of_one_function_get_distinct_versions(
    registry, clients, resources, function_id
):
    start = threading.Barrier(4)

    def register(index: int):
        start.wait(timeout=10)
        return upload(registry, function_id, f"print({index})\n")

    with ThreadPoolExecutor(4) as pool:
        uploads = list(pool.map(register, range(4)))
    versions = sorted(meta.version for meta, _ in uploads)
    assert versions == [1, 2, 3, 4]
    bucket = resources[0]
    assert object_keys(clients, bucket, function_id) == sorted(m.s3Key for m, _ in uploads)
    for meta, data in uploads:  # no upload's object was overwritten by another
        assert clients.s3.get_object(Bucket=bucket, Key=meta.s3Key)["Body"].read() == data
    assert registry.lookup(function_id).version == 4


def test_from_item_of_a_hand_registered_item():
    item = {
        "functionId": {"S": "hand"},
        "s3Key": {"S": "functions/hand/v1.zip"},
        "runtime": {"S": "python"},
    }
    meta = FunctionMeta.from_item(item)
    assert meta == FunctionMeta(functionId="hand", s3Key="functions/hand/v1.zip")
    assert (meta.memoryMB, meta.timeoutSeconds, meta.version) == (256, 10, None)
    assert meta.to_dict() == {
        "functionId": "hand",
        "s3Key": "functions/hand/v1.zip",
        "runtime": "python",
        "memoryMB": 256,
        "timeoutSeconds": 10,
    }


def test_item_round_trip_converts_numbers(registry, function_id):
    meta, _ = upload(registry, function_id, "print(1)\n")
    item = meta.to_item()
    assert item["version"] == {"N": "1"}
    assert item["s3Key"] == {"S": meta.s3Key}
    assert FunctionMeta.from_item({**item, "unknown": {"S": "x"}}) == meta


def test_lookup_of_a_hand_registered_item(registry, clients, resources, function_id):
    clients.dynamodb.put_item(
        TableName=resources[1],
        Item={
            "functionId": {"S": function_id},
            "s3Key": {"S": f"functions/{function_id}/v1.zip"},
            "runtime": {"S": "python"},
        },
    )
    meta = registry.lookup(function_id)
    assert meta.s3Key == f"functions/{function_id}/v1.zip"
    assert meta.version is None


@pytest.mark.parametrize("s3_key", [None, ""])
def test_item_without_s3_key_names_the_fix(s3_key):
    item = {"functionId": {"S": "hand"}, "runtime": {"S": "python"}}
    if s3_key is not None:
        item["s3Key"] = {"S": s3_key}
    with pytest.raises(FunctionNotFound, match=r"'hand' has no s3Key.*functions/"):
        FunctionMeta.from_item(item)


def test_lookup_of_an_unknown_function(registry, function_id):
    with pytest.raises(FunctionNotFound, match="POST /upload"):
        registry.lookup(function_id)


def test_missing_table_is_a_dependency_error_and_writes_no_code(clients, resources, function_id):
    bucket = resources[0]
    registry = FunctionRegistry(clients, bucket, f"no-such-table-{uuid.uuid4().hex[:8]}")
    with pytest.raises(DependencyError) as info:
        upload(registry, function_id, "print(1)\n")
    assert info.value.dependency == "dynamodb"
    assert object_keys(clients, bucket, function_id) == []


def test_failed_metadata_write_deletes_the_code_object(registry, clients, resources, function_id):
    # an item over DynamoDB's 400 KB limit: the lookup succeeds, the put is refused
    with pytest.raises(DependencyError) as info:
        upload(registry, function_id, "print(1)\n", original_name="x" * 500_000)
    assert info.value.dependency == "dynamodb"
    assert object_keys(clients, resources[0], function_id) == []
    with pytest.raises(FunctionNotFound):
        registry.lookup(function_id)


def test_missing_bucket_is_a_dependency_error(clients, resources, function_id):
    registry = FunctionRegistry(clients, f"no-such-bucket-{uuid.uuid4().hex[:8]}", resources[1])
    with pytest.raises(DependencyError) as info:
        upload(registry, function_id, "print(1)\n")
    assert info.value.dependency == "s3"
    with pytest.raises(FunctionNotFound):
        registry.lookup(function_id)
