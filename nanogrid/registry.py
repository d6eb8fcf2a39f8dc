"""The function registry: code in S3 (``functions/{id}/v{N}.zip``), metadata in DynamoDB.

An upload is validated completely before anything is written; the S3 object is written
first with ``If-None-Match: *`` (so two concurrent uploads never share a version), then the
metadata item; when the metadata write fails the object is deleted again, so a failed
upload leaves neither an orphan object nor orphan metadata.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from nanogrid import defaults
from nanogrid.archive import PackageInfo
from nanogrid.aws import AwsClients
from nanogrid.errors import DependencyError, FunctionNotFound

log = logging.getLogger(__name__)

AWS_ERRORS = (BotoCoreError, ClientError)
_MAX_VERSION_RACES = 5


@dataclass(frozen=True)
class FunctionMeta:
    """A function's metadata item. Items registered by hand may hold only the first three."""

    functionId: str
    s3Key: str
    runtime: str = "python"
    version: int | None = None
    sizeBytes: int | None = None
    sha256: str | None = None
    memoryMB: int = defaults.MEMORY_MB
    timeoutSeconds: int = defaults.TIMEOUT_SECONDS
    createdAt: str | None = None
    originalName: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {}
        for key, value in self.to_dict().items():
            item[key] = {"N": str(value)} if isinstance(value, int) else {"S": str(value)}
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> FunctionMeta:
        plain = {k: next(iter(v.values())) for k, v in item.items()}
        known = set(cls.__dataclass_fields__)
        values: dict[str, Any] = {k: v for k, v in plain.items() if k in known}
        for name in ("version", "sizeBytes", "memoryMB", "timeoutSeconds"):
            if name in values:
                values[name] = int(values[name])
        if not values.get("s3Key"):
            raise FunctionNotFound(
                f"function {plain.get('functionId')!r} has no s3Key: register it with its code "
                "location, e.g. functions/{functionId}/v1.zip"
            )
        return cls(**values)


@dataclass(frozen=True)
class UploadRequest:
    """What a client asked for at ``/upload``."""

    function_id: str | None
    runtime: str
    memory_mb: int
    timeout_seconds: int
    original_name: str


class FunctionRegistry:
    """Stores function code and metadata; looks functions up for ``/run``."""

    def __init__(self, clients: AwsClients, bucket: str, table: str) -> None:
        self.clients = clients
        self.bucket = bucket
        self.table = table

    def lookup(self, function_id: str) -> FunctionMeta:
        try:
            resp = self.clients.dynamodb.get_item(
                TableName=self.table, Key={"functionId": {"S": function_id}}, ConsistentRead=True
            )
        except AWS_ERRORS as exc:
            raise DependencyError("dynamodb", str(exc)) from exc
        if "Item" not in resp:
            raise FunctionNotFound(
                f"no function {function_id!r}: upload it first with POST /upload "
                "(multipart field 'file'), or check the functionId"
            )
        return FunctionMeta.from_item(resp["Item"])

    def register(self, data: bytes, package: PackageInfo, req: UploadRequest) -> FunctionMeta:
        """Store validated code as the function's next version, then its metadata."""
        function_id = req.function_id or str(uuid.uuid4())
        version = self._latest_version(function_id)
        for _ in range(_MAX_VERSION_RACES):
            version += 1
            meta = FunctionMeta(
                functionId=function_id,
                s3Key=defaults.code_key(function_id, version),
                runtime=req.runtime,
                version=version,
                sizeBytes=package.size_bytes,
                sha256=package.sha256,
                memoryMB=req.memory_mb,
                timeoutSeconds=req.timeout_seconds,
                createdAt=datetime.now(UTC).isoformat(timespec="milliseconds"),
                originalName=req.original_name,
            )
            if self._put_code(meta.s3Key, data, package.sha256):
                self._put_meta(meta)
                return meta
        raise DependencyError("s3", f"could not reserve a new version of {function_id!r}")

    def _latest_version(self, function_id: str) -> int:
        try:
            return self.lookup(function_id).version or 0
        except FunctionNotFound:
            return 0

    def _put_code(self, key: str, data: bytes, sha256: str) -> bool:
        """Write the object unless the key exists (a concurrent upload took this version)."""
        try:
            self.clients.s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType="application/zip",
                IfNoneMatch="*",
                Metadata={"sha256": sha256},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
                return False
            raise DependencyError("s3", str(exc)) from exc
        except BotoCoreError as exc:
            raise DependencyError("s3", str(exc)) from exc
        return True

    def _put_meta(self, meta: FunctionMeta) -> None:
        try:
            # A concurrent upload may have registered a newer version meanwhile: keep it.
            self.clients.dynamodb.put_item(
                TableName=self.table,
                Item=meta.to_item(),
                ConditionExpression="attribute_not_exists(version) OR version < :v",
                ExpressionAttributeValues={":v": {"N": str(meta.version)}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                log.info("a newer version of %s was registered concurrently", meta.functionId)
                return
            log.error("metadata write failed, deleting s3://%s/%s", self.bucket, meta.s3Key)
            self._delete_code(meta.s3Key)
            raise DependencyError("dynamodb", str(exc)) from exc
        except BotoCoreError as exc:
            log.error("metadata write failed, deleting s3://%s/%s", self.bucket, meta.s3Key)
            self._delete_code(meta.s3Key)
            raise DependencyError("dynamodb", str(exc)) from exc

    def _delete_code(self, key: str) -> None:
        try:
            self.clients.s3.delete_object(Bucket=self.bucket, Key=key)
        except AWS_ERRORS:
            log.exception("could not delete s3://%s/%s after a failed upload", self.bucket, key)
