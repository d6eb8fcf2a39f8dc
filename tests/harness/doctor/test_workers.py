"""Live workers are read from their heartbeat keys; a stack without workers fails the check."""

from __future__ import annotations

from harness.env.embedded import EmbeddedBackend
from harness.stack import Stack, StackConfig


def test_no_worker_running_fails_only_the_heartbeat_check(tmp_path, doctor):
    config = StackConfig(workers=0, poll_wait=1)
    with (
        EmbeddedBackend(tmp_path / "backend") as backend,
        Stack(backend, tmp_path, config) as stack,
    ):
        run = doctor(stack.exports())
    assert run.exit_code == 1
    assert run.failing() == {"workers.heartbeat": "fail"}
    check = run.check("workers.heartbeat")
    assert check["detail"].startswith("no worker heartbeat: no worker is consuming")
    assert "nanogrid-worker" in check["fix"]
    assert check["data"]["live"] == []


def test_each_live_worker_is_named(healthy_stack, doctor):
    check = doctor(healthy_stack.exports()).check("workers.heartbeat")
    assert check["status"] == "pass"
    assert check["data"]["live"] == ["worker-1"]
    assert "worker-1 (process, beat" in check["detail"]
