from __future__ import annotations

from harness.analysis import build_timeline, clock
from harness.faults import EventKind, FaultKind
from nanogrid.telemetry import semconv as sc
from tests.harness.analysis.synth import request_run


def test_rows_merge_spans_logs_calls_and_faults_in_time_order():
    run = request_run()
    run.fault(
        100, "worker->aws", EventKind.FAULT_HIT, FaultKind.LATENCY, connection=2, action="delay"
    )
    timeline = build_timeline(run.evidence()).requests[0]
    kinds = {row.kind for row in timeline.rows}
    assert {"span", "event", "log", "call", "fault"} <= kinds
    times = [row.ts_ns for row in timeline.rows if row.kind != "idle"]
    assert times == sorted(times)
    assert timeline.rows[0].component == "client"
    assert {"controller", "worker-1", "client", "worker->aws"} <= set(timeline.components)


def test_idle_gaps_are_compressed_into_one_marked_row():
    timeline = build_timeline(request_run(client="TIMEOUT", ignored=True).evidence()).requests[0]
    idle = [row for row in timeline.rows if row.kind == "idle"]
    assert len(idle) == 1
    assert idle[0].event == "idle 3.5 s"


def test_a_task_no_worker_reported_is_unknown_never_done():
    timeline = build_timeline(request_run(worker=False, client="TIMEOUT").evidence()).requests[0]
    unknown = [row for row in timeline.rows if row.status == "unknown"]
    assert [row.event for row in unknown] == ["worker outcome unknown"]
    assert [s.status for s in timeline.steps] == ["done", "unknown", "unknown", "failed"]


def test_a_worker_that_never_published_is_unknown():
    run = request_run(client="TIMEOUT")
    run.spans = [s for s in run.spans if not s.name.startswith("publish")]
    publishing = (sc.RESULT_PUBLISHING, sc.RESULT_PUBLISHED)
    run.logs = [line for line in run.logs if line.get(sc.EVENT) not in publishing]
    timeline = build_timeline(run.evidence()).requests[0]
    assert [row.event for row in timeline.rows if row.status == "unknown"] == ["result unknown"]


def test_memo_steps_tell_the_incident_in_four_lines():
    run = request_run(zip_bytes=34, invalid=True, client="TIMEOUT", ignored=True)
    steps = build_timeline(run.evidence()).requests[0].steps
    assert [s.text for s in steps] == [
        "/run called, message sent to SQS",
        "Worker: processing finished in 301 ms (FAILED)",
        "Worker: Redis publish succeeded, receivers=1",
        "Controller: TIMEOUT at its 4.0 s deadline (stage COMPLETED)",
    ]
    assert [clock(s.ts_ns) for s in steps] == [
        "07:40:19.010",
        "07:40:19.321",
        "07:40:19.322",
        "07:40:22.999",
    ]


def test_fault_intervals_run_from_active_to_removed_or_stay_open():
    run = request_run()
    run.fault(0, "controller->redis", EventKind.FAULT_ADDED, FaultKind.DOWN)
    run.fault(100, "controller->redis", EventKind.FAULT_ACTIVE, FaultKind.DOWN)
    run.fault(300, "controller->redis", EventKind.FAULT_REMOVED, FaultKind.DOWN)
    run.fault(50, "worker->redis", EventKind.FAULT_ACTIVE, FaultKind.BLACKHOLE)
    intervals = build_timeline(run.evidence()).faults
    assert [(i.proxy, i.end_ns is None) for i in intervals] == [
        ("worker->redis", True),
        ("controller->redis", False),
    ]
    closed = intervals[1]
    assert closed.end_ns is not None
    assert closed.end_ns - closed.start_ns == 200_000_000


def test_a_crashed_worker_shows_its_unfinished_spans_and_its_exit():
    timeline = build_timeline(request_run(crashed=True, client="TIMEOUT").evidence()).requests[0]
    unfinished = [r.event for r in timeline.rows if r.kind == "span" and r.status == "unknown"]
    assert unfinished == [f"? {sc.SPAN_PROCESS} nanogrid-tasks", f"? {sc.SPAN_EXECUTE}"]
    [exited] = [row for row in timeline.rows if row.kind == "component"]
    assert (exited.component, exited.status) == ("worker-1", "error")
    assert "killed by signal 9" in exited.evidence


def test_the_wire_gets_a_lane_per_path():
    timeline = build_timeline(request_run(wire=True).evidence()).requests[0]
    wire = {row.component for row in timeline.rows if row.kind == "wire"}
    # worker->sqs is absent: its long poll began before the request did
    assert wire == {"controller->redis", "controller->sqs", "worker->s3", "worker->redis"}
