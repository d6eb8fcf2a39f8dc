"""``/run`` latency of a hello function, warm and cold code cache, next to the spawn floor.

    .venv/bin/python -m bench.latency [--runs 40] [--runtime docker]

``--runtime docker`` runs the functions in containers of ``$NANOGRID_DOCKER_IMAGE``
(default ``nanogrid/python:local``, built by scripts/build-images.sh).

The floor is spawning the same interpreter on the same ``main.py``, measured in the same
run: what no platform can go below on this machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from harness import artifacts
from harness.stack import Stack, StackConfig

HELLO = 'print("hello")\n'
LOCAL_IMAGE = "nanogrid/python:local"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def floor(runs: int) -> list[float]:
    """Spawn ``python main.py`` directly, as the runtime does at its core."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "main.py").write_text(HELLO)
        times = []
        for _ in range(runs):
            began = time.perf_counter()
            subprocess.run([sys.executable, "main.py"], cwd=tmp, check=True, capture_output=True)
            times.append((time.perf_counter() - began) * 1000)
    return times


def timed_run(http: httpx.Client, function_id: str) -> float:
    began = time.perf_counter()
    body = http.post("/run", json={"functionId": function_id, "inputData": {}}).json()
    elapsed = (time.perf_counter() - began) * 1000
    if body.get("status") != "SUCCESS":
        raise RuntimeError(f"run failed: {body}")
    return elapsed


def upload(http: httpx.Client, source: str) -> str:
    function_id = f"bench-{uuid.uuid4().hex[:10]}"
    files = {"file": ("f.zip", artifacts.function_zip(source), "application/zip")}
    http.post("/upload", files=files, data={"functionId": function_id}).raise_for_status()
    return function_id


def measure(stack: Stack, runs: int, warm_only: bool = False) -> dict[str, list[float]]:
    with httpx.Client(base_url=stack.controller_url, timeout=60) as http:
        warm_id = upload(http, HELLO)
        timed_run(http, warm_id)  # fills the code cache
        warm = [timed_run(http, warm_id) for _ in range(runs)]
        if warm_only:
            return {"warm": warm}
        # A distinct package per run: every run misses the cache (S3 download + extraction).
        cold = [timed_run(http, upload(http, f"{HELLO}# {i}\n")) for i in range(runs // 2)]
    return {"warm": warm, "cold": cold}


def report(results: dict[str, list[float]], spawn: list[float], console: Console) -> None:
    base = statistics.median(spawn)
    table = Table(title="/run latency, hello function (ms)")
    for column in ("case", "n", "p50", "p99", "overhead p50", "ratio to floor"):
        table.add_column(column, justify="right")
    table.add_row(
        "floor: spawn python main.py",
        str(len(spawn)),
        f"{base:.1f}",
        f"{percentile(spawn, 0.99):.1f}",
        "-",
        "1.00",
    )
    for name, values in results.items():
        p50 = statistics.median(values)
        table.add_row(
            f"/run, {name}",
            str(len(values)),
            f"{p50:.1f}",
            f"{percentile(values, 0.99):.1f}",
            f"{p50 - base:.1f}",
            f"{p50 / base:.2f}",
        )
    console.print(table)
    on, off = statistics.median(results["warm"]), statistics.median(results["warm, tracing off"])
    console.print(f"tracing on / off (warm p50): {on:.1f} / {off:.1f} ms = {on / off:.2f}x")


def bench_stack(config: StackConfig, runs: int, warm_only: bool = False) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="nanogrid-bench-") as tmp:
        with Stack.embedded(Path(tmp), config) as stack:
            return measure(stack, runs, warm_only)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--runtime", choices=["process", "docker"], default="process")
    args = parser.parse_args()
    console = Console()
    image = {"NANOGRID_DOCKER_IMAGE": os.environ.get("NANOGRID_DOCKER_IMAGE", LOCAL_IMAGE)}
    results = bench_stack(StackConfig(workers=1, runtime=args.runtime, worker_env=image), args.runs)
    off = {"OTEL_SDK_DISABLED": "true"}
    untraced = bench_stack(
        StackConfig(
            workers=1, runtime=args.runtime, controller_env=off, worker_env={**off, **image}
        ),
        args.runs,
        True,
    )
    results["warm, tracing off"] = untraced["warm"]
    report(results, floor(args.runs), console)


if __name__ == "__main__":
    main()
