"""Run ``main.py`` in a process forked from the zygote, as ``python main.py`` would.

The spawner (``_spawner_main.py``), started as a zygote, forks a child per run, applies the
run's isolation in it (session, fds, cwd, namespaces and root, limits) and then calls
:func:`run` instead of exec'ing an interpreter. Standard library only, like the spawner.

What the function sees is what ``python main.py`` gives it, run in the code directory:
``__name__ == "__main__"`` in a fresh ``__main__`` module, ``__file__`` the absolute path,
``sys.argv == ["main.py"]``, ``sys.path[0]`` the code directory, its environment (and the C
library's) exactly the run's, stdin/stdout/stderr new text streams on fds 0-2 (unbuffered
with ``PYTHONUNBUFFERED``, as the interpreter makes them), no bytecode written with
``PYTHONDONTWRITEBYTECODE``. It ends the way the interpreter ends: ``sys.exit`` codes and
messages, an uncaught exception printed by ``sys.excepthook`` (the traceback starts at the
function's own module) with exit status 1, a missing ``main.py`` reported as the interpreter
does with status 2, then non-daemon threads joined, ``atexit`` handlers run, stdio flushed
(status 120 when stdout cannot be), and an uncaught ``KeyboardInterrupt`` dying of SIGINT.

What differs from a fresh interpreter, because the process was forked: modules the zygote
imported are already in ``sys.modules`` (the standard library's only: the platform's
modules are removed first), every run shares the zygote's string-hash seed, and
``sys.flags`` are the zygote's (isolated mode). Nothing of a run reaches the next one: each
runs in a child of its own and the zygote never runs function code.
"""

from __future__ import annotations

import atexit
import builtins
import io
import os
import signal
import sys
import types
from collections.abc import Mapping
from importlib.machinery import SourceFileLoader
from typing import Any, NoReturn

#: Modules of the platform that the zygote loaded: gone from ``sys.modules`` before a run.
PLATFORM_MODULES = ("__main__", "_sandbox_main", "_function_main")
#: The status the interpreter exits with when it cannot flush stdout at exit.
FLUSH_FAILED = 120
_C_INT_MAX = 2**31 - 1


def run(script: str, program: str, env: Mapping[str, str], ready_fd: int) -> NoReturn:
    """Become ``program script`` in the working directory; never returns.

    ``ready_fd`` is closed once the run is set up and before any function code runs: the
    spawner reads EOF on it as the exec of the fresh-interpreter path.
    """
    os.environ.clear()
    os.environ.update(env)
    sys.dont_write_bytecode = bool(env.get("PYTHONDONTWRITEBYTECODE"))
    _open_stdio(unbuffered=bool(env.get("PYTHONUNBUFFERED")))
    for name in PLATFORM_MODULES:
        sys.modules.pop(name, None)
    path = os.path.abspath(script)
    module = _main_module(path)
    sys.argv = [script]
    sys.orig_argv = [program, script]
    sys.path.insert(0, os.path.dirname(path))
    os.close(ready_fd)
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as exc:
        sys.stderr.write(
            f"{program}: can't open file {path!r}: [Errno {exc.errno}] {exc.strerror}\n"
        )
        _finish(2)
    _finish(_execute(source, path, module))


def _open_stdio(unbuffered: bool) -> None:
    """New ``sys.std*`` on fds 0-2, encoded as the zygote's own (the run's locale)."""
    streams = []
    for fd, name, mode, template in (
        (0, "<stdin>", "r", sys.__stdin__),
        (1, "<stdout>", "w", sys.__stdout__),
        (2, "<stderr>", "w", sys.__stderr__),
    ):
        encoding = template.encoding if template is not None else "utf-8"
        errors = template.errors if template is not None else "strict"
        raw = io.FileIO(fd, mode, closefd=False)
        raw.name = name  # what the interpreter names them
        buffer: Any = raw
        if mode == "r":
            buffer = io.BufferedReader(raw)
        elif not unbuffered:
            buffer = io.BufferedWriter(raw)
        stream = io.TextIOWrapper(
            buffer,
            encoding=encoding,
            errors=errors,
            newline="\n",
            line_buffering=fd == 2 and not unbuffered,  # stderr is line-buffered
            write_through=unbuffered,
        )
        stream.mode = mode  # type: ignore[misc]  # read-only in the stubs, settable here
        streams.append(stream)
    sys.stdin, sys.stdout, sys.stderr = streams
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = streams  # type: ignore[misc]


def _main_module(path: str) -> types.ModuleType:
    module = types.ModuleType("__main__")
    module.__file__ = path
    module.__loader__ = SourceFileLoader("__main__", path)
    module.__builtins__ = builtins  # type: ignore[attr-defined]
    module.__cached__ = None  # type: ignore[attr-defined]
    module.__annotations__ = {}  # as the interpreter makes its main module
    module.__spec__ = None
    module.__package__ = None
    sys.modules["__main__"] = module
    return module


def _execute(source: bytes, path: str, module: types.ModuleType) -> int:
    """Run the function's code in ``module``; its exit status."""
    try:
        code = compile(source, path, "exec", dont_inherit=True)
        exec(code, module.__dict__)
    except SystemExit as exc:
        return _exit_status(exc)
    except BaseException as exc:
        _report(exc)
        if isinstance(exc, KeyboardInterrupt):
            _finish(1, interrupted=True)
        return 1
    return 0


def _exit_status(exc: SystemExit) -> int:
    """What the interpreter exits with for ``SystemExit(code)``, printing a non-int code."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code if -_C_INT_MAX - 1 <= code <= _C_INT_MAX else -1
    try:
        sys.stderr.write(f"{code}\n")
    except Exception:
        pass
    return 1


def _report(exc: BaseException) -> None:
    """Print an uncaught exception as the interpreter does, from the function's frames."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == _execute.__code__.co_filename:
        tb = tb.tb_next
    exc.__traceback__ = tb  # what the default hook prints, whatever tb it is given
    sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, tb
    try:
        sys.excepthook(type(exc), exc, tb)
    except BaseException:
        sys.__excepthook__(type(exc), exc, tb)


def _finish(status: int, *, interrupted: bool = False) -> NoReturn:
    """The interpreter's exit: join threads, run atexit handlers, flush stdio, exit."""
    threading = sys.modules.get("threading")
    if threading is not None:
        try:
            threading._shutdown()
        except BaseException:
            pass
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:
            if stream is sys.stdout:
                status = FLUSH_FAILED
    if interrupted:  # die of SIGINT; where that is not possible (PID 1), exit 130 instead
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        status = 128 + signal.SIGINT
    os._exit(status & 0xFF)
