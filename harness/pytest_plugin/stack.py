"""The session's proxied stack, built from the plugin's options, and what it must leave.

:func:`session_stack` starts a :class:`~harness.scenario.runner.ScenarioHarness` (the
backend, one fault proxy per network path, the controller and two workers, or the
components under test) and, once it is stopped, fails if a process it started is still
running: every process the harness starts is stopped on every exit path.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from harness.procs import descendants, pid_running
from harness.pytest_plugin.errors import NanoGridAssertion
from harness.pytest_plugin.options import NanoGridOptions
from harness.scenario.runner import ScenarioHarness
from harness.stack import wait_until

#: How long the stack's processes get to go away after it stopped them.
EXIT_TIMEOUT = 10.0


@contextlib.contextmanager
def session_stack(
    options: NanoGridOptions, root: Path, environ: Mapping[str, str]
) -> Iterator[ScenarioHarness]:
    """The started stack; on exit, :class:`NanoGridAssertion` if it left a process behind."""
    others = descendants(os.getpid())  # servers of other fixtures in the same session
    harness = ScenarioHarness(
        root,
        deadline=options.deadline,
        backend=options.backend_factory(environ),
        runtime=options.runtime,
        worker_env=dict(options.worker_env or {}),
        controller_command=options.command("controller"),
        worker_command=options.command("worker"),
    )
    with harness:
        yield harness
        started = descendants(os.getpid()) - others
    left = [pid for pid in sorted(started) if pid_running(pid)]
    if not wait_until(lambda: not any(pid_running(pid) for pid in left), timeout=EXIT_TIMEOUT):
        raise NanoGridAssertion(f"processes left behind by the NanoGrid stack: {left}")
