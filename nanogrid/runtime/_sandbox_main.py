"""NanoGrid's filesystem sandbox: namespaces and a root of its own, built before any user code.

The spawner (``_spawner_main.py``) calls :func:`enter` in the child it forked for a run,
between fork and exec: standard library only, no interpreter started for it. It is also a
script, ``python -I -S _sandbox_main.py VOLUME_BYTES RO_PATH... -- ARGV...``, which does the
same in the working directory and is how the worker probes that the OS allows it.

:func:`enter` unshares user (the caller mapped to root), mount, network, IPC and PID
namespaces, then forks: the parent stays to :func:`relay` how the child ends (its exit code,
or the signal it died of), like ``unshare --fork --kill-child``; the child, PID 1 of the
new PID namespace and killed if the parent dies, builds a new root on a tmpfs, then
moves into it (``pivot_root``) and detaches the old one:

- each read-only path bound read-only at its own path (a symlink is recreated as such);
- the code directory (the working directory) bound read-only at its own path;
- each writable path, if any (a test's ledger: never in production), bound read-write;
- one private tmpfs of ``volume_bytes`` behind ``/tmp``, ``/scratch`` and ``/dev/shm``;
- ``/dev`` with null, zero, full, random and urandom bound read-only (writes reach the
  device, not the node), and the ``fd`` / ``std*`` links;
- ``/proc`` of its own PID namespace, read-only;
- the root itself read-only.

Then it drops every capability (bounding set, ambient and the three sets) and sets
``no_new_privs``: the function, root of its user namespace, can neither remount nor undo a
mount, and any namespace it creates gets copies of these mounts, locked. The caller then
execs the function. A step that fails raises :exc:`SetupError` (or ``OSError``) in the
child, before any function code ran; the script then writes ``nanogrid-sandbox: <what
failed>`` to stderr and exits 125.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

SETUP_FAILED = 125
MARKER = "nanogrid-sandbox: "
SCRATCH = "/scratch"
#: Where the private volume is mounted.
VOLUME_MOUNTS = ("/tmp", SCRATCH, "/dev/shm")
DEVICES = ("null", "zero", "full", "random", "urandom")
DEV_LINKS = (("fd", ""), ("stdin", "/0"), ("stdout", "/1"), ("stderr", "/2"))
#: Where the new root is mounted before the pivot; it covers nothing the sandbox binds,
#: since every source is opened before.
STAGING = "/tmp"

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME, MS_STRICTATIME = 1024, 2048, 1 << 21, 1 << 24
MNT_DETACH = 2
#: statvfs flags of a mount that a remount in a less privileged namespace must keep.
LOCKED_FLAGS = {
    os.ST_NODEV: MS_NODEV,
    os.ST_NOEXEC: MS_NOEXEC,
    os.ST_NOATIME: MS_NOATIME,
    os.ST_NODIRATIME: MS_NODIRATIME,
    os.ST_RELATIME: MS_RELATIME,
}
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUSER = 0x20000, 0x8000000, 0x10000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 1, 24, 38, 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
LINUX_CAPABILITY_VERSION_3 = 0x20080522
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}

_libc = ctypes.CDLL(None, use_errno=True)


class SetupError(Exception):
    """A step of the sandbox failed; its message says which."""


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise SetupError(f"{what}: {os.strerror(err)}")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    enc = [s.encode() if s is not None else None for s in (source, target, fstype, data)]
    _check(_libc.mount(*enc[:3], ctypes.c_ulong(flags), enc[3]), f"mount {target}")


def bind_read_only(source: str, target: str, nodev: bool = True) -> None:
    """Bind ``source`` at ``target``, then make that mount read-only and nosuid."""
    mount(source, target, None, MS_BIND)
    st = os.statvfs(target)
    flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | (MS_NODEV if nodev else 0)
    flags |= sum(ms for st_flag, ms in LOCKED_FLAGS.items() if st.f_flag & st_flag)
    if not st.f_flag & (os.ST_NOATIME | os.ST_RELATIME):
        flags |= MS_STRICTATIME  # the atime mode is locked too: keep it
    mount(None, target, None, flags)


class Root:
    """The new root being built at ``STAGING``; sources are opened before it hides any."""

    def __init__(self, code: str, readonly: list[str], writable: list[str]) -> None:
        relative = [p for p in (*readonly, *writable) if not os.path.isabs(p)]
        if relative:
            raise SetupError(f"paths must be absolute: {', '.join(relative)}")
        self.code = code
        self.readonly = [p for p in sorted(set(readonly)) if os.path.lexists(p)]
        self.writable = sorted(set(writable))
        self.sources = {p: os.open(p, os.O_PATH) for p in self.readonly if not os.path.islink(p)}
        self.sources.update({p: os.open(p, os.O_PATH | os.O_DIRECTORY) for p in self.writable})
        self.sources[code] = os.open(code, os.O_PATH | os.O_DIRECTORY)
        for name in DEVICES:
            self.sources[f"/dev/{name}"] = os.open(f"/dev/{name}", os.O_PATH)

    def at(self, path: str) -> str:
        return STAGING + path

    def bind(self, path: str, nodev: bool = True, writable: bool = False) -> None:
        target = self.at(path)
        source = f"/proc/self/fd/{self.sources[path]}"
        if os.path.isdir(source):
            os.makedirs(target, exist_ok=True)
        elif not os.path.exists(target):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
        if writable:
            mount(source, target, None, MS_BIND)
        else:
            bind_read_only(source, target, nodev)

    def build(self, volume_bytes: int) -> None:
        mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing propagates back to the host
        mount("tmpfs", STAGING, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
        self._volume(volume_bytes)
        bound: list[str] = []
        for path in self.readonly:
            if any(path.startswith(f"{b}/") for b in bound):
                continue  # visible, read-only, through an ancestor already
            if os.path.islink(path):
                os.makedirs(os.path.dirname(self.at(path)), exist_ok=True)
                os.symlink(os.readlink(path), self.at(path))
            else:
                self.bind(path)
            bound.append(path)
        self.bind(self.code)
        for path in self.writable:
            self.bind(path, writable=True)
        for top in self.volume_ancestors():
            # The code (or a shared folder) lives below /tmp: the folders made on the private
            # volume to hold it are read-only, like every other path the function did not own.
            mount(self.at(top), self.at(top), None, MS_BIND | MS_REC)
            mount(None, self.at(top), None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        for name in DEVICES:
            self.bind(f"/dev/{name}", nodev=False)
        for name, fd in DEV_LINKS:
            os.symlink(f"/proc/self/fd{fd}", self.at(f"/dev/{name}"))
        os.makedirs(self.at("/proc"), exist_ok=True)
        flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
        mount("proc", self.at("/proc"), "proc", flags)

    def volume_ancestors(self) -> list[str]:
        """The top folders on the private volume that hold the code or a shared path."""
        tops = set()
        for path in (self.code, *self.writable):
            for mount_point in VOLUME_MOUNTS:
                rest = path.removeprefix(f"{mount_point}/")
                if rest != path and "/" in rest:
                    tops.add(f"{mount_point}/{rest.split('/', 1)[0]}")
        return sorted(tops)

    def _volume(self, volume_bytes: int) -> None:
        """One size-capped tmpfs behind /tmp, /scratch and /dev/shm."""
        volume = self.at("/.volume")
        os.mkdir(volume)
        inodes = max(volume_bytes // 16384, 1024)
        mount(
            "tmpfs",
            volume,
            "tmpfs",
            MS_NOSUID | MS_NODEV,
            f"size={volume_bytes},nr_inodes={inodes}",
        )
        for part, path, mode in (
            ("tmp", "/tmp", 0o1777),
            ("scratch", SCRATCH, 0o700),
            ("shm", "/dev/shm", 0o1777),
        ):
            os.mkdir(f"{volume}/{part}")
            os.chmod(f"{volume}/{part}", mode)
            os.makedirs(self.at(path))
            mount(f"{volume}/{part}", self.at(path), None, MS_BIND)
        _check(_libc.umount2(volume.encode(), MNT_DETACH), "umount the volume")
        os.rmdir(volume)

    def enter(self) -> None:
        """Pivot into the new root, detach the old one, make the root read-only."""
        os.chdir(STAGING)
        machine = os.uname().machine
        number = SYS_PIVOT_ROOT.get(machine)
        if number is None:
            raise SetupError(f"pivot_root: no system call number known for {machine}")
        _check(_libc.syscall(number, b".", b"."), "pivot_root")
        _check(_libc.umount2(b".", MNT_DETACH), "umount the old root")
        os.chdir("/")
        mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.chdir(self.code)
        for fd in self.sources.values():
            os.close(fd)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint32) for name in ("effective", "permitted", "inheritable")]


def drop_privileges() -> None:
    """No capability now or after exec, and no way to gain one (setuid, file caps)."""
    cap = 0
    while _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0:
        cap += 1
    if cap == 0:
        _check(-1, "drop the capability bounding set")
    _check(_libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient caps")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "set no_new_privs")
    header = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")


def unshare() -> None:
    """Enter new user (this process mapped to root), mount, network, IPC and PID namespaces.

    The PID namespace is the next child's: that child is its PID 1.
    """
    uid, gid = os.geteuid(), os.getegid()
    flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWPID
    _check(_libc.unshare(flags), "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)


def relay(pid: int) -> NoReturn:
    """Wait for ``pid``, then end as it did: with its exit code, or of the signal it died of."""
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {sig})
        os.kill(os.getpid(), sig)
        os._exit(128 + sig)  # a signal this process cannot die of
    os._exit(os.waitstatus_to_exitcode(status))


def enter(volume_bytes: int, readonly: list[str], writable: Sequence[str] = ()) -> None:
    """Return in a child sandboxed as the module docstring says, in the working directory.

    The caller does not return: it stays as the child's parent, holding no fd (the child
    alone has the run's pipes), and ends as the child does. The child keeps the caller's
    fds, and is killed if the caller dies.
    """
    code = os.getcwd()
    unshare()
    pid = os.fork()
    if pid != 0:
        os.closerange(0, os.sysconf("SC_OPEN_MAX"))
        relay(pid)
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")
    root = Root(code, readonly, list(writable))
    root.build(volume_bytes)
    root.enter()
    drop_privileges()


def main(args: list[str]) -> None:
    """The script: sandbox ``ARGV`` in the working directory (see the module docstring)."""
    try:
        split = args.index("--")
        volume_bytes, readonly, argv = int(args[0]), args[1:split], args[split + 1 :]
        enter(volume_bytes, readonly)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        try:
            os.execv(argv[0], argv)
        except OSError as exc:
            raise SetupError(f"exec {argv[0]}: {exc.strerror}") from exc
    except (OSError, SetupError, ValueError, IndexError) as exc:
        os.write(2, f"{MARKER}{exc}\n".encode(errors="replace"))
        os._exit(SETUP_FAILED)


if __name__ == "__main__":
    main(sys.argv[1:])
