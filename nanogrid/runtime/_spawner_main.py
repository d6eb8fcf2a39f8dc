"""NanoGrid's fork server: forks and execs functions for the worker, then reaps them.

Run as ``python -I -S _spawner_main.py CONTROL_FD PARENT_PID``; it imports the standard
library only, so it stays small, and so does the ``ru_maxrss`` its children inherit.

Run as ``python -I _spawner_main.py CONTROL_FD PARENT_PID --zygote`` (``site`` included, as a
function's interpreter has it), it is also a *zygote*: it imports the modules a function
commonly needs once (:data:`PRELOAD`), and a request with a ``script`` runs that script in
the forked child itself (``_function_main.py``), with ``python SCRIPT`` semantics, instead of
exec'ing a fresh interpreter: the child is set up exactly as for an exec (session, fds,
namespaces and root, limits), and its Python objects holding the spawner's descriptors are
closed before any function code runs. The zygote itself never runs function code.

Protocol (``SOCK_SEQPACKET``, one JSON object per message):

- The worker sends ``{"argv", "cwd", "env", "rlimit_as", "sandbox", "script"}`` on the control
  socket with four fds: the child's stdin, stdout, stderr, and a *run socket* for this child
  alone. ``sandbox`` is ``null`` or ``{"volume_bytes", "readonly", "writable"}``: then the
  child enters the filesystem sandbox of ``_sandbox_main.py`` (and its namespaces) first.
  ``script`` is ``null`` (exec ``argv``) or, in a zygote, the script to run in the child
  (``argv[0]`` then names the interpreter in its messages).
- On the run socket the spawner answers ``{"pid"}`` once the child has exec'd (or
  ``{"error"}``), then ``{"pid", "status", "ru_maxrss"}`` once it has reaped it.
- Anything the worker sends on the run socket, or closing it, SIGKILLs the child's
  process group. The group is also killed when its leader exits, before the reap. When the
  child is ``unshare --pid --fork`` or sandboxed, its namespace's PID 1 is killed first: the
  child then reaps it (so ``ru_maxrss`` keeps the function's peak) and dies of the same
  signal.
- When the control socket closes, every child's group is killed and the spawner exits
  without reporting them: their run sockets just close.
"""

from __future__ import annotations

import array
import ctypes
import importlib
import importlib.util
import json
import os
import resource
import selectors
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

_PR_SET_PDEATHSIG = 1
_MAX_REQUEST = 1024 * 1024
_FDS_PER_REQUEST = 4
#: What a zygote imports once, so that functions find it loaded: what a small function
#: needs (its input is JSON on stdin) and what printing its traceback needs.
PRELOAD = ("json", "traceback", "linecache", "tokenize", "atexit", "io", "types")
_libc = ctypes.CDLL(None, use_errno=True)
_siblings: dict[str, ModuleType] = {}


def die_with_parent(parent: int) -> None:
    """SIGKILL this process when its parent thread exits; exit now if it already has."""
    if _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")
    if os.getppid() != parent:
        os._exit(1)


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def namespace_init(pid: int) -> int | None:
    """The child of ``pid`` that is PID 1 of a nested PID namespace (``unshare --fork``)."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status") as f:
                status = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue  # exited meanwhile
        nspids = status.get("NSpid", "").split()
        if status.get("PPid", "").strip() == str(pid) and len(nspids) > 1 and nspids[-1] == "1":
            return int(entry.name)
    return None


def kill_run(pid: int) -> bool:
    """SIGKILL a child: its namespace's PID 1 if it has one (then ``True``), else its group."""
    init = namespace_init(pid)
    if init is not None:
        try:
            os.kill(init, signal.SIGKILL)  # the namespace dies with it; the reap kills the group
            return True
        except ProcessLookupError:
            pass
    kill_group(pid)
    return False


def receive_fds(sock: socket.socket) -> tuple[bytes, list[int], int]:
    """One request and its fds, close-on-exec: no function may inherit another's run socket.

    Not ``socket.recv_fds``: it ignores its ``flags`` (CPython 3.11), so its fds leak.
    """
    fds = array.array("i")
    data, ancdata, flags, _ = sock.recvmsg(
        _MAX_REQUEST, socket.CMSG_SPACE(_FDS_PER_REQUEST * fds.itemsize), socket.MSG_CMSG_CLOEXEC
    )
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    return data, list(fds), flags


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    try:
        sock.send(json.dumps(message).encode())
    except OSError:
        pass  # the worker gave up on this run; nobody is left to tell


