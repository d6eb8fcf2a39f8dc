"""A component under test shipped as a container image, run as a command.

``python -m harness.image_component IMAGE [ARG...]`` runs ``IMAGE`` with ``docker run`` on
the host's network, passing it every variable of the environment contract
(:mod:`harness.components`) that is set, so that it reaches Redis and AWS through the same
fault proxies as a command would, and serves on ``PORT`` of 127.0.0.1. Its output is this
process's output (the harness's log file). On SIGTERM or SIGINT it stops the container
(``docker stop``, then removal); the container carries the ``nanogrid.harness`` label, so a
leftover is found. :func:`image_command` is the command string the harness starts::

    ScenarioHarness(root, controller_command=image_command("team/controller:1.4"))
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import uuid
from collections.abc import Mapping, Sequence
from types import FrameType

#: The contract's variables, passed into the container when set.
CONTRACT_VARIABLES = (
    "PORT",
    "REDIS_URL",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_CLOUDWATCH",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
)
#: Prefixes of variables passed too (the platform's own settings).
CONTRACT_PREFIXES = ("NANOGRID_", "OTEL_")
LABEL = "nanogrid.harness"
STOP_TIMEOUT_S = 5


def image_command(image: str, *args: str) -> str:
    """The command that runs ``image`` (with ``args``) as a component under test."""
    return shlex.join([sys.executable, "-m", "harness.image_component", image, *args])


def docker_argv(image: str, args: Sequence[str], env: Mapping[str, str], name: str) -> list[str]:
    """``docker run`` for ``image`` on the host network with the contract's variables."""
    argv = ["docker", "run", "--rm", "--init", "--network", "host", "--name", name]
    argv += ["--label", f"{LABEL}=component"]
    for key in sorted(env):
        if key in CONTRACT_VARIABLES or key.startswith(CONTRACT_PREFIXES):
            argv += ["--env", key]  # the value comes from this process's environment
    return [*argv, image, *args]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0].startswith("-"):
        print("usage: python -m harness.image_component IMAGE [ARG...]", file=sys.stderr)
        return 2
    name = f"nanogrid-component-{uuid.uuid4().hex[:12]}"
    child = subprocess.Popen(docker_argv(args[0], args[1:], os.environ, name))

    def stop(signum: int, frame: FrameType | None) -> None:
        subprocess.run(
            ["docker", "stop", "--time", str(STOP_TIMEOUT_S), name],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)
    try:
        return child.wait()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        subprocess.run(
            ["docker", "rm", "--force", name],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )


if __name__ == "__main__":
    sys.exit(main())
