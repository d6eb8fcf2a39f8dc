from harness.artifacts import hang_source
from harness.scenario import Expect, Workload, single

SCENARIO = single(
    name="redis-restarted-while-waiting",
    title="Redis restarts while the controller waits",
    hypothesis="The subscription drops with the restart; the controller subscribes again and the "
    "worker's publish, after the restart, still reaches it. The diagnosis names the lost "
    "connection though the client saw SUCCESS.",
    workload=Workload(source=hang_source(1.5), restart_redis_after=0.5),
    expect=Expect("SUCCESS"),
    verdicts=("REDIS_UNREACHABLE",),
)


def test_redis_restarted_while_waiting(run_scenario):
    run_scenario(SCENARIO)
