"""Whether a Docker engine answers, and the rule for tests that need one.

Tests marked ``docker`` call :func:`require_docker` (through a fixture): without an engine
they skip with the reason, unless ``REQUIRE_DOCKER=1`` makes that a failure (CI, which
installs and starts the engine, must never skip the container path silently).
"""

from __future__ import annotations

import functools
import gc
import os
import warnings
from typing import NoReturn

import pytest

#: The images ``scripts/build-images.sh`` builds where no registry is reachable.
LOCAL_PYTHON_IMAGE = "nanogrid/python:local"
LOCAL_REDIS_IMAGE = "nanogrid/redis:local"
LOCAL_MOTO_IMAGE = "nanogrid/moto:local"
LOCAL_LOCALSTACK_IMAGE = "nanogrid/localstack:local"


@functools.cache
def docker_problem() -> str | None:
    """``None`` when an engine answers a ping, else why not."""
    try:
        import docker
        from docker.errors import DockerException
    except ImportError:
        return "the docker SDK is not installed: pip install 'nanogrid[containers]'"
    problem = None
    with warnings.catch_warnings():
        # The SDK leaves the socket of its failed version probe to the collector: collect it
        # here, once the exception (whose traceback holds the socket) is gone.
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            client = docker.from_env()
        except DockerException as exc:
            problem = f"no Docker engine answers: {exc}"
        gc.collect()
    if problem is not None:
        return problem
    try:
        client.ping()
    except DockerException as exc:
        return f"the Docker engine does not answer a ping: {exc}"
    finally:
        client.close()
    return None


def missing_images(*images: str) -> list[str]:
    """The images of ``images`` absent from the engine (call after :func:`require_docker`)."""
    import docker
    from docker.errors import ImageNotFound

    client = docker.from_env()
    try:
        absent = []
        for image in images:
            try:
                client.images.get(image)
            except ImageNotFound:
                absent.append(image)
        return absent
    finally:
        client.close()


def require_docker(*images: str) -> None:
    """Skip (or, with ``REQUIRE_DOCKER=1``, fail) unless an engine answers and has ``images``."""
    problem = docker_problem()
    if problem is None and (absent := missing_images(*images)):
        problem = f"images absent: {', '.join(absent)} (run scripts/build-images.sh)"
    if problem is not None:
        skip_or_fail(problem)


def require_tool(name: str) -> NoReturn:
    """A container tool is missing: skip, or fail under ``REQUIRE_DOCKER=1``."""
    skip_or_fail(f"{name} not found on PATH")


def skip_or_fail(problem: str) -> NoReturn:
    if os.environ.get("REQUIRE_DOCKER") == "1":
        pytest.fail(f"REQUIRE_DOCKER=1 but {problem}")
    pytest.skip(problem)


#: The labels the harness and the docker runtime put on everything they create.
PROJECT_LABELS = ("nanogrid.harness", "nanogrid.runtime")


def project_leftovers() -> list[str]:
    """Containers, networks and volumes carrying a project label (call when an engine answers)."""
    import docker

    client = docker.from_env()
    try:
        left = []
        for label in PROJECT_LABELS:
            wanted = {"label": label}
            left += [
                f"container {c.name}" for c in client.containers.list(all=True, filters=wanted)
            ]
            left += [f"network {n.name}" for n in client.networks.list(filters=wanted)]
            left += [f"volume {v.name}" for v in client.volumes.list(filters=wanted)]
        return left
    finally:
        client.close()
