"""``--function``: the item and the code, including the memo's empty zip put straight in S3."""

from __future__ import annotations

import pytest

from harness import artifacts
from nanogrid import defaults
from tests.harness.doctor.conftest import GOOD_FUNCTION


def register_by_hand(healthy_stack, aws, function_id: str, data: bytes) -> None:
    """The memo's way: the object into S3, then the item {functionId, s3Key, runtime}."""
    settings = healthy_stack.settings
    key = defaults.code_key(function_id, 1)
    aws("s3").put_object(Bucket=settings.bucket, Key=key, Body=data)
    item = {"functionId": {"S": function_id}, "s3Key": {"S": key}, "runtime": {"S": "python"}}
    aws("dynamodb").put_item(TableName=settings.table, Item=item)


def test_an_empty_zip_in_s3_fails_the_code_check(healthy_stack, aws, doctor):
    register_by_hand(healthy_stack, aws, "doctor-empty", artifacts.empty_zip_22())
    run = doctor(healthy_stack.exports(), "--function", "doctor-empty")
    assert run.exit_code == 1
    assert run.failing() == {"function.code": "fail"}
    code = run.check("function.code")
    assert code["data"]["reason"] == "EMPTY_ARCHIVE"
    assert code["data"]["sizeBytes"] == 22
    assert "22 bytes, an empty archive (EMPTY_ARCHIVE)" in code["detail"]
    assert "under 100 bytes, the memo's sign of an empty ZIP" in code["detail"]
    assert "zip function.zip main.py" in code["fix"]
    assert "registered by hand" in run.check("function.item")["detail"]


@pytest.mark.parametrize(
    ("data", "reason", "tiny"),
    [
        (artifacts.incident_empty_zip(), "EMPTY_ARCHIVE", True),
        (artifacts.nested_main_zip(), "MISSING_MAIN", False),
        (artifacts.not_a_zip(), "NOT_A_ZIP", True),
    ],
)
def test_each_unrunnable_zip_is_named(healthy_stack, aws, doctor, data, reason, tiny):
    function_id = f"doctor-{reason.lower()}"
    register_by_hand(healthy_stack, aws, function_id, data)
    code = doctor(healthy_stack.exports(), "--function", function_id).check("function.code")
    assert code["status"] == "fail"
    assert code["data"]["reason"] == reason
    assert ("under 100 bytes" in code["detail"]) is tiny


def test_a_hand_registered_valid_zip_passes(healthy_stack, aws, doctor):
    register_by_hand(healthy_stack, aws, "doctor-manual", artifacts.memo_function_zip())
    run = doctor(healthy_stack.exports(), "--function", "doctor-manual")
    assert run.check("function.code")["status"] == "pass"


def test_a_missing_item_fails_and_skips_the_code(healthy_stack, doctor):
    run = doctor(healthy_stack.exports(), "--function", "doctor-never-uploaded")
    assert run.failing() == {"function.item": "fail", "function.code": "skip"}
    assert "no item functionId='doctor-never-uploaded'" in run.check("function.item")["detail"]
    assert run.check("function.code")["detail"] == "not run: function.item failed"


def test_an_item_without_its_object_fails_the_code_check(healthy_stack, aws, doctor):
    register_by_hand(healthy_stack, aws, "doctor-vanished", artifacts.memo_function_zip())
    bucket, key = healthy_stack.settings.bucket, defaults.code_key("doctor-vanished", 1)
    aws("s3").delete_object(Bucket=bucket, Key=key)
    code = doctor(healthy_stack.exports(), "--function", "doctor-vanished").check("function.code")
    assert code["status"] == "fail"
    assert code["detail"].startswith(f"s3: no object s3://{bucket}/{key}")


def test_an_object_changed_after_upload_fails_the_code_check(healthy_stack, aws, doctor):
    """The uploaded item records size and sha256; another object under its key is named."""
    bucket, key = healthy_stack.settings.bucket, defaults.code_key(GOOD_FUNCTION, 1)
    original = aws("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    changed = artifacts.function_zip(artifacts.SIMPLE_SOURCE)
    assert len(changed) != len(original)
    aws("s3").put_object(Bucket=bucket, Key=key, Body=changed)
    try:
        code = doctor(healthy_stack.exports(), "--function", GOOD_FUNCTION).check("function.code")
    finally:
        aws("s3").put_object(Bucket=bucket, Key=key, Body=original)
    assert code["status"] == "fail"
    assert f"{len(changed)} bytes where the item says {len(original)}" in code["detail"]
