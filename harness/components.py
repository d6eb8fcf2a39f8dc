"""Components under test: a command that replaces the reference controller or worker.

The harness starts the command exactly where it would start the reference component, with
the fault proxies between it and Redis / AWS, and appends its stdout and stderr to
``<run dir>/controller.log`` (``worker-N.log``). It is told everything through its
environment; this is the whole contract:

===============================  ===========================================================
variable                         meaning
===============================  ===========================================================
``PORT``                         (controller) the port to serve HTTP on, on 127.0.0.1
``REDIS_URL``                    Redis, through this component's fault proxy
``AWS_ENDPOINT_URL``             AWS (an emulator), through this component's S3 proxy
``AWS_ENDPOINT_URL_<SERVICE>``   per-service endpoints (``_S3``, ``_SQS``, ``_DYNAMODB``,
                                 ``_CLOUDWATCH``), each through its own proxy; boto3 reads
                                 them by itself
``AWS_REGION``                   region of every AWS client
``AWS_ACCESS_KEY_ID`` / ``..._SECRET_ACCESS_KEY``  the emulator's credentials
``NANOGRID_BUCKET``              code bucket (``functions/{functionId}/v{N}.zip``)
``NANOGRID_TABLE``               metadata table, key ``functionId``
``NANOGRID_QUEUE`` / ``_URL``    task queue name and URL
``NANOGRID_RUN_DEADLINE``        seconds ``POST /run`` waits for a result
``NANOGRID_REDIS_CONNECT_TIMEOUT``  Redis connect / read timeouts, seconds
``NANOGRID_REDIS_SOCKET_TIMEOUT``
``NANOGRID_WORKER_ID``           (worker) its name; ``NANOGRID_WORK_DIR`` its scratch space
``PATH``                         the harness interpreter's directory first, so ``python3``
                                 has the harness's packages (boto3, redis)
===============================  ===========================================================

Readiness: the controller is ready when ``GET /health`` answers 200, or, when it has no
``/health`` (404), when its port accepts a connection; a worker is not waited for.
"""

from __future__ import annotations

import http.client
import os
import shlex
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path


def command_argv(command: str) -> list[str]:
    """The argv of a shell-style ``command``; its program made absolute (a path or on PATH)."""
    argv = shlex.split(command)
    if not argv:
        raise ValueError("empty component command")
    program = Path(argv[0])
    if "/" in argv[0]:
        resolved = program.resolve()
    else:
        found = shutil.which(argv[0])
        resolved = Path(found) if found else program
    if not os.access(resolved, os.X_OK):
        raise ValueError(f"component command {argv[0]!r} is not an executable file")
    return [str(resolved), *argv[1:]]


def command_env(env: Mapping[str, str], queue: str, port: int | None = None) -> dict[str, str]:
    """``env`` (what the reference component would get) completed to the contract above."""
    out = dict(env)
    out["NANOGRID_QUEUE"] = queue
    out["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), out.get("PATH", "")])
    if port is not None:
        out["PORT"] = str(port)
    return out


def reachable(port: int, host: str = "127.0.0.1") -> bool:
    """The contract's readiness check: ``GET /health`` is 200, or there is no ``/health``
    and the port accepts connections. Connection errors propagate (OSError: not yet)."""
    conn = http.client.HTTPConnection(host, port, timeout=2)
    try:
        conn.request("GET", "/health")
        status = conn.getresponse().status
    finally:
        conn.close()
    return status in (200, 404)
