"""NanoGrid's pytest plugin: a proxied stack, faults, a deployer and evidence assertions.

Installing the ``nanogrid`` package registers it (entry point ``pytest11``, named
``nanogrid``; ``-p no:nanogrid`` turns it off). Importing it starts and loads nothing
heavy: the stack starts when the first test asks for a fixture that needs it.

Fixtures (``pytest --fixtures`` shows each one's contract)::

    nanogrid_options  session   NanoGridOptions from --nanogrid-*, nanogrid_* ini keys, env
    nanogrid_stack    session   the proxied stack (ScenarioHarness): backend, a fault proxy
                                per path, controller and workers; started on first use,
                                and at the end no process of it may be left
    nanogrid_run      function  the test's run (NanoGridRun): the stack reset, a recording
                                client, the evidence directory
    faults            function  faults.on(path, Fault(...)), now or for a `with` block;
                                every fault is off at the test's end, failed or not
    deploy_function   function  deploy_function(files | folder | zip) -> function id;
                                deleted at the test's end
    run_function      function  run_function(function_id, input_data) -> CallRecord
    evidence          function  EvidenceReader: wait_complete(request_id, deadline) ->
                                RequestEvidence: span(...), assert_before(a, b), ...
    run_scenario      function  run_scenario(SCENARIO): every variant of a catalogue
                                scenario, checked on its evidence

Example::

    from harness.faults import Fault, FaultKind

    def test_answer_when_redis_is_slow(deploy_function, run_function, faults, evidence):
        function_id = deploy_function({"main.py": "print('hi')"})
        faults.on("worker->redis", Fault("slow", FaultKind.LATENCY, latency_ms=200))
        call = run_function(function_id)
        assert call.status == "SUCCESS"
        request = evidence.wait_complete(call.requestId, deadline=10)
        request.assert_before(request.span("subscribe *"), request.span("publish *"))
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from harness.pytest_plugin.options import add_options

if TYPE_CHECKING:
    from harness.evidence import CallRecord
    from harness.pytest_plugin.evidence import EvidenceReader
    from harness.pytest_plugin.faults import FaultInjector
    from harness.pytest_plugin.options import NanoGridOptions
    from harness.pytest_plugin.session import NanoGridRun
    from harness.scenario.model import Scenario
    from harness.scenario.play import Outcome
    from harness.scenario.runner import ScenarioHarness


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test that had a run says where its evidence is, and how to explain it."""
    report = yield
    run = getattr(item, "funcargs", {}).get("nanogrid_run")
    if report.failed and call.when == "call" and run is not None:
        report.sections.append(
            (
                "nanogrid evidence",
                f"{run.run_dir}\nexplain it: nanogrid-harness diagnose {run.run_dir}",
            )
        )
    return report


@pytest.fixture(scope="session")
def nanogrid_options(pytestconfig: pytest.Config) -> NanoGridOptions:
    """The plugin's settings: ``--nanogrid-*`` options > ``nanogrid_*`` ini > environment."""
    from harness.pytest_plugin.options import NanoGridOptions

    return NanoGridOptions.from_config(pytestconfig, os.environ)


@pytest.fixture(scope="session")
def nanogrid_stack(
    nanogrid_options: NanoGridOptions, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ScenarioHarness]:
    """The session's proxied stack, reset by every test that uses it; started on first use."""
    from harness.pytest_plugin.stack import session_stack

    with session_stack(nanogrid_options, tmp_path_factory.mktemp("nanogrid"), os.environ) as stack:
        yield stack


@pytest.fixture
def nanogrid_run(
    nanogrid_stack: ScenarioHarness, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[NanoGridRun]:
    """This test's run: the stack reset, a recording client, evidence in a directory of
    its own (named in the report when the test fails)."""
    from harness.pytest_plugin.session import NanoGridRun

    with NanoGridRun(nanogrid_stack, tmp_path / "nanogrid", request.node.name) as run:
        yield run


@pytest.fixture
def faults(nanogrid_run: NanoGridRun) -> FaultInjector:
    """``faults.on("controller->redis", Fault(...))``: a fault now, or for a ``with`` block;
    everything injected is off when the test ends, failed or not."""
    return nanogrid_run.faults


@pytest.fixture
def deploy_function(nanogrid_run: NanoGridRun) -> Callable[..., str]:
    """``deploy_function({"main.py": src} | Path(folder) | zip_bytes, function_id=None,
    memory_mb=None, timeout_seconds=None) -> function id`` (``DeployFailed`` unless 201);
    deleted at the test's end. ``nanogrid_run.upload`` returns a refused upload's answer."""
    return nanogrid_run.deploy


@pytest.fixture
def run_function(nanogrid_run: NanoGridRun) -> Callable[..., CallRecord]:
    """``run_function(function_id, input_data=None) -> CallRecord`` (``.status``,
    ``.requestId``, ``.httpStatus``, ``.body``), recorded as evidence."""
    return nanogrid_run.run


@pytest.fixture
def evidence(nanogrid_run: NanoGridRun) -> EvidenceReader:
    """The test's recorded evidence: ``wait_complete(request_id, deadline)`` polls until the
    request's trace is complete, then selectors and ``assert_before`` on it."""
    return nanogrid_run.evidence


@pytest.fixture
def run_scenario(
    nanogrid_stack: ScenarioHarness, tmp_path: Path
) -> Callable[[Scenario], list[Outcome]]:
    """``run_scenario(SCENARIO)``: run every variant; fail with each problem found in its
    evidence, and where ``diagnose`` of its run directory, or of its logs as text, disagrees."""
    from harness.pytest_plugin.catalogue import check_scenario

    def run(scenario: Scenario) -> list[Outcome]:
        return check_scenario(nanogrid_stack, scenario, tmp_path / scenario.name)

    return run
