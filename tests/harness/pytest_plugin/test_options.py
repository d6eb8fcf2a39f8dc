"""The plugin's settings: command line > ini > environment > default, checked values."""

from __future__ import annotations

import pytest

from harness.env.external import ExternalBackend
from harness.image_component import image_command
from harness.pytest_plugin.options import DEFAULT_DEADLINE, NanoGridOptions

pytest_plugins = ["pytester"]


def options(pytester, *args, ini="", environ=None):
    if ini:
        pytester.makefile(".ini", pytest="[pytest]\n" + ini)
    return NanoGridOptions.from_config(pytester.parseconfig(*args), environ or {})


def test_defaults(pytester):
    assert options(pytester) == NanoGridOptions()
    assert NanoGridOptions().deadline == DEFAULT_DEADLINE
    assert NanoGridOptions().backend == "embedded"


def test_command_line_over_ini_over_environment(pytester):
    ini = "nanogrid_backend = localstack\nnanogrid_redis_url = redis://ini:6379/0\n"
    environ = {"REDIS_URL": "redis://env:6379/0", "AWS_ENDPOINT_URL": "http://env:4566"}
    got = options(pytester, "--nanogrid-backend", "external", ini=ini, environ=environ)
    assert (got.backend, got.redis_url, got.aws_endpoint_url) == (
        "external",
        "redis://ini:6379/0",
        "http://env:4566",
    )


def test_components_under_test_and_timing(pytester):
    got = options(
        pytester,
        "--nanogrid-controller",
        "./ctl --serve",
        "--nanogrid-deadline",
        "5",
        ini="nanogrid_worker = python3 worker.py\nnanogrid_runtime = docker\n",
        environ={"NANOGRID_DOCKER_IMAGE": "fn:latest"},
    )
    assert (got.controller, got.worker, got.deadline, got.runtime) == (
        "./ctl --serve",
        "python3 worker.py",
        5.0,
        "docker",
    )
    assert got.worker_env == {"NANOGRID_DOCKER_IMAGE": "fn:latest"}


def test_a_component_as_an_image_runs_through_the_image_wrapper(pytester):
    got = options(pytester, "--nanogrid-controller-image", "team/ctl:1")
    assert got.command("controller") == image_command("team/ctl:1")
    assert got.command("worker") is None
    with pytest.raises(pytest.UsageError, match="nanogrid_worker or nanogrid_worker_image"):
        options(pytester, "--nanogrid-worker", "w", "--nanogrid-worker-image", "team/w:1")


@pytest.mark.parametrize(
    ("ini", "message"),
    [
        ("nanogrid_backend = cloud\n", "nanogrid_backend = 'cloud': choose one of embedded"),
        ("nanogrid_deadline = soon\n", "nanogrid_deadline = 'soon': a number of seconds"),
        ("nanogrid_deadline = 0\n", "nanogrid_deadline = '0': a number of seconds"),
    ],
)
def test_a_bad_value_is_a_usage_error(pytester, ini, message):
    with pytest.raises(pytest.UsageError, match=message):
        options(pytester, ini=ini)


def test_an_unknown_backend_on_the_command_line_is_refused(pytester):
    with pytest.raises(pytest.UsageError):
        pytester.parseconfig("--nanogrid-backend", "cloud")


def test_the_external_backend_needs_both_endpoints(tmp_path):
    with pytest.raises(pytest.UsageError, match="needs --nanogrid-redis-url"):
        NanoGridOptions(backend="external", redis_url="redis://x:1/0").backend_factory({})
    make = NanoGridOptions(
        backend="external", redis_url="redis://x:1/0", aws_endpoint_url="http://x:2"
    ).backend_factory({})
    backend = make(tmp_path)
    assert isinstance(backend, ExternalBackend)
