"""The filesystem sandbox's machinery: the probe, the fallback where the OS refuses it, and
a sandbox that cannot be built.

What the sandbox keeps a function from doing is attacked in ``test_security.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from nanogrid.runtime import _sandbox_main, sandbox
from nanogrid.runtime.base import RuntimeUnavailable
from nanogrid.runtime.process import ProcessRuntime
from nanogrid.runtime.sandbox import probe_sandbox
from tests.nanogrid.runtime.conftest import (
    LIMITS,
    MEMO_FUNCTION,
    MEMO_STDOUT,
    Run,
    require_sandbox,
    run_where_user_namespaces_are_refused,
)


@pytest.fixture
def fresh_probe() -> Iterator[None]:
    """The probe runs once per interpreter: forget its answer before and after the test."""
    probe_sandbox.cache_clear()
    yield
    probe_sandbox.cache_clear()


# Writes its code directory and reports what the runtime said it isolates.
FALLBACK = """
    import json, pathlib, sys
    from nanogrid.runtime.base import ExecutionLimits
    from nanogrid.runtime.process import ProcessRuntime
    code = pathlib.Path(sys.argv[1])
    (code / "main.py").write_text("import os\\nopen('out', 'w')\\nprint(os.environ['HOME'])\\n")
    with ProcessRuntime() as runtime:
        execution = runtime.run(code, None, ExecutionLimits(256, 10.0))
    print(json.dumps({
        "filesystem": runtime.filesystem_isolated,
        "network": runtime.network_isolated,
        "exit": execution.exit_code,
        "stdout": execution.stdout,
        "wrote": (code / "out").exists(),
    }))
"""


def test_where_the_os_refuses_the_namespaces_functions_run_as_before(code_dir: Path) -> None:
    source = FALLBACK.replace("sys.argv[1]", repr(str(code_dir)))
    done = run_where_user_namespaces_are_refused(source)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "filesystem": False,
        "network": False,
        "exit": 0,
        "stdout": f"{code_dir}\n",  # HOME is the code directory, which is writable
        "wrote": True,
    }


def test_the_probe_answers_none_for_an_interpreter_that_does_not_start(fresh_probe: None) -> None:
    assert probe_sandbox("/bin/false") is None


def test_the_sandbox_reads_the_interpreters_own_directories() -> None:
    found = sandbox.interpreter_dirs(sys.executable)
    assert sys.prefix in found
    assert sys.base_prefix in found


def test_without_the_sandbox_a_function_runs_as_before(code_dir: Path) -> None:
    (code_dir / "main.py").write_text("import os\nprint(os.environ['HOME'])\nopen('out', 'w')\n")
    with ProcessRuntime(isolate_filesystem=False) as runtime:
        assert not runtime.filesystem_isolated
        execution = runtime.run(code_dir, None, LIMITS)
    assert execution.exit_code == 0, execution.stderr
    assert execution.stdout == f"{code_dir}\n"
    assert (code_dir / "out").exists()


def test_a_sandbox_that_cannot_be_built_is_runtime_unavailable(
    runtime: ProcessRuntime, run: Run, tmp_path: Path
) -> None:
    require_sandbox(runtime)
    assert run(MEMO_FUNCTION).stdout == MEMO_STDOUT
    runtime._sandbox = sandbox.Sandbox((*runtime._sandbox.readonly, "relative/path"))
    with pytest.raises(RuntimeUnavailable, match=r"cannot start .*relative/path"):
        run(MEMO_FUNCTION)


def test_the_script_reports_a_failed_setup_before_running_anything(tmp_path: Path) -> None:
    launcher = [*sandbox.Sandbox(("relative/path",)).script(1 << 20), "/bin/echo", "ran"]
    done = subprocess.run(launcher, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == _sandbox_main.SETUP_FAILED
    assert done.stderr.startswith(_sandbox_main.MARKER)
    assert done.stdout == ""


def test_the_script_ends_as_the_function_did(tmp_path: Path) -> None:
    probe = sandbox.probe_sandbox(sys.executable)
    if probe is None:
        require_sandbox(ProcessRuntime())
    assert probe is not None
    function = [sys.executable, "-c", "import os; print(os.getpid()); raise SystemExit(7)"]
    argv = [*probe.script(1 << 24), *function]
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (7, "1\n", "")  # PID 1, exit 7
