"""``nanogrid-harness up`` as a user runs it: KEY=value lines, then nothing left after SIGINT."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from harness.procs import descendants, pid_running
from harness.stack import wait_until

REQUIRED = {
    "CONTROLLER_URL",
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "REDIS_URL",
    "NANOGRID_BUCKET",
    "NANOGRID_TABLE",
    "NANOGRID_QUEUE_URL",
    "NANOGRID_TELEMETRY_DIR",
}


def read_exports(proc: subprocess.Popen[str], timeout: float) -> dict[str, str]:
    """The KEY=value lines `up` prints once the stack is healthy (read in a thread)."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    exports: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while not REQUIRED <= exports.keys():
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        key, sep, value = line.strip().partition("=")
        if sep:
            exports[key] = value
    return exports


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_up_prints_endpoints_and_leaves_nothing_after_a_signal(tmp_path, signum):
    argv = [sys.executable, "-m", "harness.cli", "up", "--workers", "2", "--run-dir", str(tmp_path)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        exports = read_exports(proc, timeout=60)
        assert REQUIRED <= exports.keys(), exports
        health = httpx.get(f"{exports['CONTROLLER_URL']}/health", timeout=5).json()
        assert health["checks"]["workers"]["live"] == 2
        started = descendants(proc.pid)
        assert len(started) >= 5  # redis, moto, controller, two workers
        proc.send_signal(signum)
        proc.wait(timeout=30)
        assert wait_until(lambda: not any(pid_running(p) for p in started), timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
