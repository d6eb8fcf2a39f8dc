"""A representative part of the catalogue on the containers backend with a real LocalStack
(nanogrid/localstack:local) and the docker runtime: the same outcomes and the same verdicts
as on the embedded stack (moto), checked with the fault ledger and again blind."""

from __future__ import annotations

import pytest

from harness.accuracy import grade
from harness.evidence import load
from harness.scenario.catalogue import find
from harness.scenario.play import play
from harness.scenario.runner import ScenarioHarness
from tests.docker_support import (
    LOCAL_LOCALSTACK_IMAGE,
    LOCAL_PYTHON_IMAGE,
    LOCAL_REDIS_IMAGE,
    require_docker,
)

pytestmark = pytest.mark.docker

REPRESENTATIVE = [
    "healthy-baseline",
    "empty-zip-refused-at-upload",
    "function-failed-relayed",
    "redis-refused-for-controller",
    "late-subscription-pubsub-only",
    "incident-2025-12-02",
]


@pytest.fixture(scope="module")
def container_harness(tmp_path_factory):
    require_docker(LOCAL_REDIS_IMAGE, LOCAL_LOCALSTACK_IMAGE, LOCAL_PYTHON_IMAGE)
    from harness.env.containers import ContainersBackend

    def backend(run_dir):
        return ContainersBackend(
            run_dir, redis_image=LOCAL_REDIS_IMAGE, aws_image=LOCAL_LOCALSTACK_IMAGE
        )

    with ScenarioHarness(
        tmp_path_factory.mktemp("containers-catalogue"),
        backend=backend,
        runtime="docker",
        worker_env={"NANOGRID_DOCKER_IMAGE": LOCAL_PYTHON_IMAGE},
    ) as harness:
        assert harness.backend is not None
        assert harness.backend.emulator().kind == "localstack"
        yield harness


@pytest.mark.parametrize("name", REPRESENTATIVE)
def test_scenario_holds_on_containers(container_harness, tmp_path, name):
    scenario = find(name)
    outcomes = play(container_harness, scenario, tmp_path)
    problems = [f"{o.variant}: {p}" for o in outcomes for p in o.problems]
    blind = [grade(name, scenario.variant(o.variant), load(o.run_dir)) for o in outcomes]
    problems += [f"{g.variant} (blind): {p}" for g in blind for p in g.problems]
    assert not problems, "\n".join(problems)
