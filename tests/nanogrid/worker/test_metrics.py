"""Memory recommendations, the memo's optimizationTip, and CloudWatch metrics in moto."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.config import Config

from harness.procs import free_port
from nanogrid.protocol import ErrorType, Result, Status
from nanogrid.worker.metrics import optimization_tip, put_run_metrics, recommended_memory_mb

MB = 1024 * 1024


@pytest.mark.parametrize(
    ("peak_bytes", "recommended"),
    [
        (0, 128),  # never below Lambda's smallest size
        (50 * MB, 128),  # 75 MB wanted
        (100 * MB, 192),  # 150 MB wanted, rounded up to 64 MB
        (128 * MB, 192),  # exactly 192 MB wanted
        (128 * MB + 1, 256),  # a byte more rounds up a step
        (200 * MB, 320),
    ],
)
def test_recommended_memory(peak_bytes, recommended):
    assert recommended_memory_mb(peak_bytes) == recommended


def test_tip_for_under_use_recommends_a_smaller_size():
    tip = optimization_tip(1024, 10 * MB, None)
    assert tip == (
        "Tip: actual usage (10MB) is far below the configured memory (1024MB): "
        "128MB would leave 50% headroom."
    )


def test_tip_near_the_limit_recommends_a_larger_size():
    tip = optimization_tip(128, 120 * MB, None)
    assert tip == (
        "Tip: actual usage (120MB) is close to the configured memory (128MB): consider 192MB."
    )


def test_tip_for_out_of_memory_at_least_doubles():
    tip = optimization_tip(256, 250 * MB, ErrorType.OUT_OF_MEMORY)
    assert tip == "Tip: the function ran out of its 256MB: raise memoryMB to 512 or more."


def test_tip_for_out_of_memory_uses_the_measured_peak_when_larger():
    tip = optimization_tip(128, 400 * MB, ErrorType.OUT_OF_MEMORY)
    assert "raise memoryMB to 640 or more" in tip


def test_tip_when_memory_fits():
    tip = optimization_tip(256, 150 * MB, None)
    assert tip == "Tip: configured memory (256MB) fits the actual usage (150MB)."


def test_tip_for_a_user_error_is_about_memory_only():
    assert optimization_tip(1024, 10 * MB, ErrorType.USER_CODE_ERROR) == optimization_tip(
        1024, 10 * MB, None
    )


def make_result(function_id: str, status: Status) -> Result:
    return Result(
        requestId=str(uuid.uuid4()),
        functionId=function_id,
        status=status,
        exitCode=0 if status == Status.SUCCESS else 1,
        stdout="",
        stderr="",
        durationMillis=37,
        peakMemoryBytes=12 * MB,
        peakMemoryMB=12,
        optimizationTip="Tip",
    )


def error_sum(cloudwatch, function_id: str) -> float:
    now = datetime.now(UTC)
    stats = cloudwatch.get_metric_statistics(
        Namespace="NanoGrid",
        MetricName="Errors",
        Dimensions=[{"Name": "functionId", "Value": function_id}],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=10),
        Period=60,
        Statistics=["Sum"],
    )
    return float(sum(point["Sum"] for point in stats["Datapoints"]))


@pytest.mark.parametrize(("status", "errors"), [(Status.SUCCESS, 0.0), (Status.FAILED, 1.0)])
def test_put_run_metrics_lands_in_cloudwatch(aws_clients, status, errors):
    function_id = f"metrics-{uuid.uuid4().hex[:8]}"
    assert put_run_metrics(aws_clients.cloudwatch, make_result(function_id, status)) is True
    listed = aws_clients.cloudwatch.list_metrics(
        Namespace="NanoGrid", Dimensions=[{"Name": "functionId", "Value": function_id}]
    )["Metrics"]
    assert {m["MetricName"] for m in listed} == {"Duration", "PeakMemory", "Invocations", "Errors"}
    assert all(m["Namespace"] == "NanoGrid" for m in listed)
    assert all(m["Dimensions"] == [{"Name": "functionId", "Value": function_id}] for m in listed)
    assert error_sum(aws_clients.cloudwatch, function_id) == errors


def test_put_run_metrics_against_a_dead_endpoint_returns_false(caplog):
    cloudwatch = boto3.client(
        "cloudwatch",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region_name="ap-northeast-2",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(connect_timeout=0.5, read_timeout=0.5, retries={"max_attempts": 1}),
    )
    with caplog.at_level(logging.WARNING, logger="nanogrid.worker"):
        assert put_run_metrics(cloudwatch, make_result("dead", Status.SUCCESS)) is False
    assert "CloudWatch metrics not sent" in caplog.text
