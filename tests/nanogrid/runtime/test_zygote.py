"""Runs forked from the zygote behave as ``python main.py`` does, and leave nothing behind.

Each semantic test runs the same function both ways, forked from the zygote and as a fresh
interpreter, and compares what the function observed and how it ended: the fresh
interpreter is the specification. The leak tests run one function that tries to leave
state behind in every way it can, then another that looks for it.
"""

from __future__ import annotations

import json
import signal
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from nanogrid.runtime.base import Execution
from nanogrid.runtime.process import INTERPRETER, ZYGOTE, ProcessRuntime
from tests.nanogrid.runtime.conftest import LIMITS

# What a function can observe of how it was started.
OBSERVE = """
    import json, os, sys
    print(json.dumps({
        "name": __name__,
        "file": __file__,
        "argv": sys.argv,
        "orig_argv": sys.orig_argv,
        "path0": sys.path[0],
        "cwd": os.getcwd(),
        "environ": dict(os.environ),
        "main_globals": sorted(globals()),
        "main_is_module": sys.modules["__main__"].__dict__ is globals(),
        "spec": repr(__spec__),
        "loader": type(__loader__).__name__,
        "package": __package__,
        "stdio": [
            [s.name, s.encoding, s.errors, s.line_buffering, s.write_through, s.mode]
            for s in (sys.stdin, sys.stdout, sys.stderr)
        ],
        "dont_write_bytecode": sys.dont_write_bytecode,
        "input": json.load(sys.stdin),
        "fds": sorted(os.listdir("/proc/self/fd")),
        "sigint": repr(__import__("signal").getsignal(2)),
        "sigpipe": repr(__import__("signal").getsignal(13)),
    }))
"""

ENDINGS = {
    "exit-code": "import sys; sys.exit(3)",
    "exit-message": "import sys; sys.exit('bye now')",
    "exit-none": "raise SystemExit",
    "exit-true": "raise SystemExit(True)",
    "uncaught": "def f():\n    raise ValueError('boom')\nprint('before')\nf()\n",
    "syntax-error": "print('never'\n",
    "excepthook": (
        "import sys\n"
        "sys.excepthook = lambda t, v, tb: print('hooked', t.__name__, file=sys.stderr)\n"
        "raise KeyError('k')\n"
    ),
    "atexit-and-thread": (
        "import atexit, threading, time\n"
        "atexit.register(print, 'atexit ran')\n"
        "t = threading.Thread(target=lambda: (time.sleep(0.2), print('thread done')))\n"
        "t.start()\n"
        "print('main done')\n"
    ),
    "keyboard-interrupt": "raise KeyboardInterrupt",
    "stdout-closed": "import os, sys\nprint('x' * 10)\nos.close(1)\n",
    "bytes-out": "import sys; sys.stdout.buffer.write(b'\\xff\\xfe raw'); print(' and text')",
    "surrogate": "import sys; print(sys.stdin.read())",
}


@pytest.fixture(scope="module")
def runtimes() -> Iterator[dict[str, ProcessRuntime]]:
    with ProcessRuntime(start=ZYGOTE) as zygote, ProcessRuntime(start=INTERPRETER) as fresh:
        if zygote.start != ZYGOTE:
            pytest.skip("the zygote needs the filesystem sandbox or no isolation at all here")
        yield {ZYGOTE: zygote, INTERPRETER: fresh}


def run_both(
    runtimes: dict[str, ProcessRuntime], code_dir: Path, source: str, input_data: object = None
) -> dict[str, Execution]:
    (code_dir / "main.py").write_text(textwrap.dedent(source).lstrip())
    return {
        start: runtime.run(code_dir, input_data, LIMITS, {"NANOGRID_REQUEST_ID": "r-1"})
        for start, runtime in runtimes.items()
    }


def ending(execution: Execution) -> tuple[int | None, int | None, str, str]:
    return execution.exit_code, execution.signal, execution.stdout, execution.stderr


def test_a_function_observes_what_python_main_py_gives_it(
    runtimes: dict[str, ProcessRuntime], code_dir: Path
) -> None:
    runs = run_both(runtimes, code_dir, OBSERVE, {"x": [1, "é"]})
    seen = {start: json.loads(run.stdout) for start, run in runs.items()}
    assert all(run.exit_code == 0 for run in runs.values()), runs
    assert seen[ZYGOTE] == seen[INTERPRETER]
    assert seen[ZYGOTE]["name"] == "__main__"
    assert seen[ZYGOTE]["argv"] == ["main.py"]
    assert seen[ZYGOTE]["fds"] == ["0", "1", "2", "3"]  # 3: the listdir itself
    assert seen[ZYGOTE]["environ"]["NANOGRID_REQUEST_ID"] == "r-1"


@pytest.mark.parametrize("name", sorted(ENDINGS))
def test_a_function_ends_as_python_main_py_ends(
    runtimes: dict[str, ProcessRuntime], code_dir: Path, name: str
) -> None:
    runs = run_both(runtimes, code_dir, ENDINGS[name], "caf\udce9" if name == "surrogate" else None)
    assert ending(runs[ZYGOTE]) == ending(runs[INTERPRETER])


