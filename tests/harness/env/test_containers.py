"""ContainersBackend against a real engine, with the local stand-in images.

Marked ``docker``: skipped without an engine (failed with ``REQUIRE_DOCKER=1``).
"""

from __future__ import annotations

import gc
import subprocess
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest
import redis

from harness.env.base import Backend, Endpoints
from harness.faults import Fault, FaultKind, FaultLedger, FaultProxy
from harness.provision import client_kwargs
from tests.docker_support import LOCAL_MOTO_IMAGE, LOCAL_REDIS_IMAGE, require_docker

if TYPE_CHECKING:
    from harness.env.containers import ContainersBackend

pytestmark = pytest.mark.docker

REGION_CONFIG = {"LocationConstraint": "ap-northeast-2"}


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    """A backend of this module's own: these tests restart and reset it."""
    require_docker(LOCAL_REDIS_IMAGE, LOCAL_MOTO_IMAGE)
    from harness.env.containers import ContainersBackend

    run_dir = tmp_path_factory.mktemp("own-containers")
    with ContainersBackend(
        run_dir, redis_image=LOCAL_REDIS_IMAGE, aws_image=LOCAL_MOTO_IMAGE
    ) as backend:
        yield backend


def redis_client(endpoints: Endpoints) -> redis.Redis:
    return redis.Redis.from_url(endpoints.redis_url, socket_timeout=5, socket_connect_timeout=2)


def harness_containers() -> set[str]:
    """``docker ps -a --filter label=nanogrid.harness``: every harness container's session."""
    listing = subprocess.run(
        [
            "docker",
            "ps",
            "-a",
            "--filter",
            "label=nanogrid.harness",
            "--format",
            '{{.Label "nanogrid.session"}}',
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return set(listing.stdout.split())


def test_complies_with_the_backend_protocol(own: ContainersBackend) -> None:
    assert isinstance(own, Backend)
    assert own.name == "containers"


def test_the_emulator_is_moto_in_the_version_its_image_declares(own: ContainersBackend) -> None:
    emulator = own.emulator()
    assert (emulator.kind, emulator.image, emulator.deviations) == ("moto", LOCAL_MOTO_IMAGE, ())
    assert emulator.version is not None
    assert emulator.version.startswith("5.")


def test_ports_are_published_on_loopback_only(own: ContainersBackend) -> None:
    for url in (own.endpoints.redis_url, own.endpoints.aws_endpoint_url):
        assert url is not None
        assert "//127.0.0.1:" in url


def test_redis_answers_and_s3_works(own: ContainersBackend) -> None:
    with redis_client(own.endpoints) as client:
        assert client.ping() is True
    s3 = boto3.client("s3", **client_kwargs(own.endpoints))
    s3.create_bucket(Bucket="containers-test", CreateBucketConfiguration=REGION_CONFIG)
    s3.put_object(Bucket="containers-test", Key="k", Body=b"v")
    assert s3.get_object(Bucket="containers-test", Key="k")["Body"].read() == b"v"


def test_reset_aws_drops_everything(own: ContainersBackend) -> None:
    s3 = boto3.client("s3", **client_kwargs(own.endpoints))
    s3.create_bucket(Bucket="to-be-reset", CreateBucketConfiguration=REGION_CONFIG)
    own.reset_aws()
    assert s3.list_buckets()["Buckets"] == []


def test_restart_redis_keeps_the_port_and_loses_the_data(own: ContainersBackend) -> None:
    url = own.endpoints.redis_url
    with redis_client(own.endpoints) as client:
        client.set("kept?", "no")
    own.restart_redis()
    assert own.endpoints.redis_url == url
    with redis_client(own.endpoints) as client:
        assert client.get("kept?") is None


def test_fault_proxy_in_front_of_containerised_redis(own: ContainersBackend) -> None:
    port = int(own.endpoints.redis_url.rsplit(":", 1)[1].split("/")[0])
    proxy = FaultProxy("controller->redis", "127.0.0.1", port, FaultLedger()).start()
    try:
        client = redis.Redis(port=proxy.listen_port, socket_connect_timeout=0.5, retry=None)
        with client:
            assert client.ping() is True
        proxy.add(Fault("redis-down", FaultKind.DOWN))
        client = redis.Redis(port=proxy.listen_port, socket_connect_timeout=0.5, retry=None)
        with client, pytest.raises(redis.ConnectionError) as raised:
            client.ping()
        assert isinstance(raised.value.__context__, ConnectionRefusedError)
    finally:
        proxy.stop()


def test_stop_leaves_no_container_network_or_volume(tmp_path: Path) -> None:
    require_docker(LOCAL_REDIS_IMAGE, LOCAL_MOTO_IMAGE)
    import docker

    from harness.env.containers import ContainersBackend

    client = docker.from_env()
    try:
        networks = {n["Id"] for n in client.api.networks()}
        volumes = {v["Name"] for v in client.api.volumes()["Volumes"] or []}
        backend = ContainersBackend(redis_image=LOCAL_REDIS_IMAGE, aws_image=LOCAL_MOTO_IMAGE)
        with backend:
            session = backend.labels["nanogrid.session"]
            filters = {"label": f"nanogrid.session={session}"}
            assert len(client.api.containers(all=True, filters=filters)) == 2
        assert client.api.containers(all=True, filters=filters) == []
        assert {n["Id"] for n in client.api.networks()} == networks
        assert {v["Name"] for v in client.api.volumes()["Volumes"] or []} == volumes
        assert (backend.run_dir / "redis.log").exists()  # type: ignore[operator]
    finally:
        client.close()


def test_no_engine_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.env.containers import ContainersBackend, DockerUnavailable

    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/absent.sock")
    with warnings.catch_warnings():
        # The docker SDK leaves the socket of its failed version probe to the collector.
        warnings.simplefilter("ignore", ResourceWarning)
        with pytest.raises(DockerUnavailable, match="is a Docker engine running"):
            ContainersBackend().start(tmp_path)
        gc.collect()


def test_from_env_reads_the_images_and_the_token() -> None:
    from harness.env.containers import ContainersBackend

    env = {"NANOGRID_REDIS_IMAGE": "r:1", "NANOGRID_AWS_IMAGE": "a:2", "LOCALSTACK_AUTH_TOKEN": "t"}
    backend = ContainersBackend.from_env(env)
    assert (backend.redis_image, backend.aws_image, backend.auth_token) == ("r:1", "a:2", "t")
    assert not backend.is_moto
    defaults = ContainersBackend.from_env({})
    assert defaults.redis_image == "redis:7"
    assert defaults.aws_image.startswith("localstack/localstack:4.")


def test_no_harness_container_outlives_its_backend(own: ContainersBackend) -> None:
    from harness.env.containers import ContainersBackend

    backend = ContainersBackend(redis_image=LOCAL_REDIS_IMAGE, aws_image=LOCAL_MOTO_IMAGE)
    with backend:
        assert backend.labels["nanogrid.session"] in harness_containers()
    # Only the module's own backend, still in use, may remain.
    assert harness_containers() == {own.labels["nanogrid.session"]}
