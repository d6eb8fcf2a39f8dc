"""All of NanoGrid's benchmarks in one command and one table.

    .venv/bin/python -m bench [--runs 30] [--skip-scenarios]     # or: make bench

Rows: ``/run`` latency of a hello function (warm and cold code cache) next to the floor
measured in the same run (spawning the same interpreter on the same ``main.py``); the same
with a fresh interpreter per run instead of the zygote, and with tracing off; proxied
``/run`` with the wire decoders on and off; the docker runtime when a Docker engine answers;
throughput with 1, 2 and 4 workers at a concurrency that keeps them busy; the embedded
stack's start time; the wall time of ``pytest scenarios/``; rendering a report of 10,000
spans. Each stack runs on its
own embedded backend (a real Redis, the moto server), so the AWS emulator's cost is in the
figures: it sets much of the overhead above the floor (see DESIGN-NOTES section 7). The
catalogue's wall time is measured in parallel (as ``pytest scenarios/`` runs it) and serially.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from bench import latency, report_render, wire_decoding
from harness import traces
from harness.procs import StartupError
from harness.stack import Stack, StackConfig
from nanogrid.telemetry import semconv

ROOT = Path(__file__).resolve().parent.parent
TRACING_OFF = {"OTEL_SDK_DISABLED": "true"}


@dataclass
class Row:
    """One line of the table."""

    measure: str
    value: str
    detail: str = ""


@dataclass
class Bench:
    """Runs the stacks and collects the rows; start times of 1-worker stacks on the side."""

    runs: int
    rows: list[Row]
    starts: list[float]

    @contextlib.contextmanager
    def stack(self, config: StackConfig) -> Iterator[Stack]:
        with tempfile.TemporaryDirectory(prefix="nanogrid-bench-") as tmp:
            began = time.perf_counter()
            with Stack.embedded(Path(tmp), config) as stack:
                if config.workers == 1:
                    self.starts.append(time.perf_counter() - began)
                yield stack

    def latency_rows(self, spawn: list[float], label: str, config: StackConfig) -> None:
        traced = "tracing off" not in label
        with self.stack(config) as stack:
            results = latency.measure(stack, self.runs, warm_only=not traced)
            executes = execute_ms(stack) if traced else []
        base = statistics.median(spawn)
        if executes:
            p50 = statistics.median(executes)
            self.rows.append(
                Row(
                    f"execute step{label}, p50",
                    f"{p50:.1f} ms",
                    f"{p50 / base:.2f}x floor (n={len(executes)}, the worker's execute spans)",
                )
            )
        for case, values in results.items():
            p50 = statistics.median(values)
            self.rows.append(
                Row(
                    f"/run {case}{label}, p50 / p99",
                    f"{p50:.1f} / {latency.percentile(values, 0.99):.1f} ms",
                    f"overhead {p50 - base:+.1f} ms, {p50 / base:.2f}x floor (n={len(values)})",
                )
            )

    def throughput_row(self, workers: int, floor_ms: float) -> None:
        calls, concurrency = 40 * workers, 4 * workers + 2
        with self.stack(StackConfig(workers=workers)) as stack:
            limits = httpx.Limits(max_connections=concurrency + 2)
            with httpx.Client(base_url=stack.controller_url, timeout=120, limits=limits) as http:
                function_id = latency.upload(http, latency.HELLO)
                call = lambda _: latency.timed_run(http, function_id)  # noqa: E731
                with ThreadPoolExecutor(concurrency) as pool:
                    list(pool.map(call, range(concurrency)))  # warm code caches, connections
                    began = time.perf_counter()
                    list(pool.map(call, range(calls)))
                    wall = time.perf_counter() - began
        rate = calls / wall
        ceiling = (os.cpu_count() or 1) / (floor_ms / 1000)
        self.rows.append(
            Row(
                f"throughput, {workers} worker{'s' if workers > 1 else ''}",
                f"{rate:.1f} runs/s",
                f"{calls} calls at concurrency {concurrency}; {rate / ceiling:.2f}x the "
                f"spawn-bound ceiling ({ceiling:.0f} runs/s = cores / floor)",
            )
        )


def execute_ms(stack: Stack) -> list[float]:
    """Durations (ms) of the worker's ``execute`` spans: the function's run, as the worker saw
    it (the warm-up and cold runs included)."""
    spans = traces.load_spans(stack.telemetry_dir)
    return [s.duration_ns / 1e6 for s in spans if s.name == semconv.SPAN_EXECUTE and s.ended]


def docker_problem() -> str | None:
    """``None`` when the docker runtime exists and an engine answers, else why not."""
    if not (ROOT / "nanogrid" / "runtime" / "docker.py").exists():
        return "no docker runtime in this tree"
    try:
        docker = importlib.import_module("docker")
    except ImportError:
        return "the docker SDK is not installed"
    try:
        client = docker.from_env()
        client.ping()
        client.close()
    except docker.errors.DockerException:
        return "no Docker engine answers here"
    return None


def scenarios_row(serial: bool = False) -> Row:
    """The catalogue's wall time as ``pytest scenarios/`` runs it (in parallel), or serially."""
    extra = ["-n", "0"] if serial else []
    began = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra, "scenarios/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - began
    summary = (proc.stdout.strip().splitlines() or ["no output"])[-1]
    label = "pytest -n 0 scenarios/ (serial)" if serial else "pytest scenarios/"
    return Row(f"{label} wall time", f"{wall:.1f} s", summary.strip("= "))


