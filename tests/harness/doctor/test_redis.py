"""Redis from the doctor's host: refused, SYNs dropped and silence each named apart."""

from __future__ import annotations

from harness.faults import Fault, FaultKind
from harness.procs import free_port

REDIS_DEPENDENT = {"redis.pubsub": "skip", "workers.heartbeat": "skip"}


def test_a_closed_port_is_connection_refused(healthy_stack, doctor):
    closed = f"redis://127.0.0.1:{free_port()}/0"
    run = doctor({**healthy_stack.exports(), "REDIS_URL": closed})
    assert run.exit_code == 1
    assert run.failing() == {"redis.ping": "fail", **REDIS_DEPENDENT}
    ping = run.check("redis.ping")
    assert "connection refused at 127.0.0.1:" in ping["detail"]
    assert "nothing listens" in ping["detail"]
    assert "REDIS_URL" in ping["fix"]
    assert run.check("redis.pubsub")["detail"] == "not run: redis.ping failed"


def test_dropped_syns_are_a_connect_timeout(healthy_stack, doctor, make_proxy):
    """The proxy's connect_timeout kind fills its accept queue: the kernel drops the SYNs."""
    proxy = make_proxy(healthy_stack.settings.redis_url)
    proxy.add(Fault("security-group", FaultKind.CONNECT_TIMEOUT))
    run = doctor(
        {**healthy_stack.exports(), "REDIS_URL": f"redis://127.0.0.1:{proxy.listen_port}/0"}
    )
    assert run.exit_code == 1
    assert run.failing() == {"redis.ping": "fail", **REDIS_DEPENDENT}
    ping = run.check("redis.ping")
    assert "connect timed out after 0.5 s" in ping["detail"]
    assert "SYNs unanswered" in ping["detail"]
    assert "refused" not in ping["detail"]
    assert f"TCP {proxy.listen_port}" in ping["fix"]


def test_a_silent_server_is_no_reply_not_a_connect_timeout(healthy_stack, doctor, make_proxy):
    proxy = make_proxy(healthy_stack.settings.redis_url)
    proxy.add(Fault("silent", FaultKind.BLACKHOLE))
    run = doctor(
        {**healthy_stack.exports(), "REDIS_URL": f"redis://127.0.0.1:{proxy.listen_port}/0"}
    )
    assert run.failing() == {"redis.ping": "fail", **REDIS_DEPENDENT}
    detail = run.check("redis.ping")["detail"]
    assert f"connected to 127.0.0.1:{proxy.listen_port}, but no reply within 2 s" in detail
    assert "connect timed out" not in detail


def test_an_unknown_host_is_a_dns_failure(healthy_stack, doctor):
    run = doctor({**healthy_stack.exports(), "REDIS_URL": "redis://no-such-host.invalid:6379/0"})
    assert run.failing() == {"redis.ping": "fail", **REDIS_DEPENDENT}
    assert "cannot resolve host 'no-such-host.invalid'" in run.check("redis.ping")["detail"]


def test_the_pubsub_round_trip_uses_a_private_channel(healthy_stack, doctor):
    first = doctor(healthy_stack.exports()).check("redis.pubsub")["data"]
    second = doctor(healthy_stack.exports()).check("redis.pubsub")["data"]
    assert first["channel"].startswith("nanogrid-doctor:")
    assert first["channel"] != second["channel"]
    assert first["receivers"] == second["receivers"] == 1
    assert first["arrived"] is second["arrived"] is True
