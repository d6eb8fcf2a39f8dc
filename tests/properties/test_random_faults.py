"""Random fault schedules over the catalogue's faults, paths and knobs (hypothesis).

Each example is a valid one-variant scenario: up to two faults (any kind, path, direction,
start and duration), a function that succeeds or fails, and a subset of the controller's
legacy knobs. Whatever happens, the client's answer must agree with what the worker stored,
and a TIMEOUT must be one the diagnosis explains. ``derandomize`` fixes the examples, so the
catalogue's time stays bounded and a failure replays.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st

from harness.analysis import diagnose
from harness.artifacts import FAILING_SOURCE
from harness.evidence import load
from harness.faults import Fault
from harness.faults.model import Direction, FaultKind
from harness.scenario import Expect, Workload
from harness.scenario.model import PATHS, FaultSpec, Scenario, Variant, variant_dict
from nanogrid import defaults

TERMINAL = ("SUCCESS", "FAILED")
KNOBS = {
    "NANOGRID_LEGACY_SUBSCRIBE_AFTER_SEND": "0.5",
    "NANOGRID_LEGACY_PUBSUB_ONLY": "1",
    "NANOGRID_LEGACY_IGNORE_FAILED": "1",
}
PARAMS: dict[FaultKind, dict[str, st.SearchStrategy[Any]]] = {
    FaultKind.RESET: {"after_bytes": st.integers(0, 300)},
    FaultKind.LATENCY: {
        "latency_ms": st.floats(20, 300),
        "jitter_ms": st.floats(0, 50),
        "seed": st.integers(0, 99),
    },
    FaultKind.BANDWIDTH: {"rate_kb_s": st.floats(5, 200)},
    FaultKind.SLICER: {"slice_bytes": st.integers(1, 64), "slice_delay_ms": st.floats(0, 20)},
}


@st.composite
def fault_specs(draw: st.DrawFn, index: int) -> FaultSpec:
    path = draw(st.sampled_from(PATHS))
    kinds = list(FaultKind)
    if path == "controller->aws":
        # A blackholed AWS call waits out botocore's 30 s read timeout twice: too slow here.
        kinds.remove(FaultKind.BLACKHOLE)
    kind = draw(st.sampled_from(kinds))
    direction = Direction.BOTH if kind.on_listener else draw(st.sampled_from(list(Direction)))
    params = {key: draw(value) for key, value in PARAMS.get(kind, {}).items()}
    fault = Fault(
        f"random-{index}-{kind}",
        kind,
        direction,
        start_after_s=draw(st.sampled_from([0.0, 0.3, 1.0])),
        duration_s=draw(st.sampled_from([None, 0.5, 1.5])),
        **params,
    )
    return FaultSpec(path, fault)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    count = draw(st.integers(0, 2))
    faults = tuple(draw(fault_specs(i)) for i in range(count))
    knobs = draw(st.lists(st.sampled_from(sorted(KNOBS)), unique=True, max_size=2))
    failing = draw(st.booleans())
    workload = Workload(
        artifact="memo_function_zip",
        source=FAILING_SOURCE if failing else None,
        settle_seconds=2.0,
    )
    # Expect is required by the model; this test checks consistency, not a fixed outcome.
    variant = Variant(
        "random",
        Expect("FAILED" if failing else "SUCCESS"),
        faults=faults,
        controller_env={knob: KNOBS[knob] for knob in knobs},
    )
    return Scenario(
        "random-faults",
        "A random fault schedule",
        "Whatever breaks, the client's answer agrees with the stored result.",
        workload,
        (variant,),
    )


def stored_result(harness, request_id: str) -> dict[str, object] | None:
    client = redis.Redis.from_url(harness.stack.endpoints.redis_url, socket_timeout=5)
    try:
        raw = client.get(defaults.result_key(request_id))
    finally:
        client.close()
    return None if raw is None else json.loads(raw)


def check_run(harness, evidence, diagnosis) -> None:
    upload = next(call for call in evidence.calls if call.kind == "upload")
    assert upload.httpStatus in (201, 503), (upload.httpStatus, upload.body)
    runs = [call for call in evidence.calls if call.kind == "run"]
    if upload.httpStatus != 201:
        assert runs == []
        return
    (run,) = runs
    assert run.error is None, run.error
    assert run.requestId
    stored = stored_result(harness, run.requestId)
    confirmed = set(diagnosis.confirmed_codes()) - {"HEALTHY"}
    if run.status in TERMINAL:
        assert stored is not None, "answered from a result the worker never stored"
        assert stored["status"] == run.status
    elif run.status == "TIMEOUT":
        assert stored is None or stored["status"] in TERMINAL, stored
        assert confirmed, f"TIMEOUT at stage {run.body.get('stage')} that nothing explains"
    else:
        assert run.status == "HTTP 503", (run.status, run.body)
        assert stored is None, "a 503 says nothing was enqueued, yet a result was stored"
        assert confirmed, "a 503 that nothing explains"


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("random-faults")


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.generate],  # no shrinking: a stack run takes seconds; the example prints
    suppress_health_check=[HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_random_fault_schedules_end_consistently(scenario_harness, out_dir, scenario) -> None:
    (variant,) = scenario.variants
    note(json.dumps(variant_dict(variant)))
    run_dir = scenario_harness.run(scenario, variant, out_dir / "example")
    evidence = load(run_dir)
    diagnosis = diagnose(evidence)
    note(f"client saw {diagnosis.client_status}; confirmed {diagnosis.confirmed_codes()}")
    event(f"client saw {diagnosis.client_status}")
    check_run(scenario_harness, evidence, diagnosis)