def test_endings_are_the_interpreters(runtimes: dict[str, ProcessRuntime], code_dir: Path) -> None:
    # What the comparisons above compare: not two identical mistakes.
    codes = {}
    for name in ("exit-code", "exit-message", "uncaught", "syntax-error", "keyboard-interrupt"):
        run = run_both({ZYGOTE: runtimes[ZYGOTE]}, code_dir, ENDINGS[name])[ZYGOTE]
        codes[name] = (run.exit_code, run.signal, (run.stderr.splitlines() or [""])[-1])
    assert codes["exit-code"][:2] == (3, None)
    assert codes["exit-message"] == (1, None, "bye now")
    assert codes["uncaught"] == (1, None, "ValueError: boom")
    assert codes["syntax-error"][:2] == (1, None)
    # Dead of SIGINT, or (PID 1 of its namespace, which cannot be) exit status 130.
    assert codes["keyboard-interrupt"][0] == 128 + signal.SIGINT
    uncaught = run_both({ZYGOTE: runtimes[ZYGOTE]}, code_dir, ENDINGS["uncaught"])[ZYGOTE]
    assert uncaught.stderr.startswith("Traceback (most recent call last):\n")
    assert "_function_main" not in uncaught.stderr
    assert "_spawner_main" not in uncaught.stderr


def test_a_missing_main_py_is_reported_as_the_interpreter_does(
    runtimes: dict[str, ProcessRuntime], code_dir: Path
) -> None:
    runs = {start: rt.run(code_dir, None, LIMITS) for start, rt in runtimes.items()}
    assert ending(runs[ZYGOTE]) == ending(runs[INTERPRETER])
    assert runs[ZYGOTE].exit_code == 2
    assert "can't open file" in runs[ZYGOTE].stderr


LEAVE_STATE = """
    import json, os, signal, sys, atexit
    json.LEFT_BEHIND = "module attribute"
    sys.modules["left_behind"] = type(sys)("left_behind")
    sys.path.append("/left/behind")
    os.environ["LEFT_BEHIND"] = "environment"
    signal.signal(signal.SIGUSR1, lambda *a: None)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for folder in ("/tmp", os.environ.get("HOME", "/tmp")):
        try:
            with open(os.path.join(folder, "left-behind"), "w") as f:
                f.write("file")
        except OSError:
            pass
    import random
    print(json.dumps({"random": random.random()}))
"""

FIND_STATE = """
    import json, os, signal, sys, random
    found = []
    if hasattr(json, "LEFT_BEHIND"): found.append("module attribute")
    if "left_behind" in sys.modules: found.append("module")
    if "/left/behind" in sys.path: found.append("sys.path")
    if "LEFT_BEHIND" in os.environ: found.append("environment")
    if signal.getsignal(signal.SIGUSR1) is not signal.SIG_DFL: found.append("SIGUSR1 handler")
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL: found.append("SIGTERM ignored")
    for folder in ("/tmp", os.environ.get("HOME", "/tmp")):
        if os.path.exists(os.path.join(folder, "left-behind")): found.append("file in " + folder)
    ours = ("nanogrid", "_spawner", "_sandbox", "_function")
    platform = [m for m in sys.modules if m.startswith(ours)]
    print(json.dumps({"found": found, "platform": platform, "random": random.random()}))
"""


def test_nothing_leaks_from_one_run_to_the_next(tmp_path: Path) -> None:
    with ProcessRuntime(start=ZYGOTE) as runtime:
        if runtime.start != ZYGOTE or not runtime.filesystem_isolated:
            pytest.skip("private /tmp and HOME need the filesystem sandbox")
        first, second = tmp_path / "first", tmp_path / "second"
        for folder, source in ((first, LEAVE_STATE), (second, FIND_STATE)):
            folder.mkdir()
            (folder / "main.py").write_text(textwrap.dedent(source).lstrip())
        left = runtime.run(first, None, LIMITS)
        assert left.exit_code == 0, left.stderr
        looked = runtime.run(second, None, LIMITS)
        assert looked.exit_code == 0, looked.stderr
    found = json.loads(looked.stdout)
    assert found["found"] == []
    assert found["platform"] == []
    assert found["random"] != json.loads(left.stdout)["random"]  # reseeded in every child


def test_the_zygote_itself_runs_no_function_code(tmp_path: Path) -> None:
    # A function that changes module state, then the same function again: it must see the
    # zygote's pristine state both times.
    count = "getattr(json, 'COUNT', 0)"
    (tmp_path / "main.py").write_text(f"import json\nprint({count})\njson.COUNT = {count} + 1\n")
    with ProcessRuntime(start=ZYGOTE) as runtime:
        outputs = [runtime.run(tmp_path, None, LIMITS).stdout for _ in range(3)]
    assert outputs == ["0\n", "0\n", "0\n"]


def test_the_fresh_interpreter_stays_available() -> None:
    with ProcessRuntime(start=INTERPRETER) as runtime:
        assert runtime.start == INTERPRETER
    with pytest.raises(ValueError, match="unknown start"):
        ProcessRuntime(start="warm")
