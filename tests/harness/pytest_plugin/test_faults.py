"""The fault injector on real proxies: on, in a ``with`` block, expanded, cleared."""

from __future__ import annotations

import pytest

from harness.env.base import Endpoints
from harness.faults import EventKind, Fault, FaultKind
from harness.pytest_plugin.faults import FaultInjector
from harness.scenario.model import AWS_SERVICES
from harness.scenario.network import ProxiedNetwork


@pytest.fixture
def network():
    # Nothing listens upstream: the proxies only accept, and no test connects through them.
    endpoints = Endpoints("redis://127.0.0.1:9/0", "http://127.0.0.1:9", "ap-northeast-2")
    with ProxiedNetwork(endpoints) as net:
        yield net


def names(network, path):
    return [f.name for f in network.proxies[path].faults]


def test_on_injects_until_removed(network):
    faults = FaultInjector(network)
    injection = faults.on("controller->redis", Fault("sg", FaultKind.CONNECT_TIMEOUT))
    assert names(network, "controller->redis") == ["sg"]
    assert names(network, "worker->redis") == []
    assert [s.path for s in faults.active] == ["controller->redis"]
    injection.remove()
    injection.remove()  # idempotent
    assert names(network, "controller->redis") == []
    assert faults.active == []


def test_a_with_block_removes_its_fault_even_on_failure(network):
    faults = FaultInjector(network)
    seen = []

    def failing_test() -> None:
        with faults.on("worker->s3", Fault("slow", FaultKind.LATENCY, latency_ms=50)):
            seen.extend(names(network, "worker->s3"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        failing_test()
    assert seen == ["slow"]
    assert names(network, "worker->s3") == []
    removed = network.ledger.select(event=EventKind.FAULT_REMOVED)
    assert [(e.proxy, e.fault) for e in removed] == [("worker->s3", "slow")]


def test_a_component_aws_path_stands_for_its_four_services(network):
    faults = FaultInjector(network)
    faults.on("worker->aws", Fault("aws-down", FaultKind.DOWN))
    assert all(names(network, f"worker->{s}") == ["aws-down"] for s in AWS_SERVICES)
    assert faults.touched("worker")
    assert not faults.touched("controller")
    faults.clear()
    assert all(not p.faults for p in network.proxies.values())


def test_an_unknown_path_names_the_valid_ones(network):
    with pytest.raises(ValueError, match="unknown path 'controller->postgres': choose one of"):
        FaultInjector(network).on("controller->postgres", Fault("x", FaultKind.DOWN))
