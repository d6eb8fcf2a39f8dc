"""The worker's entry point: what it says at start about the isolation its runtime has."""

from __future__ import annotations

import json

from nanogrid.runtime.process import ProcessRuntime
from nanogrid.worker.main import isolation
from tests.nanogrid.runtime.conftest import run_where_user_namespaces_are_refused

# Builds the agent as the worker's main does (nothing is contacted) and reports its warnings.
BUILD_AGENT = """
    import json, logging
    from nanogrid.settings import Settings
    from nanogrid.worker.knobs import WorkerKnobs
    from nanogrid.worker.main import build_agent, isolation

    warnings = []
    handler = logging.Handler()
    handler.emit = lambda record: warnings.append(record.getMessage())
    logging.getLogger("nanogrid.worker").addHandler(handler)
    settings = Settings(queue_url="http://127.0.0.1:9/queue", redis_url="redis://127.0.0.1:9")
    agent = build_agent(settings, WorkerKnobs())
    print(json.dumps({"warnings": warnings, "isolation": isolation(agent.runtime)}))
    agent.runtime.close()
"""


def test_the_heartbeat_carries_what_the_runtime_isolates() -> None:
    with ProcessRuntime() as runtime:
        assert isolation(runtime) == {
            "network": runtime.network_isolated,
            "processes": runtime.processes_isolated,
            "filesystem": runtime.filesystem_isolated,
        }


def test_the_worker_warns_at_start_when_functions_are_not_isolated() -> None:
    done = run_where_user_namespaces_are_refused(BUILD_AGENT)
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout)
    assert said["isolation"] == {"network": False, "processes": False, "filesystem": False}
    assert [w.split(":")[0] for w in said["warnings"]] == [
        "network isolation unavailable on this OS",
        "filesystem isolation unavailable on this OS",
    ]
