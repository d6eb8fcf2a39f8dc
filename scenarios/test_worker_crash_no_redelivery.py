from harness.artifacts import hang_source
from harness.scenario import Expect, Workload, single

SCENARIO = single(
    name="worker-crash-no-redelivery",
    title="The only worker dies mid-run",
    hypothesis="Nobody is left to take the task again: the controller times out while the task "
    "is claimed, and only the crashed worker's unfinished span, its last log lines and its exit "
    "tell what happened.",
    workload=Workload(source=hang_source(1.0), settle_seconds=0),
    expect=Expect("TIMEOUT", stage="RUNNING"),
    verdicts=("WORKER_CRASHED",),
    workers=1,
    worker_env={"NANOGRID_KNOB_CRASH_MARKER": "{run_dir}/crash-marker"},
)


def test_worker_crash_no_redelivery(run_scenario):
    run_scenario(SCENARIO)
