"""One function (``--function ID``): its metadata item in DynamoDB and its code in S3.

The item is read as the controller reads it (:class:`nanogrid.registry.FunctionMeta`); the
code is downloaded (up to the upload size limit) and validated as an upload is
(:func:`nanogrid.archive.validate`): a real zip, ``main.py`` at its root, an empty archive
named as such, with the memo's warning for a zip under 100 bytes. Only GetItem, HeadObject
and GetObject are called.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from harness.doctor.aws import BUCKET, TABLE, aws_errors
from harness.doctor.check import Check
from harness.doctor.errors import CheckFailed
from harness.doctor.result import Finding, failed, passed, skipped
from nanogrid import archive
from nanogrid.errors import FunctionNotFound, InvalidPackage
from nanogrid.registry import FunctionMeta

if TYPE_CHECKING:
    from harness.doctor.context import Context

#: The memo's threshold: a function zip under this size is "possibly an empty ZIP".
TINY_ZIP_BYTES = 100
RUNTIMES = ("python",)
_REPACK = (
    "build the zip again with main.py at its root (`zip function.zip main.py`; "
    "`unzip -l function.zip` must list main.py) and upload it with POST /upload, which "
    "validates it before storing it"
)
_WHAT = {
    "EMPTY_BODY": "an empty object (0 bytes)",
    "EMPTY_ARCHIVE": "an empty archive",
    "NOT_A_ZIP": "not a zip",
    "TRUNCATED_ARCHIVE": "a truncated zip",
    "CORRUPT_ARCHIVE": "a damaged zip",
    "MISSING_MAIN": "a zip without main.py at its root",
}


def item(ctx: Context) -> Finding:
    """The item exists, has an s3Key, readable fields and a runtime NanoGrid runs."""
    function_id, table = ctx.config.function_id, ctx.settings.table
    if not function_id:
        return skipped("no function to check", "pass --function ID")
    with aws_errors(ctx, "dynamodb", ctx.dynamodb):
        found = ctx.dynamodb.get_item(
            TableName=table, Key={"functionId": {"S": function_id}}, ConsistentRead=True
        )
    if "Item" not in found:
        return failed(
            f"dynamodb: no item functionId={function_id!r} in table {table}",
            "upload the function with POST /upload (multipart field `file`, form field "
            "`functionId`), or check the functionId",
        )
    meta = _meta(function_id, dict(found["Item"]))
    if meta.runtime not in RUNTIMES:
        return failed(
            f"dynamodb: item {function_id!r} has runtime {meta.runtime!r}; NanoGrid runs "
            f"{', '.join(RUNTIMES)} only",
            'set its runtime to "python"',
            **meta.to_dict(),
        )
    ctx.function = meta
    uploaded = meta.version is not None and meta.sha256 is not None
    how = (
        f"version {meta.version}, {meta.sizeBytes} bytes"
        if uploaded
        else "registered by hand (no version, size or checksum to compare)"
    )
    return passed(
        f"{function_id}: s3Key {meta.s3Key}, runtime {meta.runtime}, {meta.memoryMB} MB, "
        f"{meta.timeoutSeconds} s, {how}",
        **meta.to_dict(),
    )


def code(ctx: Context) -> Finding:
    """The object exists, is what the item says, and is a runnable function zip."""
    meta = ctx.function
    assert meta is not None, "runs only after the item check passed"
    bucket, limits = ctx.settings.bucket, ctx.settings.limits
    where = f"s3://{bucket}/{meta.s3Key}"
    missing = (
        f"s3: no object {where}: the item points at code that is not there",
        "upload the function again (POST /upload); code registered by hand must be copied to "
        "exactly the item's s3Key",
    )
    with aws_errors(ctx, "s3", ctx.s3, {"404": missing, "NoSuchKey": missing}):
        size = ctx.s3.head_object(Bucket=bucket, Key=meta.s3Key)["ContentLength"]
        if size > limits.max_zip_bytes:
            raise CheckFailed(
                f"{where} is {size} bytes, over the {limits.max_zip_bytes}-byte upload limit",
                "keep the package under the limit: leave test data and unused dependencies out",
            )
        data = ctx.s3.get_object(Bucket=bucket, Key=meta.s3Key)["Body"].read()
    facts = {"object": where, "sizeBytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    try:
        info = archive.validate(data, limits)
    except InvalidPackage as exc:
        what = _WHAT.get(exc.reason, exc.reason.lower().replace("_", " "))
        return failed(
            f"{where}: {len(data)} bytes, {what} ({exc.reason}){_tiny(len(data))}: {exc}",
            _REPACK,
            reason=exc.reason,
            **facts,
        )
    if mismatch := _mismatch(meta, facts):
        return failed(
            f"{where}: {mismatch}: the object changed after upload, or the item points at "
            "another version",
            "upload the function again (POST /upload) so that the item and the object agree",
            **facts,
        )
    return passed(
        f"{where}: {len(data)} bytes, a valid zip with main.py at its root ({info.entries} "
        f"file(s), {info.unzipped_bytes} bytes unpacked)",
        entries=info.entries,
        names=list(info.names),
        **facts,
    )


def _meta(function_id: str, raw: dict[str, Any]) -> FunctionMeta:
    try:
        return FunctionMeta.from_item(raw)
    except FunctionNotFound as exc:
        raise CheckFailed(f"dynamodb: item {function_id!r} has no s3Key", str(exc)) from exc
    except (ValueError, TypeError, StopIteration) as exc:
        raise CheckFailed(
            f"dynamodb: item {function_id!r} has a malformed field ({exc})",
            "register it with string fields functionId, s3Key, runtime and number fields "
            "memoryMB, timeoutSeconds (or upload it with POST /upload)",
        ) from exc


def _tiny(size: int) -> str:
    if size >= TINY_ZIP_BYTES:
        return ""
    return f"; under {TINY_ZIP_BYTES} bytes, the memo's sign of an empty ZIP (normal is 200+)"


def _mismatch(meta: FunctionMeta, facts: dict[str, object]) -> str | None:
    if meta.sizeBytes is not None and meta.sizeBytes != facts["sizeBytes"]:
        return f"{facts['sizeBytes']} bytes where the item says {meta.sizeBytes}"
    if meta.sha256 is not None and meta.sha256 != facts["sha256"]:
        return f"sha256 {str(facts['sha256'])[:12]}... where the item says {meta.sha256[:12]}..."
    return None


ITEM = Check("function.item", item, needs=(TABLE.name,))
CODE = Check("function.code", code, needs=(ITEM.name, BUCKET.name))
