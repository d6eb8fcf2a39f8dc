"""The filesystem sandbox of a process function: what it holds, and whether the OS allows it.

The sandbox is built in the child the spawner forks for a run, between fork and exec, by
``_sandbox_main.py`` (standard library only; see its docstring for what the function gets).
This module is the worker's side: the directories a function may read, the spec the
spawner is sent, and a probe, run once, that the OS allows it all.

Usage::

    sandbox = probe_sandbox(interpreter)  # None where the OS refuses it
    if sandbox is not None:
        spawner.spawn([interpreter, "main.py"], code_dir, env, fds, sandbox=sandbox.spec(n))
"""

from __future__ import annotations

import functools
import json
import logging
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nanogrid.runtime import _sandbox_main as launcher

log = logging.getLogger(__name__)

#: The function's private writable directory: its ``HOME`` and ``TMPDIR``.
SCRATCH = launcher.SCRATCH
#: System directories the interpreter may need, bound read-only where they exist.
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
_SCRIPT = Path(launcher.__file__)
_PROBE_VOLUME_BYTES = 16 * 1024 * 1024
# Starts the interpreter as a function would (site included) and checks its code is read-only.
_PROBE = "import os, sys; sys.exit(os.access(os.getcwd(), os.W_OK))"
_INTERPRETER_DIRS = (
    "import json, sys; "
    "print(json.dumps([sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix]))"
)


@dataclass(frozen=True)
class Sandbox:
    """The read-only paths of a sandboxed run (the system's and the interpreter's), and the
    writable ones: none, but where a test shares a ledger with its functions."""

    readonly: tuple[str, ...]
    writable: tuple[str, ...] = ()

    def spec(self, volume_bytes: int) -> dict[str, Any]:
        """What the spawner is sent; ``volume_bytes`` caps /tmp, /scratch and /dev/shm."""
        return {
            "volume_bytes": volume_bytes,
            "readonly": list(self.readonly),
            "writable": list(self.writable),
        }

    def script(self, volume_bytes: int) -> list[str]:
        """The same sandbox as a command line, ``ARGV`` to follow (what the probe runs)."""
        return [sys.executable, "-I", "-S", str(_SCRIPT), str(volume_bytes), *self.readonly, "--"]


def interpreter_dirs(interpreter: str) -> tuple[str, ...]:
    """The directories an interpreter runs from: its prefixes, as it reports them."""
    try:
        out = subprocess.run(
            [interpreter, "-I", "-c", _INTERPRETER_DIRS],
            capture_output=True,
            timeout=10,
            check=True,
            env={"PATH": "/usr/bin:/bin"},
        ).stdout
        reported = json.loads(out)
    except (OSError, subprocess.SubprocessError, ValueError):
        return ()
    found = {os.path.dirname(interpreter), *reported}
    return tuple(sorted({d for path in found for d in (path, os.path.realpath(path))}))


@functools.cache
def probe_sandbox(interpreter: str) -> Sandbox | None:
    """A :class:`Sandbox` for ``interpreter`` if a function can run in one here, else None."""
    dirs = interpreter_dirs(interpreter)
    if not dirs:
        return None
    sandbox = Sandbox((*SYSTEM_DIRS, *dirs))
    argv = [*sandbox.script(_PROBE_VOLUME_BYTES), interpreter, "-c", _PROBE]
    with tempfile.TemporaryDirectory(prefix="nanogrid-probe-") as cwd:
        try:
            probe = subprocess.run(
                argv, cwd=cwd, capture_output=True, timeout=10, check=False, env={"LANG": "C"}
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.info("filesystem sandbox unavailable: %s", exc)
            return None
    if probe.returncode != 0:
        reason = probe.stderr.decode(errors="replace").strip() or f"exit {probe.returncode}"
        log.info("filesystem sandbox unavailable: %s", reason)
        return None
    return sandbox
