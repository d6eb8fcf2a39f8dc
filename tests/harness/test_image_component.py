"""A component under test given as a container image: the contract passed in, the harness's
proxies reached from the host network, the container gone afterwards."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from harness import conformance
from harness.image_component import LABEL, docker_argv, image_command, main
from harness.scenario.runner import ScenarioHarness
from tests.docker_support import project_leftovers, require_docker

LEGACY_IMAGE = "nanogrid/legacy-controller:local"


def test_only_the_contract_is_passed_into_the_container():
    env = {
        "PORT": "8080",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:2",
        "NANOGRID_RUN_DEADLINE": "2",
        "HOME": "/root",
        "PATH": "/usr/bin",
        "SECRET_OF_THE_HOST": "x",
    }
    argv = docker_argv("team/controller:1", ["--verbose"], env, "c1")
    passed = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--env"]
    assert passed == ["AWS_ENDPOINT_URL_SQS", "NANOGRID_RUN_DEADLINE", "PORT", "REDIS_URL"]
    assert argv[:2] == ["docker", "run"]
    assert ["--network", "host"] == argv[argv.index("--network") : argv.index("--network") + 2]
    assert f"{LABEL}=component" in argv
    assert argv[-2:] == ["team/controller:1", "--verbose"]


def test_the_command_runs_this_module_with_this_interpreter():
    assert shlex.split(image_command("team/w:2", "-x")) == [
        sys.executable,
        "-m",
        "harness.image_component",
        "team/w:2",
        "-x",
    ]


def test_without_an_image_it_says_how_to_use_it(capsys):
    assert main([]) == 2
    assert "usage: python -m harness.image_component IMAGE" in capsys.readouterr().err


@pytest.mark.docker
def test_the_legacy_controller_image_is_judged_like_its_command(tmp_path: Path) -> None:
    require_docker(LEGACY_IMAGE)
    upload = [i for i in conformance.INVARIANTS if i.key in ("upload-validated", "redis-down-503")]
    with ScenarioHarness(tmp_path, controller_command=image_command(LEGACY_IMAGE)) as harness:
        verdicts = {
            v.invariant.key: v.finding for v in conformance.check(harness, tmp_path, upload)
        }
    assert not verdicts["upload-validated"].passed
    assert "answered 201 and stored (34 bytes)" in verdicts["upload-validated"].evidence
    assert verdicts["redis-down-503"].passed, verdicts["redis-down-503"].evidence
    assert not [left for left in project_leftovers() if "nanogrid-component-" in left]
