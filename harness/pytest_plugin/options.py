"""The plugin's settings: pytest options, ini keys and environment, in one typed object.

Each setting has a command-line option ``--nanogrid-<name>`` and an ini key
``nanogrid_<name>``; the command line wins over the ini file, the ini file over the
environment variable the ``nanogrid-harness`` CLI reads for the same setting, and that over
the default. They mirror the CLI's ``--backend``, ``--redis-url``, ``--aws-endpoint-url``,
``--region``, ``--controller`` and ``--worker`` (``replay``) and ``--runtime`` (``up``)::

    pytest --nanogrid-backend containers --nanogrid-controller "./my-controller --serve"

    # pytest.ini
    [pytest]
    nanogrid_worker = python3 my_worker.py
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from nanogrid import defaults

if TYPE_CHECKING:
    from harness.env.base import Backend

BACKENDS = ("embedded", "containers", "external", "localstack")
RUNTIMES = ("process", "docker")
#: The controller's ``/run`` deadline the catalogue is written for (seconds).
DEFAULT_DEADLINE = 2.0


@dataclass(frozen=True)
class _Setting:
    name: str
    metavar: str
    help: str
    env: str | None = None
    choices: tuple[str, ...] | None = None


_SETTINGS = (
    _Setting("backend", "NAME", "where Redis and AWS run (default embedded)", choices=BACKENDS),
    _Setting("controller", "CMD", "a controller under test in place of the reference one"),
    _Setting("worker", "CMD", "a worker under test in place of the reference one"),
    _Setting("controller_image", "IMAGE", "a controller under test as a container image"),
    _Setting("worker_image", "IMAGE", "a worker under test as a container image"),
    _Setting(
        "redis_url",
        "URL",
        "external backend: your Redis (localstack: unset, a Redis of its own)",
        env="REDIS_URL",
    ),
    _Setting(
        "aws_endpoint_url",
        "URL",
        "external backend: your AWS emulator; localstack: your LocalStack",
        env="AWS_ENDPOINT_URL",
    ),
    _Setting("region", "REGION", f"AWS region (default {defaults.REGION})", env="AWS_REGION"),
    _Setting(
        "deadline", "SECONDS", f"seconds /run waits for a result (default {DEFAULT_DEADLINE})"
    ),
    _Setting("runtime", "NAME", "how workers run functions (default process)", choices=RUNTIMES),
)


@dataclass(frozen=True)
class NanoGridOptions:
    """What the session stack is built from; see the module docstring."""

    backend: str = "embedded"
    controller: str | None = None
    worker: str | None = None
    controller_image: str | None = None
    worker_image: str | None = None
    redis_url: str | None = None
    aws_endpoint_url: str | None = None
    region: str = defaults.REGION
    deadline: float = DEFAULT_DEADLINE
    runtime: str = "process"
    #: ``NANOGRID_DOCKER_IMAGE`` and the like, for the workers (``runtime = docker``).
    worker_env: Mapping[str, str] | None = None

    @classmethod
    def from_config(cls, config: pytest.Config, environ: Mapping[str, str]) -> NanoGridOptions:
        """Option > ini > environment > default; a bad value is a :class:`pytest.UsageError`."""
        given: dict[str, str] = {}
        for setting in _SETTINGS:
            value = (
                config.getoption(f"nanogrid_{setting.name}")
                or config.getini(f"nanogrid_{setting.name}")
                or (environ.get(setting.env) if setting.env else None)
            )
            if not value:
                continue
            if setting.choices is not None and value not in setting.choices:
                choices = ", ".join(setting.choices)
                raise pytest.UsageError(
                    f"nanogrid_{setting.name} = {value!r}: choose one of {choices}"
                )
            given[setting.name] = str(value)
        for role in ("controller", "worker"):
            if given.get(role) and given.get(f"{role}_image"):
                raise pytest.UsageError(f"give nanogrid_{role} or nanogrid_{role}_image, not both")
        image = environ.get("NANOGRID_DOCKER_IMAGE")
        return cls(
            **{k: v for k, v in given.items() if k != "deadline"},
            deadline=_seconds(given.get("deadline")),
            worker_env={"NANOGRID_DOCKER_IMAGE": image} if image else None,
        )

    def command(self, role: str) -> str | None:
        """The command of the ``role`` ("controller", "worker") under test, if any: the one
        given, or the one that runs the given image (:mod:`harness.image_component`)."""
        from harness.image_component import image_command

        image = self.controller_image if role == "controller" else self.worker_image
        if image:
            return image_command(image)
        return self.controller if role == "controller" else self.worker

    def backend_factory(self, environ: Mapping[str, str]) -> Callable[[Path], Backend]:
        """What :class:`~harness.scenario.runner.ScenarioHarness` builds its backend with."""
        from harness.env.base import Endpoints
        from harness.env.embedded import EmbeddedBackend
        from harness.env.external import ExternalBackend
        from harness.env.localstack import LocalStackBackend

        if self.backend == "external":
            if not self.redis_url or not self.aws_endpoint_url:
                raise pytest.UsageError(
                    "--nanogrid-backend external needs --nanogrid-redis-url and "
                    "--nanogrid-aws-endpoint-url (an emulator the fault proxies can stand before)"
                )
            endpoints = Endpoints(self.redis_url, self.aws_endpoint_url, self.region)
            return lambda _: ExternalBackend(endpoints)
        if self.backend == "containers":
            from harness.env.containers import ContainersBackend  # needs nanogrid[containers]

            return lambda directory: ContainersBackend.from_env(environ, directory)
        if self.backend == "localstack":
            return lambda directory: LocalStackBackend.from_env(
                environ,
                directory,
                aws_endpoint_url=self.aws_endpoint_url,
                redis_url=self.redis_url,
                region=self.region,
            )
        return lambda directory: EmbeddedBackend(directory, region=self.region)


def _seconds(value: str | None) -> float:
    if value is None:
        return DEFAULT_DEADLINE
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds <= 0:
        raise pytest.UsageError(f"nanogrid_deadline = {value!r}: a number of seconds above 0")
    return seconds


def add_options(parser: pytest.Parser) -> None:
    """Register every setting as ``--nanogrid-<name>`` and as the ini key ``nanogrid_<name>``."""
    group = parser.getgroup("nanogrid", "NanoGrid harness (see `pytest --fixtures`)")
    for setting in _SETTINGS:
        env = f" [env {setting.env}]" if setting.env else ""
        group.addoption(
            f"--nanogrid-{setting.name.replace('_', '-')}",
            dest=f"nanogrid_{setting.name}",
            metavar=setting.metavar,
            choices=setting.choices,
            default=None,
            help=setting.help + env,
        )
        parser.addini(f"nanogrid_{setting.name}", setting.help + env, default="")
