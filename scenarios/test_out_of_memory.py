from harness.artifacts import memory_hog_source
from harness.scenario import Expect, Workload, single

SCENARIO = single(
    name="out-of-memory",
    title="A function goes over its memory",
    hypothesis="Allocating 300 MB under memoryMB=128 fails as OUT_OF_MEMORY, with a tip to raise it.",
    workload=Workload(source=memory_hog_source(300), memory_mb=128),
    expect=Expect("FAILED", error_type="OUT_OF_MEMORY"),
    verdicts=("OUT_OF_MEMORY",),
)


def test_out_of_memory(run_scenario):
    run_scenario(SCENARIO)
