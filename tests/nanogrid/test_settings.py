"""Settings: the memo's resource names by default, argument > environment > default."""

from __future__ import annotations

from pathlib import Path

import pytest

from nanogrid.settings import Limits, Settings


def test_defaults_are_the_memo_names():
    settings = Settings.from_env({})
    assert settings.bucket == "nanogrid-code-bucket"
    assert settings.table == "nanogrid-functions"
    assert settings.queue == "nanogrid-tasks"
    assert settings.region == "ap-northeast-2"
    assert settings.queue_url is None
    assert settings.aws_endpoint_url is None
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.run_deadline == 25.0
    assert settings.runtime == "process"
    assert settings.limits == Limits()


def test_default_limits_are_lambdas():
    limits = Limits()
    assert limits.max_zip_bytes == 50 * 1024 * 1024
    assert limits.max_unzipped_bytes == 250 * 1024 * 1024
    assert (limits.max_entries, limits.max_ratio) == (10_000, 200)


def test_environment_overrides_defaults_with_types():
    env = {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
        "AWS_REGION": "us-east-1",
        "REDIS_URL": "redis://r:1/2",
        "NANOGRID_BUCKET": "b",
        "NANOGRID_TABLE": "t",
        "NANOGRID_QUEUE": "q",
        "NANOGRID_QUEUE_URL": "http://q/url",
        "NANOGRID_RUN_DEADLINE": "6.5",
        "NANOGRID_REDIS_CONNECT_TIMEOUT": "0.5",
        "NANOGRID_REDIS_SOCKET_TIMEOUT": "1.5",
        "NANOGRID_WORK_DIR": "/tmp/wd",
        "NANOGRID_RUNTIME": "docker",
        "NANOGRID_WORKER_ID": "w-7",
        "NANOGRID_VISIBILITY_TIMEOUT": "4",
        "NANOGRID_RESULT_TTL": "60",
        "NANOGRID_HEARTBEAT_SECONDS": "0.25",
    }
    assert Settings.from_env(env) == Settings(
        aws_endpoint_url="http://127.0.0.1:5000",
        region="us-east-1",
        redis_url="redis://r:1/2",
        bucket="b",
        table="t",
        queue="q",
        queue_url="http://q/url",
        run_deadline=6.5,
        redis_connect_timeout=0.5,
        redis_socket_timeout=1.5,
        work_dir=Path("/tmp/wd"),
        runtime="docker",
        worker_id="w-7",
        visibility_timeout=4,
        result_ttl=60,
        heartbeat_seconds=0.25,
    )


def test_empty_environment_values_keep_defaults():
    settings = Settings.from_env({"NANOGRID_BUCKET": "", "NANOGRID_RUN_DEADLINE": ""})
    assert (settings.bucket, settings.run_deadline) == ("nanogrid-code-bucket", 25.0)


def test_overrides_win_over_environment():
    env = {"NANOGRID_BUCKET": "from-env", "NANOGRID_QUEUE": "env-queue"}
    settings = Settings.from_env(env, bucket="from-arg")
    assert settings.bucket == "from-arg"
    assert settings.queue == "env-queue"


def test_reads_os_environ_when_no_mapping_given(monkeypatch):
    monkeypatch.setenv("NANOGRID_TABLE", "env-table")
    assert Settings.from_env().table == "env-table"


def test_unknown_override_raises():
    with pytest.raises(TypeError, match="unknown settings: bogus, nope"):
        Settings.from_env({}, nope=1, bogus=2)


def test_limits_from_environment_keep_the_other_defaults():
    settings = Settings.from_env({"NANOGRID_MAX_ENTRIES": "5", "NANOGRID_MAX_ZIP_BYTES": "1000"})
    assert settings.limits == Limits(max_zip_bytes=1000, max_entries=5)


def test_limits_override_wins_over_environment():
    limits = Limits(max_ratio=3)
    settings = Settings.from_env({"NANOGRID_MAX_RATIO": "50"}, limits=limits)
    assert settings.limits is limits


def test_bad_number_in_environment_raises():
    with pytest.raises(ValueError, match="soon"):
        Settings.from_env({"NANOGRID_RUN_DEADLINE": "soon"})


def test_per_service_endpoints_win_over_the_shared_one():
    env = {"AWS_ENDPOINT_URL": "http://aws:4566", "AWS_ENDPOINT_URL_S3": "http://s3:9000"}
    settings = Settings.from_env(env)
    assert settings.endpoint_for("s3") == "http://s3:9000"
    assert settings.endpoint_for("sqs") == "http://aws:4566"
    assert Settings.from_env({}).endpoint_for("dynamodb") is None
