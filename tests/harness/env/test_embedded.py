from typing import TYPE_CHECKING

import boto3
import pytest
import redis

from harness.env.base import Backend, Endpoints
from harness.env.embedded import EmbeddedBackend, redis_binary
from harness.procs import StartupError, pid_running
from harness.provision import client_kwargs

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    """A backend of this module's own: these tests restart and reset it."""
    with EmbeddedBackend(tmp_path_factory.mktemp("own-embedded")) as started:
        yield started


def redis_client(endpoints: Endpoints) -> "redis.Redis":
    return redis.Redis.from_url(
        endpoints.redis_url, socket_timeout=5, socket_connect_timeout=2, decode_responses=True
    )


def s3_client(endpoints: Endpoints) -> "S3Client":
    return boto3.client("s3", **client_kwargs(endpoints))


def test_complies_with_the_backend_protocol(own):
    # A started one: before start, the ``endpoints`` property raises, and isinstance reads it.
    assert isinstance(own, Backend)


def test_redis_binary_is_executable():
    assert redis_binary().is_file()


def test_endpoints_are_loopback(own):
    endpoints = own.endpoints
    assert isinstance(endpoints, Endpoints)
    assert endpoints.redis_url.startswith("redis://127.0.0.1:")
    assert endpoints.aws_endpoint_url is not None
    assert endpoints.aws_endpoint_url.startswith("http://127.0.0.1:")
    assert endpoints.region == "ap-northeast-2"


def test_redis_answers(own):
    with redis_client(own.endpoints) as client:
        assert client.ping() is True
        client.set("k", "v")
        assert client.get("k") == "v"


def test_moto_serves_s3(own):
    s3 = s3_client(own.endpoints)
    s3.create_bucket(
        Bucket="embedded-test", CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"}
    )
    s3.put_object(Bucket="embedded-test", Key="a.txt", Body=b"hello")
    assert s3.get_object(Bucket="embedded-test", Key="a.txt")["Body"].read() == b"hello"


def test_logs_are_in_the_run_dir(own):
    assert "Ready to accept connections" in (own.run_dir / "redis.log").read_text()
    assert "Running on http://127.0.0.1:" in (own.run_dir / "moto.log").read_text()
    assert (own.run_dir / "redis").is_dir()


def test_restart_redis_keeps_the_port_and_loses_the_data(own):
    before = own.endpoints
    old_pid = own.redis_process.pid
    with redis_client(before) as client:
        client.set("survives", "no")

    own.restart_redis()

    assert own.endpoints == before
    assert own.redis_process.pid != old_pid
    assert not pid_running(old_pid)
    with redis_client(own.endpoints) as client:
        assert client.get("survives") is None
        assert client.ping() is True


def test_reset_aws_drops_everything(own):
    s3 = s3_client(own.endpoints)
    s3.create_bucket(
        Bucket="doomed", CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"}
    )
    own.reset_aws()
    assert s3.list_buckets()["Buckets"] == []


def test_stop_leaves_no_process(tmp_path):
    backend = EmbeddedBackend()
    backend.start(tmp_path)
    procs = [backend.redis_process, backend.moto_process]
    pids = [proc.pid for proc in procs if proc is not None]
    assert len(pids) == 2
    assert all(pid_running(pid) for pid in pids)

    backend.stop()

    assert not any(pid_running(pid) for pid in pids)
    with pytest.raises(RuntimeError, match="not started"):
        _ = backend.endpoints
    backend.stop()  # idempotent


def test_failed_start_stops_what_started(tmp_path):
    # moto takes a few hundred ms to import: a 1 ms deadline fails it for certain.
    backend = EmbeddedBackend(tmp_path, startup_timeout=0.001)
    with pytest.raises(StartupError), backend:
        pytest.fail("entered a backend that did not start")
    for proc in (backend.redis_process, backend.moto_process):
        assert proc is not None
        assert not proc.alive
        assert not pid_running(proc.pid)
