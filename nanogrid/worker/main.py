"""Process entry point of the Worker Agent: ``nanogrid-worker``.

Configuration comes from the environment (see :mod:`nanogrid.settings` and
:mod:`nanogrid.worker.knobs`). SIGTERM / SIGINT stop it: while idle at once, while running
a function after that run's result is stored.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from types import FrameType

from nanogrid import defaults
from nanogrid.aws import AwsClients, queue_url
from nanogrid.errors import DependencyError
from nanogrid.logs import configure_logging
from nanogrid.results import DEPENDENCY_ERRORS, FAILURE_ERRORS, ResultStore, connect
from nanogrid.runtime.base import Runtime
from nanogrid.runtime.process import STARTS, ProcessRuntime
from nanogrid.settings import Settings
from nanogrid.symptoms import failure_fields
from nanogrid.telemetry import instrument_libraries, setup_telemetry_from_env, untraced
from nanogrid.telemetry import semconv as sc
from nanogrid.worker.agent import WorkerAgent
from nanogrid.worker.background import Background
from nanogrid.worker.keepalive import Ticker, heartbeat_action
from nanogrid.worker.knobs import WorkerKnobs

log = logging.getLogger("nanogrid.worker")

#: Handled tasks whose message deletion and metrics may wait in the background.
FINISH_QUEUE = 64


class Shutdown(BaseException):
    """Raised in the main thread by SIGTERM/SIGINT while the worker is idle.

    A BaseException, so that no library's ``except Exception`` (botocore retries) swallows it.
    """


def build_agent(settings: Settings, knobs: WorkerKnobs, poll_wait_seconds: int = 20) -> WorkerAgent:
    if settings.runtime not in ("process", "docker"):
        raise SystemExit(f"unknown runtime {settings.runtime!r}: 'process' or 'docker'")
    clients = AwsClients.from_settings(settings)
    client = connect(
        settings.redis_url, settings.redis_connect_timeout, settings.redis_socket_timeout
    )
    runtime: Runtime
    if settings.runtime == "docker":
        from nanogrid.runtime.docker import DEFAULT_IMAGE, DockerRuntime  # needs the docker SDK

        image = settings.docker_image or DEFAULT_IMAGE
        runtime = DockerRuntime(image, worker_id=settings.worker_id)
    else:
        if settings.process_start not in STARTS:
            raise SystemExit(
                f"unknown NANOGRID_PROCESS_START {settings.process_start!r}: "
                f"{' or '.join(repr(s) for s in STARTS)}"
            )
        runtime = ProcessRuntime(
            shared=[knobs.shared_dir] if knobs.shared_dir else [], start=settings.process_start
        )
        if runtime.start != settings.process_start:
            log.warning(
                "functions start as a fresh interpreter, not from the zygote: without the "
                "filesystem sandbox only unshare isolates them, and it needs an exec"
            )
        if knobs.shared_dir is not None:
            log.warning(
                "shared dir knob: every function can write %s",
                knobs.shared_dir,
                extra={
                    sc.EVENT: sc.KNOB_ACTIVE,
                    sc.F_KNOB: "shared_dir",
                    "value": str(knobs.shared_dir),
                },
            )
        if not runtime.network_isolated:
            log.warning("network isolation unavailable on this OS: functions can reach the network")
        if not runtime.filesystem_isolated:
            log.warning(
                "filesystem isolation unavailable on this OS: functions can write whatever the "
                "worker's user can, the code cache and other functions' code included"
            )
    return WorkerAgent(
        settings,
        clients,
        ResultStore(client, settings.result_ttl),
        runtime,
        queue_url(clients, settings),
        knobs,
        poll_wait_seconds,
        Background("finish", max_pending=FINISH_QUEUE),
    )


def isolation(runtime: Runtime) -> dict[str, bool]:
    """What the runtime keeps functions out of, as the heartbeat (and so ``/health``) shows."""
    return {
        "network": runtime.network_isolated,
        "processes": runtime.processes_isolated,
        "filesystem": runtime.filesystem_isolated,
    }


def serve(agent: WorkerAgent, stop: threading.Event) -> None:
    """Poll until ``stop`` is set; transient dependency errors are logged and retried."""
    info = {
        "runtime": agent.runtime.name,
        "start": agent.runtime.start,
        "pid": os.getpid(),
        "isolation": isolation(agent.runtime),
    }
    beat = heartbeat_action(
        agent.store.client, agent.settings.worker_id, defaults.HEARTBEAT_TTL_SECONDS, info
    )
    beat()
    with Ticker("heartbeat", agent.settings.heartbeat_seconds, beat):
        log.info(
            "worker %s polling %s",
            agent.settings.worker_id,
            agent.queue_url,
            extra={
                sc.EVENT: sc.WORKER_POLLING,
                sc.F_HEARTBEAT_TTL: defaults.HEARTBEAT_TTL_SECONDS,
                "runtime": agent.runtime.name,
            },
        )
        while not stop.is_set():
            try:
                agent.poll_once()
            except FAILURE_ERRORS as exc:
                dependency = exc.dependency if isinstance(exc, DependencyError) else sc.REDIS
                log.error(
                    "poll failed, retrying: %s",
                    exc,
                    extra={sc.EVENT: sc.POLL_FAILED, **failure_fields(dependency, exc)},
                )
                stop.wait(1.0)


def _forget_heartbeat(agent: WorkerAgent) -> None:
    """A stopped worker is not live: remove its heartbeat instead of waiting for the expiry."""
    try:
        with untraced():
            agent.store.client.delete(f"{defaults.HEARTBEAT_PREFIX}{agent.settings.worker_id}")
    except DEPENDENCY_ERRORS:
        log.warning("could not remove the heartbeat of %s", agent.settings.worker_id)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="nanogrid-worker", description=__doc__)
    parser.add_argument(
        "--poll-wait", type=int, default=int(os.environ.get("NANOGRID_POLL_WAIT", "20"))
    )
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    configure_logging(
        "worker",
        level=os.environ.get("NANOGRID_LOG_LEVEL", "INFO"),
        static={"workerId": settings.worker_id},
    )
    telemetry = setup_telemetry_from_env(
        "nanogrid-worker", resource_attributes={sc.SERVICE_INSTANCE: settings.worker_id}
    )
    instrument_libraries()
    knobs = WorkerKnobs.from_env()
    stop = threading.Event()
    agent: WorkerAgent | None = None

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()
        if agent is None or not agent.busy:
            raise Shutdown(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        if knobs.slow_start:
            log.warning(
                "slow start knob: waiting %.1fs before polling",
                knobs.slow_start,
                extra={
                    sc.EVENT: sc.KNOB_ACTIVE,
                    sc.F_KNOB: "slow_start",
                    "value": knobs.slow_start,
                },
            )
            stop.wait(knobs.slow_start)
        agent = build_agent(settings, knobs, args.poll_wait)
        serve(agent, stop)
    except Shutdown as exc:
        log.info("worker stopping on %s", exc)
    finally:
        if agent is not None:
            agent.close()  # the queued deletions and metrics, with their spans
            agent.runtime.close()
            _forget_heartbeat(agent)
        telemetry.shutdown()
        log.info("worker %s stopped", settings.worker_id, extra={sc.EVENT: sc.WORKER_STOPPED})


if __name__ == "__main__":
    main()
