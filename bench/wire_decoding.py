"""What decoding the wire costs: proxied ``/run`` p50 with the proxies' decoders (and message
framing) on and off.

    .venv/bin/python -m bench.wire_decoding [--runs 60]

Two stacks run side by side, each on its own embedded backend behind its own fault proxies on
every path (Redis and the four AWS services, for the controller and the worker): one with
the protocol decoders on, one with them off. Warm ``/run`` calls alternate between the two
in batches, so drift in the machine's speed hits both alike; the ratio of the medians is
the decoding overhead (goal: at most 1.1x).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
from pathlib import Path

import httpx
from rich.console import Console

from bench import latency
from harness.env.embedded import EmbeddedBackend
from harness.scenario.network import ProxiedNetwork
from harness.stack import Stack, StackConfig

BATCH = 10


def measure(runs: int) -> dict[str, list[float]]:
    """Warm ``/run`` latencies (ms) through decoding and non-decoding proxies."""
    times: dict[str, list[float]] = {"decoding on": [], "decoding off": []}
    with contextlib.ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nanogrid-wire-")))
        clients: dict[str, tuple[httpx.Client, str]] = {}
        for label, decode in (("decoding on", True), ("decoding off", False)):
            run_dir = root / label.replace(" ", "-")
            backend = stack.enter_context(EmbeddedBackend(run_dir / "backend"))
            net = stack.enter_context(ProxiedNetwork(backend.endpoints, decode=decode))
            config = StackConfig(
                workers=1,
                controller_env=net.env_for("controller"),
                worker_env=net.env_for("worker"),
            )
            platform = stack.enter_context(Stack(backend, run_dir, config))
            http = stack.enter_context(httpx.Client(base_url=platform.controller_url, timeout=60))
            function_id = latency.upload(http, latency.HELLO)
            latency.timed_run(http, function_id)  # fills the code cache
            clients[label] = (http, function_id)
        while len(times["decoding off"]) < runs:
            for label, (http, function_id) in clients.items():
                times[label] += [latency.timed_run(http, function_id) for _ in range(BATCH)]
    return times


def ratio(times: dict[str, list[float]]) -> float:
    return statistics.median(times["decoding on"]) / statistics.median(times["decoding off"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    times = measure(args.runs)
    on, off = (statistics.median(times[k]) for k in ("decoding on", "decoding off"))
    Console().print(
        f"proxied /run p50, decoding on / off: {on:.1f} / {off:.1f} ms = {ratio(times):.2f}x "
        f"(n={len(times['decoding on'])} each)"
    )


if __name__ == "__main__":
    main()