class Child:
    """A running function: its pid, a pidfd readable when it exits, and its run socket."""

    def __init__(self, pid: int, run: socket.socket) -> None:
        self.pid = pid
        self.pidfd = os.pidfd_open(pid)
        self.run = run
        self.killed_init = False


class Spawner:
    """The single-threaded loop: requests on the control socket, exits on pidfds."""

    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.selector = selectors.DefaultSelector()
        self.selector.register(control, selectors.EVENT_READ)
        self.children: dict[int, Child] = {}

    def forget(self) -> None:
        """In a forked child: close this process's sockets and selector, as Python objects.

        Before the child closes every descriptor by number, so that no object left behind
        closes, when collected, a descriptor the function opened later under that number.
        """
        self.selector.close()
        self.control.close()
        for child in self.children.values():
            child.run.close()

    def serve(self) -> None:
        while True:
            for key, _ in self.selector.select():
                if key.fileobj is self.control:
                    if not self.accept():
                        return self.shutdown()
                    continue
                child: Child = key.data
                if self.children.get(child.pid) is not child:
                    continue  # reaped earlier in this batch
                if key.fd == child.pidfd:
                    self.reap(child)
                else:
                    self.on_run_message(child)

    def accept(self) -> bool:
        """Handle one request; ``False`` when the worker closed the control socket."""
        data, fds, flags = receive_fds(self.control)
        if not data and not fds:
            return False
        if len(fds) != _FDS_PER_REQUEST or flags & socket.MSG_TRUNC:
            for fd in fds:
                os.close(fd)
            return True  # malformed: the worker sees its run socket close
        run = socket.socket(fileno=fds[3])

        def forget() -> None:
            self.forget()
            run.close()

        try:
            pid = fork_exec(json.loads(data), fds[:3], forget)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            send(run, {"error": str(exc)})
            run.close()
            return True
        finally:
            for fd in fds[:3]:
                os.close(fd)
        child = Child(pid, run)
        self.children[pid] = child
        self.selector.register(child.pidfd, selectors.EVENT_READ, child)
        self.selector.register(run, selectors.EVENT_READ, child)
        send(run, {"pid": pid})
        return True

    def on_run_message(self, child: Child) -> None:
        try:
            closed = not child.run.recv(64)
        except OSError:
            closed = True
        if closed:  # the worker gave up on the run: stop listening
            self.selector.unregister(child.run)
        child.killed_init = kill_run(child.pid) or child.killed_init

    def reap(self, child: Child, report: bool = True) -> None:
        kill_group(child.pid)  # stragglers; before the reap, so the group id is not reused
        _, status, usage = os.wait4(child.pid, 0)
        self.selector.unregister(child.pidfd)
        if child.run.fileno() in self.selector.get_map():
            self.selector.unregister(child.run)
        if child.killed_init and os.WIFEXITED(status):
            # unshare (util-linux 2.38) cannot re-raise SIGKILL on itself and exits 1 instead.
            status = signal.SIGKILL
        if report:
            send(child.run, {"pid": child.pid, "status": status, "ru_maxrss": usage.ru_maxrss})
        os.close(child.pidfd)
        child.run.close()
        del self.children[child.pid]

    def shutdown(self) -> None:
        """Kill every child; their runs see the socket close, as if the spawner died."""
        for child in list(self.children.values()):
            self.reap(child, report=False)


