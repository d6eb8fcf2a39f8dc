"""CloudWatch metrics of a run and the memo's ``optimizationTip``."""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from nanogrid import defaults
from nanogrid.protocol import ErrorType, Result, Status
from nanogrid.symptoms import failure_fields
from nanogrid.telemetry import semconv as sc

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

log = logging.getLogger("nanogrid.worker")

MB = 1024 * 1024
#: Lambda's smallest memory size, and the granularity recommendations are rounded up to.
MIN_MEMORY_MB = 128
STEP_MB = 64


def recommended_memory_mb(peak_bytes: int) -> int:
    """Peak plus 50% headroom, rounded up to 64 MB, at least 128 MB."""
    wanted = peak_bytes * 1.5 / MB
    return max(MIN_MEMORY_MB, STEP_MB * math.ceil(wanted / STEP_MB))


def optimization_tip(configured_mb: int, peak_bytes: int, error_type: ErrorType | None) -> str:
    """Compare configured memory with the measured peak and recommend a size."""
    peak_mb = math.ceil(peak_bytes / MB)
    if error_type == ErrorType.OUT_OF_MEMORY:
        suggested = max(configured_mb * 2, recommended_memory_mb(peak_bytes))
        return (
            f"Tip: the function ran out of its {configured_mb}MB: "
            f"raise memoryMB to {suggested} or more."
        )
    recommended = recommended_memory_mb(peak_bytes)
    if recommended < configured_mb:
        return (
            f"Tip: actual usage ({peak_mb}MB) is far below the configured memory "
            f"({configured_mb}MB): {recommended}MB would leave 50% headroom."
        )
    if peak_mb > configured_mb * 0.8:
        return (
            f"Tip: actual usage ({peak_mb}MB) is close to the configured memory "
            f"({configured_mb}MB): consider {recommended}MB."
        )
    return f"Tip: configured memory ({configured_mb}MB) fits the actual usage ({peak_mb}MB)."


def put_run_metrics(cloudwatch: CloudWatchClient, result: Result) -> bool:
    """Send Duration, PeakMemory, Invocations, Errors; a failure is logged, never raised."""
    dims = [{"Name": "functionId", "Value": result.functionId}]
    failed = 1.0 if result.status != Status.SUCCESS else 0.0
    data = [
        ("Duration", float(result.durationMillis), "Milliseconds"),
        ("PeakMemory", float(result.peakMemoryBytes), "Bytes"),
        ("Invocations", 1.0, "Count"),
        ("Errors", failed, "Count"),
    ]
    try:
        cloudwatch.put_metric_data(
            Namespace=defaults.METRICS_NAMESPACE,
            MetricData=[
                {"MetricName": n, "Dimensions": dims, "Value": v, "Unit": u}  # type: ignore[typeddict-item]
                for n, v, u in data
            ],
        )
    except (BotoCoreError, ClientError) as exc:
        log.warning(
            "CloudWatch metrics not sent: %s",
            exc,
            extra={sc.EVENT: sc.METRICS_NOT_SENT, **failure_fields(sc.CLOUDWATCH, exc)},
        )
        return False
    return True
