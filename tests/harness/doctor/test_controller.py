"""The controller's /health from the doctor's host, and what it says about its own paths."""

from __future__ import annotations

from dataclasses import replace

from harness.faults import Fault, FaultKind
from harness.procs import free_port
from harness.stack import Stack
from tests.harness.doctor.conftest import DOCTOR_STACK


def test_no_controller_url_skips_its_check_and_fails_the_run(healthy_stack, doctor):
    env = {k: v for k, v in healthy_stack.exports().items() if k != "CONTROLLER_URL"}
    run = doctor(env)
    assert run.exit_code == 1
    assert run.failing() == {"controller.health": "skip"}
    assert "--controller" in run.check("controller.health")["fix"]


def test_the_option_wins_over_the_environment(healthy_stack, doctor):
    run = doctor(healthy_stack.exports(), "--controller", f"http://127.0.0.1:{free_port()}")
    assert run.failing() == {"controller.health": "fail"}
    assert "controller: connection refused" in run.check("controller.health")["detail"]


def test_redis_down_for_the_controller_only_blames_its_path(
    doctor_backend, make_proxy, tmp_path, doctor
):
    """The memo's hypothesis 2: Redis answers this host, not the controller's."""
    proxy = make_proxy(doctor_backend.endpoints.redis_url)
    env = {"REDIS_URL": f"redis://127.0.0.1:{proxy.listen_port}/0"}
    # The healthy stack's settings: provisioning again must not change its queue.
    config = replace(DOCTOR_STACK, workers=0, controller_env=env)
    with Stack(doctor_backend, tmp_path / "blocked", config) as blocked:
        proxy.add(Fault("controller-redis-down", FaultKind.DOWN))
        run = doctor(blocked.exports())
    assert run.check("redis.ping")["status"] == "pass"
    health = run.check("controller.health")
    assert health["status"] == "fail"
    assert health["data"]["httpStatus"] == 503
    assert "redis: connection refused" in health["detail"]
    assert health["fix"].startswith("redis answers this host but not the controller")