@dataclass(frozen=True)
class Launch:
    """What to start, from a request: the command, where, with what, under which limits."""

    argv: list[str]
    cwd: str
    env: dict[str, str]
    rlimit_as: int | None
    sandbox: dict[str, Any] | None  # {"volume_bytes", "readonly", "writable"}
    script: str | None = None  # run in the zygote's child instead of exec'ing argv

    @classmethod
    def from_request(cls, request: dict[str, Any]) -> Launch:
        sandbox = request.get("sandbox")
        if sandbox is not None:
            sandbox = {
                "volume_bytes": int(sandbox["volume_bytes"]),
                "readonly": [str(p) for p in sandbox["readonly"]],
                "writable": [str(p) for p in sandbox.get("writable", [])],
            }
        return cls(
            argv=[str(arg) for arg in request["argv"]],
            cwd=str(request["cwd"]),
            env={str(k): str(v) for k, v in request["env"].items()},
            rlimit_as=request.get("rlimit_as"),
            sandbox=sandbox,
            script=None if request.get("script") is None else str(request["script"]),
        )


def sibling(name: str) -> ModuleType:
    """A module of this folder, loaded once: ``-I`` leaves this script's folder off sys.path."""
    if name not in _siblings:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise OSError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
        _siblings[name] = module
    return _siblings[name]


def fork_exec(request: dict[str, Any], fds: list[int], forget: Callable[[], None]) -> int:
    """Fork a child that execs ``request["argv"]`` (or, in a zygote, runs its ``script``);
    return its pid once it has exec'd (or is about to run the script).

    ``forget`` closes, in the child, the spawner's objects that hold descriptors.
    """
    launch = Launch.from_request(request)
    sandbox = sibling("_sandbox_main") if launch.sandbox is not None else None
    function = sibling("_function_main") if launch.script is not None else None
    parent = os.getpid()
    errors_r, errors_w = os.pipe()  # close-on-exec: EOF means the exec succeeded
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child execs or exits
        try:
            os.close(errors_r)
            if function is not None:
                forget()
            prepare_child(launch, sandbox, fds, parent, errors_w)
            if function is not None and launch.script is not None:
                function.run(launch.script, launch.argv[0], launch.env, errors_w)
            os.execve(launch.argv[0], launch.argv, launch.env)
        except BaseException as exc:  # the child must never return into the loop
            os.write(errors_w, str(exc).encode() or repr(exc).encode())
        finally:
            os._exit(127)
    os.close(errors_w)
    with open(errors_r, "rb") as errors:
        failure = errors.read()
    if failure:
        os.waitpid(pid, 0)
        raise OSError(failure.decode(errors="replace"))
    return pid


def prepare_child(
    launch: Launch, sandbox: ModuleType | None, fds: list[int], parent: int, errors_w: int
) -> None:
    """In the forked child: new session, death with the spawner, fds 0-2, limits, cwd.

    Every other fd is closed but ``errors_w`` (close-on-exec), which reports a failed setup.
    Sandboxed, this child stays to wait for the one that goes on
    (:func:`_sandbox_main.enter`). A script keeps Python's signal dispositions, as a fresh
    interpreter sets them; an exec gets the defaults.
    """
    os.setsid()
    die_with_parent(parent)
    if launch.script is None:
        for signum in (signal.SIGPIPE, signal.SIGXFSZ):  # Python ignores these; exec'd code not
            signal.signal(signum, signal.SIG_DFL)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for target, fd in enumerate(fds):  # received fds are >= 3: 0-2 are open here
        os.dup2(fd, target)
    os.closerange(3, errors_w)  # the control socket and other runs' sockets above all
    os.closerange(errors_w + 1, os.sysconf("SC_OPEN_MAX"))
    os.chdir(launch.cwd)
    if sandbox is not None and launch.sandbox is not None:
        spec = launch.sandbox
        sandbox.enter(spec["volume_bytes"], spec["readonly"], spec["writable"])
    if launch.rlimit_as is not None:  # last: Python above may need more than the function
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = launch.rlimit_as if hard == resource.RLIM_INFINITY else min(launch.rlimit_as, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main(args: list[str]) -> None:
    control_fd, parent = int(args[0]), int(args[1])
    die_with_parent(parent)
    os.set_inheritable(control_fd, False)  # inherited from the worker, for us alone
    if "--zygote" in args[2:]:
        for name in PRELOAD:
            importlib.import_module(name)
        sibling("_function_main")
        sibling("_sandbox_main")
    with socket.socket(fileno=control_fd) as control:
        Spawner(control).serve()


if __name__ == "__main__":
    main(sys.argv[1:])
