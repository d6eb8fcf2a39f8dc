"""A LocalStack of each module's own: the locally built image, on the containers backend."""

from __future__ import annotations

import pytest

from tests.docker_support import LOCAL_LOCALSTACK_IMAGE, LOCAL_REDIS_IMAGE, require_docker


@pytest.fixture(scope="module")
def localstack(tmp_path_factory):
    """A started ContainersBackend running nanogrid/localstack:local (and Redis).

    Module-scoped, not session-scoped: test_containers.py counts the harness's containers.
    """
    require_docker(LOCAL_REDIS_IMAGE, LOCAL_LOCALSTACK_IMAGE)
    from harness.env.containers import ContainersBackend

    backend = ContainersBackend(
        tmp_path_factory.mktemp("localstack"),
        redis_image=LOCAL_REDIS_IMAGE,
        aws_image=LOCAL_LOCALSTACK_IMAGE,
    )
    with backend:
        yield backend