def render_row() -> Row:
    t = report_render.measure(10_000)
    return Row(
        "report for 10,000 spans",
        f"{t.render:.2f} s render",
        f"+ {t.analysis:.2f} s analysis; HTML {t.html_bytes / 1e6:.1f} MB",
    )


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}"


def run(args: argparse.Namespace) -> Table:
    bench = Bench(args.runs, [], [])
    spawn = latency.floor(args.runs)
    base = statistics.median(spawn)
    floor = f"{base:.1f} / {latency.percentile(spawn, 0.99):.1f} ms"
    bench.rows.append(Row("floor: spawn python main.py, p50 / p99", floor, f"n={len(spawn)}"))
    bench.latency_rows(spawn, "", StackConfig(workers=1))
    fresh = StackConfig(workers=1, worker_env={"NANOGRID_PROCESS_START": "interpreter"})
    bench.latency_rows(spawn, ", fresh interpreter", fresh)
    off = StackConfig(workers=1, controller_env=TRACING_OFF, worker_env=TRACING_OFF)
    bench.latency_rows(spawn, ", tracing off", off)
    on, untraced = (_p50(bench.rows, case) for case in ("/run warm, p50", "tracing off"))
    bench.rows.append(Row("tracing on / off (warm p50)", f"{on / untraced:.2f}x", ""))
    wire = wire_decoding.measure(args.runs)
    decoded, raw = (statistics.median(wire[k]) for k in ("decoding on", "decoding off"))
    bench.rows.append(
        Row(
            "proxied /run p50, wire decoding on / off",
            f"{wire_decoding.ratio(wire):.2f}x",
            f"{decoded:.1f} / {raw:.1f} ms, every path proxied",
        )
    )
    problem = docker_problem()
    if problem is None:
        docker = StackConfig(workers=1, runtime="docker", ready_timeout=20)
        try:
            bench.latency_rows(spawn, ", docker runtime", docker)
        except (StartupError, RuntimeError, httpx.HTTPError) as exc:
            reason = str(exc).splitlines()[0]
            detail = f"a stack with NANOGRID_RUNTIME=docker did not work: {reason}"
            bench.rows.append(Row("/run, docker runtime", "-", detail))
    else:
        bench.rows.append(Row("/run, docker runtime", "-", problem))
    for workers in (1, 2, 4):
        bench.throughput_row(workers, base)
    starts = bench.starts
    bench.rows.append(
        Row(
            "embedded stack start (Redis, moto, controller, 1 worker)",
            f"{statistics.median(starts):.2f} s",
            f"median of {len(starts)}",
        )
    )
    if args.skip_scenarios:
        bench.rows.append(Row("pytest scenarios/ wall time", "-", "skipped (--skip-scenarios)"))
    else:
        bench.rows.append(scenarios_row())
        bench.rows.append(scenarios_row(serial=True))
    bench.rows.append(render_row())
    table = Table(title=f"NanoGrid benchmarks: {machine()}")
    for column in ("measure", "value", "detail"):
        table.add_column(column)
    for row in bench.rows:
        table.add_row(row.measure, row.value, row.detail)
    return table


def _p50(rows: list[Row], contains: str) -> float:
    row = next(r for r in rows if contains in r.measure)
    return float(row.value.split(" / ")[0])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=30, help="timed /run calls per case")
    parser.add_argument("--skip-scenarios", action="store_true", help="skip pytest scenarios/")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table too")
    args = parser.parse_args()
    console = Console(width=140)
    began = time.perf_counter()
    table = run(args)
    console.print(table)
    if args.markdown:
        print("| measure | value | detail |\n|---|---|---|")
        for measure, value, detail in zip(*(c.cells for c in table.columns), strict=True):
            print(f"| {measure} | {value} | {detail} |")
    console.print(f"benchmarks took {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
