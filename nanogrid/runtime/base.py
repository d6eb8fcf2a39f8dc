"""What a Worker runtime is: run a function's ``main.py`` under limits and report how it went.

A runtime takes an unpacked code directory, the request's ``inputData`` and the function's
:class:`ExecutionLimits`, and returns an :class:`Execution`. It never raises for anything the
function did (non-zero exit, timeout, out of memory, no ``main.py``): those are facts of the
:class:`Execution`. It raises :class:`RuntimeUnavailable` only when it cannot run anything.

Usage::

    runtime: Runtime = ProcessRuntime()
    execution = runtime.run(code_dir, {"name": "x"}, ExecutionLimits(256, 10.0))
    if execution.timed_out: ...
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from nanogrid import defaults
from nanogrid.errors import NanoGridError


class RuntimeUnavailable(NanoGridError):
    """The runtime cannot start a function at all (no interpreter, no code directory)."""

    code = "RUNTIME_UNAVAILABLE"


@dataclass(frozen=True)
class ExecutionLimits:
    """The resources one run may use; ``max_output_bytes`` caps stdout and stderr each."""

    memory_mb: int
    timeout_seconds: float
    max_output_bytes: int = defaults.MAX_OUTPUT_BYTES

    def __post_init__(self) -> None:
        if self.memory_mb <= 0 or self.timeout_seconds <= 0 or self.max_output_bytes < 0:
            raise ValueError(f"invalid execution limits: {self!r}")


@dataclass(frozen=True)
class Execution:
    """How one run of a function went.

    ``exit_code`` is ``None`` when the runtime killed the function (timeout); a function that
    died of its own signal gets ``128 + signal``, as a shell or Docker reports it. ``stdout``
    and ``stderr`` are decoded as UTF-8 with replacement and hold at most
    ``max_output_bytes`` each (``*_truncated`` says when more was written).
    """

    command: list[str]
    exit_code: int | None
    signal: int | None
    stdout: str
    stderr: str
    stdout_truncated: bool
    stderr_truncated: bool
    duration_ms: int
    peak_memory_bytes: int
    timed_out: bool
    out_of_memory: bool


@runtime_checkable
class Runtime(Protocol):
    """Runs ``main.py`` of a code directory in isolation; ``name`` is its settings value.

    The ``*_isolated`` flags say what this runtime, on this OS, keeps a function out of: the
    network, other processes, and any file it could write but its scratch space. ``start``
    says how a run starts (``zygote``, ``interpreter``, ``container``).
    """

    name: str
    start: str
    network_isolated: bool
    processes_isolated: bool
    filesystem_isolated: bool

    def run(
        self,
        code_dir: Path,
        input_data: Any,
        limits: ExecutionLimits,
        env: Mapping[str, str] | None = None,
    ) -> Execution:
        """Run the function once with ``input_data``; ``env`` is added to a clean environment."""
        ...

    def close(self) -> None:
        """Release what the runtime holds (helper processes); a later run may start again."""
        ...
