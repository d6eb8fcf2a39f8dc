"""The proxy's listening socket, which can refuse connects or let them time out, without root.

Linux behaviour this relies on (measured on this machine):

- ``shutdown(SHUT_RD)`` on a listening socket stops listening: connects are refused and
  queued connections reset. Because the port was bound explicitly (not port 0) the socket
  keeps it, and a later ``listen()`` resumes on the same port.
- With ``listen(0)`` and one connection parked in the accept queue, the queue is full and
  the kernel drops further SYNs: connects time out, as behind a dropping firewall.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable
from enum import StrEnum

from harness.faults.errors import ProxyError

logger = logging.getLogger(__name__)

BACKLOG = 128
_BIND_ATTEMPTS = 20
_ACCEPT_RETRY_S = 0.5


class ListenerState(StrEnum):
    """What a connect to the proxy's port meets."""

    OPEN = "open"  # accepted and proxied
    REFUSING = "refusing"  # not listening: connection refused
    STALLED = "stalled"  # accept queue full: SYN dropped, connect times out


class Listener:
    """A listening socket on ``host`` that hands accepted sockets to ``on_accept``."""

    def __init__(self, host: str, on_accept: Callable[[socket.socket], None]) -> None:
        self.host = host
        self.state = ListenerState.OPEN
        self._on_accept = on_accept
        self._sock = _bind_explicit(host)
        self.port: int = self._sock.getsockname()[1]
        self._accepting = False
        self._parked: socket.socket | None = None
        self._discard: set[tuple[str, int]] = set()

    def start(self) -> None:
        """Listen and accept; call on the event loop."""
        self._sock.setblocking(False)
        self._sock.listen(BACKLOG)
        self._start_accepting()

    async def set_state(self, state: ListenerState) -> None:
        """Move to ``state``; when this returns, new connects meet the new behaviour."""
        if state is self.state:
            return
        self._stop_accepting()
        self._unpark()
        if self.state is not ListenerState.REFUSING:
            self._drain()  # connects completed before the change are served
        if state is ListenerState.REFUSING:
            self._sock.shutdown(socket.SHUT_RD)
            self._discard.clear()
        else:
            self._sock.listen(BACKLOG if state is ListenerState.OPEN else 0)
        self.state = state
        if state is ListenerState.OPEN:
            self._start_accepting()
        elif state is ListenerState.STALLED:
            await self._park()

    async def close(self) -> None:
        """Stop accepting and close every socket this listener owns."""
        self._stop_accepting()
        self._unpark()
        self._sock.close()

    def _start_accepting(self) -> None:
        asyncio.get_running_loop().add_reader(self._sock.fileno(), self._drain)
        self._accepting = True

    def _stop_accepting(self) -> None:
        # A reader callback, not a task: stopping can never drop an accepted socket.
        if self._accepting:
            asyncio.get_running_loop().remove_reader(self._sock.fileno())
            self._accepting = False

    def _drain(self) -> None:
        """Accept and hand over every connection waiting in the queue."""
        while True:
            try:
                conn, addr = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:  # e.g. EMFILE: back off as asyncio's own servers do
                logger.warning("accept failed on port %d: %s", self.port, exc)
                self._stop_accepting()
                asyncio.get_running_loop().call_later(_ACCEPT_RETRY_S, self._resume)
                return
            self._hand_over(conn, addr)

    def _resume(self) -> None:
        if self.state is ListenerState.OPEN and not self._accepting and self._sock.fileno() >= 0:
            self._start_accepting()

    def _hand_over(self, conn: socket.socket, addr: tuple[str, int]) -> None:
        if addr in self._discard:
            self._discard.discard(addr)  # our own parked connection, released
            conn.close()
            return
        self._on_accept(conn)

    async def _park(self) -> None:
        """Fill the (size 0) accept queue with a connection of our own."""
        parked = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        parked.setblocking(False)
        try:
            await asyncio.wait_for(
                asyncio.get_running_loop().sock_connect(parked, (self.host, self.port)), 2.0
            )
        except (OSError, TimeoutError) as exc:
            parked.close()
            raise ProxyError(f"could not stall port {self.port}: {exc!r}") from exc
        self._parked = parked

    def _unpark(self) -> None:
        parked, self._parked = self._parked, None
        if parked is not None:
            self._discard.add(parked.getsockname())
            parked.close()


def _bind_explicit(host: str) -> socket.socket:
    """Bind a free port by number, so that the socket keeps it while not listening."""
    for _ in range(_BIND_ATTEMPTS):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            if exc.errno != errno.EADDRINUSE:
                raise
            continue  # another process took the port between probe and bind
        return sock
    raise ProxyError(f"no free port on {host} after {_BIND_ATTEMPTS} attempts")
